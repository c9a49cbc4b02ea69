"""Prometheus plumbing: the metric families every service shares, built on its own registry.

Each service declares its metrics in its own ``metrics.py`` against an explicit
``CollectorRegistry`` and starts from ``CommonMetrics``. Labels stay bounded: route templates
(never raw paths), status codes, topic names; never case numbers or fingerprints.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from services.common.consumer import ConsumerHooks


@dataclass(frozen=True)
class Declare:
    """Declares metric families on one registry, a line each: ``declare.counter(name, help,
    *labels)``, ``gauge`` and ``histogram`` (with ``buckets=``) alike."""

    registry: CollectorRegistry

    def counter(self, name: str, documentation: str, *labels: str) -> Counter:
        return Counter(name, documentation, labels, registry=self.registry)

    def gauge(self, name: str, documentation: str, *labels: str) -> Gauge:
        return Gauge(name, documentation, labels, registry=self.registry)

    def histogram(
        self,
        name: str,
        documentation: str,
        *labels: str,
        buckets: Sequence[float] = Histogram.DEFAULT_BUCKETS,
    ) -> Histogram:
        return Histogram(name, documentation, labels, buckets=buckets, registry=self.registry)


LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


@dataclass
class CommonMetrics:
    """HTTP, Kafka and readiness metrics of one service."""

    registry: CollectorRegistry
    http_requests: Counter
    http_latency: Histogram
    produced: Counter
    consumed: Counter
    dead_lettered: Counter
    consumer_lag: Gauge
    ready: Gauge

    @classmethod
    def create(cls, service: str, registry: CollectorRegistry | None = None) -> CommonMetrics:
        registry = registry or CollectorRegistry()
        declare = Declare(registry)
        return cls(
            registry=registry,
            http_requests=declare.counter(
                "haven_http_requests_total", "HTTP requests answered", "route", "method", "status"
            ),
            http_latency=declare.histogram(
                "haven_http_request_duration_seconds",
                "HTTP request latency",
                "route",
                "method",
                buckets=LATENCY_BUCKETS,
            ),
            produced=declare.counter(
                "haven_events_produced_total", "Events acknowledged by Kafka", "topic"
            ),
            consumed=declare.counter(
                "haven_events_consumed_total", "Events processed by consumers", "topic"
            ),
            dead_lettered=declare.counter(
                "haven_dlq_messages_total", "Messages sent to a dead-letter topic", "topic"
            ),
            consumer_lag=declare.gauge(
                "haven_consumer_lag_messages",
                "Messages behind the high watermark",
                "topic",
                "partition",
            ),
            ready=declare.gauge("haven_ready", "1 when /readyz answers 200", "service"),
        )

    def consumer_hooks(self) -> ConsumerHooks:
        return ConsumerHooks(
            consumed=lambda topic: self.consumed.labels(topic).inc(),
            dead_lettered=lambda topic: self.dead_lettered.labels(topic).inc(),
            lag=lambda topic, partition, lag: self.consumer_lag.labels(topic, str(partition)).set(
                lag
            ),
        )

    def produced_hook(self, topic: str) -> None:
        self.produced.labels(topic).inc()
