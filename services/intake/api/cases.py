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

from schemas.events import CaseSnapshot, CaseStatus, Event, MediaItem
from schemas.topics import CASES, SUBMISSIONS, TopicSpec
from services.common.http import ApiError
from services.intake import domain
from services.intake.adapters.guards import IdempotencyInFlight
from services.intake.api.deps import (
    AltchaHeader,
    IdempotencyDep,
    MetricsDep,
    ProducerDep,
    SettingsDep,
    StoreDep,
    limit_reads,
    limit_writes,
    spend_pow,
)
from services.intake.api.models import (
    ActionCounts,
    CaseCreate,
    CaseCreated,
    CaseRead,
    CaseWithdrawnRead,
    MediaAdd,
    MediaAddedRead,
    MediaRead,
    MediaStatus,
    Reach,
)

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


async def _publish(
    producer: ProducerDep, settings: SettingsDep, case_id: str, *events: tuple[TopicSpec, Event]
) -> None:
    """Send events keyed by case id and wait until Kafka acknowledged all of them (if it does
    not, ``DeliveryFailed``/``TimeoutError`` become the HTTP shell's 503)."""
    await asyncio.gather(
        *(producer.send_async(settings.topic(topic), case_id, event) for topic, event in events)
    )


def _check_limits(settings: SettingsDep, body: CaseCreate, *, existing: int) -> None:
    problems = domain.limit_problems(
        list(body.items),
        existing=existing,
        max_media=settings.max_media_per_case,
        max_frames=settings.max_frames_per_video,
    )
    if problems:
        raise ApiError(422, "limit_exceeded", problems[0]["message"], fields=problems)


async def _authorised(store: StoreDep, case_number: str, authorization: str | None) -> CaseSnapshot:
    """The case, if the bearer secret opens it; else 401 (no secret) or 404 (anything else)."""
    try:
        number = domain.normalise_case_number(case_number)
    except ValueError as exc:
        raise ApiError(
            404, "case_not_found", NOT_FOUND, fields=[{"field": "case_number", "message": str(exc)}]
        ) from exc
    scheme, _, secret = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise ApiError(
            401,
            "secret_required",
            "send the case secret as 'Authorization: Bearer <secret>'",
            fields=[{"field": "Authorization", "message": "missing or not a Bearer secret"}],
            headers={"WWW-Authenticate": "Bearer"},
        )
    snapshot = await store.get(number)
    if not await asyncio.to_thread(domain.secret_matches, secret.strip()[:200], snapshot):
        raise ApiError(
            404,
            "case_not_found",
            NOT_FOUND,
            fields=[{"field": "case_number", "message": "unknown case, or the secret is wrong"}],
        )
    assert snapshot is not None
    return snapshot


def _media(items: list[MediaItem]) -> list[MediaRead]:
    return [MediaRead(media_id=item.media_id, type=item.media.type) for item in items]


@router.post(
    "",
    status_code=201,
    response_model=CaseCreated,
    dependencies=[Depends(limit_writes)],
    responses={400: {"description": "proof-of-work missing, invalid or replayed"}},
)
async def create_case(
    request: Request,
    body: CaseCreate,
    settings: SettingsDep,
    producer: ProducerDep,
    store: StoreDep,
    idempotency: IdempotencyDep,
    metrics: MetricsDep,
    altcha: AltchaHeader = None,
    idempotency_key: IdempotencyKey = None,
) -> CaseCreated | JSONResponse:
    """Open a case with the fingerprints of one or more photos or videos."""
    _check_limits(settings, body, existing=0)
    request_hash = hashlib.sha256(body.model_dump_json().encode()).hexdigest()
    if idempotency_key is not None:
        try:
            replay = await idempotency.begin(idempotency_key, request_hash)
        except IdempotencyInFlight as exc:
            raise ApiError(
                409,
                "idempotency_in_flight",
                "a request with this Idempotency-Key is still running; retry shortly",
                fields=[{"field": "Idempotency-Key", "message": "in use by a running request"}],
                headers={"Retry-After": "2"},
            ) from exc
        if replay is not None and not replay.same_request:
            raise ApiError(
                422,
                "idempotency_key_reused",
                "this Idempotency-Key was used for a different request",
                fields=[{"field": "Idempotency-Key", "message": "reused with a different body"}],
            )
        if replay is not None:
            metrics.idempotent_replays.inc()
            return JSONResponse(replay.body, status_code=replay.status)
    try:
        await spend_pow(request, altcha)
        # scrypt of the new secret takes ~50 ms of CPU: off the event loop.
        opened, snapshot, secret = await asyncio.to_thread(domain.open_case, list(body.items))
        await _publish(
            producer,
            settings,
            opened.case_id,
            (SUBMISSIONS, opened),
            (CASES, snapshot),
        )
    except BaseException:
        if idempotency_key is not None:
            await idempotency.abandon(idempotency_key)
        raise
    created = CaseCreated(
        case_number=snapshot.case_number, secret=secret, media=_media(opened.items)
    )
    await store.put(snapshot)
    if idempotency_key is not None:
        await idempotency.finish(
            idempotency_key, request_hash, 201, created.model_dump(mode="json")
        )
    metrics.cases_opened.inc()
    metrics.media_added.inc(len(opened.items))
    return created


