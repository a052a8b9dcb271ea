"""Support's copies as the support sender makes them: each ticket's messages once and in order, a
burst of drivers queued behind the agents' group's limit instead of meeting Telegram's 429, a
failure tried again, edits mirrored both ways, and a reply answering its message on the other side."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

import pytest
from sqlalchemy import select

from services.outbox.kinds import Kind
from services.outbox.tables import OutboxRow, PostStatus
from services.storage.unavailable import DatabaseUnavailable
from tests.databases import backends, fresh_database, frozen
from tests.story import t
from tests.support import AGENTS, ANSWERING, DELIVERED, agents_forum


@pytest.fixture(params=backends())
async def db(request, tmp_path):
    """On both backends: what this file asserts is about the database (see tests/e2e/conftest.py)."""
    async with fresh_database(request.param, tmp_path) as database:
        yield database


BUSY = "We are very busy right now; nothing was lost. Please try again in a few seconds."
NOT_REACHED = "Support cannot be reached just now. Your message is kept and will reach the agents as soon as possible."


@pytest.fixture
def settings_overrides() -> dict:
    return {"support": {"group_id": AGENTS}}


async def with_ticket(driver) -> None:
    await driver.send("/start")
    await driver.send("/support")


async def eventually(check, timeout: float = 10.0) -> None:
    """Until the async `check` says yes: what the sender records lands just after what it sends."""
    async with asyncio.timeout(timeout):
        while not await check():
            await asyncio.sleep(0.05)


async def until_tried(nobat, attempts: int) -> None:
    """Until the first message still to be copied has failed `attempts` times (and waits its backoff)."""
    async def tried() -> bool:
        async with nobat.db.reading() as session:
            found = set(await session.scalars(select(OutboxRow.attempts).where(
                OutboxRow.status == PostStatus.QUEUED.value, OutboxRow.kind.in_([Kind.TO_AGENTS, Kind.TO_DRIVER]))))
        return max(found, default=0) == attempts

    await eventually(tried)


async def all_copied(nobat) -> bool:
    return await nobat.services.outbox.waiting() == 0


def texts(chat) -> list[str]:
    return [m.text for m in chat.bot_messages()]


async def test_messages_written_at_once_open_one_topic_and_arrive_in_order(tg, drivers, nobat):
    group, _ = await agents_forum(tg, "Agent")
    driver = drivers("ru", first_name="Марат")
    await with_ticket(driver)
    for n in range(1, 5):  # before the first is copied: each could have opened a topic of its own
        await driver.send(f"вопрос {n}", wait=False)
    topic = await group.wait_for_topic("🇷🇺 Марат · #1")
    await topic.wait_for(lambda m: m.text == "вопрос 4", timeout=10)
    assert await tg.wait_idle(timeout=10)
    assert len(group.topics) == 1
    assert texts(topic)[1:] == ["вопрос 1", "вопрос 2", "вопрос 3", "вопрос 4"]
    await driver.wait_for(lambda _: texts(driver).count(t("ru", DELIVERED)) == 4, timeout=10)
    delivered = [m for m in driver.bot_messages() if m.text == t("ru", DELIVERED)]
    assert sorted(m.raw["reply_to_message"]["text"] for m in delivered) == [f"вопрос {n}" for n in range(1, 5)], \
        "each message is said to be delivered, under itself"


async def test_a_burst_of_drivers_waits_its_turn_for_the_agents_group_and_meets_no_429(tg, drivers, nobat):
    assert tg.limits.group_per_min == 20 and nobat.settings.telegram_limits.per_group_per_minute == 20
    group, _ = await agents_forum(tg, "Agent")
    people = [drivers("kk", first_name=f"Жүргізуші{n}") for n in range(3)]
    for driver in people:
        await with_ticket(driver)
    for driver in people:  # 3 topics, 3 cards, 6 copies: 12 posts to one group, Telegram takes 20 a minute
        await driver.send("бірінші", wait=False)
        await driver.send("екінші", wait=False)
    for n, driver in enumerate(people):
        topic = await group.wait_for_topic(f"🇰🇿 Жүргізуші{n} · #{n + 1}", timeout=60)
        await topic.wait_for(lambda m: m.text == "екінші", timeout=60)
        assert texts(topic)[1:] == ["бірінші", "екінші"]
        await driver.wait_for(lambda m: texts(driver).count(t("kk", DELIVERED)) == 2, timeout=10)
    assert tg.limit_violations == 0, "queued behind the group's limit, never refused by Telegram"
    assert len(group.topics) == len(people)
    await eventually(lambda: all_copied(nobat))


async def test_a_copy_telegram_failed_is_tried_again_and_lands_once(tg, drivers, nobat, clock):
    group, (agent,) = await agents_forum(tg, "Agent")
    driver = drivers("fa", first_name="Reza")
    await with_ticket(driver)
    await driver.send("سلام")
    topic = await group.wait_for_topic("🇮🇷 Reza · #1")
    tg.fail_next("copyMessage", times=1, code=502, description="Bad Gateway")
    await agent.send_to_group(group, "جواب", thread=topic, wait=False)
    await driver.wait_for(lambda m: m.text == t("fa", ANSWERING))
    assert await tg.wait_idle(timeout=5)
    assert "جواب" not in texts(driver), "not yet: it waits out its backoff"
    await until_tried(nobat, attempts=1)
    clock.advance(timedelta(seconds=5))
    nobat.outbox.wake()
    await driver.wait_for(lambda m: m.text == "جواب", timeout=10)
    assert await tg.wait_idle(timeout=5)
    assert texts(driver).count("جواب") == 1 and texts(driver).count(t("fa", ANSWERING)) == 1


@pytest.mark.parametrize("settings_overrides", [{"support": {"group_id": -100888}}])
async def test_a_message_the_group_refused_is_copied_once_the_group_is_mended(tg, drivers, nobat, clock):
    broken = tg.group(-100888, "Agents, no topics yet")
    driver = drivers("ru", first_name="Гуля")
    await with_ticket(driver)
    answer = await driver.send("Помогите")
    assert answer.text == t("ru", NOT_REACHED)
    await driver.send("Ещё вопрос", wait=False)
    await until_tried(nobat, attempts=1)  # the first waits out its backoff, the second behind it
    clock.advance(timedelta(seconds=3))
    nobat.outbox.wake()
    await until_tried(nobat, attempts=2)
    assert texts(driver).count(t("ru", NOT_REACHED)) == 1, "told once, not at every try"

    tg.group(-100888, forum=True)  # the operator turns topics on
    clock.advance(timedelta(seconds=60))
    nobat.outbox.wake()
    topic = await broken.wait_for_topic("🇷🇺 Гуля · #1", timeout=10)
    await topic.wait_for(lambda m: m.text == "Ещё вопрос", timeout=10)
    assert texts(topic)[1:] == ["Помогите", "Ещё вопрос"]
    await eventually(lambda: all_copied(nobat))


async def test_edits_are_mirrored_both_ways(tg, drivers, nobat):
    group, (agent,) = await agents_forum(tg, "Agent")
    driver = drivers("ru", first_name="Олжас")
    await with_ticket(driver)
    await driver.send("Грузовик 01 на границе")
    mine = driver.last_message(from_bot=False)
    topic = await group.wait_for_topic("🇷🇺 Олжас · #1")
    copy = await topic.wait_for(lambda m: m.text == "Грузовик 01 на границе")
    await driver.edit(mine, "Грузовик 02 на границе", wait=False)
    await topic.wait_for(lambda m: m.message_id == copy.message_id and m.text == "Грузовик 02 на границе")

    await agent.send_to_group(group, "Ждите у ворот 3", thread=topic, wait=False)
    answer = await driver.wait_for(lambda m: m.text == "Ждите у ворот 3")
    reply = topic.last_message(from_bot=False)
    await agent.edit(reply, "Ждите у ворот 4", wait=False)
    await driver.wait_for(lambda m: m.message_id == answer.message_id and m.text == "Ждите у ворот 4")
    assert "Ждите у ворот 4" not in [m.text for m in driver.bot_messages() if m.message_id != answer.message_id]


async def test_a_reply_answers_its_message_on_the_other_side(tg, drivers, nobat):
    group, (agent,) = await agents_forum(tg, "Agent")
    driver = drivers("kk", first_name="Айдос")
    await with_ticket(driver)
    await driver.send("Бірінші сұрақ")
    first = driver.last_message(from_bot=False)
    await driver.send("Екінші сұрақ")
    topic = await group.wait_for_topic("🇰🇿 Айдос · #1")
    first_copy = await topic.wait_for(lambda m: m.text == "Бірінші сұрақ")
    await topic.wait_for(lambda m: m.text == "Екінші сұрақ")

    # The agent answers the older question, by Telegram's reply: the driver sees it under theirs.
    await agent.send_to_group(group, "Жауап бірінші", thread=topic, reply_to=first_copy, wait=False)
    answer = await driver.wait_for(lambda m: m.text == "Жауап бірінші")
    assert answer.raw["reply_to_message"]["message_id"] == first.message_id
    plain = await asyncio.wait_for(_answer_without_reply(agent, group, topic, driver), timeout=10)
    assert "reply_to_message" not in plain.raw, "a message in a topic answers nothing by itself"

    # The driver answers the agent's reply: the topic sees it under the agent's message.
    await driver.send("Рахмет", reply_to=answer, wait=False)
    thanks = await topic.wait_for(lambda m: m.text == "Рахмет")
    agents_message = next(m for m in topic.messages if not m.from_bot and m.text == "Жауап бірінші")
    assert thanks.raw["reply_to_message"]["message_id"] == agents_message.message_id


async def _answer_without_reply(agent, group, topic, driver):
    await agent.send_to_group(group, "Тағы бір жауап", thread=topic, wait=False)
    return await driver.wait_for(lambda m: m.text == "Тағы бір жауап")


async def test_a_copy_whose_record_the_busy_database_refused_is_recorded_later_not_copied_again(
        tg, drivers, nobat, clock, monkeypatch):
    group, _ = await agents_forum(tg, "Agent")
    driver = drivers("ru", first_name="Тимур")
    await with_ticket(driver)
    support = nobat.services.support
    record, refusals, landed = support.copied, [DatabaseUnavailable("no turn to write")], asyncio.Event()

    async def busy_once(*args, **kwargs):  # SQLite's one writer, busy with a burst of drivers
        if refusals:
            raise refusals.pop()
        recorded = await record(*args, **kwargs)
        landed.set()
        return recorded

    monkeypatch.setattr(support, "copied", busy_once)
    await driver.send("Где очередь?", wait=False)
    topic = await group.wait_for_topic("🇷🇺 Тимур · #1")
    await topic.wait_for(lambda m: m.text == "Где очередь?")
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(landed.wait(), 5)
    clock.advance(timedelta(minutes=5))  # past the claim's lease: a copy not on record is claimed again
    nobat.outbox.wake()
    await eventually(lambda: all_copied(nobat))
    assert await tg.wait_idle(timeout=5)
    assert texts(topic)[1:] == ["Где очередь?"], "Telegram took it once: copied once"


async def test_a_busy_database_neither_tells_the_driver_their_message_is_kept_nor_loses_their_delivered(
        tg, drivers, nobat, clock, monkeypatch, caplog):
    """The pool's connections all taken by a burst of drivers: the read before the copy fails once,
    and later the read of what the copy leads to. "Kept" is for an agents' group that refuses or
    fails, not for a moment of our own; and "Delivered" still comes."""
    group, _ = await agents_forum(tg, "Agent")
    driver = drivers("ru", first_name="Нурлан")
    await with_ticket(driver)
    support = nobat.services.support
    read, reads = support.message, []

    async def busy_twice(*args, **kwargs):
        reads.append(args)
        # 1: the copy's read; 2: what the retry leads to (nothing: no news); 3: the copy's read again;
        # 4: what the copy leads to, "Delivered".
        if len(reads) in (1, 4):
            raise DatabaseUnavailable("it did not answer in time")
        return await read(*args, **kwargs)

    monkeypatch.setattr(support, "message", busy_twice)
    await driver.send("Где очередь?", wait=False)
    # The first try read, failed, and is written down to be tried again (5 s from the clock's now).
    await eventually(lambda: asyncio.sleep(0, result=len(reads) >= 2 and not nobat.outbox.under_way))
    clock.advance(timedelta(seconds=10))  # past the retry a busy database asks for
    nobat.outbox.wake()
    topic = await group.wait_for_topic("🇷🇺 Нурлан · #1")
    await topic.wait_for(lambda m: m.text == "Где очередь?")
    await driver.wait_for(lambda m: m.text == t("ru", DELIVERED), timeout=10)
    await eventually(lambda: all_copied(nobat))
    assert await tg.wait_idle(timeout=5)
    assert t("ru", NOT_REACHED) not in texts(driver)
    assert texts(topic)[1:] == ["Где очередь?"]
    assert len(reads) >= 5, "what the copy leads to was read again, not given up"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_topic_opened_while_the_busy_database_failed_the_card_is_not_opened_twice(tg, drivers, nobat, clock,
                                                                                          monkeypatch):
    group, _ = await agents_forum(tg, "Agent")
    driver = drivers("ru", first_name="Дина")
    await with_ticket(driver)
    events = nobat.services.events
    read, refusals = events.last_of, [DatabaseUnavailable("it did not answer in time")]

    async def busy_once(*args, **kwargs):  # the pool's connections all taken by a burst of drivers
        if refusals:
            raise refusals.pop()
        return await read(*args, **kwargs)

    monkeypatch.setattr(events, "last_of", busy_once)
    await driver.send("Где очередь?", wait=False)
    await eventually(lambda: asyncio.sleep(0.05, result=not refusals))
    clock.advance(timedelta(minutes=5))  # past the claim's lease: it is claimed again
    nobat.outbox.wake()
    topic = await group.wait_for_topic("🇷🇺 Дина · #1", timeout=10)
    await topic.wait_for(lambda m: m.text == "Где очередь?", timeout=10)
    await eventually(lambda: all_copied(nobat))
    assert [t.name for t in group.topics] == ["🇷🇺 Дина · #1"], "one topic for the ticket"
    assert texts(topic)[1:] == ["Где очередь?"]


@pytest.mark.parametrize("tables", [("support_messages",), ("support_tickets", "support_messages")],
                         ids=["its-store", "the-question-whose-it-is"])
async def test_a_message_written_while_the_database_is_frozen_waits_and_is_not_refused(tg, drivers, nobat, db,
                                                                                       tables):
    """Longer than a statement may wait (5 s): a tap would hear "try again", a message for the
    agents waits for the database instead, and arrives; both when storing it waits and when even
    reading whether the driver has a ticket open does (on PostgreSQL, where a lock holds reads)."""
    group, _ = await agents_forum(tg, "Agent")
    driver = drivers("ru", first_name="Ерлан")
    await with_ticket(driver)
    async with frozen(db, tables=tables):
        await driver.send("Вопрос во время сбоя", wait=False)
        await asyncio.sleep(7)
        assert not [m for m in driver.bot_messages() if m.text == t("ru", BUSY)]
    topic = await group.wait_for_topic("🇷🇺 Ерлан · #1", timeout=20)
    await topic.wait_for(lambda m: m.text == "Вопрос во время сбоя", timeout=20)
    await driver.wait_for(lambda m: m.text == t("ru", DELIVERED), timeout=10)
    assert t("ru", BUSY) not in texts(driver)


async def test_a_502_while_the_context_card_is_posted_leaves_the_ticket_one_topic(tg, drivers, nobat, clock):
    """The topic is written down as soon as Telegram made it: the delivery tried again after the
    card's fault posts the card into that topic, not into a second one."""
    group, _ = await agents_forum(tg, "Agent")
    driver = drivers("ru", first_name="Айдар")
    await with_ticket(driver)
    tg.fail_next("sendMessage", times=1, code=502, description="Bad Gateway")  # the card, the next send
    await driver.send("Где мой грузовик?", wait=False)
    await until_tried(nobat, attempts=1)
    clock.advance(timedelta(seconds=3))
    nobat.outbox.wake()
    topic = await group.wait_for_topic("🇷🇺 Айдар · #1")
    await topic.wait_for(lambda m: m.text == "Где мой грузовик?", timeout=10)
    assert await tg.wait_idle(timeout=5)
    assert len(group.topics) == 1, "one ticket, one topic"
    assert texts(topic)[0].startswith(t("ru", "<b>Ticket #{number}</b>").format(number=1).replace("<b>", "")
                                      .replace("</b>", "")) and texts(topic)[1:] == ["Где мой грузовик?"]
    await driver.wait_for(lambda m: m.text == t("ru", DELIVERED), timeout=10)


