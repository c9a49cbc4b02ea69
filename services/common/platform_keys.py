"""Platform authentication at the edge: the bearer key of a request, and the directory worker.

The directory (``schemas.platform_keys``) is a projection of ``haven.platforms.v1``
(compacted, one partition), rebuilt from the beginning by each instance with its own consumer
group and no commits, like the matcher's index. The distributor writes the topic; the matcher
and distributor authenticate against their directory, so a new platform or a rotated key
works everywhere once the snapshot has been read (usually within milliseconds).
"""

from __future__ import annotations

import uuid

from confluent_kafka import Message
from fastapi import Request

from schemas.events import PlatformSnapshot
from schemas.platform_keys import PlatformDirectory
from schemas.topics import PLATFORMS
from services.common.consumer import ConsumerHooks, ConsumerLoop, LoopWorker
from services.common.http import ApiError
from services.common.kafka import EventProducer
from services.common.settings import ServiceSettings


def token_of(header: str) -> str:
    """The token of an ``Authorization: Bearer <token>`` header ("" if it is not one)."""
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def bearer_token(request: Request) -> str | None:
    return token_of(request.headers.get("authorization", "")) or None


def require_platform(request: Request, directory: PlatformDirectory) -> PlatformSnapshot:
    """The platform calling this request, or a 401 naming the problem."""
    token = bearer_token(request)
    if token is None:
        raise ApiError(
            401,
            "unauthenticated",
            "send your platform API key as 'Authorization: Bearer <key>'",
            ("Authorization", "missing"),
            headers={"WWW-Authenticate": "Bearer"},
        )
    platform = directory.authenticate(token)
    if platform is None:
        raise ApiError(
            401,
            "invalid_api_key",
            "this API key is unknown, expired, or its platform is disabled",
            ("Authorization", "invalid"),
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    return platform


class PlatformDirectoryWorker(LoopWorker):
    """Feeds a ``PlatformDirectory`` from ``haven.platforms.v1``; ready once caught up."""

    def __init__(
        self,
        settings: ServiceSettings,
        producer: EventProducer,
        hooks: ConsumerHooks | None = None,
        directory: PlatformDirectory | None = None,
    ) -> None:
        self.directory = directory or PlatformDirectory()
        self.loop = ConsumerLoop(
            kafka=settings.kafka,
            group_id=settings.group(f"platforms.{uuid.uuid4().hex[:12]}"),
            topics=[settings.topic(PLATFORMS)],
            handler=self._apply,
            producer=producer,
            max_attempts=settings.consumer_max_attempts,
            hooks=hooks,
            overrides={"enable.auto.commit": False},
        )

    def _apply(self, msg: Message) -> None:
        if msg.value() is None:
            return
        self.directory.apply(PlatformSnapshot.model_validate_json(msg.value() or b""))
