"""A real Prometheus (Debian package) scrapes the real services: key series exist and move.

The scrape configuration is deploy/prometheus/prometheus.yml with the targets rewritten to the
test stack's ports, and the alert rules are loaded from deploy/prometheus/alerts.yml, so the
files SREs deploy are the files under test. Every metric the Grafana dashboards and the alert
rules query must be exported by some service (a renamed metric would silently blank a panel).
"""

from __future__ import annotations

import contextlib
import re
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from deploy.grafana import dashboards
from tests.e2e.conftest import Stack
from tests.support.services import free_port
from tests.support.wait import wait_until

pytestmark = pytest.mark.e2e

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"
PDQ = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596623e1d33e6339c4e9c9b22"


class Prometheus:
    def __init__(self, url: str) -> None:
        self.url = url

    def query(self, expr: str) -> list[dict[str, Any]]:
        response = httpx.get(f"{self.url}/api/v1/query", params={"query": expr}, timeout=10)
        response.raise_for_status()
        result: list[dict[str, Any]] = response.json()["data"]["result"]
        return result

    def value(self, expr: str) -> float:
        result = self.query(expr)
        return sum(float(sample["value"][1]) for sample in result)

    def metric_families(self) -> set[str]:
        response = httpx.get(f"{self.url}/api/v1/metadata", timeout=10)
        response.raise_for_status()
        return set(response.json()["data"])


@pytest.fixture(scope="module")
def prometheus(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prometheus]:
    binary = shutil.which("prometheus")
    assert binary, "prometheus is required (Debian package prometheus; make test installs it)"
    workdir = tmp_path_factory.mktemp("prometheus")
    config = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    config["global"]["scrape_interval"] = "1s"
    config["global"]["evaluation_interval"] = "1s"
    config["rule_files"] = [str(DEPLOY / "alerts.yml")]
    for job in config["scrape_configs"]:
        job["static_configs"] = [{"targets": [f"127.0.0.1:{stack[job['job_name']].port}"]}]
    (workdir / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    log = (workdir / "prometheus.log").open("w")
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={workdir / 'prometheus.yml'}",
            f"--storage.tsdb.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        try:
            return httpx.get(f"{url}/-/ready", timeout=2).status_code == 200
        except httpx.HTTPError:
            return process.poll() is not None

    try:
        wait_until(ready, timeout=60, what="Prometheus to start")
        assert process.poll() is None, (workdir / "prometheus.log").read_text()
        yield Prometheus(url)
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def test_every_service_is_scraped_ready_and_the_alert_rules_are_loaded(
    prometheus: Prometheus,
) -> None:
    jobs = {"intake", "distributor", "matcher", "audit"}

    def all_up() -> set[str] | None:
        up = {s["metric"]["job"] for s in prometheus.query("up == 1")}
        ready = {s["metric"]["job"] for s in prometheus.query("haven_ready == 1")}
        return up if jobs <= up and jobs <= ready else None

    wait_until(all_up, timeout=60, what="Prometheus to scrape all four services as ready")
    rules = httpx.get(f"{prometheus.url}/api/v1/rules", timeout=10).json()["data"]["groups"]
    names = {rule["name"] for group in rules for rule in group["rules"]}
    assert "HavenIntakeErrors" in names and len(names) >= 6
    firing = prometheus.query('ALERTS{alertstate="firing"}')
    assert firing == [], firing


def key_series(prometheus: Prometheus) -> dict[str, float]:
    """The series that must grow when one case flows intake → distributor → matcher, audit."""
    submissions = 'topic=~".*haven.submissions.v1"'
    hashlist = 'topic=~".*haven.hashlist.v1"'
    queries = {
        "intake_requests": 'haven_http_requests_total{job="intake"}',
        "intake_produced": f'haven_events_produced_total{{job="intake",{submissions}}}',
        "distributor_consumed": f'haven_events_consumed_total{{job="distributor",{submissions}}}',
        "matcher_consumed": f'haven_events_consumed_total{{job="matcher",{hashlist}}}',
        "audit_appended": 'haven_audit_entries_appended_total{job="audit"}',
        "hash_list": "haven_hash_list_entries",
        "index": "haven_matcher_index_entries",
    }
    return {name: prometheus.value(query) for name, query in queries.items()}


def test_series_move_when_a_case_flows_through(stack: Stack, prometheus: Prometheus) -> None:
    before = key_series(prometheus)
    md5 = secrets.token_hex(16)
    stack.open_case([{"type": "image", "pdq": PDQ, "quality": 100, "md5": md5}])

    def moved() -> dict[str, float] | None:
        after = key_series(prometheus)
        still = [name for name, value in after.items() if value <= before[name]]
        return None if still else after

    wait_until(moved, timeout=60, what="every key series to move after a case was opened")
    latency = prometheus.query(
        'sum by (le) (haven_http_request_duration_seconds_bucket{job="intake",route="/v1/cases"})'
    )
    assert latency, "intake's latency histogram has the /v1/cases route"


def test_dashboards_and_alerts_query_only_metrics_that_exist(prometheus: Prometheus) -> None:
    alert_text = (DEPLOY / "alerts.yml").read_text()
    wanted = dashboards.metric_names() | set(re.findall(r"\b(haven_[a-z_]+)\b", alert_text))
    wanted = {re.sub(r"_bucket$", "", name) for name in wanted}

    def missing() -> list[str]:
        return sorted(wanted - prometheus.metric_families())

    # Metadata arrives with the first scrapes; after that, anything still missing is a bug.
    with contextlib.suppress(AssertionError):
        wait_until(lambda: not missing(), timeout=30, what="metadata of every queried metric")
    assert missing() == [], "dashboards or alerts query metrics that no service exports"
