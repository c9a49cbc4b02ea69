"""What intake's case routes do, as keyword-only functions over its running parts.

Routes parse the request, check the caller (rate limit, proof-of-work, case secret) and shape
the answer; the work between lives here, as the FastAPI template keeps it in ``crud``:
the domain decides, Kafka is told (``publish`` returns only once every event is
acknowledged), then the snapshot is written through to the read model so that a status read
right after sees it. ``DeliveryFailed``, ``TimeoutError`` and ``CaseLocked`` propagate: the
HTTP shell turns them into a 503 that the client may simply retry.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from schemas.events import CaseSnapshot, CaseStatus, Event, MediaItem
from schemas.signals import ImageMedia, VideoMedia
from schemas.topics import CASES, SUBMISSIONS
from services.common.http import ApiError
from services.common.kafka import Publisher
from services.intake import domain
from services.intake.adapters.guards import Idempotency
from services.intake.adapters.ports import CaseStorage
from services.intake.api.models import CaseCreatedRead, MediaAddedRead, MediaRead
from services.intake.metrics import IntakeMetrics
from services.intake.settings import IntakeSettings

Media = ImageMedia | VideoMedia


@dataclass
class Intake:
    """The running parts the case routes work with (built by ``app.create_app``)."""

    settings: IntakeSettings
    producer: Publisher
    store: CaseStorage
    metrics: IntakeMetrics


async def publish(intake: Intake, submission: Event, snapshot: CaseSnapshot) -> None:
    """The submission event and the case's new snapshot, keyed by case id, both acknowledged."""
    topic = intake.settings.topic
    await asyncio.gather(
        intake.producer.send_async(topic(SUBMISSIONS), snapshot.case_id, submission),
        intake.producer.send_async(topic(CASES), snapshot.case_id, snapshot),
    )


def check_limits(
    *, settings: IntakeSettings, items: list[Media], existing: Sequence[MediaItem] = ()
) -> None:
    """422 naming the first limit ``items`` would break on a case holding ``existing``."""
    problems = domain.limit_problems(
        items,
        existing=existing,
        max_media=settings.max_media_per_case,
        max_frames=settings.max_frames_per_video,
        max_case_frames=settings.max_frames_per_case,
    )
    if problems:
        raise ApiError(422, "limit_exceeded", problems[0]["message"], fields=problems)


def media_read(items: list[MediaItem]) -> list[MediaRead]:
    return [MediaRead(media_id=item.media_id, type=item.media.type) for item in items]


async def open_case(
    *,
    intake: Intake,
    items: list[Media],
    idempotency: Idempotency,
    idempotency_key: str | None,
    request_hash: str,
) -> CaseCreatedRead:
    """Open a case and return its number and secret (shown this once).

    With an ``idempotency_key`` (already begun by the caller), a failure before Kafka
    acknowledged abandons the key so that a retry opens the case; once acknowledged, the
    answer is stored under the key and a retry replays it.
    """
    try:
        # scrypt of the new secret takes ~50 ms of CPU: off the event loop.
        opened, snapshot, secret = await asyncio.to_thread(domain.open_case, items)
        await publish(intake, opened, snapshot)
    except BaseException:
        if idempotency_key is not None:
            await idempotency.abandon(idempotency_key)
        raise
    created = CaseCreatedRead(
        case_number=snapshot.case_number, secret=secret, media=media_read(opened.items)
    )
    await intake.store.put(snapshot)
    if idempotency_key is not None:
        await idempotency.finish(
            idempotency_key, request_hash, 201, created.model_dump(mode="json")
        )
    intake.metrics.cases_opened.inc()
    intake.metrics.media_added.inc(len(opened.items))
    return created


async def add_media(*, intake: Intake, case: CaseSnapshot, items: list[Media]) -> MediaAddedRead:
    """Add media to an open case, under the case's lock (409 once it is withdrawn)."""
    store = intake.store
    async with store.lock(case.case_id, timeout=intake.settings.case_lock_timeout_s):
        current = await store.get(case.case_number) or case
        check_limits(settings=intake.settings, items=items, existing=current.items)
        try:
            added, updated = domain.add_media(current, items)
        except domain.CaseClosed as exc:
            raise ApiError(
                409,
                "case_withdrawn",
                "this case was withdrawn; open a new case instead",
                ("case_number", "withdrawn"),
            ) from exc
        await publish(intake, added, updated)
        await store.put(updated)
    intake.metrics.media_added.inc(len(added.items))
    return MediaAddedRead(case_number=updated.case_number, media=media_read(added.items))


async def withdraw_case(*, intake: Intake, case: CaseSnapshot) -> None:
    """Withdraw the case, under its lock; withdrawing twice changes nothing."""
    store = intake.store
    async with store.lock(case.case_id, timeout=intake.settings.case_lock_timeout_s):
        current = await store.get(case.case_number) or case
        if current.status is CaseStatus.WITHDRAWN:
            return
        withdrawn, updated = domain.withdraw(current)
        await publish(intake, withdrawn, updated)
        await store.put(updated)
        intake.metrics.cases_withdrawn.inc()
