"""`nobat api`: the border system's API as a process of its own, over the database, with no bot."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from urllib.parse import quote

import aiohttp
from sqlalchemy import select

from services.accounts.follow_tables import RegisteredTruck
from services.notices.tables import Event
from tests.border import SECRET, Border, event
from tests.processes import ROOT, NobatProcess, clean_env, free_port


async def _until_listening(port: int, process: NobatProcess, timeout: float = 60) -> None:
    async with asyncio.timeout(timeout), aiohttp.ClientSession() as http:
        while True:
            assert process.process.returncode is None, process.output()
            try:
                async with http.get(f"http://127.0.0.1:{port}/v1/openapi.json") as answer:
                    # and it is this process that answers: its log names the port
                    if answer.status == 200 and f"listening on http://127.0.0.1:{port} " in process.output():
                        return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.2)


async def test_nobat_api_answers_signed_requests_without_a_bot_token(db, tmp_path):
    port = free_port()
    env = clean_env(NOBAT_CONFIG=str(ROOT / "config.yaml"), DATABASE_URL=db.url, NOBAT_API__PORT=str(port),
                    NOBAT_API__SECRET=SECRET)
    process = await NobatProcess(["api"], env, tmp_path, tmp_path / "api.log").start()
    try:
        await _until_listening(port, process)
        border = Border(f"http://127.0.0.1:{port}")
        status, answer = await border.call("PUT", "/v1/trucks/" + quote("123 ABC 02"),
                                           {"version": 1, "phones": ["+77012345678"]})
        assert (status, answer["phones"]) == (200, ["77012345678"])
        status, answer = await border.post_event(event("process-1"))
        assert (status, answer["outcome"]) == (202, "no_recipient")
        status, answer = await border.post_event(event("process-2"), secret="not-the-shared-secret")
        assert (status, answer["error"]) == (401, "bad_signature")
    finally:
        code = await process.stop()
    assert code == 0, process.output()
    assert "Traceback" not in process.output()
    async with db.reading() as session:
        assert list(await session.scalars(select(Event.event_id))) == ["process-1"]
        assert list(await session.scalars(select(RegisteredTruck.phone))) == ["77012345678"]


async def test_nobat_run_serves_the_api_beside_the_bot(tg, db, tmp_path):
    port = free_port()
    env = clean_env(NOBAT_CONFIG=str(ROOT / "config.yaml"), DATABASE_URL=db.url, BOT_TOKEN=tg.token,
                    TELEGRAM_API_URL=tg.base_url, NOBAT_API__PORT=str(port), NOBAT_API__SECRET=SECRET)
    process = await NobatProcess(["run"], env, tmp_path, tmp_path / "run.log").start()
    try:
        await _until_listening(port, process)
        status, answer = await Border(f"http://127.0.0.1:{port}").call("GET", "/v1/deliveries?event_id=none")
        assert (status, answer["error"]) == (404, "unknown_event")
        welcome = await tg.user(4343, first_name="Aigerim", language_code="kk").send("/start", timeout=60)
        assert welcome is not None and "Aigerim" in welcome.text
    finally:
        code = await process.stop()
    assert code == 0, process.output()


def test_the_border_systems_api_alone_loads_no_telegram_framework():
    """`nobat api` has nothing to do with Telegram: it starts without aiogram, which alone takes
    seconds of a small machine's time to load."""
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, bot.api_alone, bot.cli, bot.startup; "
                               "print(sorted({m.split('.')[0] for m in sys.modules} & {'aiogram', 'handlers'}))"],
        capture_output=True, text=True, check=True, cwd=ROOT).stdout.strip()
    assert loaded == "[]"
