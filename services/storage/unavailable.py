"""When the database is unavailable: which faults mean "cannot be reached or did not answer in time",
a condition to wait out (or, at start, to fix in the configuration), as opposed to a fault of the code.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from services.kernel.faults import Condition

log = logging.getLogger(__name__)
FIRST_WAIT = 0.2  # seconds before a step the database had no turn for is tried again (doubling, up to 5)
R = TypeVar("R")


class DatabaseUnavailable(Condition):
    """The database cannot be reached or did not answer in time: a condition to wait out (or, at
    start, to fix in the configuration), not a fault of the code. The message says why."""


# PostgreSQL's answers that mean "unavailable, try again", by SQLSTATE.
_UNAVAILABLE_STATES = {
    "57014": "a statement ran past the statement timeout",  # query_canceled
    "55P03": "a table it needs is locked by another connection",  # lock_not_available
    "57P01": "the server is shutting down",
    "57P02": "the server is restarting",
    "57P03": "the server is not accepting connections yet",
    "53300": "the server has no free connection",
}
# ... and those that name what is wrong with the address or the login: said as the server says it.
_REFUSED_STATES = {"3D000", "28000", "28P01"}
_UNAVAILABLE_SQLITE = {
    "SQLITE_BUSY": "it is locked by another connection",
    "SQLITE_LOCKED": "it is locked by another connection",
    "SQLITE_CANTOPEN": "the database file cannot be opened",
    "SQLITE_IOERR": "the disk failed",
    "SQLITE_FULL": "the disk is full",
}


def why_unavailable(error: BaseException) -> str | None:
    """Why the database is unavailable, if that is what `error` says; None for any other fault."""
    if isinstance(error, DatabaseUnavailable):
        return str(error)
    if isinstance(error, (TimeoutError, PoolTimeout)):
        return "it did not answer in time"
    if isinstance(error, OSError):
        # asyncio words every failed connect alike ("Connect call failed"); the errno says which.
        return f"cannot connect ({os.strerror(error.errno) if (error.errno or 0) > 0 else error.strerror or error})"
    if isinstance(error, DBAPIError):
        if error.connection_invalidated:
            return "the connection was lost"
        orig = error.orig
    elif getattr(error, "sqlstate", None):  # the driver's own, from a COPY run below SQLAlchemy (services.audit)
        orig = error
    else:
        return None
    state = getattr(orig, "sqlstate", None)
    if state in _UNAVAILABLE_STATES:
        return _UNAVAILABLE_STATES[state]
    if state in _REFUSED_STATES:
        return str(orig)
    if state and state.startswith("08"):  # connection_exception
        return f"the connection failed ({orig})"
    name = getattr(orig, "sqlite_errorname", None) or ""
    return _UNAVAILABLE_SQLITE.get("_".join(name.split("_")[:2]))  # SQLITE_IOERR_READ is an SQLITE_IOERR


def only_locked(error: DatabaseUnavailable) -> bool:
    """Whether the database was unavailable only because another connection held a lock."""
    return error.__cause__ is not None and why_unavailable(error.__cause__) in (
        _UNAVAILABLE_SQLITE["SQLITE_BUSY"], _UNAVAILABLE_STATES["55P03"])


@contextmanager
def unavailable_as_error() -> Iterator[None]:
    """Faults that mean "the database is unavailable" become `DatabaseUnavailable`, which the
    batcher does not retry one request at a time and the error handler answers with "try again
    shortly"; any other fault passes unchanged."""
    try:
        yield
    except Exception as error:
        reason = why_unavailable(error)
        if reason is None or isinstance(error, DatabaseUnavailable):
            raise
        raise DatabaseUnavailable(reason) from error


async def patiently(step: Callable[[], Awaitable[R]], seconds: float, what: str) -> R:
    """A step tried again while the database has no turn for it (SQLite's one writer, or a pool,
    busy with a burst of drivers), for up to `seconds`: for what must not be lost or done twice,
    a wait is better than the usual "try again" a busy database answers."""
    deadline = time.monotonic() + seconds
    wait = FIRST_WAIT
    while True:
        try:
            return await step()
        except DatabaseUnavailable:
            if time.monotonic() + wait > deadline:
                raise
            log.debug("the database had no turn for %s; trying again in %.1fs", what, wait)
            await asyncio.sleep(wait)
            wait = min(wait * 2, 5.0)
