"""Case routes: open a case (2xx only once Kafka acknowledged it)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from services.common.http import ApiError
from services.common.kafka import DeliveryFailed, EventProducer
from services.intake import domain
from services.intake.api.models import CaseCreate, CaseCreated, MediaRead
from services.intake.settings import IntakeSettings

router = APIRouter(prefix="/v1/cases", tags=["cases"])


def get_settings(request: Request) -> IntakeSettings:
    settings: IntakeSettings = request.app.state.settings
    return settings


def get_producer(request: Request) -> EventProducer:
    producer: EventProducer = request.app.state.producer
    return producer


SettingsDep = Annotated[IntakeSettings, Depends(get_settings)]
ProducerDep = Annotated[EventProducer, Depends(get_producer)]


@router.post("", status_code=201, response_model=CaseCreated)
async def create_case(
    body: CaseCreate, settings: SettingsDep, producer: ProducerDep
) -> CaseCreated:
    """Open a case with the fingerprints of one or more photos or videos."""
    if len(body.items) > settings.max_media_per_case:
        raise ApiError(
            422,
            "too_many_media",
            f"at most {settings.max_media_per_case} items per case",
            fields=[{"field": "items", "message": f"{len(body.items)} items given"}],
        )
    opened, snapshot, secret = domain.open_case(list(body.items))
    try:
        await producer.send_async(settings.topic("haven.submissions.v1"), opened.case_id, opened)
        await producer.send_async(settings.topic("haven.cases.v1"), snapshot.case_id, snapshot)
    except (DeliveryFailed, TimeoutError) as exc:
        raise ApiError(
            503,
            "unavailable",
            "could not record the case; please try again",
            headers={"Retry-After": "5"},
        ) from exc
    return CaseCreated(
        case_number=snapshot.case_number,
        secret=secret,
        media=[MediaRead(media_id=item.media_id, type=item.media.type) for item in opened.items],
    )
