"""Every metric the intake service exports, declared against its own registry.

Labels are closed sets (a refusal reason, a request class); never a case number, a
fingerprint or anything about the client.
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import Counter

from services.common.metrics import CommonMetrics


@dataclass
class IntakeMetrics:
    common: CommonMetrics
    cases_opened: Counter
    media_added: Counter
    cases_withdrawn: Counter
    pow_rejected: Counter
    rate_limited: Counter
    idempotent_replays: Counter
    projected: Counter

    @classmethod
    def create(cls) -> IntakeMetrics:
        common = CommonMetrics.create("intake")
        registry = common.registry
        return cls(
            common=common,
            cases_opened=Counter(
                "haven_intake_cases_opened_total", "Cases opened", registry=registry
            ),
            media_added=Counter(
                "haven_intake_media_added_total",
                "Media items accepted (at opening or added later)",
                registry=registry,
            ),
            cases_withdrawn=Counter(
                "haven_intake_cases_withdrawn_total", "Cases withdrawn", registry=registry
            ),
            pow_rejected=Counter(
                "haven_intake_pow_rejected_total",
                "Requests refused for their proof-of-work",
                ["reason"],
                registry=registry,
            ),
            rate_limited=Counter(
                "haven_intake_rate_limited_total",
                "Requests refused by the per-client rate limit",
                ["kind"],
                registry=registry,
            ),
            idempotent_replays=Counter(
                "haven_intake_idempotent_replays_total",
                "Creates answered from an earlier request with the same Idempotency-Key",
                registry=registry,
            ),
            projected=Counter(
                "haven_intake_status_events_projected_total",
                "Events applied to the status read model",
                ["topic"],
                registry=registry,
            ),
        )
