"""docker-compose.yml declares every service with its port, healthcheck and healthy dependencies.

It cannot run on machines without a Docker engine, so this test reads it instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
HAVEN = {"intake": 8001, "distributor": 8002, "matcher": 8003, "audit": 8004}


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def test_every_part_is_declared_with_a_healthcheck() -> None:
    services = compose()["services"]
    for name in [*HAVEN, "kafka", "redis", "proxy", "prometheus", "grafana"]:
        assert name in services, name
        assert "healthcheck" in services[name], f"{name} has no healthcheck"
    assert services["kafka"]["image"].startswith("apache/kafka:4")


def test_haven_services_use_one_image_their_port_and_healthy_dependencies() -> None:
    services = compose()["services"]
    for name, port in HAVEN.items():
        service = services[name]
        assert service["build"] == "."
        assert str(port) in service["expose"] and "ports" not in service  # only via the proxy
        assert f"services.{name}" in service["command"]
        assert str(port) in " ".join(service["healthcheck"]["test"])
        depends = service["depends_on"]
        assert depends["kafka"]["condition"] == "service_healthy"
        assert depends["redis"]["condition"] == "service_healthy"


def secrets_of(service: dict[str, Any]) -> set[str]:
    env = service.get("environment") or {}
    return {
        name for name, value in env.items() if str(value).startswith("${") and ":?" in str(value)
    }


def test_every_secret_a_service_reads_is_required_and_it_gets_only_its_own() -> None:
    from tests.security.test_fail_closed import secret_variables

    services = compose()["services"]
    for name in HAVEN:
        wanted = {v for v in secret_variables(name)}
        given = secrets_of(services[name])
        # Each secret is given under the service's own name or the shared HAVEN_ one.
        for variable in wanted:
            shared = "HAVEN_" + variable.split("_", 2)[2]
            assert variable in given or shared in given, f"{name} lacks {variable}"
        others = {
            s for s in given if s.split("_")[1].lower() in HAVEN and s.split("_")[1].lower() != name
        }
        assert not others, f"{name} is given other services' secrets {others}"


def test_nothing_is_published_in_clear_or_anonymous() -> None:
    services = compose()["services"]
    kafka = services["kafka"]["environment"]
    assert "PLAINTEXT" not in kafka["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].replace("SASL_", "")
    assert kafka["KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND"] == "false"
    assert "ports" not in services["redis"] and "default off" in services["redis"]["command"]
    assert "ports" not in services["prometheus"]
    assert services["grafana"]["environment"]["GF_AUTH_ANONYMOUS_ENABLED"] == "false"


def test_prometheus_scrapes_every_service() -> None:
    config = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    targets = {
        t for job in config["scrape_configs"] for sc in job["static_configs"] for t in sc["targets"]
    }
    assert targets == {f"{name}:{port}" for name, port in HAVEN.items()}


def test_grafana_is_provisioned_with_the_dashboards_that_the_builder_makes() -> None:
    import json

    from deploy.grafana import dashboards

    committed = {
        path.name: path.read_text()
        for path in (ROOT / "deploy" / "grafana" / "dashboards").glob("*.json")
    }
    assert committed == dashboards.rendered(), "run python deploy/grafana/dashboards.py"
    titles = {json.loads(text)["title"] for text in committed.values()}
    assert {"Haven — overview", "Haven — intake", "Haven — distributor"} <= titles
    assert {"Haven — matcher", "Haven — audit"} <= titles
    volumes = compose()["services"]["grafana"]["volumes"]
    assert any(v.startswith("./deploy/grafana/dashboards:") for v in volumes)
    provider = yaml.safe_load(
        (ROOT / "deploy/grafana/provisioning/dashboards/haven.yml").read_text()
    )
    mounted = next(v for v in volumes if v.startswith("./deploy/grafana/dashboards:"))
    assert provider["providers"][0]["options"]["path"] == mounted.split(":")[1]
