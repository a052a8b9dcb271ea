"""A rush under Telegram's real limits: the local Bot API server enforces them (30 messages a second
overall, about one a second per chat) and the bot's outgoing budget is Telegram's. 200 drivers tap
Next on one slot of 20 places at once. Each tap is answered as soon as it is decided, not after its
screen's edit has waited its turn in the budget: a driver's button stops spinning within the first
moments of the rush, while the 200 screens follow at 30 a second over the next seven."""

from __future__ import annotations

import asyncio
import re

from tests.story import t

DRIVERS = 200


async def test_200_next_taps_under_telegrams_limits_are_all_answered_before_their_screens_wait(tg, nobat):
    users = []
    for i in range(DRIVERS):
        user = tg.user(900_000 + i, first_name=f"Driver {i}", language_code="ru")
        await nobat.services.accounts.ensure(user.user_id, user.first_name, "ru")
        await nobat.services.trucks.add(user.user_id, f"{100 + i}KZ{i % 20 + 1:02d}")
        users.append(user)
    # Getting 200 drivers to the offer takes 400 messages, at Telegram's pace: generous waits.
    await asyncio.gather(*(u.send("/book", timeout=120) for u in users))
    await asyncio.gather(*(u.tap("Хоргос", timeout=120) for u in users))
    assert all("08:00" in u.last_message().text for u in users)

    start = len(tg.requests)
    answers = await asyncio.gather(*(u.tap(t("ru", "Next ▶"), timeout=120) for u in users))
    assert all(answer is not None for answer in answers), "every tap is answered"
    assert tg.limit_violations == 0

    burst = [(name, params) for name, params in tg.requests[start:]
             if name in ("answerCallbackQuery", "editMessageText")]
    edits = [i for i, (name, _) in enumerate(burst) if name == "editMessageText"]
    last_answer = max(i for i, (name, _) in enumerate(burst) if name == "answerCallbackQuery")
    assert len(edits) == DRIVERS, "one screen for each tap, no more"
    # Telegram lets 30 messages a second through: the last 100 screens of the rush wait over three
    # seconds for the budget. Every tap was answered before them (answered after its own screen, as
    # before, the last answer would come after the last screen).
    assert sum(1 for i in edits if i > last_answer) >= 100

    screens = [u.last_message() for u in users]
    holding = [s for s in screens if t("ru", "✅ Confirm") in s.button_texts]
    moved_on = [s for s in screens if t("ru", "That time was just taken. The next free time:") in s.text]
    assert len(holding) == 20 and len(moved_on) == DRIVERS - 20
    assert all("08:00" not in s.text for s in moved_on), "nobody is shown the full time again"

    # The answer on the button says the outcome at once, as its screen does later: the time held
    # and until when to confirm it, or the next free time the screen offers.
    held = t("ru", "✅ {time} is held for you. Confirm by {until}")
    for answer, screen in zip(answers, screens, strict=True):
        assert not answer.show_alert
        if screen in holding:
            assert answer.text == held.format(time="08:00", until=_confirm_by(screen.text))
        else:
            next_free = re.search(r"\d\d:\d\d", screen.text).group()
            assert answer.text == t("ru", "That time was just taken. The next free time: {time}").format(time=next_free)


def _confirm_by(text: str) -> str:
    """The time a hold's screen says to confirm by."""
    before, _, _after = t("ru", "Confirm by {time} ({minutes} min left)").partition("{time}")
    return re.search(re.escape(before.strip()) + r"\s*(\d\d:\d\d)", text).group(1)
