"""Intake settings (env prefix ``HAVEN_INTAKE_``, falling back to ``HAVEN_``).

Secrets (``pow_hmac_key``, ``client_key_seed``, ``case_mac_key``, ``redis_password``,
``kafka_password``) have no usable default outside development:
the settings base refuses the placeholder. Rate limits are per client per minute; the client is
the TCP peer unless ``trust_forwarded_for`` is set, which is right only behind exactly one
reverse proxy that appends the real peer to ``X-Forwarded-For`` (otherwise a client could pick
its own rate-limit bucket by sending the header).
"""

from typing import ClassVar

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from services.common.settings import PLACEHOLDER_SECRET, ServiceSettings


class IntakeSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="HAVEN_INTAKE_", extra="ignore")
    service_name: ClassVar[str] = "intake"

    max_media_per_case: int = 50
    max_frames_per_video: int = 7200
    # A case's snapshot holds every item, and must fit haven.cases.v1's message size
    # (schemas.topics): 30,000 frames of ~110 bytes is 3.3 MB, under its 8 MiB.
    max_frames_per_case: int = Field(default=30_000, le=60_000)
    max_body_bytes: int = 2_000_000

    # Proof-of-work (ALTCHA): a phone solves 100k SHA-256 in well under a second.
    pow_hmac_key: SecretStr = SecretStr(PLACEHOLDER_SECRET)
    pow_max_number: int = 100_000
    pow_expires_s: int = 600

    # Rate limits per client (HMAC of its address under a daily key), fixed one-minute windows.
    client_key_seed: SecretStr = SecretStr(PLACEHOLDER_SECRET)
    trust_forwarded_for: bool = False
    # IPv6 clients are limited per network of this many bits (a household or phone gets a /64).
    ipv6_prefix: int = Field(default=64, ge=32, le=128)
    rate_limit_writes_per_minute: int = 20
    rate_limit_reads_per_minute: int = 120
    rate_limit_window_s: int = 60

    idempotency_ttl_s: int = 24 * 3600
    # Redis: this service's own ACL user (keys ``*:intake:*`` only), and the key of the MAC
    # that every stored case snapshot carries (adapters.store); Redis never holds the key.
    redis_username: str = "intake"
    redis_password: SecretStr = SecretStr(PLACEHOLDER_SECRET)
    case_mac_key: SecretStr = SecretStr(PLACEHOLDER_SECRET)
    case_lock_timeout_s: float = 10.0
