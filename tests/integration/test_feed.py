"""The pull feed on the real broker: order, exact resumption on one busy timestamp, signal
filters, cursor and limit errors, and each served page recorded on haven.deliveries.v1."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from schemas.events import DeliveryRecorded
from tests.integration.conftest import read_topic
from tests.integration.test_distributor_support import (  # noqa: F401 - fixtures
    Haven,
    haven_factory_fixture,
    haven_fixture,
    image,
    pull_all,
)
from tests.support.wait import wait_until

pytestmark = pytest.mark.integration


def exactly(haven: Haven, key: str, count: int, **kwargs: object) -> list[dict[str, Any]] | None:
    """The feed's entries (after an optional cursor) once there are ``count`` of them."""
    found = pull_all(haven, key, **kwargs)[0]  # type: ignore[arg-type]
    return found if len(found) == count else None


def test_feed_pages_resume_exactly_and_filter_by_signal(haven: Haven) -> None:
    everything = haven.add_platform(id="all", name="All")["api_key"]
    md5_only = haven.add_platform(id="md5-only", name="MD5", signals=["md5"])["api_key"]
    # One case of 120 images: 240 entries written in one transaction, one timestamp.
    haven.open_case("busy", *(image(n) for n in range(1, 121)))
    full = wait_until(
        lambda: exactly(haven, everything, 240, limit=1000),
        timeout=30,
        what="240 entries on the feed",
    )
    assert [e["sequence"] for e in full] == sorted(e["sequence"] for e in full)
    paged, cursor = pull_all(haven, everything, limit=7)
    assert paged == full  # small pages, same entries, nothing twice, nothing skipped
    md5s, _ = pull_all(haven, md5_only, limit=13)
    assert [e["value"] for e in md5s] == [e["value"] for e in full if e["signal"] == "md5"]
    assert "holders" not in full[0] and set(full[0]) == {
        "sequence",
        "signal",
        "value",
        "status",
        "frames",
    }

    haven.withdraw("busy")
    changes = wait_until(
        lambda: exactly(haven, everything, 240, cursor=cursor),
        timeout=30,
        what="240 withdrawals after the cursor",
    )
    assert {e["status"] for e in changes} == {"withdrawn"}
    assert min(e["sequence"] for e in changes) > max(e["sequence"] for e in full)

    late = haven.add_platform(id="late", name="Late")["api_key"]
    resync = wait_until(
        lambda: exactly(haven, late, 240),
        timeout=30,
        what="a platform added later gets the full current list",
    )
    assert {e["status"] for e in resync} == {"withdrawn"}

    records = [
        DeliveryRecorded.model_validate_json(m.value() or b"")
        for m in read_topic(haven.bootstrap, haven.topic("haven.deliveries.v1"), expect=3)
    ]
    pulls = [r for r in records if r.channel == "pull"]
    assert pulls and all(r.outcome == "delivered" and r.keys for r in pulls)


def test_bad_cursor_and_limit_are_400s_naming_the_field(haven: Haven) -> None:
    alpha = haven.add_platform(id="alpha", name="A")["api_key"]
    beta = haven.add_platform(id="beta", name="B")["api_key"]
    haven.open_case("c1", image(1))
    wait_until(lambda: exactly(haven, alpha, 2), timeout=30, what="two entries")
    _, alpha_cursor = pull_all(haven, alpha)

    def get(key: str, **params: str | int) -> httpx.Response:
        return httpx.get(
            f"{haven.url}/v1/feed",
            params=params,
            headers={"Authorization": f"Bearer {key}"},
            timeout=10,
        )

    for bad in ("garbage!", "AAAA", alpha_cursor[:-3] + "xyz"):
        response = get(alpha, cursor=bad)
        assert response.status_code == 400, bad
        assert response.json()["error"] == "invalid_cursor"
        assert response.json()["fields"][0]["field"] == "cursor"
    stolen = get(beta, cursor=alpha_cursor)  # another platform's cursor
    assert stolen.status_code == 400 and "this platform" in stolen.json()["message"]
    too_many = get(alpha, limit=1_000_000)
    assert too_many.status_code == 400 and too_many.json()["fields"][0]["field"] == "limit"
    assert get(alpha, limit=0).status_code == 422
    assert get(alpha, cursor=alpha_cursor).json() == {
        "entries": [],
        "next_cursor": alpha_cursor,
        "has_more": False,
    }
