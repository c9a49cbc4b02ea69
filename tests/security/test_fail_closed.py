"""Every service refuses to start without its secrets: production is the default (no
``HAVEN_ENV`` at all), a placeholder or a short secret stops it, and the error names the
variable to set. The secrets tried are read from each settings class, so a new secret is
covered the day it is added."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from pydantic import SecretStr
from pydantic_settings import BaseSettings

from services.audit.settings import AuditSettings
from services.distributor.settings import DistributorSettings
from services.intake.settings import IntakeSettings
from services.matcher.settings import MatcherSettings
from tests.security.conftest import AttackTable
from tests.support.services import ROOT

pytestmark = pytest.mark.security

SETTINGS: dict[str, type[BaseSettings]] = {
    "intake": IntakeSettings,
    "distributor": DistributorSettings,
    "matcher": MatcherSettings,
    "audit": AuditSettings,
}


def secret_variables(service: str) -> list[str]:
    """The environment variable of every secret the service's settings declare."""
    settings = SETTINGS[service]
    prefix = str(settings.model_config.get("env_prefix"))
    return [
        f"{prefix}{name.upper()}"
        for name, spec in settings.model_fields.items()
        if spec.annotation is SecretStr
    ]


def start(service: str, extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAVEN_")}
    env |= {"HAVEN_AUDIT_SIGNING_KEY_FILE": "/nonexistent/key"} | extra  # only secrets fail
    return subprocess.run(
        [sys.executable, "-m", f"services.{service}", "--port", "1"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("service", sorted(SETTINGS))
def test_no_haven_env_means_production_and_a_missing_secret_stops_the_service(
    service: str, attacks: AttackTable
) -> None:
    variables = secret_variables(service)
    assert variables, "every service has secrets"
    started = start(service, {})
    named = [v for v in variables if v in started.stderr]
    observed = f"exit {started.returncode}, names {named[0] if named else 'nothing'}"
    attacks.record(f"{service} started with no HAVEN_ENV and no secrets", "refused", observed)
    assert started.returncode != 0 and "must be set" in started.stderr and named


@pytest.mark.parametrize("service", sorted(SETTINGS))
@pytest.mark.parametrize("weak", ["changethis", "short-secret", "ab" * 32])
def test_placeholder_short_or_repetitive_secrets_stop_the_service(
    service: str, weak: str, attacks: AttackTable
) -> None:
    started = start(service, dict.fromkeys(secret_variables(service), weak))
    refused = started.returncode != 0 and "InsecureSettings" in started.stderr
    observed = f"exit {started.returncode}" + (", InsecureSettings" if refused else "")
    attacks.record(f"{service} started with every secret = {weak[:12]!r}", "refused", observed)
    assert refused
    assert weak not in started.stderr  # the error names the variable, never the value
