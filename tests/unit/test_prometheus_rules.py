"""Prometheus configuration and alert rules, checked and unit-tested by the real ``promtool``.

``promtool`` comes from the Debian ``prometheus`` package that ``make test`` installs.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"
PROMTOOL = shutil.which("promtool")


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None, "promtool is required (Debian package prometheus)"
    return subprocess.run(
        [PROMTOOL, *args], cwd=DEPLOY, capture_output=True, text=True, timeout=60, check=False
    )


def test_config_and_rules_are_valid() -> None:
    for args in (("check", "config", "prometheus.yml"), ("check", "rules", "alerts.yml")):
        result = promtool(*args)
        assert result.returncode == 0, result.stdout + result.stderr


def test_alert_rules_fire_when_they_should_and_only_then() -> None:
    result = promtool("test", "rules", "alerts_test.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_has_a_unit_test_and_an_explanation() -> None:
    rules = yaml.safe_load((DEPLOY / "alerts.yml").read_text())["groups"][0]["rules"]
    tested = {
        case["alertname"]
        for test in yaml.safe_load((DEPLOY / "alerts_test.yml").read_text())["tests"]
        for case in test.get("alert_rule_test", [])
    }
    names = {rule["alert"] for rule in rules}
    assert names == tested
    expected = {
        "HavenConsumerLagGrowing",
        "HavenDeadLetters",
        "HavenWebhookDeliveriesFailing",
        "HavenAuditCheckpointStale",
        "HavenMatcherNotReady",
        "HavenIntakeErrors",
    }
    assert expected <= names
    for rule in rules:
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]
        assert rule["labels"]["severity"] in {"warning", "critical"}
