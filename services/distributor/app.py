"""The distributor service's FastAPI app factory."""

from __future__ import annotations

from fastapi import FastAPI

from services.common.app import service_app
from services.distributor.metrics import DistributorMetrics
from services.distributor.settings import DistributorSettings
from services.distributor.worker import RegistryWorker


def create_app(settings: DistributorSettings | None = None) -> FastAPI:
    settings = settings or DistributorSettings()
    metrics = DistributorMetrics.create()
    return service_app(
        title="Haven distributor",
        settings=settings,
        metrics=metrics.common,
        workers={"hash_registry": RegistryWorker(settings, metrics)},
    )
