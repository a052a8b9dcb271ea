"""How a fault is written to the log (handlers/common/faults.py, services/kernel/faults.py): the
code's frames and every exception's type, the messages of the system, Telegram and the database,
never another exception's message, which may quote a user."""

from __future__ import annotations

from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import SendMessage

from handlers.common.faults import code_trace, what_failed


SAID = "Жанаргуль +77015550199"  # not on the lines that fail: the trace shows those lines


def _raised(make):
    try:
        make()
    except Exception as error:
        return error
    raise AssertionError("nothing was raised")


def _plate_of(text: str) -> None:
    try:
        {}[text]
    except KeyError as missing:
        raise ValueError(f"no plate in {text!r}") from missing


def test_a_chain_of_faults_keeps_every_frame_and_type_and_no_message_that_could_quote_a_user():
    trace = code_trace(_raised(lambda: _plate_of(SAID)))
    assert trace.count("Traceback (most recent call last):") == 2 and "which led to:" in trace
    assert trace.index("KeyError") < trace.index("ValueError"), "the first cause first, as Python prints it"
    assert "in _plate_of" in trace and "{}[text]" in trace, "the frames and lines of our code"
    assert "Жанаргуль" not in trace and "7701555" not in trace


def test_the_words_of_the_system_and_of_telegram_are_kept():
    refused = TelegramBadRequest(method=SendMessage(chat_id=1, text="Жанаргуль"), message="Bad Request: chat not found")
    assert what_failed(refused) == ("aiogram.exceptions.TelegramBadRequest: Telegram server says - "
                                    "Bad Request: chat not found")
    assert what_failed(ConnectionRefusedError(111, "Connection refused")) == (
        "ConnectionRefusedError: [Errno 111] Connection refused")
    assert what_failed(ValueError("Жанаргуль")) == "ValueError (its message is not logged: it may quote a user)"
