"""Feed cursors, webhook signatures and the retry policy."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

import pytest

from services.distributor.domain.feed import CursorCodec, InvalidCursor, page_body
from services.distributor.domain.view import Page
from services.distributor.domain.webhooks import (
    RetryPolicy,
    parse_retry_after,
    retryable_status,
    signature_header,
    verify_signature,
    webhook_secret,
)


def test_cursor_round_trips_and_refuses_forgery_and_other_platforms() -> None:
    codec = CursorCodec(b"seed")
    cursor = codec.encode("alpha", 123_456)
    assert codec.decode("alpha", cursor) == 123_456
    assert codec.decode("alpha", "") == 0
    assert "123456" not in cursor  # opaque
    with pytest.raises(InvalidCursor, match="not issued to this platform"):
        codec.decode("beta", cursor)
    with pytest.raises(InvalidCursor):
        CursorCodec(b"another deployment").decode("alpha", cursor)
    with pytest.raises(InvalidCursor):
        codec.decode("alpha", "!!not base64!!")
    forged = codec.encode("alpha", 1)[:-2] + "AA"
    with pytest.raises(InvalidCursor):
        codec.decode("alpha", forged)


def test_page_body_is_json() -> None:
    body = page_body(Page([], 7, more=False), next_cursor="abc")
    assert json.loads(body) == {"entries": [], "next_cursor": "abc", "has_more": False}


def test_signature_verifies_only_with_the_right_secret_body_and_time() -> None:
    secret = webhook_secret(b"seed", "alpha", 1)
    assert secret != webhook_secret(b"seed", "alpha", 2) != webhook_secret(b"seed", "beta", 1)
    body = b'{"entries":[]}'
    header = signature_header([secret], 1_000_000, body)
    assert header.startswith("t=1000000,v1=")
    assert verify_signature(header, body, secret, now=1_000_010)
    assert not verify_signature(header, body + b" ", secret, now=1_000_010)
    assert not verify_signature(header, body, "wrong", now=1_000_010)
    assert not verify_signature(header, body, secret, now=1_000_000 + 301)  # replayed later
    rotating = signature_header([webhook_secret(b"seed", "alpha", 2), secret], 1_000_000, body)
    assert verify_signature(rotating, body, secret, now=1_000_000)


def test_retry_policy_backs_off_with_full_jitter_and_honours_retry_after() -> None:
    policy = RetryPolicy(max_attempts=5, base_s=1.0, cap_s=10.0)
    rng = random.Random(1)
    delays = [policy.delay(attempt, rng=rng) for attempt in (1, 2, 3, 4, 5, 6)]
    assert all(
        0 <= d <= min(10.0, 2 ** (a - 1)) for a, d in zip((1, 2, 3, 4, 5, 6), delays, strict=True)
    )
    assert policy.delay(1, retry_after=3.0) == 3.0
    assert policy.delay(1, retry_after=3600.0) == 10.0
    assert [retryable_status(s) for s in (200, 400, 404, 409, 429, 500, 503)] == [
        False,
        False,
        False,
        False,
        True,
        True,
        True,
    ]


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_retry_after("7") == 7.0
    later = (now + timedelta(seconds=30)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert parse_retry_after(later, now=now) == 30.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None
