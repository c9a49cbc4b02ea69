"""What the matcher's routes do, as keyword-only functions over its running parts.

Routes parse and check the request and shape the answer; the work between (fingerprinting an
image off the event loop, a batch of lookups under the index's lock, recording every match on
Kafka before answering) lives here, as the FastAPI template keeps it in ``crud``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial

import anyio
from fastapi.concurrency import run_in_threadpool

from schemas.events import ActionReported, MatchFound
from schemas.signals import PDQ_MIN_QUALITY, SignalType
from schemas.topics import MATCHES, TopicSpec
from services.common.http import ApiError
from services.common.imaging import ImageFingerprints, ImageRejected, fingerprint_image
from services.common.kafka import Publisher
from services.matcher.adapters.events import RecentlyPublished, match_events, publish_all
from services.matcher.api.models import ImageMatchRead, MatchRead, Md5ResultRead, PdqResultRead
from services.matcher.domain import Deliveries, Match, PlatformBudget, SharedIndex
from services.matcher.lookup import Lookup, run_lookups
from services.matcher.metrics import MatcherMetrics
from services.matcher.settings import MatcherSettings

_limiters: dict[int, anyio.CapacityLimiter] = {}


def _limiter(workers: int) -> anyio.CapacityLimiter:
    if workers not in _limiters:
        _limiters[workers] = anyio.CapacityLimiter(workers)
    return _limiters[workers]


@dataclass
class Matcher:
    """The running parts the routes work with (built by ``app.create_app``)."""

    index: SharedIndex
    producer: Publisher
    settings: MatcherSettings
    metrics: MatcherMetrics
    deliveries: Deliveries = field(default_factory=Deliveries)
    budget: PlatformBudget = field(default_factory=lambda: PlatformBudget(6000))
    published: RecentlyPublished = field(default_factory=RecentlyPublished)

    def publish(self, topic: TopicSpec, events: Sequence[MatchFound | ActionReported]) -> None:
        """Every event sent and acknowledged (``DeliveryFailed`` is the shell's 503)."""
        if events:
            timeout = self.settings.publish_timeout_s
            publish_all(self.producer, self.settings.topic(topic), events, timeout=timeout)


async def match_and_record(
    *, matcher: Matcher, platform_id: str, lookups: list[Lookup], refs: list[str]
) -> list[list[Match]]:
    """The matches of every lookup (one lock hold), each recorded as a ``MatchFound`` under
    its upload ref."""
    found = await run_in_threadpool(run_lookups, matcher.index, matcher.metrics, lookups)
    events = matcher.published.fresh(
        e
        for ref, matches in zip(refs, found, strict=True)
        for e in match_events(platform_id, matches, ref)
    )
    await run_in_threadpool(matcher.publish, MATCHES, events)
    matcher.published.remember(events)  # only once acknowledged: a 503 is retried in full
    return found


async def fingerprint(
    *, data: bytes, settings: MatcherSettings, metrics: MatcherMetrics
) -> ImageFingerprints:
    """PDQ and MD5 of an image, in memory, at most ``image_workers`` at once (413/422 when
    the bytes are too large or not a decodable image)."""
    started = time.perf_counter()
    try:
        prints: ImageFingerprints = await anyio.to_thread.run_sync(
            partial(fingerprint_image, data, max_pixels=settings.max_image_pixels),
            limiter=_limiter(settings.image_workers),
        )
    except ImageRejected as exc:
        metrics.images.labels(exc.reason).inc()
        status = 413 if exc.reason == "image_too_large" else 422
        raise ApiError(status, exc.reason, str(exc), ("body", str(exc))) from None
    metrics.image_seconds.observe(time.perf_counter() - started)
    return prints


async def match_image(
    *, matcher: Matcher, data: bytes, upload_ref: str, max_distance: int, platform_id: str
) -> ImageMatchRead:
    """Fingerprint the image and match it: MD5 always, PDQ only when its quality is at least
    50 (PDQ's own rule; the answer says when it was skipped)."""
    metrics = matcher.metrics
    prints = await fingerprint(data=data, settings=matcher.settings, metrics=metrics)
    skipped = prints.quality < PDQ_MIN_QUALITY
    metrics.images.labels("low_quality" if skipped else "hashed").inc()
    lookups = [Lookup(SignalType.MD5, prints.md5)]
    if not skipped:
        lookups.append(Lookup(SignalType.PDQ, prints.pdq, max_distance=max_distance))
    found = await match_and_record(
        matcher=matcher, platform_id=platform_id, lookups=lookups, refs=[upload_ref] * len(lookups)
    )
    pdq_matches = found[1] if not skipped else []
    return ImageMatchRead(
        upload_ref=upload_ref,
        width=prints.width,
        height=prints.height,
        pdq=PdqResultRead(
            value=prints.pdq,
            quality=prints.quality,
            skipped=skipped,
            matches=[MatchRead.model_validate(m) for m in pdq_matches],
        ),
        md5=Md5ResultRead(
            value=prints.md5, matches=[MatchRead.model_validate(m) for m in found[0]]
        ),
    )
