"""Every metric the intake service exports, declared against its own registry."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import Counter

from services.common.metrics import CommonMetrics


@dataclass
class IntakeMetrics:
    common: CommonMetrics
    cases_opened: Counter

    @classmethod
    def create(cls) -> IntakeMetrics:
        common = CommonMetrics.create("intake")
        return cls(
            common=common,
            cases_opened=Counter(
                "haven_intake_cases_opened_total", "Cases opened", registry=common.registry
            ),
        )
