"""Every consuming service, killed and restarted while submissions keep flowing, becomes ready.

Readiness used to be decided only when a poll came back empty, which under a steady trickle of
submissions never happens: a distributor restarted under load stayed unready for ever. Here a
load generator submits and withdraws through one intake instance the whole time, and each of
the distributor, the matcher, the audit service and a second intake instance (the status
projector) is SIGKILLed and started again in turn. Each must answer ``/readyz`` 200 while the
load is still being accepted, and must then serve what was accepted before its restart.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from schemas.security import KafkaAccess
from tests.reliability.harness import Accepted, Load
from tests.support import intake as intake_client
from tests.support.feed import pull_all
from tests.support.namespace import new_namespace
from tests.support.services import ServiceProcess, namespace_secrets, service_env
from tests.support.wait import wait_until

pytestmark = pytest.mark.reliability

PLATFORM = "restart-social"
RATE_PER_S = 8.0  # a poll of any consumer of these topics would rarely come back empty
READY_WITHIN_S = 90.0


@dataclass
class Rig:
    services: dict[str, ServiceProcess]
    api_key: str
    load: Load


@pytest.fixture(scope="module")
def rig(
    request: pytest.FixtureRequest,
    kafka_bootstrap: KafkaAccess,
    redis_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Rig]:
    namespace = new_namespace(request, "u")
    data_dir = tmp_path_factory.mktemp("restart-under-load")
    env = service_env(
        kafka=kafka_bootstrap, redis=redis_url, namespace=namespace, data_dir=data_dir
    )
    second = data_dir / "second-intake"
    second.mkdir()
    services = {
        "intake": ServiceProcess("intake", env, data_dir),
        "distributor": ServiceProcess("distributor", env, data_dir),
        "matcher": ServiceProcess("matcher", env, data_dir),
        "audit": ServiceProcess("audit", env, data_dir),
        # The projector under test; the load goes to the first instance, so traffic flows
        # while this one is down and while it catches up.
        "intake-projector": ServiceProcess("intake", env, second),
    }
    for service in services.values():
        service.start()
    load: Load | None = None
    try:
        for service in services.values():
            service.wait_ready(timeout=120)
        created = httpx.post(
            f"{services['distributor'].url}/v1/platforms",
            headers={
                "Authorization": f"Bearer {namespace_secrets(namespace)['HAVEN_ADMIN_TOKEN']}"
            },
            json={
                "id": PLATFORM,
                "name": "Restart Social",
                "signals": ["pdq", "md5"],
                "channels": ["pull", "kafka"],
            },
            timeout=30,
        )
        assert created.status_code == 201, created.text
        load = Load(services["intake"].url, rate_per_s=RATE_PER_S).start()
        yield Rig(services, created.json()["api_key"], load)
    finally:
        if load is not None:
            load.stop()
        for service in services.values():
            service.stop()


def restart_under_load(rig: Rig, name: str) -> Accepted:
    """SIGKILL ``name``, start it again, and wait for ``/readyz`` while the load runs; returns
    a case accepted before the kill whose withdrawal, if any, was also answered before it
    (the load withdraws the last case but one, so the fourth from last is settled)."""
    load = rig.load
    wait_until(lambda: len(load.accepted) >= 20, timeout=120, what="a backlog of cases")
    before = load.accepted[-4]
    service = rig.services[name]
    service.kill()
    at_kill = len(load.accepted)
    service.start().wait_ready(timeout=READY_WITHIN_S)
    after = len(load.accepted)
    assert after > at_kill, f"no submission was accepted while {name} restarted: no load"
    wait_until(
        lambda: len(load.accepted) > after, timeout=30, what=f"the load to go on after {name}"
    )
    return before


def test_distributor_becomes_ready_under_load_and_serves_earlier_cases(rig: Rig) -> None:
    before = restart_under_load(rig, "distributor")

    def in_feed() -> bool:
        entries, _ = pull_all(rig.services["distributor"].url, rig.api_key)
        return before.md5 in {e["value"] for e in entries}

    wait_until(in_feed, timeout=30, what="a case accepted before the restart in the feed")


def test_matcher_becomes_ready_under_load_and_matches_earlier_cases(rig: Rig) -> None:
    before = restart_under_load(rig, "matcher")

    def matched() -> bool:
        response = httpx.post(
            f"{rig.services['matcher'].url}/v1/match",
            headers={"Authorization": f"Bearer {rig.api_key}"},
            json={"signals": [{"type": "md5", "value": before.md5}]},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        return bool(response.json()["results"][0]["matches"]) != before.withdrawn

    wait_until(matched, timeout=30, what="the matcher to answer for a case from before")


def test_audit_becomes_ready_under_load(rig: Rig) -> None:
    restart_under_load(rig, "audit")
    checkpoint = httpx.get(f"{rig.services['audit'].url}/v1/audit/checkpoint", timeout=30)
    assert checkpoint.status_code == 200, checkpoint.text


def test_intake_projector_becomes_ready_under_load_and_shows_earlier_cases(rig: Rig) -> None:
    before = restart_under_load(rig, "intake-projector")
    expected = "withdrawn" if before.withdrawn else "open"

    def shown() -> bool:
        url = rig.services["intake-projector"].url
        status = intake_client.case_status(url, before.case_number, before.secret)
        return bool(status["status"] == expected)

    wait_until(shown, timeout=30, what="the restarted instance to show a case from before")
