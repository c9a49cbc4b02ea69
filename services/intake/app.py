"""The intake service's FastAPI app factory: routes, Redis guards, the status projector."""

from __future__ import annotations

import logging

from fastapi import FastAPI

from services.common.app import service_app
from services.common.kafka import EventProducer
from services.common.probes import KafkaProbe
from services.common.redis import async_client, sync_client
from services.intake.adapters.guards import Idempotency, RateLimiter
from services.intake.adapters.pow import ProofOfWork
from services.intake.adapters.store import CaseLocked, CaseStore, ReadModelWriter
from services.intake.api import cases, challenge, page
from services.intake.metrics import IntakeMetrics
from services.intake.operations import Intake
from services.intake.settings import IntakeSettings
from services.intake.worker import status_worker

log = logging.getLogger(__name__)


def create_app(settings: IntakeSettings | None = None) -> FastAPI:
    settings = settings or IntakeSettings()
    metrics = IntakeMetrics.create()
    producer = EventProducer(settings.kafka, on_delivered=metrics.common.produced_hook)
    login = {
        "username": settings.redis_username,
        "password": settings.redis_password.get_secret_value(),
    }
    redis = async_client(settings.redis_url, **login)
    prefix = settings.redis_key()
    mac_key = settings.case_mac_key.get_secret_value().encode()
    app = service_app(
        title="Haven intake",
        settings=settings,
        metrics=metrics.common,
        producer=producer,
        workers={
            "status": status_worker(
                settings=settings,
                writer=ReadModelWriter(
                    sync_client(settings.redis_url, **login), prefix, mac_key=mac_key
                ),
                producer=producer,
                metrics=metrics,
            )
        },
        checks={"kafka": KafkaProbe(settings.kafka).reachable},
        routers=[challenge.router, cases.router, page.router],
        unavailable=(CaseLocked,),
        state={
            "intake": Intake(
                settings,
                producer,
                CaseStore(redis, prefix, mac_key=mac_key, on_forged=metrics.forged_snapshots.inc),
                metrics,
            ),
            "redis": redis,
            "pow": ProofOfWork(
                hmac_key=settings.pow_hmac_key.get_secret_value(),
                max_number=settings.pow_max_number,
                expires_s=settings.pow_expires_s,
                redis=redis,
                replay_prefix=f"{prefix}:pow",
            ),
            "rate_limiter": RateLimiter(redis, prefix, window_s=settings.rate_limit_window_s),
            "idempotency": Idempotency(redis, prefix, ttl_s=settings.idempotency_ttl_s),
        },
    )

    return app
