"""The conversation state when it cannot be had (it lives in Redis, and Redis is away).

Every update's state is read before any handler is chosen, so a read that fails would fail every
update, /start and /help too. Instead the state reads as `UNKNOWN`: a handler that needs no state
(/start, /help, /language, the buttons, which carry what they need) runs as ever, a handler
waiting for a step's text is not chosen, and what falls through to the fallback with an unknown
state is asked to try again shortly. A handler that reads the step's data or moves to a step
meets `StateUnavailable`, which the error handler answers the same way.
"""

from __future__ import annotations

UNKNOWN = "conversation:unknown"  # no step of any flow is named so


class StateUnavailable(Exception):
    """The conversation state could not be read or written: a condition to wait out, not a fault."""
