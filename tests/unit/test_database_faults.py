"""Which faults mean "the database is unavailable, try again shortly", and how a URL is shown."""

from __future__ import annotations

import sqlite3

import asyncpg
import pytest
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from services.storage.database import normalize_url, shown_url
from services.storage.unavailable import DatabaseUnavailable, why_unavailable


def _sqlite_error(message: str, name: str) -> OperationalError:
    error = sqlite3.OperationalError(message)
    error.sqlite_errorname = name
    return OperationalError("BEGIN IMMEDIATE", {}, error)


@pytest.mark.parametrize("error, reason", [
    (TimeoutError(), "it did not answer in time"),
    (PoolTimeout("QueuePool limit of size 10 overflow 10 reached"), "it did not answer in time"),
    (ConnectionRefusedError(111, "Connection refused"), "cannot connect (Connection refused)"),
    (_sqlite_error("database is locked", "SQLITE_BUSY"), "it is locked by another connection"),
    (_sqlite_error("unable to open database file", "SQLITE_CANTOPEN"), "the database file cannot be opened"),
    (DatabaseUnavailable("no turn to write within the statement timeout"), "no turn to write within the statement timeout"),
    # The driver's own errors, from the audit trail's COPY, which runs below SQLAlchemy.
    (asyncpg.QueryCanceledError("canceling statement due to statement timeout"),
     "a statement ran past the statement timeout"),
    (asyncpg.LockNotAvailableError("canceling statement due to lock timeout"),
     "a table it needs is locked by another connection"),
])
def test_waiting_faults_say_why_the_database_is_unavailable(error, reason):
    assert why_unavailable(error) == reason


@pytest.mark.parametrize("error", [
    ValueError("a bug"),
    IntegrityError("INSERT", {}, sqlite3.IntegrityError("UNIQUE constraint failed")),
    _sqlite_error("no such table: slots", "SQLITE_ERROR"),
    asyncpg.UniqueViolationError('duplicate key value violates unique constraint "audit_records_pkey"'),
])
def test_other_faults_are_faults(error):
    assert why_unavailable(error) is None


def test_urls_are_shown_without_their_password_and_strange_ones_refused_plainly():
    assert shown_url("postgresql://nobat:s3cret@db:5432/nobat") == "postgresql://nobat:***@db:5432/nobat"
    assert "s3cret" not in shown_url("postgres//nobat:s3cret@db/nobat")
    with pytest.raises(ValueError, match="unsupported database 'mysql'"):
        normalize_url("mysql://nobat:s3cret@db/nobat")
    with pytest.raises(ValueError, match="not a database URL"):
        normalize_url("nonsense")
