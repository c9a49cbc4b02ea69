"""Secrets are never defaulted outside development; service prefixes override shared ones."""

from __future__ import annotations

from typing import ClassVar

import pytest
from pydantic import SecretStr, ValidationError
from pydantic_settings import SettingsConfigDict

from services.common.settings import PLACEHOLDER_SECRET, ServiceSettings


class DemoSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="HAVEN_DEMO_", extra="ignore")
    service_name: ClassVar[str] = "demo"
    admin_token: SecretStr = SecretStr(PLACEHOLDER_SECRET)


def test_development_accepts_the_placeholder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HAVEN_ENV", "development")
    assert DemoSettings().admin_token.get_secret_value() == PLACEHOLDER_SECRET


@pytest.mark.parametrize("env", ["production", "test"])
def test_other_environments_refuse_a_default_secret(
    monkeypatch: pytest.MonkeyPatch, env: str
) -> None:
    monkeypatch.setenv("HAVEN_ENV", env)
    with pytest.raises(ValidationError, match="admin_token must be set"):
        DemoSettings()
    monkeypatch.setenv("HAVEN_ADMIN_TOKEN", "s3cret-from-the-operator")
    assert DemoSettings().admin_token.get_secret_value() == "s3cret-from-the-operator"


def test_service_prefix_overrides_shared_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HAVEN_KAFKA_BOOTSTRAP", "shared:1")
    assert DemoSettings().kafka_bootstrap == "shared:1"
    monkeypatch.setenv("HAVEN_DEMO_KAFKA_BOOTSTRAP", "own:2")
    assert DemoSettings().kafka_bootstrap == "own:2"


def test_namespace_applies_to_topics_groups_and_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HAVEN_KAFKA_NAMESPACE", "t9")
    settings = DemoSettings()
    assert settings.topic("haven.cases.v1") == "t9.haven.cases.v1"
    assert settings.group("log") == "t9.haven.demo.log"
    assert settings.redis_key("case", "x") == "t9:demo:case:x"