@router.post(
    "/{case_number}/media",
    status_code=201,
    response_model=MediaAddedRead,
    dependencies=[Depends(limit_writes)],
)
async def add_media(
    request: Request,
    case_number: CaseNumber,
    body: MediaAdd,
    settings: SettingsDep,
    producer: ProducerDep,
    store: StoreDep,
    metrics: MetricsDep,
    authorization: Bearer = None,
    altcha: AltchaHeader = None,
) -> MediaAddedRead:
    """Add photos or videos to an open case (needs the case secret)."""
    _check_limits(settings, body, existing=0)
    await spend_pow(request, altcha)
    snapshot = await _authorised(store, case_number, authorization)
    async with store.lock(snapshot.case_id, timeout=settings.case_lock_timeout_s):
        current = await store.get(snapshot.case_number) or snapshot
        _check_limits(settings, body, existing=len(current.items))
        try:
            added, updated = domain.add_media(current, list(body.items))
        except domain.CaseClosed as exc:
            raise ApiError(
                409,
                "case_withdrawn",
                "this case was withdrawn; open a new case instead",
                fields=[{"field": "case_number", "message": "withdrawn"}],
            ) from exc
        await _publish(
            producer,
            settings,
            added.case_id,
            (SUBMISSIONS, added),
            (CASES, updated),
        )
        await store.put(updated)
    metrics.media_added.inc(len(added.items))
    return MediaAddedRead(case_number=updated.case_number, media=_media(added.items))


@router.get("/{case_number}", response_model=CaseRead, dependencies=[Depends(limit_reads)])
async def case_status(
    case_number: CaseNumber, store: StoreDep, authorization: Bearer = None
) -> CaseRead:
    """What happened to a case: shared with, matched on, and what platforms did."""
    snapshot = await _authorised(store, case_number, authorization)
    keys_of = {item.media_id: domain.item_keys(item) for item in snapshot.items}
    all_keys = sorted({key for keys in keys_of.values() for key in keys})
    facts = await store.facts(all_keys)

    def read(found: domain.Reach) -> Reach:
        return Reach(
            shared_with=found.shared_with,
            matched_on=found.matched_on,
            actions=ActionCounts(**found.actions),
        )

    return CaseRead(
        case_number=snapshot.case_number,
        status=snapshot.status.value,
        opened_at=snapshot.opened_at,
        updated_at=snapshot.updated_at,
        totals=read(domain.reach(all_keys, facts)),
        media=[
            MediaStatus(
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
    case_number: CaseNumber,
    settings: SettingsDep,
    producer: ProducerDep,
    store: StoreDep,
    metrics: MetricsDep,
    authorization: Bearer = None,
) -> CaseWithdrawnRead:
    """Withdraw the whole case: every platform is told to unblock its fingerprints."""
    snapshot = await _authorised(store, case_number, authorization)
    async with store.lock(snapshot.case_id, timeout=settings.case_lock_timeout_s):
        current = await store.get(snapshot.case_number) or snapshot
        if current.status is not CaseStatus.WITHDRAWN:
            withdrawn, updated = domain.withdraw(current)
            await _publish(
                producer,
                settings,
                withdrawn.case_id,
                (SUBMISSIONS, withdrawn),
                (CASES, updated),
            )
            await store.put(updated)
            metrics.cases_withdrawn.inc()
    return CaseWithdrawnRead(case_number=snapshot.case_number)
