"""``POST /v1/actions``: a platform reports what it did about a match → ``haven.actions.v1``.

Only entries the hash list holds (or has held) can be reported on; anything else is a 404,
so a typo in a value cannot create a phantom action in a submitter's case status. And only
entries delivered to the reporting platform (its filter admits the signal, its channels
delivered past the entry: ``domain.Deliveries``); anything else is a 403 ``not_delivered``.
The report is acknowledged by Kafka before the 202.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from schemas.topics import ACTIONS
from services.common.http import ApiError
from services.matcher.adapters.events import action_event
from services.matcher.api.deps import AUTH_RESPONSES, MatcherDep, PlatformDep
from services.matcher.api.models import ActionCreate, ActionRead

router = APIRouter(prefix="/v1", tags=["actions"])


@router.post(
    "/actions",
    status_code=202,
    response_model=ActionRead,
    responses={
        **AUTH_RESPONSES,
        403: {"description": "the entry was not delivered to this platform"},
        404: {"description": "no such entry on the hash list"},
    },
)
async def report_action(
    body: ActionCreate,
    platform: PlatformDep,
    matcher: MatcherDep,
) -> ActionRead:
    """Report what you did about a matched entry (blocked, removed, not_violating, …)."""
    with matcher.index.locked() as view:
        sequence = view.sequence_of(body.signal, body.value)
    if sequence is None:
        raise ApiError(
            404,
            "entry_not_found",
            f"{body.signal.value}:{body.value} is not on the hash list",
            ("value", "not on the hash list"),
        )
    admitted = body.signal in platform.signals
    if not admitted or not matcher.deliveries.reached(platform.platform_id, sequence):
        why = "your signal filter excludes it" if not admitted else "it has not reached you yet"
        raise ApiError(
            403,
            "not_delivered",
            f"{body.signal.value}:{body.value} was not delivered to your platform ({why}); "
            "actions are reported only on entries Haven sent you",
            ("value", "not delivered to this platform"),
        )
    event = action_event(
        platform.platform_id, body.signal, body.value, body.action, body.upload_ref
    )
    await run_in_threadpool(matcher.publish, ACTIONS, [event])
    matcher.metrics.actions.labels(body.action.value).inc()
    return ActionRead(
        event_id=event.event_id,
        signal=body.signal,
        value=body.value,
        action=body.action,
        upload_ref=body.upload_ref,
    )
