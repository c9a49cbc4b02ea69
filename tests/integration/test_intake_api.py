"""The intake API against the real broker and Redis: proof-of-work, secrets, status, withdraw,
idempotency, limits. Intake runs as a real process; events are read back from Kafka."""

from __future__ import annotations

import base64
import json
import random
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from schemas.events import CaseSnapshot, MediaAdded
from schemas.security import KafkaAccess
from tests.integration.conftest import read_topic
from tests.support import intake
from tests.support.services import ServiceProcess, service_env

pytestmark = pytest.mark.integration


def image() -> dict[str, object]:
    return {
        "type": "image",
        "pdq": random.randbytes(32).hex(),
        "quality": 90,
        "md5": random.randbytes(16).hex(),
    }


def video(frames: int = 3) -> dict[str, object]:
    return {
        "type": "video",
        "md5": random.randbytes(16).hex(),
        "frames": [
            {"pdq": random.randbytes(32).hex(), "quality": 80, "timestamp": float(i)}
            for i in range(frames)
        ],
    }


@pytest.fixture(scope="module")
def intake_url(
    kafka_bootstrap: KafkaAccess,
    redis_url: str,
    topics: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    data_dir: Path = tmp_path_factory.mktemp("intake")
    env = service_env(
        kafka=kafka_bootstrap,
        redis=redis_url,
        namespace=topics,
        data_dir=data_dir,
        extra={"HAVEN_INTAKE_MAX_MEDIA_PER_CASE": "5", "HAVEN_INTAKE_MAX_FRAMES_PER_VIDEO": "10"},
    )
    service = ServiceProcess("intake", env, data_dir).start()
    try:
        service.wait_ready()
        yield service.url
    finally:
        service.stop()


def test_challenge_is_an_altcha_challenge_that_expires(intake_url: str) -> None:
    challenge = httpx.get(f"{intake_url}/v1/challenge").json()
    assert set(challenge) == {"algorithm", "challenge", "maxnumber", "salt", "signature"}
    assert challenge["algorithm"] == "SHA-256" and challenge["maxnumber"] == 2000
    assert "expires=" in challenge["salt"]


def post_case(
    url: str, headers: dict[str, str], items: list[dict[str, object]] | None = None
) -> httpx.Response:
    return httpx.post(
        f"{url}/v1/cases", json={"items": items or [image()]}, headers=headers, timeout=30
    )


def test_create_needs_a_fresh_proof_of_work(intake_url: str) -> None:
    missing = post_case(intake_url, {})
    assert missing.status_code == 400
    assert missing.json()["error"] == "pow_required"
    assert missing.json()["fields"][0]["field"] == "X-Altcha"

    header = intake.pow_header(intake_url)
    assert post_case(intake_url, {"X-Altcha": header}).status_code == 201
    replayed = post_case(intake_url, {"X-Altcha": header})
    assert replayed.status_code == 400 and replayed.json()["error"] == "pow_replayed"

    forged = json.loads(base64.b64decode(intake.pow_header(intake_url)))
    forged["number"] += 1
    bad = post_case(
        intake_url, {"X-Altcha": base64.b64encode(json.dumps(forged).encode()).decode()}
    )
    assert bad.status_code == 400 and bad.json()["error"] == "pow_invalid"
    garbage = post_case(intake_url, {"X-Altcha": "not base64!"})
    assert garbage.status_code == 400 and garbage.json()["error"] == "pow_invalid"

    metrics = httpx.get(f"{intake_url}/metrics").text
    assert 'haven_intake_pow_rejected_total{reason="pow_replayed"} 1.0' in metrics


def test_open_check_add_and_withdraw_a_case(
    intake_url: str, kafka_bootstrap: KafkaAccess, topics: str
) -> None:
    created = intake.open_case(intake_url, [image(), video()])
    number, secret = created["case_number"], created["secret"]
    assert [m["media_id"] for m in created["media"]] == ["m1", "m2"]

    status = intake.case_status(intake_url, number, secret)
    assert status["status"] == "open"
    assert [m["type"] for m in status["media"]] == ["image", "video"]
    assert status["totals"] == {
        "shared_with": 0,
        "matched_on": 0,
        "actions": {"blocked": 0, "removed": 0, "not_violating": 0, "under_review": 0},
    }
    # What a person types: lower case, no dashes.
    typed = number.lower().replace("-", "")
    assert intake.case_status(intake_url, typed, secret)["case_number"] == number

    added = intake.add_media(intake_url, number, secret, [image()])
    assert added == {"case_number": number, "media": [{"media_id": "m3", "type": "image"}]}
    assert len(intake.case_status(intake_url, number, secret)["media"]) == 3

    assert intake.withdraw_case(intake_url, number, secret) == {
        "case_number": number,
        "status": "withdrawn",
    }
    assert intake.withdraw_case(intake_url, number, secret)["status"] == "withdrawn"
    assert intake.case_status(intake_url, number, secret)["status"] == "withdrawn"
    with pytest.raises(intake.IntakeError) as closed:
        intake.add_media(intake_url, number, secret, [image()])
    assert closed.value.status == 409

    snapshots = read_topic(kafka_bootstrap, f"{topics}.haven.cases.v1", expect=10**6, timeout=5)
    # Other tests share this namespace (some inject poison): keep only this case's snapshots.
    ours = [
        CaseSnapshot.model_validate_json(m.value() or b"")
        for m in snapshots
        if number.encode() in (m.value() or b"")
    ]
    assert ours[-1].status.value == "withdrawn" and len(ours[-1].items) == 3
    submissions = read_topic(
        kafka_bootstrap, f"{topics}.haven.submissions.v1", expect=10**6, timeout=5
    )
    case_id = ours[-1].case_id
    events = [
        json.loads(m.value() or b"{}")
        for m in submissions
        if case_id.encode() in (m.value() or b"")
    ]
    kinds = [e["type"] for e in events if e.get("case_id") == case_id]
    assert kinds == ["CaseOpened", "MediaAdded", "CaseWithdrawn"]  # withdrawn once only
    additions = [MediaAdded.model_validate(e) for e in events if e["type"] == "MediaAdded"]
    assert any(a.case_id == ours[-1].case_id and a.items[0].media_id == "m3" for a in additions)
    assert secret not in json.dumps([s.model_dump(mode="json") for s in ours])


def test_wrong_secret_and_unknown_case_are_the_same_404(intake_url: str) -> None:
    created = intake.open_case(intake_url, [image()])
    wrong = httpx.get(
        f"{intake_url}/v1/cases/{created['case_number']}",
        headers={"Authorization": "Bearer " + "x" * 32},
    )
    unknown = httpx.get(
        f"{intake_url}/v1/cases/HVN-00000-00000",
        headers={"Authorization": f"Bearer {created['secret']}"},
    )
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.json() == unknown.json()
    assert wrong.json()["error"] == "case_not_found"
    no_secret = httpx.delete(f"{intake_url}/v1/cases/{created['case_number']}")
    assert (
        no_secret.status_code == 401 and no_secret.json()["fields"][0]["field"] == "Authorization"
    )


def test_idempotency_key_returns_the_same_case(intake_url: str) -> None:
    key = str(uuid.uuid4())
    items = [image()]
    first = intake.open_case(intake_url, items, idempotency_key=key)
    again = intake.open_case(intake_url, items, idempotency_key=key)
    assert again == first
    with pytest.raises(intake.IntakeError) as reused:
        intake.open_case(intake_url, [image()], idempotency_key=key)
    assert reused.value.status == 422 and reused.value.body["error"] == "idempotency_key_reused"


def test_concurrent_duplicates_open_one_case(intake_url: str) -> None:
    key, items = str(uuid.uuid4()), [image()]
    answers: list[dict[str, object]] = []

    def submit() -> None:
        answers.append(intake.open_case(intake_url, items, idempotency_key=key))

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 4
    assert len({a["case_number"] for a in answers}) == 1


def test_concurrent_additions_lose_no_item(intake_url: str) -> None:
    created = intake.open_case(intake_url, [image()])
    number, secret = created["case_number"], created["secret"]
    added: list[str] = []

    def add() -> None:
        answer = intake.add_media(intake_url, number, secret, [image()])
        added.extend(m["media_id"] for m in answer["media"])

    threads = [threading.Thread(target=add) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(added) == ["m2", "m3", "m4", "m5"]
    status = intake.case_status(intake_url, number, secret)
    assert [m["media_id"] for m in status["media"]] == ["m1", "m2", "m3", "m4", "m5"]


def test_limits_name_the_field(intake_url: str) -> None:
    too_many = post_case(
        intake_url, {"X-Altcha": intake.pow_header(intake_url)}, [image() for _ in range(6)]
    )
    assert too_many.status_code == 422
    assert too_many.json()["fields"][0]["field"] == "items"
    long_video = post_case(intake_url, {"X-Altcha": intake.pow_header(intake_url)}, [video(11)])
    assert long_video.status_code == 422
    assert long_video.json()["fields"][0]["field"] == "items.0.frames"
    low = post_case(intake_url, {}, [{**image(), "quality": 30}])
    assert low.status_code == 422
    assert "too little detail to fingerprint" in low.json()["fields"][0]["message"]
