"""A `nobat run` killed with SIGKILL in the middle of a batch of notices, then started again: every
notice is delivered, and what had been sent and recorded is not sent again.

Telegram has no idempotency key for a send, so one kind of repeat is beyond any sender: a message
Telegram had taken when the process died, before its id was written down. That window is one
request per send in flight; the test bounds each chat's repeats by what Telegram had taken for it and
the dead process had not recorded, instead of pretending the window away."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from services.accounts.accounts import AccountService
from services.kernel.clock import SystemClock
from services.outbox.tables import PostStatus
from services.notices.types import EventType
from tests.notices import deliveries, post_event
from tests.processes import ROOT, NobatProcess, clean_env, kill_left

CHATS = 90  # a card and a call each: 180 messages, six seconds of Telegram's 30 a second


async def test_a_sender_killed_mid_batch_resumes_and_loses_no_notice(tg, db, tmp_path):
    env = clean_env(NOBAT_CONFIG=str(ROOT / "config.yaml"), BOT_TOKEN=tg.token, TELEGRAM_API_URL=tg.base_url,
                    DATABASE_URL=db.url, NOBAT_OUTBOX__POLL_SECONDS="0.2", NOBAT_OUTBOX__LEASE_SECONDS="2")
    accounts = AccountService(db, SystemClock())
    users = [tg.user(930_000 + i, first_name="Driver", language_code="ru") for i in range(CHATS)]
    for user in users:
        await accounts.ensure(user.user_id, "Driver", "ru")
    await post_event(db, EventType.CALLED, [u.user_id for u in users], at=datetime.now(UTC), details={"gate": "5"})

    def seen() -> int:
        return sum(len(u.bot_messages()) for u in users)

    first = await NobatProcess(["run"], env, tmp_path, tmp_path / "first.log").start()
    second = None
    try:
        await tg.wait_until(lambda: seen() >= CHATS // 2, timeout=60)
        await first.kill()
        assert seen() < 2 * CHATS, "the kill came in the middle of the notices"
        recorded = {r.chat_id for r in await deliveries(db) if r.status == PostStatus.SENT.value}
        # what Telegram had taken for a chat whose delivery was not yet written down: the only sends
        # a new process cannot know about, so the only ones it may repeat
        unrecorded = {u.user_id: len(u.bot_messages()) for u in users if u.user_id not in recorded}
        second = await NobatProcess(["run"], env, tmp_path, tmp_path / "second.log").start()
        await tg.wait_until(lambda: all(len(u.bot_messages()) >= 2 for u in users), timeout=90)
        await asyncio.sleep(1)  # anything sent twice would be sent by now
        rows = await deliveries(db)
        assert {r.status for r in rows} == {PostStatus.SENT.value}
        for user in users:
            kinds = ["card" if "Сейчас" in m.text else "call" for m in user.bot_messages()]
            assert "card" in kinds and "call" in kinds and kinds[0] == "card", kinds
        repeats = {u.user_id: len(u.bot_messages()) - 2 for u in users}
        assert all(extra >= 0 for extra in repeats.values())
        assert all(extra <= unrecorded.get(chat, 0) for chat, extra in repeats.items()), \
            "repeats only of the sends Telegram took and the dead process had not written down"
        by_chat = {r.chat_id: r.message_id for r in rows}
        assert all(by_chat[u.user_id] in {m.message_id for m in u.bot_messages()[1:]} for u in users), \
            "each delivery names the call it sent"
        assert tg.limit_violations == 0
        assert await second.stop() == 0
        assert "Traceback" not in first.output() + second.output()
    finally:
        await kill_left(first, second)
