"""Intake through the whole running stack: the ``haven`` CLI as a submitter uses it, and a
scan of everything Haven stored or logged for the submitter's address, user agent and cookie."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest
import redis
from confluent_kafka import Message
from confluent_kafka.admin import AdminClient

from schemas.security import KafkaAccess
from services.common.catch_up import read_to_end
from tests.e2e.conftest import Stack
from tests.support import intake
from tests.support.services import ROOT
from tests.support.wait import wait_until

pytestmark = pytest.mark.e2e

TESTDATA = ROOT.parent / "shared" / "testdata"
IMAGE = TESTDATA / "pdq" / "images" / "bridge-mods" / "aaa-orig.jpg"
VIDEO = TESTDATA / "video" / "pattern-sd-grey-bar.mp4"


def haven(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_cli_submits_checks_and_withdraws(stack: Stack, tmp_path: Path) -> None:
    saved = tmp_path / "case.json"
    url = stack.url("intake")
    submitted = haven("submit", str(IMAGE), str(VIDEO), "--url", url, "--save", str(saved))
    assert submitted.returncode == 0, submitted.stderr
    record = json.loads(saved.read_text())
    assert record["case_number"] in submitted.stdout and record["secret"] in submitted.stdout
    assert saved.stat().st_mode & 0o077 == 0

    status = haven("status", record["case_number"], "--secret-file", str(saved), "--url", url)
    assert status.returncode == 0, status.stderr
    body = json.loads(status.stdout)
    assert body["status"] == "open"
    assert [m["type"] for m in body["media"]] == ["image", "video"]

    secret_only = tmp_path / "secret.txt"
    secret_only.write_text(record["secret"] + "\n")
    withdrawn = haven(
        "withdraw", record["case_number"], "--secret-file", str(secret_only), "--url", url
    )
    assert withdrawn.returncode == 0 and "withdrawn" in withdrawn.stdout
    assert stack.case_status(record["case_number"], record["secret"])["status"] == "withdrawn"

    wrong = tmp_path / "wrong.txt"
    wrong.write_text("not-the-secret")
    refused = haven("status", record["case_number"], "--secret-file", str(wrong), "--url", url)
    assert refused.returncode == 1 and "case_not_found" in refused.stderr


def as_bytes(value: object) -> bytes:
    if isinstance(value, bytes):
        return value
    return b"" if value is None else str(value).encode()


def kafka_bytes(bootstrap: KafkaAccess, namespace: str) -> bytes:
    """Keys, values and headers of every message on every topic of the namespace."""
    names = [
        name
        for name in AdminClient(bootstrap.config()).list_topics(timeout=10).topics
        if name.startswith(namespace + ".")
    ]
    chunks: list[bytes] = []

    def collect(msg: Message) -> None:
        chunks.extend([as_bytes(msg.key()), as_bytes(msg.value())])
        raw = msg.headers() or []
        pairs = raw.items() if isinstance(raw, dict) else raw
        chunks.extend(as_bytes(part) for pair in pairs for part in pair)

    # Uncommitted too: an aborted write must not hide an address from this scan either.
    read_to_end(
        bootstrap, names, collect, timeout=60, overrides={"isolation.level": "read_uncommitted"}
    )
    return b"\n".join(chunks)


def redis_bytes(url: str) -> bytes:
    client = redis.Redis.from_url(url)
    chunks: list[object] = []
    for key in client.scan_iter(count=1000):
        chunks.append(key)
        kind = client.type(key)
        if kind == b"string":
            chunks.append(client.get(key))
        elif kind == b"hash":
            chunks += [part for pair in client.hgetall(key).items() for part in pair]
        elif kind == b"set":
            chunks += list(client.smembers(key))
        elif kind == b"list":
            chunks += list(client.lrange(key, 0, -1))
        elif kind == b"zset":
            chunks += list(client.zrange(key, 0, -1))
    return b"\n".join(as_bytes(chunk) for chunk in chunks)


def test_no_address_user_agent_or_cookie_is_kept_anywhere(
    stack: Stack, kafka_bootstrap: KafkaAccess, redis_url: str
) -> None:
    marker = uuid.uuid4().hex[:12]
    user_agent = f"AnonProbe/{marker} (Mobile; frightened teenager)"
    cookie = f"tracker{marker}"
    address = "198.51.100.173"
    url = stack.url("intake")
    with httpx.Client(
        base_url=url,
        headers={"User-Agent": user_agent, "X-Forwarded-For": address, "X-Real-IP": address},
        cookies={"session": cookie},
        timeout=30,
    ) as client:
        item = {
            "type": "image",
            "pdq": uuid.uuid4().hex * 2,
            "quality": 90,
            "md5": uuid.uuid4().hex,
        }
        created = client.post(
            "/v1/cases",
            json={"items": [item]},
            headers={"X-Altcha": intake.pow_header(url, client=client)},
        )
        assert created.status_code == 201, created.text
        number, secret = created.json()["case_number"], created.json()["secret"]
        auth = {"Authorization": f"Bearer {secret}"}
        more = {**item, "md5": uuid.uuid4().hex}
        added = client.post(
            f"/v1/cases/{number}/media",
            json={"items": [more]},
            headers={**auth, "X-Altcha": intake.pow_header(url, client=client)},
        )
        assert added.status_code == 201, added.text
        assert client.get(f"/v1/cases/{number}", headers=auth).status_code == 200
        assert (
            client.get(f"/v1/cases/{number}", headers={"Authorization": "Bearer x"}).status_code
            == 404
        )
        assert client.post("/v1/cases", json={"items": [{**item, "quality": 3}]}).status_code == 422
        page = client.get("/")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        assert client.delete(f"/v1/cases/{number}", headers=auth).status_code == 200

    snapshot = redis.Redis.from_url(redis_url).hget(
        f"{stack.namespace}:intake:case:{number}", "snapshot"
    )
    case_id = json.loads(snapshot or b"{}")["case_id"]

    def audited() -> bool:
        """The withdrawal reached the audit log: events went all the way through."""
        for path in (stack.data_dir / "audit").rglob("*"):
            data = path.read_bytes() if path.is_file() else b""
            if case_id.encode() in data and b"CaseWithdrawn" in data:
                return True
        return False

    wait_until(audited, timeout=60, what="the audit log to record the withdrawal")

    needles = [user_agent.encode(), marker.encode(), cookie.encode(), address.encode()]
    places = {
        "redis": redis_bytes(redis_url),
        "kafka": kafka_bytes(kafka_bootstrap, stack.namespace),
    }
    for path in stack.data_dir.rglob("*"):  # the audit log, service data and every service log
        if path.is_file():
            places[str(path)] = path.read_bytes()
    assert any(b"CaseWithdrawn" in data for data in places.values())
    found = {
        place: [n.decode() for n in needles if n in data]
        for place, data in places.items()
        if any(n in data for n in needles)
    }
    assert found == {}, f"submitter data found: {found}"
