"""The matcher service's FastAPI app factory."""

from __future__ import annotations

from fastapi import FastAPI

from services.common.app import service_app
from services.common.kafka import EventProducer
from services.matcher.api import match
from services.matcher.metrics import MatcherMetrics
from services.matcher.settings import MatcherSettings
from services.matcher.worker import IndexWorker


def create_app(settings: MatcherSettings | None = None) -> FastAPI:
    settings = settings or MatcherSettings()
    metrics = MatcherMetrics.create()
    producer = EventProducer(settings.kafka_bootstrap, on_delivered=metrics.common.produced_hook)
    index_worker = IndexWorker(settings, metrics, producer)
    return service_app(
        title="Haven matcher",
        settings=settings,
        metrics=metrics.common,
        producer=producer,
        workers={"index": index_worker},
        routers=[match.router],
        state={"index_worker": index_worker},
    )
