"""The matcher as a real process on the real broker: platform auth, matching, match events,
action reports, server-side image hashing, bad requests, and a SIGKILL restart.

The hash list and the platform registry are written here exactly as the distributor writes
them (``HashListEntry`` on ``haven.hashlist.v1``, ``PlatformSnapshot`` on
``haven.platforms.v1``), in a namespace of this module's own so no other test's entries leak
in.
"""

from __future__ import annotations

import csv
import hashlib
import io
import random
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from schemas.events import (
    ActionReported,
    Channel,
    DeliveryOutcome,
    DeliveryRecorded,
    EntryStatus,
    MatchFound,
    PlatformSnapshot,
)
from schemas.platform_keys import new_api_key
from schemas.security import KafkaAccess
from schemas.signals import SignalType, VpdqFrame, vpdq_digest
from schemas.topics import qualified
from services.common.kafka import EventProducer
from tests.integration.conftest import read_topic
from tests.support.hashlist import HashList
from tests.support.namespace import new_namespace
from tests.support.services import ServiceProcess, service_env
from tests.support.wait import wait_until

TESTDATA = Path(__file__).resolve().parents[3] / "shared" / "testdata"
BRIDGE = TESTDATA / "pdq" / "images" / "bridge-mods" / "aaa-orig.jpg"


def expected_pdq(path: str) -> str:
    with (TESTDATA / "pdq" / "expected.csv").open(newline="") as f:
        return next(row["pdq"] for row in csv.DictReader(f) if row["path"] == path)


def flip_bits(hex_value: str, count: int) -> str:
    value = int(hex_value, 16)
    for bit in random.sample(range(256), count):
        value ^= 1 << bit
    return f"{value:064x}"


def video_frames(name: str) -> list[VpdqFrame]:
    lines = (TESTDATA / "video" / f"{name}.vpdq.txt").read_text().split()
    return [
        VpdqFrame(pdq=p[2], quality=int(p[1]), timestamp=float(p[3]))
        for p in (line.split(",") for line in lines)
    ]


@pytest.fixture(scope="module")
def namespace_of_module(request: pytest.FixtureRequest, kafka_bootstrap: KafkaAccess) -> str:
    namespace = new_namespace(request, "m")
    return namespace


@pytest.fixture(scope="module")
def kafka(kafka_bootstrap: KafkaAccess) -> Iterator[EventProducer]:
    producer = EventProducer(kafka_bootstrap)
    yield producer
    producer.close()


@pytest.fixture(scope="module")
def hash_list(kafka: EventProducer, namespace_of_module: str) -> HashList:
    return HashList(kafka, qualified("haven.hashlist.v1", namespace_of_module))


PLATFORM_ID = "plat-" + uuid.uuid4().hex[:6]


@pytest.fixture(scope="module")
def platform_key(kafka: EventProducer, namespace_of_module: str) -> str:
    key, stored = new_api_key()
    snapshot = PlatformSnapshot(
        platform_id=PLATFORM_ID,
        name="Test platform",
        signals=[SignalType.PDQ, SignalType.MD5],
        channels=[Channel.PULL],
        api_keys=[stored],
    )
    topic = qualified("haven.platforms.v1", namespace_of_module)
    kafka.send(topic, snapshot.platform_id, snapshot)
    return key


@pytest.fixture(scope="module")
def matcher(
    kafka_bootstrap: KafkaAccess,
    redis_url: str,
    namespace_of_module: str,
    platform_key: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ServiceProcess]:
    data_dir = tmp_path_factory.mktemp("matcher")
    env = service_env(
        kafka=kafka_bootstrap, redis=redis_url, namespace=namespace_of_module, data_dir=data_dir
    )
    service = ServiceProcess("matcher", env, data_dir).start()
    try:
        yield service.wait_ready()
    finally:
        service.stop()


