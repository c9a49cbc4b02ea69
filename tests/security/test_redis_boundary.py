"""Attacks on Redis: no anonymous access, intake's user is confined to its keys, and a write to
Redis alone cannot hand anyone a case (the snapshot's MAC is under a key Redis never holds)."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from schemas.security import KafkaAccess
from services.intake.domain import hash_secret
from tests.security.conftest import AttackTable
from tests.support import infra
from tests.support.intake import case_status, open_case
from tests.support.namespace import new_namespace
from tests.support.services import ServiceProcess, service_env
from tests.support.wait import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.security]


def refusal(call: object) -> str:
    """The name of the Redis error ``call()`` raises, or ``allowed``."""
    try:
        call()  # type: ignore[operator]
    except redis.RedisError as exc:
        return type(exc).__name__
    return "allowed"


@pytest.fixture(scope="module")
def intake(
    request: pytest.FixtureRequest,
    kafka_bootstrap: KafkaAccess,
    redis_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, str]]:
    namespace = new_namespace(request, "r")
    data_dir: Path = tmp_path_factory.mktemp("intake-redis")
    env = service_env(
        kafka=kafka_bootstrap, redis=redis_url, namespace=namespace, data_dir=data_dir
    )
    service = ServiceProcess("intake", env, data_dir).start()
    try:
        service.wait_ready()
        yield service.url, namespace
    finally:
        service.stop()


def test_redis_refuses_clients_without_credentials(redis_url: str, attacks: AttackTable) -> None:
    anonymous = redis.Redis.from_url(infra.without_credentials(redis_url), socket_timeout=5)
    try:
        observed = refusal(anonymous.ping)
    finally:
        anonymous.close()
    attacks.record("Redis client without credentials", "refused", observed)
    assert observed == "AuthenticationError"


def test_intakes_redis_user_reaches_only_its_own_keys(redis_url: str, attacks: AttackTable) -> None:
    password = infra.redis_service_env()["HAVEN_INTAKE_REDIS_PASSWORD"]
    client = redis.Redis.from_url(
        infra.without_credentials(redis_url), username="intake", password=password
    )
    try:
        assert refusal(lambda: client.set("haven:intake:probe", b"1", ex=5)) == "allowed"
        for what, call in {
            "reads a key outside *:intake:*": lambda: client.get("haven:audit:x"),
            "lists every key (KEYS *)": lambda: client.keys("*"),
            "flushes the database": client.flushdb,
            "reconfigures the server": lambda: client.config_set("appendonly", "no"),
        }.items():
            observed = refusal(call)
            attacks.record(f"intake's Redis user {what}", "refused", observed)
            assert observed == "NoPermissionError", what
    finally:
        client.delete("haven:intake:probe")
        client.close()


def test_a_forged_snapshot_in_redis_opens_no_case(
    intake: tuple[str, str], redis_url: str, attacks: AttackTable
) -> None:
    url, namespace = intake
    item = {"type": "image", "pdq": random.randbytes(32).hex(), "quality": 90}
    item["md5"] = random.randbytes(16).hex()
    created = open_case(url, [item])
    number = created["case_number"]
    assert case_status(url, number, created["secret"])["case_number"] == number
    admin = redis.Redis.from_url(redis_url)
    key = f"{namespace}:intake:case:{number}"
    try:
        stored = json.loads(admin.hget(key, "snapshot") or b"{}")
        stored["secret_hash"] = hash_secret("the attacker's own secret")
        admin.hset(key, "snapshot", json.dumps(stored))  # the MAC field is left as it was
        taken = httpx.get(
            f"{url}/v1/cases/{number}",
            headers={"Authorization": "Bearer the attacker's own secret"},
            timeout=30,
        )
    finally:
        admin.close()
    attacks.record(
        "case snapshot rewritten in Redis with the attacker's secret hash, then used",
        "404 (unknown case), counted",
        f"{taken.status_code} {taken.json().get('error')}",
    )
    assert taken.status_code == 404 and taken.json()["error"] == "case_not_found"

    def counted() -> bool:
        metrics = httpx.get(f"{url}/metrics", timeout=10).text
        return "haven_intake_forged_snapshots_total 1.0" in metrics

    wait_until(counted, timeout=10, what="the forged snapshot counted")
