"""A trailer typed the moment its question arrives: the question's buttons still go away.

Updates are handled side by side, and the question's message id is written once Telegram has
answered the send; a driver on a fast connection (or a dispatcher pasting plates) can type the
trailer before that. Here Telegram's answer to the question's send is held back for a moment, so
the trailer's update is handled first, every time."""

from __future__ import annotations

import asyncio

from aiogram.methods import SendMessage

from tests.story import t

QUESTION = "Truck {plate} added. Send the trailer's plate number, or tap Skip."


async def test_a_trailer_typed_before_the_bot_heard_back_from_its_question_still_clears_the_questions_buttons(
        drivers, nobat):
    driver = drivers("ru")
    await driver.send("/start")
    await driver.send("/book")
    asked = asyncio.Event()

    async def slow_answer(make_request, bot, method):
        answer = await make_request(bot, method)
        if isinstance(method, SendMessage) and t("ru", QUESTION).split("{")[0] in method.text:
            asked.set()
            await asyncio.sleep(0.5)  # a slow network: the driver already sees the question
        return answer

    nobat.bot.session.middleware(slow_answer)
    await driver.send("777 KZ 02", wait=False)
    await asyncio.wait_for(asked.wait(), 10)
    question = driver.last_message()
    assert question.buttons, "Skip and ◀ Back"
    await driver.send("88 TR 02")  # the trailer, at once
    await driver.wait_for(lambda m: "777 KZ 02 / 88 TR 02" in m.text)
    await driver.wait_for(lambda m: m.text == t("ru", "Choose the checkpoint:"))
    await driver.wait_idle()
    assert not question.buttons, "the Skip button went away once the trailer was typed"
