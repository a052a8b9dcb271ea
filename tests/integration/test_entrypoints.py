"""The commands a newcomer and an operator type: `nobat demo`, `nobat run`, `nobat migrate`, and the
benchmark; and what they say when the database or Redis cannot be used."""

from __future__ import annotations

import asyncio
import os
import re
import signal

import pytest

from tests.processes import ROOT, clean_env, free_port, nobat_command
from tests.story import t, tn


async def test_the_demo_replays_a_persian_conversation_to_a_booking():
    process = await asyncio.create_subprocess_exec(
        *nobat_command(), "demo", "--lang", "fa", "--script", str(ROOT / "tests" / "data" / "demo_fa.txt"),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=ROOT, env=clean_env(),
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    transcript = out.decode()
    assert process.returncode == 0, err.decode()
    assert "بازرگان" in transcript  # the checkpoint, in Persian
    booked = t("fa", "✅ <b>Booked</b>").replace("<b>", "").replace("</b>", "")
    assert booked in transcript
    assert re.search(r"\u2068[A-Z0-9]{7}\u2069", transcript), "the reference, isolated inside Persian text"
    assert "12 IR 345" in transcript
    assert "Traceback" not in transcript + err.decode()


async def test_the_demo_plays_the_border_system_and_links_by_phone():
    process = await asyncio.create_subprocess_exec(
        *nobat_command(), "demo", "--lang", "ru", "--script", str(ROOT / "tests" / "data" / "demo_notices_ru.txt"),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=ROOT, env=clean_env(),
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    transcript = out.decode()
    assert process.returncode == 0, err.decode()
    # :event posted signed events to the bot's own API; the card shows them, the ringing ones ring.
    assert transcript.count("POST /v1/events") == 3 and "202 queued" in transcript
    assert t("ru", "Called to the checkpoint") in transcript and "3" in transcript
    assert t("ru", "Released by customs: drive on.") in transcript
    # :contact shared the own number after the contact button was asked for.
    assert "+98912" in transcript and t("ru", "📱 Share my phone number") in transcript
    assert "Traceback" not in transcript + err.decode()


async def test_the_demo_shows_expiry_alerts_and_numbers_typed_as_text():
    process = await asyncio.create_subprocess_exec(
        *nobat_command(), "demo", "--lang", "ru", "--script", str(ROOT / "tests" / "data" / "demo_expiry_ru.txt"),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=ROOT, env=clean_env(),
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    transcript = out.decode()
    assert process.returncode == 0, err.decode()
    # :wait 16 let the hold run out.
    assert t("ru", "⌛ Your hold has expired, nothing was booked. The time went back to the queue.") in transcript
    # :text 5 was text, not a tap on button 5.
    assert t("ru", "Please tap one of the buttons above, or /cancel to stop.") in transcript
    limit = tn("ru", "You already hold {count} time. Confirm or cancel it in /mybookings first.",
               "You already hold {count} times. Confirm or cancel them in /mybookings first.", 2).format(count=2)
    assert f"[alert] {limit}" in transcript
    assert t("ru", "✅ <b>Booked</b>").replace("<b>", "").replace("</b>", "") in transcript
    assert "Traceback" not in transcript + err.decode()


async def _demo(*args: str) -> str:
    process = await asyncio.create_subprocess_exec(
        *nobat_command(), "demo", *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=ROOT,
        env=clean_env(),
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, err.decode()
    assert "Traceback" not in out.decode() + err.decode()
    return out.decode()


TOPIC = "┃ [agents · 🇷🇺 Aigerim · #1]"  # how the demo marks what the agents' group shows, in the ticket's topic
RATING_BUTTONS = "[1] 1 ⭐   [2] 2 ⭐   [3] 3 ⭐   [4] 4 ⭐   [5] 5 ⭐"


async def test_the_demo_has_support_and_plays_its_agent():
    transcript = await _demo("--lang", "ru", "--script", str(ROOT / "tests" / "data" / "demo_support_ru.txt"))
    assert t("ru", "Support is not available right now. /help — what I can do") not in transcript
    # The question opened the ticket's topic, with the card, and is there in the agents' group.
    assert f"{TOPIC} (a new topic)" in transcript
    assert f"┃ {t('ru', '<b>Ticket #{number}</b>').format(number=1)[3:-4]}" in transcript
    assert "\n┃ Здравствуйте! Что нужно на границе в Хоргосе?\n" in transcript
    assert t("ru", "✓ Delivered to support.") in transcript
    # The agent's answer, in the driver's chat (unmarked), after "an agent is answering".
    assert t("ru", "💬 An agent is answering.") + "\n── Nobat ────────────────────\nДобрый день! Сейчас пришлю" in transcript
    # /faq docs: the canned answer, to the driver and shown in the topic.
    sent = t("ru", "📋 Canned answer sent to the driver in {language}:").format(language="Русский")
    assert f"┃ {sent}" in transcript
    # /close: the driver is asked to rate, taps 5, is thanked; the topic sees the rating.
    assert t("ru", "✅ Your ticket #{number} is closed. How did support answer? Rate it from 1 (bad) to 5 "
                   "(excellent).").format(number=1) + "\n" + RATING_BUTTONS in transcript
    assert t("ru", "✅ Your ticket #{number} is closed. Thank you for your rating: {stars} of 5.").format(
        number=1, stars=5) in transcript
    assert "┃ " + t("ru", "⭐ The driver rated the answer to ticket #{number}: {stars} of 5 {bar}").format(
        number=1, stars=5, bar="★★★★★") in transcript
    # :topic printed the whole topic: the agent's own messages too.
    assert "┃ ═══ topic «✅ 🇷🇺 Aigerim · #1» in «Nobat support» ═══" in transcript  # closed, and marked so
    assert "┃ [agents · ✅ 🇷🇺 Aigerim · #1] Dana (agent)\n┃ /faq docs" in transcript


async def test_the_demo_lets_you_be_the_agent():
    transcript = await _demo("--agent", "--script", str(ROOT / "tests" / "data" / "demo_agent_ru.txt"))
    # A simulated driver asked first; the question is in the topic.
    assert "\n┃ Здравствуйте! Какие документы нужны на границе в Хоргосе?\n" in transcript
    # Plain lines are the agent's: /assign in the topic, the question in the driver's chat.
    assert "┃ " + t("ru", "🙋 {agent} has ticket #{number} now.").format(agent="Dana", number=1) in transcript
    assert "\n── Nobat ────────────────────\nДобрый день! Какой номер у вашей машины?\n" in transcript
    # :driver lines are the driver's: the answer is copied into the topic, a number taps their button.
    assert "\n┃ 123 ABC 02\n" in transcript
    assert RATING_BUTTONS in transcript
    assert t("ru", "✅ Your ticket #{number} is closed. Thank you for your rating: {stars} of 5.").format(
        number=1, stars=4) in transcript


async def test_run_without_a_token_says_what_is_missing(tmp_path):
    process = await asyncio.create_subprocess_exec(
        *nobat_command(), "run", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=tmp_path,
        env=clean_env(NOBAT_CONFIG=str(ROOT / "config.yaml")),
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode != 0
    assert "BOT_TOKEN" in err.decode() and "Traceback" not in err.decode()


async def test_run_talks_to_any_bot_api_server_and_creates_its_schema(tg, tmp_path):
    database = tmp_path / "fresh" / "nobat.db"
    process = await asyncio.create_subprocess_exec(
        *nobat_command(), "run", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=tmp_path,
        env=clean_env(NOBAT_CONFIG=str(ROOT / "config.yaml"), BOT_TOKEN=tg.token, TELEGRAM_API_URL=tg.base_url,
                 DATABASE_URL=f"sqlite:///{database}"),
    )
    try:
        driver = tg.user(4242, first_name="Ali", language_code="fa")
        welcome = await driver.send("/start", timeout=60)
        assert welcome is not None and "Ali" in welcome.text
        await driver.send("/book", timeout=30)
        assert database.exists()
    finally:
        process.send_signal(signal.SIGTERM)
        _out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, err.decode()


@pytest.mark.parametrize("seed", [1, 2])
async def test_the_booking_benchmark_never_overbooks_or_loses_a_place(tmp_path, seed):
    from bench.booking import run

    result = await run("sqlite", f"sqlite:///{tmp_path}/bench.db", accounts=600, slots=40, seed=seed)
    assert result["overbooked"] == 0
    assert result["lost"] == 0
    assert result["holds"] == min(result["attempts"], result["capacity"])


async def test_the_bot_benchmark_answers_every_driver_and_never_overbooks(tmp_path):
    from bench.bot import run

    lines = await run("sqlite", f"sqlite:///{tmp_path}/bench.db", users=30, drivers=60, tmp=tmp_path)
    steps = {line["step"]: line for line in lines}
    assert list(steps) == ["/start", "/book", "checkpoint", "next", "confirm", "rush"]
    for step in ("/start", "/book", "checkpoint", "next", "confirm"):
        assert steps[step]["per_s"] > 0 and steps[step]["echo_per_s"] > 0 and steps[step]["p95_ms"] > 0, step
    rush = steps["rush"]
    assert rush["holds"] == rush["holds_in_db"] == 60, "every driver of the rush holds a time"
    assert rush["overbooked"] == 0
    assert rush["taps"] >= 60


async def test_the_notices_benchmark_delivers_every_event_once_within_the_limits(tmp_path):
    from bench.notices import run

    line = await run(f"sqlite:///{tmp_path}/bench.db", trucks=20, events=100, rate=100.0, tmp=tmp_path)
    assert line["events"] == 100 and line["sent"] == 100
    assert line["lost"] == line["duplicates"] == line["limit_violations"] == 0
    assert line["accepted_per_s"] > 0 and line["send_rate_ratio"] > 0 and line["p95_event_to_send_ms"] > 0
    assert "batch" not in line, "a run without --batch prints what it always did"


async def test_the_notices_benchmark_in_batches_delivers_every_event_once_too(tmp_path):
    from bench.notices import run

    line = await run(f"sqlite:///{tmp_path}/bench.db", trucks=20, events=100, rate=100.0, tmp=tmp_path, batch=25)
    assert (line["batch"], line["events"], line["sent"]) == (25, 100, 100)
    assert line["lost"] == line["duplicates"] == line["limit_violations"] == 0


async def test_run_with_a_broken_configuration_names_the_mistake(tmp_path):
    broken = (ROOT / "config.yaml").read_text(encoding="utf-8").replace("Asia/Tehran", "Asia/Tehrn")
    (tmp_path / "config.yaml").write_text(broken, encoding="utf-8")
    process = await asyncio.create_subprocess_exec(
        *nobat_command(), "run", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=tmp_path,
        env=clean_env(BOT_TOKEN="1:x"),
    )
    _out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode != 0
    assert "Asia/Tehrn" in err.decode() and "Traceback" not in err.decode()


@pytest.mark.parametrize("command, env, setting, why", [
    ("api", {"NOBAT_API__SECRET": "only-15-letters"}, "NOBAT_API__SECRET", "at least 16 characters"),
    ("run", {"NOBAT_WEBHOOK__SECRET_TOKEN": "the webhook's secret: ключ"}, "NOBAT_WEBHOOK__SECRET_TOKEN",
     "should match pattern"),
    ("run", {"TELEGRAM_API_URL": "htp://bot-api.example.kz"}, "TELEGRAM_API_URL", "http:// or https://"),
    ("run", {"TELEGRAM_API_URL": "http://[bad"}, "TELEGRAM_API_URL", "http:// or https://"),
])
async def test_a_setting_given_wrong_is_named_in_one_line_that_never_shows_its_value(tmp_path, command, env, setting,
                                                                                      why):
    token = "123456:AAHsecret-token-of-the-bot"
    process = await asyncio.create_subprocess_exec(
        *nobat_command(), command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=tmp_path,
        env=clean_env(NOBAT_CONFIG=str(ROOT / "config.yaml"), BOT_TOKEN=token,
                      DATABASE_URL=f"sqlite:///{tmp_path / 'nobat.db'}", **env),
    )
    _out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    said = err.decode().splitlines()
    assert process.returncode == 1
    assert len(said) == 1 and said[0].startswith("nobat: configuration error"), err.decode()
    assert setting in said[0] and why in said[0]
    for value in (*env.values(), token):
        assert value not in err.decode()


@pytest.mark.parametrize("server, token, why", [
    ("nobody", "123456:AAHsecret-token-of-the-bot", "Cannot connect to host"),
    ("local", "123456:AAHsecret-token-of-another-bot", "refused BOT_TOKEN (Unauthorized)"),
    ("local/wrong-path", "123456:AAHsecret-token-of-the-bot", "answered something that is not the Bot API's JSON"),
])
async def test_a_bot_api_server_that_cannot_be_used_is_named_in_one_line_without_the_token(tg, tmp_path, server,
                                                                                            token, why):
    url = f"http://127.0.0.1:{free_port()}" if server == "nobody" else tg.base_url + server.removeprefix("local")
    process = await asyncio.create_subprocess_exec(
        *nobat_command(), "run", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=tmp_path,
        env=clean_env(NOBAT_CONFIG=str(ROOT / "config.yaml"), BOT_TOKEN=token, TELEGRAM_API_URL=url,
                      DATABASE_URL=f"sqlite:///{tmp_path / 'nobat.db'}"),
    )
    _out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    said = [line for line in err.decode().splitlines() if " INFO " not in line]  # the log of the migration aside
    assert process.returncode == 1
    assert len(said) == 1 and said[0].startswith("nobat run: "), err.decode()
    assert url in said[0] and why in said[0]
    assert ("TELEGRAM_API_URL" if server != "local" else "@BotFather") in said[0]
    assert token not in err.decode() and token.split(":")[1] not in err.decode()


async def test_a_request_the_bot_api_server_answers_with_endless_redirects_fails_without_the_token(tmp_path):
    """aiohttp names the URL, token and all, in some errors (here TooManyRedirects): the log of a
    failed request must not carry it."""
    import traceback

    from aiogram.exceptions import TelegramNetworkError
    from aiohttp import web

    from bot.app import build_bot
    from bot.config import load_settings

    async def elsewhere(request: web.Request) -> web.Response:
        raise web.HTTPFound(request.path + "/again")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", elsewhere)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    token = "123456:AAHsecret-token-of-the-bot"
    port = runner.addresses[0][1]
    bot = build_bot(load_settings(bot_token=token, telegram_api_url=f"http://127.0.0.1:{port}",
                                  database_url=f"sqlite:///{tmp_path / 'nobat.db'}"))
    try:
        with pytest.raises(TelegramNetworkError) as failure:
            await bot.get_me()
        logged = "".join(traceback.format_exception(failure.value))
        assert "TooManyRedirects" in logged
        assert "secret-token" not in logged
    finally:
        await bot.session.close()
        await runner.cleanup()


@pytest.fixture
async def silent_server():
    """host:port of a server that accepts connections and never says a word: a frozen database or
    Redis, where a start without timeouts would hang."""
    held = []

    async def hold(reader, writer):
        held.append(writer)
        await reader.read()

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    yield "127.0.0.1:%d" % server.sockets[0].getsockname()[1]
    for writer in held:
        writer.close()
    server.close()


def _missing_database() -> str | None:
    if not os.environ.get("DATABASE_URL"):
        return None
    from sqlalchemy.engine import make_url

    return make_url(os.environ["DATABASE_URL"]).set(database="nobat_no_such_database").render_as_string(False)


STARTS = [
    ("run", {"DATABASE_URL": "postgresql://nobat:s3cret@127.0.0.1:1/nobat"}, "127.0.0.1:1/nobat",
     "Connection refused"),
    ("migrate", {"DATABASE_URL": "postgresql://nobat:s3cret@127.0.0.1:1/nobat"}, "127.0.0.1:1/nobat",
     "Connection refused"),
    ("run", {"DATABASE_URL": "postgresql://nobat:s3cret@{silent}/nobat"}, "{silent}/nobat", "did not answer in time"),
    ("run", {"DATABASE_URL": "mysql://nobat:s3cret@db/nobat"}, "mysql://nobat:***@db/nobat", "postgresql://"),
    ("migrate", {"DATABASE_URL": "nonsense"}, "nonsense", "sqlite:///"),
    ("run", {"REDIS_URL": "redis://:s3cret@127.0.0.1:1/0"}, "redis://:***@127.0.0.1:1/0", "REDIS_URL"),
    ("run", {"REDIS_URL": "redis://:s3cret@{silent}/0"}, "{silent}/0", "REDIS_URL"),
]
if _missing_database():
    STARTS += [("run", {"DATABASE_URL": _missing_database()}, "nobat_no_such_database", "does not exist"),
               ("migrate", {"DATABASE_URL": _missing_database()}, "nobat_no_such_database", "does not exist")]


@pytest.mark.parametrize("command, env, where, why", STARTS)
async def test_a_start_the_database_or_redis_stops_says_so_in_one_line(tmp_path, silent_server, command, env, where,
                                                                       why):
    env = {name: value.format(silent=silent_server) for name, value in env.items()}
    env.setdefault("DATABASE_URL", f"sqlite:///{tmp_path / 'nobat.db'}")
    process = await asyncio.create_subprocess_exec(
        *nobat_command(), command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=tmp_path,
        env=clean_env(NOBAT_CONFIG=str(ROOT / "config.yaml"), BOT_TOKEN="1:x", NOBAT_DATABASE__CONNECT_TIMEOUT_SECONDS="2",
                 **env),
    )
    # Well within the test's patience: each wait of the start is bounded by the connect timeout.
    _out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    said = [line for line in err.decode().splitlines() if " INFO " not in line]  # the log of the migration aside
    assert process.returncode == 1
    assert len(said) == 1 and said[0].startswith(f"nobat {command}: "), err.decode()
    assert where.format(silent=silent_server) in said[0] and why in said[0]
    assert "s3cret" not in said[0]


async def test_the_support_benchmark_copies_every_message_once_in_order_within_the_limits(tmp_path):
    from bench.support import run

    line = await run("sqlite", f"sqlite:///{tmp_path}/bench.db", drivers=6, agents=2, messages=2, rate=100.0,
                     group_rate=600.0, tmp=tmp_path, timeout=20)
    assert line["copied"] == 12 and line["replies"] == 6 and line["topics"] == 6
    assert line["lost"] == line["misrouted"] == line["duplicates"] == line["out_of_order"] == 0
    assert line["extra_topics"] == line["limit_violations"] == line["still_queued"] == 0
    assert line["per_s"] > 0 and line["p95_ms"] > 0 and line["reply_p95_ms"] > 0
