"""Every metric the distributor exports, declared against its own registry.

Labels stay bounded: ``platform`` is the operator-chosen platform id (a handful), ``channel``
is pull / webhook / kafka. Never fingerprints, never case ids.
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import Counter, Gauge, Histogram

from services.common.metrics import CommonMetrics, Declare

WEBHOOK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


@dataclass
class DistributorMetrics:
    common: CommonMetrics
    hash_list_size: Gauge
    stable_sequence: Gauge
    deliveries: Counter
    delivered_entries: Counter
    delivery_failures: Counter
    webhook_latency: Histogram
    webhook_attempts: Counter
    webhook_dead_lettered: Counter
    backlog: Gauge

    @classmethod
    def create(cls) -> DistributorMetrics:
        common = CommonMetrics.create("distributor")
        declare = Declare(common.registry)
        return cls(
            common=common,
            hash_list_size=declare.gauge(
                "haven_hash_list_entries", "Entries on the canonical hash list (any status)"
            ),
            stable_sequence=declare.gauge(
                "haven_hash_list_stable_sequence",
                "Highest sequence every delivery channel may serve (all lower ones are loaded)",
            ),
            deliveries=declare.counter(
                "haven_deliveries_total",
                "Batches delivered to a platform (recorded on haven.deliveries.v1)",
                "platform",
                "channel",
            ),
            delivered_entries=declare.counter(
                "haven_delivered_entries_total",
                "Hash-list entries delivered to a platform",
                "platform",
                "channel",
            ),
            delivery_failures=declare.counter(
                "haven_delivery_failures_total",
                "Batches that finally failed to reach a platform",
                "platform",
                "channel",
            ),
            webhook_latency=declare.histogram(
                "haven_webhook_request_duration_seconds",
                "Latency of one webhook POST attempt, any outcome",
                "platform",
                buckets=WEBHOOK_BUCKETS,
            ),
            webhook_attempts=declare.counter(
                "haven_webhook_attempts_total",
                "Webhook POST attempts by result (ok, retry, rejected)",
                "platform",
                "result",
            ),
            webhook_dead_lettered=declare.counter(
                "haven_webhook_dlq_batches_total",
                "Webhook batches sent to haven.webhooks.dlq.v1 after their last attempt",
                "platform",
            ),
            backlog=declare.gauge(
                "haven_delivery_backlog_entries",
                "Entries on the stable hash list a platform's channel has not been sent yet",
                "platform",
                "channel",
            ),
        )
