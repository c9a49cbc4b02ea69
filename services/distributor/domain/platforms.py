"""The platform registry's rules (pure logic): what a platform is, and how it may change.

A platform has an operator-chosen id (``[a-z0-9][a-z0-9-]{0,62}``, it becomes part of a topic
name), a name, the signals it wants, its channels and, for webhooks, a URL. Every change is a
new ``PlatformSnapshot`` carrying what changed; the API key is shown once and stored only as a
hash. Rotation issues a new key, gives the old ones ``expires_at`` (the grace period) and
bumps the webhook secret version; keys whose grace period has passed are dropped.

Webhook URLs must be https and must reach a public address: a registry must never be the
way to make Haven POST to 169.254.169.254 (cloud metadata), 10/8 or anything else inside its
network. ``address_allowed`` is the rule; it is applied to every address a URL's host
resolves to, at registration and again when each connection is made
(``adapters/public_http.py``), so a name that later resolves elsewhere (DNS rebinding) is
refused too. Plain http, and loopback addresses, are accepted only with
``webhook_allow_loopback`` (development and tests), so a production registry can never send
fingerprints in clear text or to itself.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from ipaddress import IPv6Address, ip_address
from urllib.parse import urlsplit

from schemas.events import ApiKeyHash, Channel, PlatformChange, PlatformSnapshot
from schemas.platform_keys import new_api_key
from schemas.signals import SignalType

PLATFORM_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def address_allowed(address: str, *, allow_loopback: bool) -> bool:
    """Whether webhooks may connect to ``address``: a globally routable unicast address (not
    private, shared, link-local, multicast, reserved or documentation), or loopback when
    allowed. An IPv4-mapped IPv6 address is judged as its IPv4."""
    ip = ip_address(address.split("%", 1)[0])
    if isinstance(ip, IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return allow_loopback
    return ip.is_global and not ip.is_multicast


def check_webhook_url(url: str, *, allow_loopback_http: bool) -> str:
    """``url`` if it may receive webhooks, else a ValueError quoting it."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if not host:
        raise ValueError(f"{url!r} is not an absolute URL")
    if parts.scheme == "https":
        return url
    loopback = host in LOOPBACK_HOSTS
    if not loopback:
        try:
            loopback = ip_address(host).is_loopback
        except ValueError:
            loopback = False
    if parts.scheme == "http" and loopback and allow_loopback_http:
        return url
    raise ValueError(f"{url!r} must use https (http is allowed only for loopback in tests)")


def new_platform(
    *,
    platform_id: str,
    name: str,
    signals: list[SignalType],
    channels: list[Channel],
    webhook_url: str | None,
    now: datetime,
) -> tuple[PlatformSnapshot, str]:
    """The first snapshot of a platform, and its API key (to show once)."""
    key, stored = new_api_key()
    snapshot = PlatformSnapshot(
        platform_id=platform_id,
        name=name,
        signals=signals,
        channels=channels,
        webhook_url=webhook_url,
        api_keys=[stored],
        change=PlatformChange.ADDED,
        occurred_at=now,
    )
    return snapshot, key


def with_enabled(snapshot: PlatformSnapshot, enabled: bool, *, now: datetime) -> PlatformSnapshot:
    change = PlatformChange.ENABLED if enabled else PlatformChange.DISABLED
    return PlatformSnapshot.model_validate(
        {
            **snapshot.model_dump(exclude={"event_id", "occurred_at"}),
            "enabled": enabled,
            "change": change,
            "occurred_at": now,
        }
    )


def rotated(
    snapshot: PlatformSnapshot, *, grace: timedelta, now: datetime
) -> tuple[PlatformSnapshot, str]:
    """A new key; the current ones expire after ``grace`` (sooner if already set)."""
    key, stored = new_api_key()
    expires = now + grace
    kept: list[ApiKeyHash] = []
    for old in snapshot.api_keys:
        if old.expires_at is not None and old.expires_at <= now:
            continue
        until = min(old.expires_at, expires) if old.expires_at is not None else expires
        kept.append(old.model_copy(update={"expires_at": until}))
    updated = PlatformSnapshot.model_validate(
        {
            **snapshot.model_dump(exclude={"event_id", "occurred_at"}),
            "api_keys": [*kept, stored] if grace.total_seconds() > 0 else [stored],
            "change": PlatformChange.KEY_ROTATED,
            "webhook_secret_version": snapshot.webhook_secret_version + 1,
            "occurred_at": now,
        }
    )
    return updated, key


def in_grace(snapshot: PlatformSnapshot, now: datetime) -> bool:
    """Whether a previous key (and so the previous webhook secret) is still valid."""
    return any(k.expires_at is not None and k.expires_at > now for k in snapshot.api_keys)
