"""Attacks on the public APIs: an anonymous upload is refused before its body is read, an image
in a format outside the allow-list is never decoded, and one IPv6 /64 is one client."""

from __future__ import annotations

import io
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from schemas.events import Channel, PlatformSnapshot
from schemas.platform_keys import new_api_key
from schemas.security import KafkaAccess
from schemas.signals import SignalType
from schemas.topics import qualified
from services.common.kafka import EventProducer
from tests.integration.conftest import read_topic
from tests.security.conftest import AttackTable
from tests.support.hashlist import HashList
from tests.support.images import REFUSED_FORMATS
from tests.support.intake import pow_header
from tests.support.namespace import new_namespace
from tests.support.services import ServiceProcess, service_env
from tests.support.wait import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.security]
FIFTEEN_MB = 15 * 1024 * 1024


def rss_bytes(pid: int) -> int:
    """Resident set size of a process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for {pid}")


@pytest.fixture(scope="module")
def namespace(request: pytest.FixtureRequest) -> str:
    return new_namespace(request, "a")


@pytest.fixture(scope="module")
def platform_key(kafka_bootstrap: KafkaAccess, namespace: str) -> str:
    key, stored = new_api_key()
    snapshot = PlatformSnapshot(
        platform_id="attack-" + uuid.uuid4().hex[:6],
        name="Attack target",
        signals=[SignalType.PDQ, SignalType.MD5],
        channels=[Channel.PULL],
        api_keys=[stored],
    )
    producer = EventProducer(kafka_bootstrap)
    producer.send(qualified("haven.platforms.v1", namespace), snapshot.platform_id, snapshot)
    producer.close()
    return key


@pytest.fixture(scope="module")
def services(
    kafka_bootstrap: KafkaAccess,
    redis_url: str,
    namespace: str,
    platform_key: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, ServiceProcess]]:
    data_dir: Path = tmp_path_factory.mktemp("api-boundary")
    env = service_env(
        kafka=kafka_bootstrap,
        redis=redis_url,
        namespace=namespace,
        data_dir=data_dir,
        extra={
            "HAVEN_INTAKE_TRUST_FORWARDED_FOR": "true",  # to present many IPv6 addresses
            "HAVEN_INTAKE_RATE_LIMIT_WRITES_PER_MINUTE": "20",
        },
    )
    started = {name: ServiceProcess(name, env, data_dir).start() for name in ("matcher", "intake")}
    try:
        for service in started.values():
            service.wait_ready()
        yield started
    finally:
        for service in started.values():
            service.stop()


def test_an_unauthenticated_15_mb_upload_is_answered_before_its_body(
    services: dict[str, ServiceProcess], attacks: AttackTable
) -> None:
    matcher = services["matcher"]
    assert matcher.proc is not None
    rss_before = rss_bytes(matcher.proc.pid)
    head = (
        "POST /v1/match/image HTTP/1.1\r\nHost: matcher\r\nContent-Type: image/jpeg\r\n"
        f"Content-Length: {FIFTEEN_MB}\r\nAuthorization: Bearer hvn_forged\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", matcher.port), timeout=10) as sock:
        sock.sendall(head + b"\xff" * 65536)  # the head and the first 64 KiB, then nothing
        started = time.monotonic()
        answer = ""
        while '"unauthenticated"' not in answer and time.monotonic() - started < 10:
            chunk = sock.recv(4096).decode("latin-1")
            if not chunk:
                break
            answer += chunk
        waited = time.monotonic() - started
    status = answer.split(" ", 2)[1] if answer.startswith("HTTP/1.1") else "none"
    rss_after = rss_bytes(matcher.proc.pid)
    grown_mb = (rss_after - rss_before) / 1e6
    attacks.record(
        "15 MB upload to /v1/match/image with a forged key (body never sent)",
        "401 before the body, RSS flat",
        f"{status} after {waited:.2f} s, RSS +{grown_mb:.1f} MB",
    )
    assert status == "401" and '"unauthenticated"' in answer
    assert grown_mb < 5  # nothing near 15 MB was buffered


@pytest.mark.parametrize(("name", "make"), REFUSED_FORMATS.items())
def test_an_image_format_outside_the_allow_list_is_not_decoded(
    services: dict[str, ServiceProcess],
    platform_key: str,
    name: str,
    make: object,
    attacks: AttackTable,
) -> None:
    from PIL import Image

    data = make()  # type: ignore[operator]
    with Image.open(io.BytesIO(data)) as image:  # a real file of that format
        assert image.format == name
    response = httpx.post(
        f"{services['matcher'].url}/v1/match/image",
        content=data,
        headers={"Authorization": f"Bearer {platform_key}", "Content-Type": "image/x-anything"},
        timeout=30,
    )
    observed = f"{response.status_code} {response.json().get('error')}"
    attacks.record(f"{name} upload to /v1/match/image", "422 not_an_image", observed)
    assert response.status_code == 422 and response.json()["error"] == "not_an_image"


def test_one_ipv6_64_is_one_client_for_the_rate_limit(
    services: dict[str, ServiceProcess], attacks: AttackTable
) -> None:
    url = services["intake"].url
    item = {"type": "image", "pdq": "ab" * 32, "quality": 90, "md5": "cd" * 16}

    def create(address: str) -> int:
        headers = {"X-Altcha": pow_header(url), "X-Forwarded-For": address}
        response = httpx.post(
            f"{url}/v1/cases", json={"items": [item]}, headers=headers, timeout=30
        )
        return response.status_code

    prefix = f"2001:db8:{uuid.uuid4().int % 0xFFFF:x}:1:"
    statuses = [create(f"{prefix}{n:x}::{n + 1:x}") for n in range(21)]
    other = create(f"2001:db8:{uuid.uuid4().int % 0xFFFF:x}:2::1")
    attacks.record(
        "21 creates from 21 addresses of one IPv6 /64 (limit 20/min)",
        "20 accepted, the 21st 429; another /64 accepted",
        f"{statuses.count(201)} accepted, 21st {statuses[-1]}; other /64 {other}",
    )
    assert statuses[:20] == [201] * 20 and statuses[20] == 429 and other == 201


@pytest.fixture(scope="module")
def banked(kafka_bootstrap: KafkaAccess, namespace: str) -> Iterator[HashList]:
    producer = EventProducer(kafka_bootstrap)
    yield HashList(producer, qualified("haven.hashlist.v1", namespace))
    producer.close()


def test_an_action_on_a_never_delivered_entry_is_refused(
    services: dict[str, ServiceProcess],
    platform_key: str,
    banked: HashList,
    attacks: AttackTable,
) -> None:
    md5 = uuid.uuid4().hex
    banked.put(SignalType.MD5, md5)
    client = httpx.Client(
        base_url=services["matcher"].url,
        headers={"Authorization": f"Bearer {platform_key}"},
        timeout=30,
    )
    with client:
        wait_until(
            lambda: client.post(
                "/v1/match", json={"signals": [{"type": "md5", "value": md5}]}
            ).json()["results"][0]["matches"],
            what="the entry matchable",
        )
        body = {"signal": "md5", "value": md5, "action": "removed", "upload_ref": "u1"}
        refused = client.post("/v1/actions", json=body)
    observed = f"{refused.status_code} {refused.json().get('error')}"
    attacks.record("platform reports 'removed' on an entry never delivered to it", "403", observed)
    assert refused.status_code == 403 and refused.json()["error"] == "not_delivered"


def test_replayed_match_reports_are_recorded_once(
    services: dict[str, ServiceProcess],
    platform_key: str,
    banked: HashList,
    kafka_bootstrap: KafkaAccess,
    namespace: str,
    attacks: AttackTable,
) -> None:
    md5 = uuid.uuid4().hex
    banked.put(SignalType.MD5, md5)
    url, headers = (
        f"{services['matcher'].url}/v1/match",
        {"Authorization": f"Bearer {platform_key}"},
    )
    request = {"signals": [{"type": "md5", "value": md5}]}  # no upload_ref at all
    wait_until(
        lambda: httpx.post(url, json=request, headers=headers).json()["results"][0]["matches"],
        what="the entry matchable",
    )
    for _ in range(5):
        assert httpx.post(url, json=request, headers=headers, timeout=30).status_code == 200
    recorded = [
        m
        for m in read_topic(
            kafka_bootstrap, qualified("haven.matches.v1", namespace), expect=50, timeout=5
        )
        if md5.encode() in (m.value() or b"")
    ]
    attacks.record(
        "the same match request (no upload_ref) replayed 6 times",
        "1 MatchFound",
        f"{len(recorded)} MatchFound",
    )
    assert len(recorded) == 1
