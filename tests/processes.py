"""Real `nobat` processes for the integration tests: the command, and an environment that carries
none of the caller's bot settings (each test says which database and Bot API server it means)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def nobat_command() -> list[str]:
    script = Path(sys.executable).parent / "nobat"
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot.cli"]


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "BOT_TOKEN",
                                                          "TELEGRAM_API_URL")}
    env.update(extra)
    return env


class NobatProcess:
    """One `nobat` process whose log goes to a file: a pipe nobody reads would fill up and stall
    a busy bot in the middle of a test."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path, log: Path) -> None:
        self.args, self.env, self.cwd, self.log = args, env, cwd, log
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> NobatProcess:
        with self.log.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                *nobat_command(), *self.args, stdout=log, stderr=log, cwd=self.cwd, env=self.env)
        return self

    async def kill(self) -> None:
        """SIGKILL: no handler finishes, nothing is flushed or confirmed, as when a machine dies."""
        self.process.kill()
        await self.process.wait()

    async def stop(self, timeout: float = 60) -> int:
        """SIGTERM, as an operator or a service manager stops it; returns the exit code."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.process.wait(), timeout)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


async def kill_left(*processes: NobatProcess | None) -> None:
    """At a test's end, whatever of its processes is still running (a failed assertion left it)."""
    for process in processes:
        if process is not None and process.process is not None and process.process.returncode is None:
            await process.kill()


def free_port() -> int:
    """A TCP port nobody listens on now, for a server started next (often a `nobat` process that takes
    seconds to bind it).

    Not the kernel's "port 0": the kernel hands the ports of its ephemeral range to any server
    binding port 0, so another test's server could take this one before the slow process binds it,
    and this test would then talk to that server. The ports come from below the ephemeral range, a
    block of its own for each pytest-xdist worker, and each is probed before it is handed out."""
    global _next_port
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    block = 1000
    start = _ephemeral_low() - block * (1 + (int(worker) if worker.isdigit() else 0) % 24)
    if _next_port < 0:
        _next_port = os.getpid() * 37 % block  # two test runs at once begin at different ports
    for _ in range(block):
        port = start + _next_port % block
        _next_port += 1
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {start}..{start + block - 1}")


_next_port = -1


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


async def raw_request(port: int, head: bytes, body: bytes = b"") -> tuple[int, bytes]:
    """(status, body) of one HTTP/1.1 request written byte for byte to 127.0.0.1:`port`: `head` is
    the request line and headers, as no client library would send them (bytes that are not UTF-8)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(head.rstrip(b"\r\n") + b"\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 30)
    finally:
        writer.close()
    status_line, _, rest = answer.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]
