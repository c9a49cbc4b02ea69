"""Case routes: open, add media, read status, withdraw.

Writes answer 2xx only after Kafka acknowledged every event (then the snapshot is written
through to the Redis read model so an immediate status read sees it). Order of checks on a
write: per-client rate limit, body validation (a photo with too little detail is refused
before any proof-of-work is spent), Idempotency-Key replay, proof-of-work, case secret.
An unknown case and a wrong secret are the same 404, and cost the same scrypt.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Request
from fastapi.responses import JSONResponse

from schemas.events import CaseSnapshot
from services.common.http import ApiError
from services.intake import domain, operations
from services.intake.adapters.guards import IdempotencyInFlight
from services.intake.adapters.ports import CaseStorage
from services.intake.api.deps import (
    AltchaHeader,
    IdempotencyDep,
    IntakeDep,
    limit_reads,
    limit_writes,
    spend_pow,
)
from services.intake.api.models import (
    ActionCountsRead,
    CaseCreate,
    CaseCreatedRead,
    CaseRead,
    CaseWithdrawnRead,
    MediaAddedRead,
    MediaCreate,
    MediaStatusRead,
    ReachRead,
)
from services.intake.operations import check_limits

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1/cases", tags=["cases"])

CaseNumber = Annotated[
    str, Path(max_length=40, description="the case number, e.g. HVN-7K3M9-QXA2B (any case)")
]
Bearer = Annotated[str | None, Header(alias="Authorization", description="Bearer <case secret>")]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=200,
        description="any unique string; a retry with the same key and body returns the same case",
    ),
]
NOT_FOUND = "no case with this number and secret"


async def _authorised(
    store: CaseStorage, case_number: str, authorization: str | None
) -> CaseSnapshot:
    """The case, if the bearer secret opens it; else 401 (no secret) or 404 (anything else)."""
    try:
        number = domain.normalise_case_number(case_number)
    except ValueError as exc:
        raise ApiError(404, "case_not_found", NOT_FOUND, ("case_number", str(exc))) from exc
    scheme, _, secret = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise ApiError(
            401,
            "secret_required",
            "send the case secret as 'Authorization: Bearer <secret>'",
            ("Authorization", "missing or not a Bearer secret"),
            headers={"WWW-Authenticate": "Bearer"},
        )
    snapshot = await store.get(number)
    if not await asyncio.to_thread(domain.secret_matches, secret.strip()[:200], snapshot):
        raise ApiError(
            404,
            "case_not_found",
            NOT_FOUND,
            ("case_number", "unknown case, or the secret is wrong"),
        )
    assert snapshot is not None
    return snapshot


@router.post(
    "",
    status_code=201,
    response_model=CaseCreatedRead,
    dependencies=[Depends(limit_writes)],
    responses={400: {"description": "proof-of-work missing, invalid or replayed"}},
)
async def create_case(
    request: Request,
    body: CaseCreate,
    intake: IntakeDep,
    idempotency: IdempotencyDep,
    altcha: AltchaHeader = None,
    idempotency_key: IdempotencyKey = None,
) -> CaseCreatedRead | JSONResponse:
    """Open a case with the fingerprints of one or more photos or videos."""
    check_limits(settings=intake.settings, items=list(body.items))
    request_hash = hashlib.sha256(body.model_dump_json().encode()).hexdigest()
    if idempotency_key is not None:
        replay = await _begin_idempotent(idempotency, idempotency_key, request_hash)
        if replay is not None:
            intake.metrics.idempotent_replays.inc()
            return replay
    try:
        await spend_pow(request, altcha)
    except BaseException:
        if idempotency_key is not None:
            await idempotency.abandon(idempotency_key)
        raise
    return await operations.open_case(
        intake=intake,
        items=list(body.items),
        idempotency=idempotency,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
    )


async def _begin_idempotent(
    idempotency: IdempotencyDep, key: str, request_hash: str
) -> JSONResponse | None:
    """The stored answer of an earlier request with ``key`` (replayed), or None after taking
    the key for this one; 409 while it is in flight, 422 if reused for another body."""
    try:
        replay = await idempotency.begin(key, request_hash)
    except IdempotencyInFlight as exc:
        raise ApiError(
            409,
            "idempotency_in_flight",
            "a request with this Idempotency-Key is still running; retry shortly",
            ("Idempotency-Key", "in use by a running request"),
            headers={"Retry-After": "2"},
        ) from exc
    if replay is None:
        return None
    if not replay.same_request:
        raise ApiError(
            422,
            "idempotency_key_reused",
            "this Idempotency-Key was used for a different request",
            ("Idempotency-Key", "reused with a different body"),
        )
    return JSONResponse(replay.body, status_code=replay.status)


@router.post(
    "/{case_number}/media",
    status_code=201,
    response_model=MediaAddedRead,
    dependencies=[Depends(limit_writes)],
)
async def add_media(
    request: Request,
    case_number: CaseNumber,
    body: MediaCreate,
    intake: IntakeDep,
    authorization: Bearer = None,
    altcha: AltchaHeader = None,
) -> MediaAddedRead:
    """Add photos or videos to an open case (needs the case secret)."""
    check_limits(settings=intake.settings, items=list(body.items))
    await spend_pow(request, altcha)
    case = await _authorised(intake.store, case_number, authorization)
    return await operations.add_media(intake=intake, case=case, items=list(body.items))


@router.get("/{case_number}", response_model=CaseRead, dependencies=[Depends(limit_reads)])
async def case_status(
    case_number: CaseNumber, intake: IntakeDep, authorization: Bearer = None
) -> CaseRead:
    """What happened to a case: shared with, matched on, and what platforms did."""
    store = intake.store
    snapshot = await _authorised(store, case_number, authorization)
    keys_of = {item.media_id: domain.item_keys(item) for item in snapshot.items}
    all_keys = sorted({key for keys in keys_of.values() for key in keys})
    facts = await store.facts(all_keys)

    def read(found: domain.Reach) -> ReachRead:
        return ReachRead(
            shared_with=found.shared_with,
            matched_on=found.matched_on,
            actions=ActionCountsRead(**found.actions),
        )

    return CaseRead(
        case_number=snapshot.case_number,
        status=snapshot.status.value,
        opened_at=snapshot.opened_at,
        updated_at=snapshot.updated_at,
        totals=read(domain.reach(all_keys, facts)),
        media=[
            MediaStatusRead(
                media_id=item.media_id,
                type=item.media.type,
                **read(domain.reach(keys_of[item.media_id], facts)).model_dump(),
            )
            for item in snapshot.items
        ],
    )


@router.delete(
    "/{case_number}", response_model=CaseWithdrawnRead, dependencies=[Depends(limit_writes)]
)
async def withdraw_case(
    case_number: CaseNumber, intake: IntakeDep, authorization: Bearer = None
) -> CaseWithdrawnRead:
    """Withdraw the whole case: every platform is told to unblock its fingerprints."""
    case = await _authorised(intake.store, case_number, authorization)
    await operations.withdraw_case(intake=intake, case=case)
    return CaseWithdrawnRead(case_number=case.case_number)
