"""Every metric the audit service exports, declared against its own registry."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import Counter

from services.common.metrics import CommonMetrics


@dataclass
class AuditMetrics:
    common: CommonMetrics
    entries: Counter

    @classmethod
    def create(cls) -> AuditMetrics:
        common = CommonMetrics.create("audit")
        return cls(
            common=common,
            entries=Counter(
                "haven_audit_entries_appended_total",
                "Entries appended to the audit log",
                registry=common.registry,
            ),
        )
