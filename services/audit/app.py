"""The audit service's FastAPI app factory."""

from __future__ import annotations

from fastapi import FastAPI

from services.audit.api.routes import router
from services.audit.metrics import AuditMetrics
from services.audit.settings import AuditSettings
from services.audit.worker import AuditWorker
from services.common.app import service_app
from services.common.kafka import EventProducer


def create_app(settings: AuditSettings | None = None) -> FastAPI:
    settings = settings or AuditSettings()
    metrics = AuditMetrics.create()
    producer = EventProducer(settings.kafka, on_delivered=metrics.common.produced_hook)
    worker = AuditWorker(settings, metrics, producer)
    return service_app(
        title="Haven audit",
        settings=settings,
        metrics=metrics.common,
        producer=producer,
        workers={"log": worker},
        routers=[router],
        state={"audit_log": worker.log, "audit_verifier": worker.verifier},
    )
