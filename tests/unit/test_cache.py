"""What a process remembers for a while: recent accounts and trucks (and when it must forget them), and the places lately shown to refused drivers."""

from __future__ import annotations

from services.accounts.accounts import AccountView
from services.kernel.cache import RecentRows


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _view(account_id: int, language: str | None = "ru") -> AccountView:
    return AccountView(account_id, f"driver {account_id}", language)


def _rows(*views: AccountView) -> list[tuple[int, AccountView]]:
    return [(v.id, v) for v in views]


def test_a_change_during_a_read_keeps_the_old_row_out():
    cache = RecentRows()
    mark = cache.mark()  # a read of account 1 begins ...
    cache.invalidate([1])  # ... its language changes meanwhile ...
    cache.put(_rows(_view(1, "ru"), _view(2)), mark)  # ... and the read ends with the old language
    assert cache.get(1) is None, "read again next time, with the new language"
    assert cache.get(2) == _view(2)
    cache.put(_rows(_view(1, "fa")), cache.mark())
    assert cache.get(1).language == "fa"


def test_a_gap_in_what_other_processes_said_forgets_everything():
    cache = RecentRows()
    cache.put(_rows(_view(1), _view(2)), cache.mark())
    mark = cache.mark()
    cache.clear()
    cache.put(_rows(_view(3)), mark)  # read before the gap: may be stale
    assert cache.get(1) is cache.get(2) is cache.get(3) is None


def test_rows_expire_and_the_least_recently_used_go_first():
    ticks = Ticks()
    cache = RecentRows(size=2, seconds=60, clock=ticks)
    cache.put(_rows(_view(1), _view(2)), cache.mark())
    assert cache.get(1) is not None  # 1 is now the more recent
    cache.put(_rows(_view(3)), cache.mark())
    assert cache.get(2) is None and cache.get(1) is not None and cache.get(3) is not None
    ticks.now = 61
    assert cache.get(1) is None and cache.get(3) is None


def test_places_shown_to_refused_drivers_are_passed_over_for_a_few_seconds():
    from services.booking.calendar import ShownPlaces

    ticks = Ticks()
    shown = ShownPlaces(seconds=10, clock=ticks)
    shown.add([7, 7, 8])
    ticks.now = 5
    shown.add([8])
    assert shown.counts() == {7: 2, 8: 2}
    ticks.now = 12
    assert shown.counts() == {8: 1}, "the first three were shown long enough ago"
    ticks.now = 16
    assert shown.counts() == {}
