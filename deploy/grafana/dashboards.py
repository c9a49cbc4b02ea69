"""Builds Haven's Grafana dashboards (deploy/grafana/dashboards/*.json) from one description.

Run ``python deploy/grafana/dashboards.py`` after changing a panel; a test fails when the
committed JSON drifts from this file, and the Prometheus integration test checks that every
metric a panel queries is really exported by a running service.

One overview dashboard (what an on-call SRE looks at first) and one per service. Panels use
the ``Prometheus`` datasource that deploy/grafana/provisioning/datasources provisions.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "dashboards"
DATASOURCE = {"type": "prometheus", "uid": "prometheus"}


@dataclass(frozen=True)
class Panel:
    title: str
    exprs: tuple[tuple[str, str], ...]  # (PromQL, legend)
    unit: str = "short"
    kind: str = "timeseries"
    description: str = ""


@dataclass(frozen=True)
class Dashboard:
    uid: str
    title: str
    description: str
    panels: list[Panel] = field(default_factory=list)


def p99(metric: str, by: str = "") -> str:
    group = f"le{', ' + by if by else ''}"
    return f"histogram_quantile(0.99, sum by ({group}) (rate({metric}_bucket[5m])))"


def p50(metric: str, by: str = "") -> str:
    group = f"le{', ' + by if by else ''}"
    return f"histogram_quantile(0.5, sum by ({group}) (rate({metric}_bucket[5m])))"


def http_panels(job: str) -> list[Panel]:
    return [
        Panel(
            "Requests per second by route and status",
            (
                (
                    f'sum by (route, status) (rate(haven_http_requests_total{{job="{job}"}}[5m]))',
                    "{{route}} {{status}}",
                ),
            ),
            "reqps",
        ),
        Panel(
            "Request latency p50 / p99",
            (
                (
                    p50(f'haven_http_request_duration_seconds{{job="{job}"}}', "route"),
                    "p50 {{route}}",
                ),
                (
                    p99(f'haven_http_request_duration_seconds{{job="{job}"}}', "route"),
                    "p99 {{route}}",
                ),
            ),
            "s",
        ),
    ]


def kafka_panels(job: str) -> list[Panel]:
    return [
        Panel(
            "Events consumed / produced per second",
            (
                (
                    f'sum by (topic) (rate(haven_events_consumed_total{{job="{job}"}}[5m]))',
                    "consumed {{topic}}",
                ),
                (
                    f'sum by (topic) (rate(haven_events_produced_total{{job="{job}"}}[5m]))',
                    "produced {{topic}}",
                ),
            ),
            "ops",
        ),
        Panel(
            "Consumer lag",
            (
                (
                    f'sum by (topic) (haven_consumer_lag_messages{{job="{job}"}})',
                    "{{topic}}",
                ),
            ),
        ),
        Panel(
            "Dead-lettered messages (15 min)",
            (
                (
                    f'sum by (topic) (increase(haven_dlq_messages_total{{job="{job}"}}[15m]))',
                    "{{topic}}",
                ),
            ),
        ),
    ]


OVERVIEW = Dashboard(
    "haven-overview",
    "Haven — overview",
    "Is every service up and keeping up; are submissions flowing end to end?",
    [
        Panel(
            "Ready (1 = /readyz 200)",
            (("max by (job) (haven_ready)", "{{job}}"),),
            kind="stat",
        ),
        Panel(
            "Requests per second by service",
            (("sum by (job) (rate(haven_http_requests_total[5m]))", "{{job}}"),),
            "reqps",
        ),
        Panel(
            "Intake 5xx ratio",
            (
                (
                    'sum(rate(haven_http_requests_total{job="intake",status=~"5.."}[5m])) / '
                    'sum(rate(haven_http_requests_total{job="intake"}[5m]))',
                    "5xx",
                ),
            ),
            "percentunit",
        ),
        Panel(
            "Consumer lag by service and topic",
            (("sum by (job, topic) (haven_consumer_lag_messages)", "{{job}} {{topic}}"),),
        ),
        Panel(
            "Dead letters (15 min)",
            (
                (
                    "sum by (job, topic) (increase(haven_dlq_messages_total[15m]))",
                    "{{job}} {{topic}}",
                ),
            ),
        ),
        Panel(
            "Hash list and matcher index",
            (
                ("max(haven_hash_list_entries)", "hash list"),
                ("sum(haven_matcher_index_entries)", "matcher index"),
            ),
        ),
        Panel(
            "Webhook batches dead-lettered (15 min) by platform",
            (
                (
                    "sum by (platform) (increase(haven_webhook_dlq_batches_total[15m]))",
                    "{{platform}}",
                ),
            ),
        ),
        Panel(
            "Audit log: seconds since last checkpoint",
            (("time() - max(haven_audit_last_checkpoint_timestamp_seconds)", "seconds"),),
            "s",
        ),
    ],
)

SERVICES = [
    Dashboard(
        "haven-intake",
        "Haven — intake",
        "Submissions from the page and the CLI: acceptance, latency, abuse controls.",
        [
            Panel(
                "Cases opened per second",
                (("sum(rate(haven_intake_cases_opened_total[5m]))", "cases"),),
                "ops",
            ),
            *http_panels("intake"),
            Panel(
                "Proof-of-work and rate-limit rejections per second",
                (
                    (
                        "sum by (reason) (rate(haven_intake_pow_rejected_total[5m]))",
                        "pow {{reason}}",
                    ),
                    ("sum(rate(haven_intake_rate_limited_total[5m]))", "rate limited"),
                ),
                "reqps",
            ),
            *kafka_panels("intake"),
        ],
    ),
    Dashboard(
        "haven-distributor",
        "Haven — distributor",
        "The canonical hash list and its delivery to every platform.",
        [
            Panel(
                "Hash list entries",
                (("max(haven_hash_list_entries)", "entries"),),
            ),
            Panel(
                "Deliveries per second by platform and channel",
                (
                    (
                        "sum by (platform, channel) (rate(haven_deliveries_total[5m]))",
                        "{{platform}} {{channel}}",
                    ),
                ),
                "ops",
            ),
            Panel(
                "Webhook latency p99 by platform",
                ((p99("haven_webhook_request_duration_seconds", "platform"), "{{platform}}"),),
                "s",
            ),
            Panel(
                "Webhook attempts per second by result",
                (
                    (
                        "sum by (platform, result) (rate(haven_webhook_attempts_total[5m]))",
                        "{{platform}} {{result}}",
                    ),
                ),
                "ops",
            ),
            Panel(
                "Backlog: entries not yet delivered, by platform",
                (("sum by (platform, channel) (haven_delivery_backlog_entries)", "{{platform}}"),),
            ),
            Panel(
                "Webhook batches dead-lettered (15 min)",
                (
                    (
                        "sum by (platform) (increase(haven_webhook_dlq_batches_total[15m]))",
                        "{{platform}}",
                    ),
                ),
            ),
            *http_panels("distributor"),
            *kafka_panels("distributor"),
        ],
    ),
    Dashboard(
        "haven-matcher",
        "Haven — matcher",
        "Platforms' match traffic against the in-memory index.",
        [
            Panel(
                "Index entries by signal",
                (("sum by (signal) (haven_matcher_index_entries)", "{{signal}}"),),
            ),
            Panel(
                "Match latency p50 / p99",
                (
                    (p50("haven_matcher_lookup_seconds", "signal"), "p50 {{signal}}"),
                    (p99("haven_matcher_lookup_seconds", "signal"), "p99 {{signal}}"),
                ),
                "s",
            ),
            Panel(
                "Index lag behind the hash list (messages)",
                (("sum(haven_matcher_index_lag_messages)", "lag"),),
            ),
            Panel(
                "Matches per second by signal",
                (("sum by (signal) (rate(haven_matcher_matches_total[5m]))", "{{signal}}"),),
                "ops",
            ),
            *http_panels("matcher"),
            *kafka_panels("matcher"),
        ],
    ),
    Dashboard(
        "haven-audit",
        "Haven — audit",
        "The append-only log: growth, checkpoint freshness, append latency.",
        [
            Panel("Tree size", (("max(haven_audit_tree_size)", "entries"),)),
            Panel(
                "Seconds since last checkpoint",
                (("time() - max(haven_audit_last_checkpoint_timestamp_seconds)", "seconds"),),
                "s",
            ),
            Panel(
                "Append batch latency p99 (write + fsync)",
                ((p99("haven_audit_append_batch_seconds"), "p99"),),
                "s",
            ),
            Panel(
                "Entries appended per second by topic",
                (("sum by (topic) (rate(haven_audit_entries_appended_total[5m]))", "{{topic}}"),),
                "ops",
            ),
            *http_panels("audit"),
            *kafka_panels("audit"),
        ],
    ),
]

DASHBOARDS = [OVERVIEW, *SERVICES]


def panel_json(panel: Panel, index: int) -> dict[str, Any]:
    width = 12
    return {
        "id": index + 1,
        "type": panel.kind,
        "title": panel.title,
        "description": panel.description,
        "datasource": DATASOURCE,
        "gridPos": {"h": 8, "w": width, "x": (index % 2) * width, "y": (index // 2) * 8},
        "fieldConfig": {"defaults": {"unit": panel.unit}, "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom"}},
        "targets": [
            {
                "refId": chr(ord("A") + i),
                "datasource": DATASOURCE,
                "expr": expr,
                "legendFormat": leg,
            }
            for i, (expr, leg) in enumerate(panel.exprs)
        ],
    }


def dashboard_json(board: Dashboard) -> dict[str, Any]:
    return {
        "uid": board.uid,
        "title": board.title,
        "description": board.description,
        "tags": ["haven"],
        "timezone": "utc",
        "schemaVersion": 39,
        "version": 1,
        "refresh": "10s",
        "time": {"from": "now-1h", "to": "now"},
        "links": [{"type": "dashboards", "tags": ["haven"], "title": "Haven", "asDropdown": True}],
        "panels": [panel_json(panel, i) for i, panel in enumerate(board.panels)],
    }


def rendered() -> dict[str, str]:
    """File name → JSON text of every dashboard."""
    return {
        f"{board.uid}.json": json.dumps(dashboard_json(board), indent=2) + "\n"
        for board in DASHBOARDS
    }


_METRIC = re.compile(r"\b(haven_[a-z_]+?)(?:_bucket)?\b(?=\s*[\[{)])")


def metric_names() -> set[str]:
    """Every ``haven_*`` metric family a panel queries (histograms by their base name)."""
    names: set[str] = set()
    for board in DASHBOARDS:
        for panel in board.panels:
            for expr, _ in panel.exprs:
                names.update(_METRIC.findall(expr))
    return names


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for name, text in rendered().items():
        (OUT / name).write_text(text)
    print(f"wrote {len(DASHBOARDS)} dashboards to {OUT}")


if __name__ == "__main__":
    main()
