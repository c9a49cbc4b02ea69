"""Every metric the intake service exports, declared against its own registry.

Labels are closed sets (a refusal reason, a request class); never a case number, a
fingerprint or anything about the client.
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import Counter

from services.common.metrics import CommonMetrics, Declare


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
    forged_snapshots: Counter

    @classmethod
    def create(cls) -> IntakeMetrics:
        common = CommonMetrics.create("intake")
        declare = Declare(common.registry)
        return cls(
            common=common,
            cases_opened=declare.counter("haven_intake_cases_opened_total", "Cases opened"),
            media_added=declare.counter(
                "haven_intake_media_added_total", "Media items accepted (at opening or added later)"
            ),
            cases_withdrawn=declare.counter(
                "haven_intake_cases_withdrawn_total", "Cases withdrawn"
            ),
            pow_rejected=declare.counter(
                "haven_intake_pow_rejected_total",
                "Requests refused for their proof-of-work",
                "reason",
            ),
            rate_limited=declare.counter(
                "haven_intake_rate_limited_total",
                "Requests refused by the per-client rate limit",
                "kind",
            ),
            idempotent_replays=declare.counter(
                "haven_intake_idempotent_replays_total",
                "Creates answered from an earlier request with the same Idempotency-Key",
            ),
            forged_snapshots=declare.counter(
                "haven_intake_forged_snapshots_total",
                "Case snapshots in Redis whose MAC did not verify (treated as unknown cases)",
            ),
            projected=declare.counter(
                "haven_intake_status_events_projected_total",
                "Events applied to the status read model",
                "topic",
            ),
        )
