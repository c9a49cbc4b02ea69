"""Every metric the matcher exports, declared against its own registry.

Labels are bounded enumerations only (signal, action, outcome): never a hash value, an upload
reference or a platform's traffic shape per hash.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from prometheus_client import Counter, Gauge, Histogram

from schemas.signals import SignalType
from services.common.consumer import ConsumerHooks
from services.common.metrics import CommonMetrics, Declare

LOOKUP_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.1, 0.5, 2.5)


@dataclass
class MatcherMetrics:
    common: CommonMetrics
    index_entries: Gauge
    index_lag: Gauge
    index_sequence: Gauge
    lookup_seconds: Histogram
    queries: Counter
    matches: Counter
    actions: Counter
    images: Counter
    image_seconds: Histogram

    @classmethod
    def create(cls) -> MatcherMetrics:
        common = CommonMetrics.create("matcher")
        declare = Declare(common.registry)
        return cls(
            common=common,
            index_entries=declare.gauge(
                "haven_matcher_index_entries", "Active hash-list entries in the index", "signal"
            ),
            index_lag=declare.gauge(
                "haven_matcher_index_lag_messages",
                "Hash-list messages not yet applied to the index",
            ),
            index_sequence=declare.gauge(
                "haven_matcher_index_sequence",
                "Highest hash-list sequence number applied to the index",
            ),
            lookup_seconds=declare.histogram(
                "haven_matcher_lookup_seconds",
                "Time to look one signal up in the index",
                "signal",
                buckets=LOOKUP_BUCKETS,
            ),
            queries=declare.counter("haven_matcher_queries_total", "Signals looked up", "signal"),
            matches=declare.counter(
                "haven_matcher_matches_total",
                "Matches found (one per banked entry matched)",
                "signal",
            ),
            actions=declare.counter(
                "haven_matcher_actions_total", "Action reports accepted", "action"
            ),
            images=declare.counter(
                "haven_matcher_images_total",
                "Images fingerprinted server-side, by outcome",
                "outcome",
            ),
            image_seconds=declare.histogram(
                "haven_matcher_image_fingerprint_seconds",
                "Time to decode and fingerprint one image",
            ),
        )

    def watch_index(self, count: Callable[[SignalType], int], sequence: Callable[[], int]) -> None:
        """Read index size and sequence at scrape time (no per-message bookkeeping)."""
        for signal in SignalType:
            self.index_entries.labels(signal.value).set_function(
                lambda signal=signal: count(signal)  # type: ignore[misc]
            )
        self.index_sequence.set_function(sequence)

    def index_hooks(self) -> ConsumerHooks:
        """The common consumer hooks, with the lag of the hash list also as the index lag."""
        hooks = self.common.consumer_hooks()
        common_lag = hooks.lag
        behind_by_partition: dict[int, int] = {}

        def lag(topic: str, partition: int, behind: int) -> None:
            common_lag(topic, partition, behind)
            behind_by_partition[partition] = behind
            self.index_lag.set(sum(behind_by_partition.values()))

        hooks.lag = lag
        return hooks
