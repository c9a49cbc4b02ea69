"""Every metric the audit service exports, declared against its own registry.

Labels stay bounded: topic names only (never keys, case numbers or fingerprints).

Checkpoint freshness: ``haven_audit_last_checkpoint_timestamp_seconds`` is the last time the
latest checkpoint was known to cover every entry (signed, or checked with nothing new to
sign), so an idle log stays fresh and a log whose entries wait unsigned goes stale; the
``AuditCheckpointStale`` alert is built on it. ``haven_audit_seconds_since_checkpoint`` is
the same age, ready to graph.
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import Counter, Gauge, Histogram

from services.common.metrics import CommonMetrics, Declare

APPEND_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


@dataclass
class AuditMetrics:
    common: CommonMetrics
    entries: Counter
    tree_size: Gauge
    seconds_since_checkpoint: Gauge
    last_checkpoint_timestamp: Gauge
    checkpoints: Counter
    append_latency: Histogram
    append_batch_entries: Histogram

    @classmethod
    def create(cls) -> AuditMetrics:
        common = CommonMetrics.create("audit")
        declare = Declare(common.registry)
        return cls(
            common=common,
            entries=declare.counter(
                "haven_audit_entries_appended_total", "Entries appended to the audit log", "topic"
            ),
            tree_size=declare.gauge(
                "haven_audit_tree_size", "Entries in the audit log (Merkle tree size)"
            ),
            seconds_since_checkpoint=declare.gauge(
                "haven_audit_seconds_since_checkpoint",
                "Seconds since the latest checkpoint was last known to cover every entry",
            ),
            last_checkpoint_timestamp=declare.gauge(
                "haven_audit_last_checkpoint_timestamp_seconds",
                "Unix time the latest checkpoint was last known to cover every entry",
            ),
            checkpoints=declare.counter(
                "haven_audit_checkpoints_signed_total", "Checkpoints signed and stored"
            ),
            append_latency=declare.histogram(
                "haven_audit_append_batch_seconds",
                "Time to durably append one batch (encode, write, fsync, tree update)",
                buckets=APPEND_BUCKETS,
            ),
            append_batch_entries=declare.histogram(
                "haven_audit_append_batch_entries",
                "Entries per appended batch",
                buckets=(1, 10, 100, 500, 1000, 2500, 5000),
            ),
        )
