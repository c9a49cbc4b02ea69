"""A platform's own Kafka credential: SCRAM-SHA-512, READ on its topic and nothing else.

The admin API calls these as the ``provisioner`` principal (``schemas.security``) when a
platform with the ``kafka`` channel is added, rotated, disabled or enabled:

- **add / rotate**: a new random password for ``platform.<id>`` (the broker keeps only its
  salted hash; the answer shows it once), and the platform's ACLs: READ on
  ``haven.platform.<id>.v1`` and on consumer groups prefixed ``haven.platform.<id>.``.
  Rotating replaces the password at once: a SCRAM user has one credential per mechanism, so,
  unlike the API key, there is no grace period (the README says so);
- **disable**: every ACL of the platform is deleted, so its credential still authenticates
  but can read nothing; **enable** grants them again.
"""

from __future__ import annotations

import secrets

from schemas.bootstrap import grant, revoke, set_passwords
from schemas.security import platform_grants, platform_principal
from services.distributor.settings import DistributorSettings


def username(settings: DistributorSettings, platform_id: str) -> str:
    return platform_principal(platform_id, settings.kafka_namespace)


def issue(settings: DistributorSettings, platform_id: str, *, enabled: bool) -> str:
    """A new password for the platform's principal (with its ACLs, if the platform is
    enabled); returns the password."""
    password = secrets.token_urlsafe(32)
    set_passwords(settings.provisioner, {username(settings, platform_id): password})
    if enabled:
        allow(settings, platform_id)
    return password


def allow(settings: DistributorSettings, platform_id: str) -> None:
    grant(
        settings.provisioner,
        username(settings, platform_id),
        platform_grants(platform_id),
        namespace=settings.kafka_namespace,
    )


def deny(settings: DistributorSettings, platform_id: str) -> None:
    revoke(settings.provisioner, username(settings, platform_id))
