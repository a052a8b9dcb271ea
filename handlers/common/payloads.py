"""What a button's payload field may hold, bounded as the database and the configuration bound it.

A payload is text a modified client can forge. Typed and bounded, a forged one fails to unpack, so
no handler of the feature runs and the fallback answers the tap with the stale-button alert; and
no service is ever asked about an id that no row can have (PostgreSQL would refuse the statement,
failing everything that shares it) or a day the calendar cannot compute with.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field, PlainSerializer

from services.kernel.rules import CHECKPOINT_CODE, LANGUAGES
from services.storage.models import ROW_ID_MAX

RowId = Annotated[int, Field(ge=1, le=ROW_ID_MAX)]
RowIdOrZero = Annotated[int, Field(ge=0, le=ROW_ID_MAX)]  # 0 where the button names no row yet
CheckpointCode = Annotated[str, Field(pattern=CHECKPOINT_CODE)]
Language = Literal[LANGUAGES]
# Packed as YYYY-MM-DD. The bounds are any day the calendar's arithmetic can hold (time zones, the
# day after); which days are bookable is the calendar's to say.
Day = Annotated[date, Field(ge=date(2000, 1, 1), le=date(2099, 12, 31)),
                PlainSerializer(date.isoformat, return_type=str)]
# Far beyond any account's bookings; the screen shows the last page for a number past the end.
PageNumber = Annotated[int, Field(ge=1, le=10_000)]
