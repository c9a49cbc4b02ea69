"""Settings fail closed: production unless development is said out loud, and no weak secret
outside development (the error names the variable); service prefixes override shared ones."""

from __future__ import annotations

import secrets
from typing import ClassVar

import pytest
from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

from services.common.settings import (
    PLACEHOLDER_SECRET,
    Environment,
    InsecureSettings,
    ServiceSettings,
)


class DemoSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="HAVEN_DEMO_", extra="ignore")
    service_name: ClassVar[str] = "demo"
    admin_token: SecretStr = SecretStr(PLACEHOLDER_SECRET)


@pytest.fixture(autouse=True)
def no_haven_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HAVEN_ENV", "HAVEN_DEMO_ENV", "HAVEN_ADMIN_TOKEN", "HAVEN_DEMO_ADMIN_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HAVEN_KAFKA_PASSWORD", secrets.token_hex(32))  # the other secret


def test_production_is_the_default_and_refuses_the_placeholder() -> None:
    with pytest.raises(InsecureSettings, match=r"admin_token must be set .*HAVEN_DEMO_ADMIN_TOKEN"):
        DemoSettings()
    strong = secrets.token_hex(32)
    settings = DemoSettings(admin_token=strong)
    assert settings.env is Environment.PRODUCTION


def test_development_must_be_said_and_then_accepts_the_placeholder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HAVEN_ENV", "development")
    assert DemoSettings().admin_token.get_secret_value() == PLACEHOLDER_SECRET


@pytest.mark.parametrize("env", ["production", "test"])
@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("", "must be set"),
        (PLACEHOLDER_SECRET, "must be set"),
        ("s3cret-from-the-operator", "is too short: at least 32 bytes"),
        ("ab" * 32, "has too little entropy"),
        ("0123456701234567012345670123456701234567", "has too little entropy"),
    ],
)
def test_weak_secrets_are_refused_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, env: str, value: str, problem: str
) -> None:
    monkeypatch.setenv("HAVEN_ENV", env)
    monkeypatch.setenv("HAVEN_ADMIN_TOKEN", value)
    with pytest.raises(
        InsecureSettings, match=rf"admin_token {problem}.*HAVEN_DEMO_ADMIN_TOKEN"
    ) as e:
        DemoSettings()
    assert value in ("", PLACEHOLDER_SECRET) or value not in str(e.value)  # never echoed


@pytest.mark.parametrize("env", ["production", "test"])
def test_a_random_secret_from_the_environment_is_accepted(
    monkeypatch: pytest.MonkeyPatch, env: str
) -> None:
    monkeypatch.setenv("HAVEN_ENV", env)
    for value in (secrets.token_hex(32), secrets.token_urlsafe(32)):
        monkeypatch.setenv("HAVEN_ADMIN_TOKEN", value)
        assert DemoSettings().admin_token.get_secret_value() == value


def test_service_prefix_overrides_shared_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HAVEN_ENV", "development")
    monkeypatch.setenv("HAVEN_KAFKA_BOOTSTRAP", "shared:1")
    assert DemoSettings().kafka_bootstrap == "shared:1"
    monkeypatch.setenv("HAVEN_DEMO_KAFKA_BOOTSTRAP", "own:2")
    assert DemoSettings().kafka_bootstrap == "own:2"


def test_namespace_applies_to_topics_groups_and_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HAVEN_ENV", "development")
    monkeypatch.setenv("HAVEN_KAFKA_NAMESPACE", "t9")
    settings = DemoSettings()
    assert settings.topic("haven.cases.v1") == "t9.haven.cases.v1"
    assert settings.group("log") == "t9.haven.demo.log"
    assert settings.redis_key("case", "x") == "t9:demo:case:x"