@pytest.fixture
def client(matcher: ServiceProcess, platform_key: str) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {platform_key}"}
    with httpx.Client(base_url=matcher.url, headers=headers, timeout=30) as c:
        yield c


def match(client: httpx.Client, *signals: dict[str, Any], **extra: Any) -> list[list[Any]]:
    response = client.post("/v1/match", json={"signals": list(signals), **extra})
    assert response.status_code == 200, response.text
    return [r["matches"] for r in response.json()["results"]]


def eventually_matches(client: httpx.Client, signal: dict[str, Any]) -> list[Any]:
    return wait_until(lambda: match(client, signal)[0], timeout=30, what=f"a match for {signal}")


# --------------------------------------------------------------------------- auth


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer hvn_000000000000_" + "A" * 43}, {"Authorization": "x"}],
)
@pytest.mark.parametrize("path", ["/v1/match", "/v1/match/image", "/v1/actions"])
def test_every_endpoint_refuses_a_missing_or_unknown_key(
    matcher: ServiceProcess, path: str, headers: dict[str, str]
) -> None:
    response = httpx.post(f"{matcher.url}{path}", headers=headers, json={}, timeout=10)
    assert response.status_code == 401
    body = response.json()
    assert body["error"] in {"unauthenticated", "invalid_api_key"}
    assert body["fields"][0]["field"] == "Authorization"


# --------------------------------------------------------------------------- matching


def test_pdq_within_31_and_md5_match_with_distance_sequence_and_a_published_event(
    client: httpx.Client,
    hash_list: HashList,
    kafka_bootstrap: KafkaAccess,
    namespace_of_module: str,
) -> None:
    pdq = expected_pdq("bridge-mods/aaa-orig.jpg")
    md5 = random.randbytes(16).hex()
    banked_pdq = hash_list.put(SignalType.PDQ, pdq)
    banked_md5 = hash_list.put(SignalType.MD5, md5)
    near = flip_bits(pdq, 31)
    eventually_matches(client, {"type": "md5", "value": md5})
    ref = "upload-" + uuid.uuid4().hex
    pdq_hits, md5_hits, far_hits = match(
        client,
        {"type": "pdq", "value": near},
        {"type": "md5", "value": md5.upper(), "upload_ref": "other-" + ref},
        {"type": "pdq", "value": flip_bits(pdq, 32)},
        upload_ref=ref,
    )
    assert [(h["value"], h["distance"], h["sequence"]) for h in pdq_hits] == [
        (pdq, 31, banked_pdq.sequence)
    ]
    assert [(h["value"], h["distance"], h["sequence"]) for h in md5_hits] == [
        (md5, 0, banked_md5.sequence)
    ]
    assert far_hits == []

    topic = qualified("haven.matches.v1", namespace_of_module)
    events = [
        MatchFound.model_validate_json(m.value() or b"")
        for m in read_topic(kafka_bootstrap, topic, expect=50, timeout=5)
    ]
    mine = {(e.signal, e.value, e.upload_ref, e.distance) for e in events if ref in e.upload_ref}
    # the banked entry's value is published, not the query's
    assert mine == {(SignalType.PDQ, pdq, ref, 31), (SignalType.MD5, md5, "other-" + ref, 0)}


def test_larger_radius_uses_the_exact_path(client: httpx.Client, hash_list: HashList) -> None:
    pdq = random.randbytes(32).hex()
    hash_list.put(SignalType.PDQ, pdq)
    eventually_matches(client, {"type": "pdq", "value": pdq})
    far = flip_bits(pdq, 50)
    assert match(client, {"type": "pdq", "value": far}) == [[]]
    (hits,) = match(client, {"type": "pdq", "value": far, "max_distance": 50})
    assert [(h["value"], h["distance"]) for h in hits] == [(pdq, 50)]


