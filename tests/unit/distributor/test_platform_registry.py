"""Platform registry rules: webhook URLs, key rotation with a grace period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from schemas.events import Channel, PlatformChange
from schemas.platform_keys import PlatformDirectory
from schemas.signals import SignalType
from services.distributor.api.models import PlatformCreate
from services.distributor.domain.platforms import (
    check_webhook_url,
    in_grace,
    new_platform,
    rotated,
    with_enabled,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("url", "loopback_ok", "allowed"),
    [
        ("https://hooks.example.com/haven", False, True),
        ("http://hooks.example.com/haven", True, False),
        ("http://127.0.0.1:9000/h", True, True),
        ("http://localhost/h", True, True),
        ("http://[::1]:80/h", True, True),
        ("http://127.0.0.1:9000/h", False, False),
        ("ftp://127.0.0.1/h", True, False),
        ("not a url", True, False),
    ],
)
def test_webhook_urls_must_be_https_except_loopback_in_tests(
    url: str, loopback_ok: bool, allowed: bool
) -> None:
    if allowed:
        assert check_webhook_url(url, allow_loopback_http=loopback_ok) == url
    else:
        with pytest.raises(ValueError, match=repr(url).replace("[", r"\[")):
            check_webhook_url(url, allow_loopback_http=loopback_ok)


def test_rotation_keeps_old_key_for_grace_then_drops_it() -> None:
    snapshot, first = new_platform(
        platform_id="alpha",
        name="A",
        signals=list(SignalType),
        channels=[Channel.PULL],
        webhook_url=None,
        now=NOW,
    )
    assert snapshot.change is PlatformChange.ADDED and first not in snapshot.model_dump_json()
    second_snapshot, second = rotated(snapshot, grace=timedelta(hours=1), now=NOW)
    directory = PlatformDirectory()
    directory.apply(second_snapshot)
    assert second_snapshot.webhook_secret_version == 2
    assert in_grace(second_snapshot, NOW)
    assert directory.authenticate(first, now=NOW + timedelta(minutes=59)) is not None
    assert directory.authenticate(first, now=NOW + timedelta(minutes=61)) is None
    assert directory.authenticate(second, now=NOW + timedelta(days=30)) is not None
    third_snapshot, _ = rotated(
        second_snapshot, grace=timedelta(hours=1), now=NOW + timedelta(hours=2)
    )
    assert len(third_snapshot.api_keys) == 2  # the long-expired first key is gone
    disabled = with_enabled(third_snapshot, False, now=NOW)
    assert disabled.change is PlatformChange.DISABLED and not disabled.enabled


def test_signals_and_channels_are_deduplicated() -> None:
    create = PlatformCreate(id="b", name="B", signals=["md5", "md5"], channels=["pull", "pull"])
    assert create.signals == ["md5"] and create.channels == ["pull"]
