"""The conversations run on one database: the last backend configured (PostgreSQL where
DATABASE_URL is set, as in CI, else SQLite). What they assert is the same on both, since the
handlers and services above the storage layer are one code; where SQLite and PostgreSQL differ (the
booking engine's writes, the claims of the outbox and the inbox, the audit trail, locks and
timeouts) tests/integration runs each test on both, and so do the conversations about the
database itself: a frozen or busy database (test_database_frozen.py, test_support_queue.py) and
the rush on one slot (test_rush.py). The demo's runs (tests/integration/test_entrypoints.py) go
through whole conversations on SQLite in CI too. Running every conversation on both took a fifth
of CI's time."""

from __future__ import annotations

import pytest

from tests.databases import backends, fresh_database


@pytest.fixture(params=backends()[-1:])
async def db(request, tmp_path):
    async with fresh_database(request.param, tmp_path) as database:
        yield database