def test_video_matches_under_the_vpdq_rule(client: httpx.Client, hash_list: HashList) -> None:
    frames = video_frames("chair-19-sd-bar")
    digest = vpdq_digest(frames)
    hash_list.put(SignalType.VPDQ, digest, frames=frames)
    query = [f.model_dump() for f in frames]
    (hit,) = eventually_matches(client, {"type": "vpdq", "frames": query})
    assert hit["value"] == digest
    assert hit["query_match_percent"] == hit["target_match_percent"] == 100.0
    other = [f.model_dump() for f in video_frames("pattern-sd-grey-bar")]
    assert match(client, {"type": "vpdq", "frames": other}) == [[]]


def test_withdrawn_and_quarantined_entries_stop_matching_without_restart(
    client: httpx.Client, hash_list: HashList
) -> None:
    pdq, md5 = random.randbytes(32).hex(), random.randbytes(16).hex()
    hash_list.put(SignalType.PDQ, pdq)
    hash_list.put(SignalType.MD5, md5)
    eventually_matches(client, {"type": "md5", "value": md5})
    eventually_matches(client, {"type": "pdq", "value": flip_bits(pdq, 20)})
    hash_list.put(SignalType.PDQ, pdq, EntryStatus.WITHDRAWN)
    hash_list.put(SignalType.MD5, md5, EntryStatus.QUARANTINED)
    wait_until(
        lambda: (
            match(
                client, {"type": "pdq", "value": flip_bits(pdq, 20)}, {"type": "md5", "value": md5}
            )
            == [[], []]
        ),
        timeout=30,
        what="the withdrawn entries to stop matching",
    )


# --------------------------------------------------------------------------- images


