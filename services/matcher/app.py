"""The matcher service's FastAPI app factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.common.health import Readiness
from services.common.http import install_http_shell
from services.common.kafka import EventProducer
from services.common.runner import Workers
from services.matcher.api import match
from services.matcher.metrics import MatcherMetrics
from services.matcher.settings import MatcherSettings
from services.matcher.worker import IndexWorker


def create_app(settings: MatcherSettings | None = None) -> FastAPI:
    settings = settings or MatcherSettings()
    metrics = MatcherMetrics.create()
    producer = EventProducer(settings.kafka_bootstrap, on_delivered=metrics.common.produced_hook)
    index_worker = IndexWorker(settings, metrics, producer)
    readiness = Readiness()
    readiness.add("index", lambda: index_worker.ready)
    workers = Workers()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        workers.start("index", index_worker)
        try:
            yield
        finally:
            workers.stop()
            producer.close()

    app = FastAPI(title="Haven matcher", version="1", lifespan=lifespan)
    app.state.settings = settings
    app.state.index_worker = index_worker
    install_http_shell(
        app, metrics=metrics.common, readiness=readiness, max_body_bytes=settings.max_body_bytes
    )
    app.include_router(match.router)
    return app
