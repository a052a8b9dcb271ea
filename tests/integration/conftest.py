import os
import uuid

import pytest


@pytest.fixture
async def redis():
    """A Redis client and a key prefix of this test's own, its keys deleted afterwards."""
    from redis.asyncio import Redis

    client = Redis.from_url(os.environ["REDIS_URL"])
    prefix = f"nobat-test-{uuid.uuid4().hex[:8]}"
    yield client, prefix
    keys = [key async for key in client.scan_iter(f"{prefix}:*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


@pytest.fixture
def border(nobat):
    """The border system, posting signed requests to the bot's API (the test's settings give the API
    its secret: `{"api": {"secret": tests.border.SECRET, ...}}`)."""
    from tests.border import Border

    return Border(f"http://127.0.0.1:{nobat.api_port}")
