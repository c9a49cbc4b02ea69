"""Every metric the matcher exports, declared against its own registry."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import Gauge

from services.common.metrics import CommonMetrics


@dataclass
class MatcherMetrics:
    common: CommonMetrics
    index_size: Gauge

    @classmethod
    def create(cls) -> MatcherMetrics:
        common = CommonMetrics.create("matcher")
        return cls(
            common=common,
            index_size=Gauge(
                "haven_matcher_index_entries",
                "Active hash-list entries in the index",
                registry=common.registry,
            ),
        )
