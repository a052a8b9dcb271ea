"""The event the border system posts, as the API validates it: plain pydantic, no server."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.notices.events import EventService, event_model
from tests.border import event


def test_an_event_names_its_truck_in_the_canonical_form_and_only_configured_checkpoints():
    model = event_model(["khorgos", "dostyk"])
    posted = model.model_validate(event("e-1", plate="123 авс 02", booking_ref=" abc1234 "))
    assert (posted.plate, posted.booking_ref, posted.checkpoint) == ("123ABC02", "ABC1234", "khorgos")
    assert posted.occurred_at.utcoffset().total_seconds() == 5 * 3600
    with pytest.raises(ValidationError, match="checkpoint"):
        model.model_validate(event("e-2", checkpoint="bazargan"))
    assert model.model_json_schema()["properties"]["checkpoint"]["enum"] == ["khorgos", "dostyk"]


def test_a_service_without_checkpoints_is_built_but_takes_no_event():
    service = EventService(db=None, clock=None, booking=None, checkpoint_codes=[], outbox=None)
    with pytest.raises(ValueError, match="no checkpoint"):
        service.model  # noqa: B018
