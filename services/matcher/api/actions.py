"""``POST /v1/actions``: a platform reports what it did about a match → ``haven.actions.v1``.

Only entries the hash list holds (or has held) can be reported on; anything else is a 404,
so a typo in a value cannot create a phantom action in a submitter's case status. The
report is acknowledged by Kafka before the 202.
"""

from __future__ import annotations

import uuid
from typing import Self

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.events import ActionKind
from schemas.signals import SignalType
from schemas.topics import ACTIONS
from services.common.http import ApiError
from services.matcher.adapters.events import action_event, publish_all
from services.matcher.api.deps import (
    AUTH_RESPONSES,
    IndexDep,
    MetricsDep,
    PlatformDep,
    ProducerDep,
    SettingsDep,
)

router = APIRouter(prefix="/v1", tags=["actions"])

_VALUE_LENGTH = {SignalType.PDQ: 64, SignalType.MD5: 32, SignalType.VPDQ: 64}
_HEX = set("0123456789abcdef")


class ActionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    signal: SignalType
    value: str = Field(
        max_length=64,
        description="the matched entry's value, as the match answer gave it (vPDQ: its digest)",
    )
    action: ActionKind
    upload_ref: str = Field(max_length=200, description="your reference of the upload")

    @model_validator(mode="after")
    def _value_fits_signal(self) -> Self:
        value = self.value.strip().lower()
        length = _VALUE_LENGTH[self.signal]
        if len(value) != length or not set(value) <= _HEX:
            raise ValueError(
                f"{self.value!r} is not a valid {self.signal.value} value: "
                f"expected {length} hex characters"
            )
        self.value = value
        return self


class ActionRead(BaseModel):
    event_id: uuid.UUID
    signal: SignalType
    value: str
    action: ActionKind
    upload_ref: str


@router.post(
    "/actions",
    status_code=202,
    response_model=ActionRead,
    responses={**AUTH_RESPONSES, 404: {"description": "no such entry on the hash list"}},
)
async def report_action(
    body: ActionCreate,
    platform: PlatformDep,
    worker: IndexDep,
    producer: ProducerDep,
    settings: SettingsDep,
    metrics: MetricsDep,
) -> ActionRead:
    """Report what you did about a matched entry (blocked, removed, not_violating, …)."""
    with worker.lock:
        known = worker.view.known(body.signal, body.value)
    if not known:
        raise ApiError(
            404,
            "entry_not_found",
            f"{body.signal.value}:{body.value} is not on the hash list",
            fields=[{"field": "value", "message": "not on the hash list"}],
        )
    event = action_event(
        platform.platform_id, body.signal, body.value, body.action, body.upload_ref
    )
    await run_in_threadpool(
        publish_all, producer, settings.topic(ACTIONS), [event], timeout=settings.publish_timeout_s
    )
    metrics.actions.labels(body.action.value).inc()
    return ActionRead(
        event_id=event.event_id,
        signal=body.signal,
        value=body.value,
        action=body.action,
        upload_ref=body.upload_ref,
    )
