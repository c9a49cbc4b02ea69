"""The intake service's FastAPI app factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.common.health import Readiness
from services.common.http import install_http_shell
from services.common.kafka import EventProducer
from services.common.probes import KafkaProbe
from services.intake.api import cases
from services.intake.metrics import IntakeMetrics
from services.intake.settings import IntakeSettings


def create_app(settings: IntakeSettings | None = None) -> FastAPI:
    settings = settings or IntakeSettings()
    metrics = IntakeMetrics.create()
    readiness = Readiness()
    probe = KafkaProbe(settings.kafka_bootstrap)
    readiness.add("kafka", probe.reachable)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.producer = EventProducer(
            settings.kafka_bootstrap, on_delivered=metrics.common.produced_hook
        )
        try:
            yield
        finally:
            app.state.producer.close()

    app = FastAPI(title="Haven intake", version="1", lifespan=lifespan)
    app.state.settings = settings
    app.state.metrics = metrics
    install_http_shell(
        app, metrics=metrics.common, readiness=readiness, max_body_bytes=settings.max_body_bytes
    )
    app.include_router(cases.router)
    return app
