"""Every metric the distributor exports, declared against its own registry."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import Gauge

from services.common.metrics import CommonMetrics


@dataclass
class DistributorMetrics:
    common: CommonMetrics
    hash_list_size: Gauge

    @classmethod
    def create(cls) -> DistributorMetrics:
        common = CommonMetrics.create("distributor")
        return cls(
            common=common,
            hash_list_size=Gauge(
                "haven_hash_list_entries",
                "Entries on the canonical hash list (any status)",
                registry=common.registry,
            ),
        )