def test_image_is_hashed_server_side_and_matched(client: httpx.Client, hash_list: HashList) -> None:
    pdq = expected_pdq("bridge-mods/aaa-orig.jpg")
    hash_list.put(SignalType.PDQ, pdq)
    eventually_matches(client, {"type": "pdq", "value": pdq})
    # a re-encoded copy: different bytes (no MD5 match), same picture (PDQ match)
    buffer = io.BytesIO()
    with Image.open(BRIDGE) as image:
        image.convert("RGB").save(buffer, format="PNG")
    response = client.post(
        "/v1/match/image",
        content=buffer.getvalue(),
        headers={"Content-Type": "image/png"},
        params={"upload_ref": "img-1"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["pdq"]["skipped"] is False
    assert body["pdq"]["quality"] == 100
    assert [h["value"] for h in body["pdq"]["matches"]] == [pdq]
    assert body["pdq"]["matches"][0]["distance"] <= 2
    assert body["md5"]["matches"] == []


def test_low_quality_image_still_matches_md5_and_says_pdq_was_skipped(
    client: httpx.Client, hash_list: HashList
) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (128, 128, 128)).save(buffer, format="PNG")
    data = buffer.getvalue()
    md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
    hash_list.put(SignalType.MD5, md5)
    eventually_matches(client, {"type": "md5", "value": md5})
    response = client.post("/v1/match/image", content=data, headers={"Content-Type": "image/png"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["pdq"]["skipped"] is True and body["pdq"]["matches"] == []
    assert [h["value"] for h in body["md5"]["matches"]] == [md5]


# --------------------------------------------------------------------------- actions


def test_action_report_is_published_for_a_delivered_entry_only(
    client: httpx.Client,
    hash_list: HashList,
    kafka: EventProducer,
    kafka_bootstrap: KafkaAccess,
    namespace_of_module: str,
) -> None:
    md5 = random.randbytes(16).hex()
    banked = hash_list.put(SignalType.MD5, md5)
    eventually_matches(client, {"type": "md5", "value": md5})
    ref = "upl-" + uuid.uuid4().hex
    body = {"signal": "md5", "value": md5, "action": "removed", "upload_ref": ref}
    refused = client.post("/v1/actions", json=body)  # matched, but never delivered to it
    assert refused.status_code == 403 and refused.json()["error"] == "not_delivered"
    delivered = DeliveryRecorded(
        platform_id=PLATFORM_ID,
        channel=Channel.PULL,
        batch_id="b-" + uuid.uuid4().hex,
        first_sequence=banked.sequence,
        last_sequence=banked.sequence,
        keys=[banked.key],
        outcome=DeliveryOutcome.DELIVERED,
    )
    kafka.send(qualified("haven.deliveries.v1", namespace_of_module), PLATFORM_ID, delivered)

    def accepted() -> httpx.Response | None:
        response = client.post("/v1/actions", json=body)
        return response if response.status_code == 202 else None

    wait_until(accepted, timeout=30, what="the action accepted once the entry was delivered")
    topic = qualified("haven.actions.v1", namespace_of_module)
    events = [
        ActionReported.model_validate_json(m.value() or b"")
        for m in read_topic(kafka_bootstrap, topic, expect=20, timeout=5)
    ]
    assert [(e.value, e.action.value) for e in events if e.upload_ref == ref] == [(md5, "removed")]

    unknown = {**body, "value": random.randbytes(16).hex()}
    response = client.post("/v1/actions", json=unknown)
    assert response.status_code == 404
    assert response.json()["error"] == "entry_not_found"


# --------------------------------------------------------------------------- bad requests


def _fields(response: httpx.Response) -> list[str]:
    return [f["field"] for f in response.json()["fields"]]


def test_bad_requests_get_a_clear_4xx_naming_the_problem(client: httpx.Client) -> None:
    bad_hex = client.post("/v1/match", json={"signals": [{"type": "pdq", "value": "zz" * 32}]})
    assert bad_hex.status_code == 422
    assert _fields(bad_hex) == ["signals.0.pdq.value"]  # the discriminated union names the type
    assert "'" + "zz" * 32 + "'" in bad_hex.json()["message"]

    too_many = client.post(
        "/v1/match", json={"signals": [{"type": "md5", "value": "0" * 32}] * 1001}
    )
    assert too_many.status_code == 422
    assert "signals" in _fields(too_many)

    unknown = client.post("/v1/match", json={"signals": [{"type": "sha1", "value": "0" * 40}]})
    assert unknown.status_code == 422
    assert _fields(unknown)[0].startswith("signals.0")

    wide = client.post(
        "/v1/match",
        json={"signals": [{"type": "pdq", "value": "0" * 64, "max_distance": 40}] * 11},
    )
    assert wide.status_code == 422
    assert wide.json()["error"] == "too_many_wide_queries"

    bad_action = client.post(
        "/v1/actions",
        json={"signal": "pdq", "value": "abc", "action": "blocked", "upload_ref": "u"},
    )
    assert bad_action.status_code == 422
    assert "'abc'" in bad_action.json()["message"]


def test_bad_images_get_a_clear_4xx(client: httpx.Client) -> None:
    not_image = client.post(
        "/v1/match/image", content=b"%PDF-1.4 hello", headers={"Content-Type": "image/jpeg"}
    )
    assert not_image.status_code == 422
    assert not_image.json()["error"] == "not_an_image"

    wrong_type = client.post(
        "/v1/match/image", content=b"{}", headers={"Content-Type": "application/json"}
    )
    assert wrong_type.status_code == 415
    assert _fields(wrong_type) == ["Content-Type"]

    oversized = client.post(
        "/v1/match/image",
        content=b"\xff\xd8" + b"\0" * 10_000_001,
        headers={"Content-Type": "image/jpeg"},
    )
    assert oversized.status_code == 413
    assert oversized.json()["error"] in {"image_too_large", "body_too_large"}


# --------------------------------------------------------------------------- poison


def test_poison_hash_list_messages_go_to_the_dlq_and_matching_carries_on(
    client: httpx.Client,
    hash_list: HashList,
    kafka: EventProducer,
    kafka_bootstrap: KafkaAccess,
    namespace_of_module: str,
) -> None:
    poison_key = f"pdq:{random.randbytes(32).hex()}"
    kafka.send(hash_list.topic, poison_key, b"{not json")
    blurry = [VpdqFrame(pdq=random.randbytes(32).hex(), quality=10, timestamp=0.0)]
    hash_list.put(SignalType.VPDQ, vpdq_digest(blurry), frames=blurry)  # no usable frame
    md5 = random.randbytes(16).hex()
    hash_list.put(SignalType.MD5, md5)
    eventually_matches(client, {"type": "md5", "value": md5})

    dlq = qualified("haven.hashlist.v1.dlq", namespace_of_module)

    def dead_lettered() -> set[str] | None:
        keys = {(m.key() or b"").decode() for m in read_topic(kafka_bootstrap, dlq, expect=2)}
        return keys if poison_key in keys and f"vpdq:{vpdq_digest(blurry)}" in keys else None

    wait_until(dead_lettered, timeout=60, what="both poison messages in the DLQ")


# --------------------------------------------------------------------------- restart


def index_answers(client: httpx.Client, probes: list[dict[str, Any]]) -> list[list[Any]]:
    return match(client, *probes)


def metric(matcher: ServiceProcess, name: str) -> float:
    text = httpx.get(f"{matcher.url}/metrics", timeout=10).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith(name) and not line.startswith("#")
    )


def test_sigkill_restart_comes_back_with_the_same_index(
    matcher: ServiceProcess, client: httpx.Client, hash_list: HashList
) -> None:
    kept = [random.randbytes(32).hex() for _ in range(20)]
    for pdq in kept:
        hash_list.put(SignalType.PDQ, pdq)
    gone = random.randbytes(32).hex()
    hash_list.put(SignalType.PDQ, gone)
    hash_list.put(SignalType.PDQ, gone, EntryStatus.WITHDRAWN)
    probes = [{"type": "pdq", "value": flip_bits(p, 10)} for p in [*kept, gone]]
    wait_until(lambda: all(index_answers(client, probes)[:-1]), timeout=30, what="20 entries")
    before = index_answers(client, probes)
    size_before = metric(matcher, "haven_matcher_index_entries")
    assert before[-1] == []

    matcher.kill()
    matcher.start().wait_ready()

    assert index_answers(client, probes) == before
    assert metric(matcher, "haven_matcher_index_entries") == size_before


def test_restart_from_a_snapshot_replays_only_what_came_after(
    matcher: ServiceProcess, client: httpx.Client, hash_list: HashList
) -> None:
    early = [random.randbytes(32).hex() for _ in range(5)]
    for pdq in early:
        hash_list.put(SignalType.PDQ, pdq)
    probes = [{"type": "pdq", "value": flip_bits(p, 12)} for p in early]
    wait_until(lambda: all(index_answers(client, probes)), timeout=30, what="5 entries")

    matcher.stop()  # a clean shutdown writes the snapshot
    snapshot = (
        Path(matcher.env["HAVEN_DATA_DIR"])
        / "matcher"
        / (f"{matcher.env['HAVEN_KAFKA_NAMESPACE']}.index.snapshot")
    )
    assert snapshot.exists()

    # changes while it is down: one entry withdrawn, one added
    hash_list.put(SignalType.PDQ, early[0], EntryStatus.WITHDRAWN)
    late = random.randbytes(32).hex()
    hash_list.put(SignalType.PDQ, late)
    matcher.start().wait_ready()
    assert "index snapshot loaded" in matcher.log_text()
    late_probe = {"type": "pdq", "value": flip_bits(late, 12)}
    answers = index_answers(client, [*probes, late_probe])
    assert answers[0] == []
    assert all(answers[1:])
    assert [h["value"] for h in answers[-1]] == [late]

    matcher.kill()  # no snapshot on SIGKILL: the old one plus the replay give the same index
    matcher.start().wait_ready()
    assert index_answers(client, [*probes, late_probe]) == answers