async def test_a_copy_that_fails_on_a_fault_is_logged_by_its_ids_without_the_drivers_name(tg, drivers, nobat,
                                                                                          monkeypatch, caplog):
    await agents_forum(tg, "Agent")
    driver = drivers("ru", first_name="Жанаргуль")

    async def no_card(row, ticket, thread_id):  # a fault quoting what it was given
        raise ValueError(f"no card for {ticket.first_name} of account {ticket.account_id}")

    to_agents = nobat.outbox.renderers[Kind.TO_AGENTS]
    monkeypatch.setattr(to_agents, "_post_card", no_card)
    await with_ticket(driver)
    with caplog.at_level(logging.INFO):
        await driver.send("мой номер +77015550199", wait=False)
        async with asyncio.timeout(10):
            while not [record for record in caplog.records if record.levelno >= logging.ERROR]:
                await asyncio.sleep(0.05)
    failed = next(record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR)
    assert "outbox: row" in failed and "support.to_agents" in failed
    assert "ValueError (its message is not logged" in failed and "no_card" in failed
    assert "Жанаргуль" not in caplog.text and "7701555" not in caplog.text


async def test_a_fleet_of_fifty_trucks_opens_one_topic_whose_card_fits_and_the_question_arrives(
        tg, drivers, nobat, clock):
    """A dispatcher with the most trucks an account may have (50), each booked: every line of them
    would pass Telegram's 4,096 characters. The card shows what fits and counts the rest; the
    question reaches the agents once."""
    from sqlalchemy import insert

    from local_bot_api import utf16_len
    from services.storage.models import Reservation, ReservationStatus, Slot

    group, _ = await agents_forum(tg, "Agent")
    dispatcher = drivers("ru", first_name="Диспетчер")
    await dispatcher.send("/start")
    trucks = [(await nobat.services.trucks.add(dispatcher.user_id, f"{100 + n} ABC 02")).truck for n in range(50)]
    starts = clock.now() + timedelta(days=1)
    async with nobat.db.transaction() as session:
        slot = Slot(checkpoint="khorgos", starts_at=starts, capacity=50, taken=50)
        session.add(slot)
        await session.flush()
        await session.execute(insert(Reservation), [
            {"account_id": dispatcher.user_id, "truck_id": truck.id, "plate": truck.plate, "slot_id": slot.id,
             "checkpoint": "khorgos", "day": starts.date(), "status": ReservationStatus.BOOKED.value,
             "created_at": clock.now(), "expires_at": clock.now(), "confirmed_at": clock.now(),
             "ref": f"F{n:05d}"} for n, truck in enumerate(trucks)])
    await dispatcher.send("/support")
    await dispatcher.send("Где мои машины?", wait=False)
    topic = await group.wait_for_topic("🇷🇺 Диспетчер · 100 ABC 02 · #1", timeout=20)
    await topic.wait_for(lambda m: m.text == "Где мои машины?", timeout=20)
    assert await tg.wait_idle(timeout=5)
    card = texts(topic)[0]
    assert len(group.topics) == 1 and texts(topic)[1:] == ["Где мои машины?"]
    assert 3500 < utf16_len(card) <= 4096 and "F00000" in card and "F00049" not in card
    assert "… и ещё" in card, "the bookings that did not fit are counted"
    await dispatcher.wait_for(lambda m: m.text == t("ru", DELIVERED), timeout=10)
