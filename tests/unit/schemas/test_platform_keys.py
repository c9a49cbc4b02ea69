"""Platform API keys: shown once, stored as a hash, rotated with a grace period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from schemas.events import ApiKeyHash, Channel, PlatformSnapshot
from schemas.platform_keys import PlatformDirectory, key_id_of, new_api_key
from schemas.signals import SignalType

NOW = datetime(2026, 11, 25, tzinfo=UTC)


def snapshot(platform_id: str, *keys: ApiKeyHash, enabled: bool = True) -> PlatformSnapshot:
    return PlatformSnapshot(
        platform_id=platform_id,
        name=platform_id.title(),
        enabled=enabled,
        signals=[SignalType.PDQ],
        channels=[Channel.PULL],
        api_keys=list(keys),
    )


def test_new_key_is_stored_only_as_its_hash() -> None:
    key, stored = new_api_key()
    assert key_id_of(key) == stored.key_id
    assert key not in stored.model_dump_json()
    assert stored.sha256 != key


def test_directory_authenticates_the_owner_and_refuses_others() -> None:
    key_a, stored_a = new_api_key()
    key_b, _ = new_api_key()
    directory = PlatformDirectory()
    directory.apply(snapshot("acme", stored_a))
    platform = directory.authenticate(key_a, NOW)
    assert platform is not None and platform.platform_id == "acme"
    assert directory.authenticate(key_b, NOW) is None
    assert directory.authenticate("not-a-key", NOW) is None
    # Same key id, different secret: refused.
    forged = key_a[:-4] + ("AAAA" if not key_a.endswith("AAAA") else "BBBB")
    assert directory.authenticate(forged, NOW) is None


def test_rotation_keeps_old_key_until_grace_ends_and_disable_refuses_all() -> None:
    old_key, old = new_api_key()
    new_key, new = new_api_key()
    directory = PlatformDirectory()
    directory.apply(snapshot("acme", old))
    grace = old.model_copy(update={"expires_at": NOW + timedelta(hours=1)})
    directory.apply(snapshot("acme", grace, new))
    assert directory.authenticate(old_key, NOW) is not None
    assert directory.authenticate(new_key, NOW) is not None
    assert directory.authenticate(old_key, NOW + timedelta(hours=2)) is None
    # A later snapshot without the old key drops it at once.
    directory.apply(snapshot("acme", new))
    assert directory.authenticate(old_key, NOW) is None
    directory.apply(snapshot("acme", new, enabled=False))
    assert directory.authenticate(new_key, NOW) is None
