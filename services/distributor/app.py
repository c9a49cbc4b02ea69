"""The distributor service's FastAPI app factory.

Workers: the transactional hash registry (submissions → hash list), the platform directory
(its own registry read back from ``haven.platforms.v1``), the hash-list reader feeding the
ordered view every channel serves, and the push fan-out. Routes: the platform registry admin
API and the pull feed.
"""

from __future__ import annotations

from fastapi import FastAPI

from services.common.app import service_app
from services.common.kafka import EventProducer
from services.common.platform_keys import PlatformDirectoryWorker
from services.distributor.adapters.fanout import FanOutWorker
from services.distributor.adapters.hashlist_reader import HashListReader
from services.distributor.api import feed, platforms
from services.distributor.domain.feed import CursorCodec
from services.distributor.domain.view import HashListView
from services.distributor.metrics import DistributorMetrics
from services.distributor.operations import Distributor
from services.distributor.settings import DistributorSettings
from services.distributor.worker import RegistryWorker


def create_app(settings: DistributorSettings | None = None) -> FastAPI:
    settings = settings or DistributorSettings()
    metrics = DistributorMetrics.create()
    producer = EventProducer(settings.kafka, on_delivered=metrics.common.produced_hook)
    directory_worker = PlatformDirectoryWorker(
        settings, producer, hooks=metrics.common.consumer_hooks()
    )
    view = HashListView()
    reader = HashListReader(settings, view, metrics)
    fanout = FanOutWorker(
        settings=settings,
        view=view,
        directory=directory_worker.directory,
        producer=producer,
        metrics=metrics,
        view_ready=lambda: reader.ready,
    )
    distributor = Distributor(
        settings=settings,
        producer=producer,
        directory=directory_worker.directory,
        view=view,
        cursors=CursorCodec(settings.webhook_key_seed.get_secret_value().encode()),
        fanout=fanout,
        metrics=metrics,
    )
    return service_app(
        title="Haven distributor",
        settings=settings,
        metrics=metrics.common,
        producer=producer,
        workers={
            "hash_registry": RegistryWorker(settings, metrics),
            "platform_directory": directory_worker,
            "hash_list_view": reader,
            "fanout": fanout,
        },
        routers=[platforms.router, feed.router],
        state={"distributor": distributor},
    )
