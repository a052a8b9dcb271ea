"""A `nobat run` killed with SIGKILL while it copies a burst of drivers' messages into the agents'
forum, then started again: every message reaches its driver's topic, in the order written, the
agents' group never meets Telegram's 429, and the agents' replies after the restart reach their
drivers.

As with notices, Telegram has no idempotency key for a send: a copy Telegram had made when the
process died, before its id was written down, is made again. That window is one request per
message in flight, and a topic opened but not yet written down is opened again; the test bounds
both by the number in flight instead of pretending them away."""

from __future__ import annotations

import asyncio
from collections import Counter

from tests.processes import ROOT, NobatProcess, clean_env, kill_left

AGENTS = -100555
DRIVERS = 10  # a topic, a card and two copies each: 40 posts to one group, two a second
GROUP_PER_MINUTE = 120  # Telegram's 20 a minute, six times faster: the same rule, a shorter test
IN_FLIGHT = 3  # bot.outbox.sender.parallel_for for 120 a minute, lease 10 s: copies into the group under way at once


async def test_a_bot_killed_while_copying_to_the_agents_resumes_and_loses_nothing(tg, db, tmp_path):
    tg.limits.group_per_min = GROUP_PER_MINUTE
    env = clean_env(NOBAT_CONFIG=str(ROOT / "config.yaml"), BOT_TOKEN=tg.token, TELEGRAM_API_URL=tg.base_url,
                    DATABASE_URL=db.url, NOBAT_SUPPORT__GROUP_ID=str(AGENTS), NOBAT_OUTBOX__LEASE_SECONDS="10",
                    NOBAT_OUTBOX__POLL_SECONDS="0.2",
                    NOBAT_TELEGRAM_LIMITS__PER_GROUP_PER_MINUTE=str(GROUP_PER_MINUTE))
    group = tg.group(AGENTS, "Agents", forum=True)
    agent = tg.user(990_300, first_name="Agent", language_code="ru")
    await agent.join_group(group, wait=False)
    drivers = [tg.user(940_000 + n, first_name=f"Водитель{n}", language_code="ru") for n in range(DRIVERS)]

    def copies() -> list[str]:
        return [m.text for m in group.bot_messages() if m.text.startswith("вопрос")]

    first = await NobatProcess(["run"], env, tmp_path, tmp_path / "first.log").start()
    second = None
    try:
        for driver in drivers:
            assert await driver.send("/start", timeout=30)
            assert await driver.send("/support", timeout=10)
        for n, driver in enumerate(drivers):
            await driver.send(f"вопрос 1 от {n}", wait=False)
            await driver.send(f"вопрос 2 от {n}", wait=False)
        await tg.wait_until(lambda: len(copies()) >= DRIVERS // 2, timeout=60)
        await first.kill()
        assert len(copies()) < 2 * DRIVERS, "the kill came in the middle of the copies"

        second = await NobatProcess(["run"], env, tmp_path, tmp_path / "second.log").start()
        wanted = {f"вопрос {k} от {n}" for n in range(DRIVERS) for k in (1, 2)}
        await tg.wait_until(lambda: wanted <= set(copies()), timeout=90)
        await asyncio.sleep(1)  # anything copied twice would be copied by now

        repeats = sum(count - 1 for count in Counter(copies()).values())
        assert 0 <= repeats <= IN_FLIGHT, "repeats only of the copies in flight at the kill"
        assert DRIVERS <= len(group.topics) <= DRIVERS + IN_FLIGHT
        for n, driver in enumerate(drivers):
            mine = [topic for topic in group.topics if topic.name == f"🇷🇺 Водитель{n} · #{n + 1}"]
            written = [m.text for topic in mine for m in topic.bot_messages() if m.text.startswith("вопрос")]
            in_order = list(dict.fromkeys(written))  # a repeat of a copy in flight at the kill aside
            assert in_order == [f"вопрос 1 от {n}", f"вопрос 2 от {n}"], (n, written)
        assert tg.limit_violations == 0, "the copies waited for the group's limit, before and after the kill"

        for n in (0, DRIVERS - 1):  # the agents answer after the restart, in the topics the tickets have
            topic = next(t for t in reversed(group.topics) if t.name == f"🇷🇺 Водитель{n} · #{n + 1}"
                         and any(m.text == f"вопрос 2 от {n}" for m in t.bot_messages()))
            await agent.send_to_group(group, f"ответ для {n}", thread=topic, wait=False)
            await drivers[n].wait_for(lambda m, n=n: m.text == f"ответ для {n}", timeout=20)
        assert not [m for d in drivers[1:-1] for m in d.bot_messages() if m.text.startswith("ответ")]
        assert await second.stop() == 0
        assert "Traceback" not in first.output() + second.output()
    finally:
        await kill_left(first, second)
