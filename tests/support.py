"""The agents' forum of the support tests: a supergroup with topics, and the agents in it."""

from __future__ import annotations

import asyncio

AGENTS = -100777
DELIVERED = "✓ Delivered to support."
ANSWERING = "💬 An agent is answering."


async def agents_forum(tg, *names: str, language: str = "ru"):
    """The agents' group (`support.group_id` AGENTS) and one member per name, in that order."""
    group = tg.group(AGENTS, "Agents", forum=True)
    agents = []
    for index, name in enumerate(names):
        agent = tg.user(990_100 + index, first_name=name, language_code=language)
        await agent.join_group(group, wait=False)
        agents.append(agent)
    return group, agents


async def until(check, timeout: float = 10.0) -> None:
    """Until `check()` says yes: what the outbox does in the group (a topic closed, renamed), it
    does in its turn."""
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.05)
