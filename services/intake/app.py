"""The intake service's FastAPI app factory."""

from __future__ import annotations

from fastapi import FastAPI

from services.common.app import service_app
from services.common.kafka import EventProducer
from services.common.probes import KafkaProbe
from services.intake.api import cases
from services.intake.metrics import IntakeMetrics
from services.intake.settings import IntakeSettings


def create_app(settings: IntakeSettings | None = None) -> FastAPI:
    settings = settings or IntakeSettings()
    metrics = IntakeMetrics.create()
    producer = EventProducer(settings.kafka_bootstrap, on_delivered=metrics.common.produced_hook)
    return service_app(
        title="Haven intake",
        settings=settings,
        metrics=metrics.common,
        producer=producer,
        checks={"kafka": KafkaProbe(settings.kafka_bootstrap).reachable},
        routers=[cases.router],
        state={"metrics": metrics},
    )
