import pytest

from services.accounts.phones import normalize_phone


@pytest.mark.parametrize(("typed", "canonical"), [
    ("+7 701 234-56-78", "77012345678"),  # as Telegram's contact shows a Kazakh number
    ("77012345678", "77012345678"),  # as Telegram sends it in a shared contact: digits only
    ("87012345678", "77012345678"),  # the trunk 8 of Kazakhstan and Russia
    ("8 (912) 345-67-89", "79123456789"),
    ("+98 912 345 6789", "989123456789"),  # Iran
    ("+996 555 123 456", "996555123456"),  # Kyrgyzstan
    ("+86 138 0013 8000", "8613800138000"),  # China
])
def test_phones_are_kept_as_the_digits_of_the_international_number(typed, canonical):
    assert normalize_phone(typed) == canonical


@pytest.mark.parametrize("typed", [None, "", "abc", "+1", "+7 701 234 56 78 99 00 11 22", "7701234567x", "+7\u200e7012345678"])
def test_what_is_not_a_phone_number_is_refused(typed):
    assert normalize_phone(typed) is None
