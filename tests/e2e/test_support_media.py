"""What a driver with a ticket sends from a phone besides text reaches the agents as it is: a video,
a round video note, someone else's contact (a dispatcher's number); and an agent's video reaches the
driver. The driver's own contact still links their trucks, and a stranger's contact, with no ticket
to pass it to, is still refused. Through the local Bot API server, with the group's 20 posts a minute."""

from __future__ import annotations

import pytest

from tests.story import register, t
from tests.support import AGENTS, DELIVERED, agents_forum

NOT_OWN = "Only your own number can be linked: tap «Share my phone number» below."
UNSUPPORTED = "I can read only text and buttons. /help — help"
WRITE = ("Write your question to support: text, a photo, a document or a voice message. "
         "An agent will answer in this chat.")
SAVED = "Number {phone} saved. No truck is registered with it yet; when the border service registers one, its " \
        "notices will come here."
DISPATCHER = "+7 701 555 12 34"


@pytest.fixture
def settings_overrides() -> dict:
    return {"support": {"group_id": AGENTS, "reopen_hours": 24}}


def texts(chat) -> list[str]:
    return [m.text for m in chat.bot_messages()]


async def test_a_video_a_round_video_and_a_dispatchers_number_reach_the_agents_in_order_and_an_agents_video_the_driver(
        tg, drivers, nobat):
    group, (agent,) = await agents_forum(tg, "Dana")
    driver = drivers("kk", first_name="Ерлан")
    await driver.send("/start")
    await driver.send("/support")
    await driver.send_video(20, "Кезек осында тұр", wait=False)
    await driver.send_video_note(wait=False)
    await driver.send_contact(DISPATCHER, own=False, first_name="Диспетчер", wait=False)
    topic = await group.wait_for_topic("🇰🇿 Ерлан · #1")
    await topic.wait_for(lambda m: m.kind == "contact", timeout=30)  # the group's 20 posts a minute
    video, note, contact = topic.bot_messages()[1:]  # after the ticket's card
    assert [video.kind, note.kind, contact.kind] == ["video", "video_note", "contact"], "copied, in order"
    assert video.text == "Кезек осында тұр"
    sent = next(m for m in driver.messages if m.kind == "video")
    assert video.raw["video"]["file_unique_id"] == sent.raw["video"]["file_unique_id"]
    assert (contact.raw["contact"]["phone_number"], contact.raw["contact"]["first_name"]) == (DISPATCHER, "Диспетчер")
    await driver.wait_for(lambda m: m.text == t("kk", DELIVERED))
    assert t("kk", NOT_OWN) not in texts(driver) and t("kk", UNSUPPORTED) not in texts(driver)

    await agent.send_video(6, "Көрдім, шақыруды күтіңіз", group=group, thread=topic, wait=False)
    answer = await driver.wait_for(lambda m: m.kind == "video")
    assert answer.text == "Көрдім, шақыруды күтіңіз"
    assert answer.raw["video"]["file_unique_id"] == topic.last_message(from_bot=False).raw["video"]["file_unique_id"]


@pytest.mark.parametrize(("language", "name"), [("ru", "Серик"), ("fa", "Reza")])
async def test_someone_elses_contact_goes_to_the_agents_only_with_a_ticket_and_outside_the_phone_step(
        tg, drivers, nobat, language, name):
    group, _ = await agents_forum(tg, "Dana")
    driver = drivers(language, first_name=name)
    await register(driver)
    refused = await driver.send_contact(DISPATCHER, own=False)
    assert refused.text == t(language, NOT_OWN), "no ticket: nothing to pass it to"
    assert group.topics == [] and group.bot_messages() == []

    assert (await driver.send("/support")).text == t(language, WRITE)
    await driver.send("/trucks")
    await driver.tap(t(language, "📱 Link trucks by my phone"))
    refused = await driver.send_contact(DISPATCHER, own=False)
    assert refused.text == t(language, NOT_OWN), "the bot asked for the driver's own phone"
    linked = await driver.tap(t(language, "📱 Share my phone number"))  # the own contact, with a ticket open
    assert linked.text.startswith(t(language, SAVED).split("{")[0])
    assert group.topics == [], "neither contact went to the agents"

    told = await driver.send_contact(DISPATCHER, own=False, first_name="Диспетчер")
    assert told.text == t(language, DELIVERED)
    topic = await group.wait_for_topic(f"{'🇷🇺' if language == 'ru' else '🇮🇷'} {name} · 123 ABC 02 · #1")
    copied = await topic.wait_for(lambda m: m.kind == "contact")
    assert copied.raw["contact"]["phone_number"] == DISPATCHER
    assert [m.kind for m in topic.bot_messages()[1:]] == ["contact"], "the driver's own number stayed with the bot"
