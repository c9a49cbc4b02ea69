"""The distributor service's FastAPI app factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.common.health import Readiness
from services.common.http import install_http_shell
from services.common.runner import Workers
from services.distributor.metrics import DistributorMetrics
from services.distributor.settings import DistributorSettings
from services.distributor.worker import RegistryWorker


def create_app(settings: DistributorSettings | None = None) -> FastAPI:
    settings = settings or DistributorSettings()
    metrics = DistributorMetrics.create()
    registry_worker = RegistryWorker(settings, metrics)
    readiness = Readiness()
    readiness.add("hash_registry", lambda: registry_worker.ready)
    workers = Workers()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        workers.start("hash-registry", registry_worker)
        try:
            yield
        finally:
            workers.stop()

    app = FastAPI(title="Haven distributor", version="1", lifespan=lifespan)
    app.state.settings = settings
    install_http_shell(
        app, metrics=metrics.common, readiness=readiness, max_body_bytes=settings.max_body_bytes
    )
    return app
