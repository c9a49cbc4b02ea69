"""The audit service's FastAPI app factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.audit.metrics import AuditMetrics
from services.audit.settings import AuditSettings
from services.audit.worker import AuditWorker
from services.common.health import Readiness
from services.common.http import install_http_shell
from services.common.kafka import EventProducer
from services.common.runner import Workers


def create_app(settings: AuditSettings | None = None) -> FastAPI:
    settings = settings or AuditSettings()
    metrics = AuditMetrics.create()
    producer = EventProducer(settings.kafka_bootstrap, on_delivered=metrics.common.produced_hook)
    audit_worker = AuditWorker(settings, metrics, producer)
    readiness = Readiness()
    readiness.add("log", lambda: audit_worker.ready)
    workers = Workers()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        workers.start("audit-log", audit_worker)
        try:
            yield
        finally:
            workers.stop()
            producer.close()

    app = FastAPI(title="Haven audit", version="1", lifespan=lifespan)
    app.state.settings = settings
    install_http_shell(
        app, metrics=metrics.common, readiness=readiness, max_body_bytes=settings.max_body_bytes
    )
    return app
