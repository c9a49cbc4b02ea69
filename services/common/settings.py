"""Settings base for every service (pydantic-settings).

Each service's settings class sets its own prefix (``HAVEN_INTAKE_`` …); any field may also be
given with the shared ``HAVEN_`` prefix, which the service prefix overrides. Outside
development a secret left at its placeholder is refused at start-up, never defaulted.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar

from pydantic import SecretStr, model_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from schemas.topics import TopicSpec, qualified

PLACEHOLDER_SECRET = "changethis"  # noqa: S105 - the value refused outside development


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class ServiceSettings(BaseSettings):
    """Settings every service has. Subclasses add their own and set ``env_prefix``."""

    model_config = SettingsConfigDict(env_prefix="HAVEN_", extra="ignore")
    service_name: ClassVar[str] = "haven"

    env: Environment = Environment.DEVELOPMENT
    kafka_bootstrap: str = "127.0.0.1:19092"
    kafka_namespace: str = ""
    redis_url: str = "redis://127.0.0.1:16379/0"
    data_dir: Path = Path(".state/data")
    log_level: str = "INFO"
    max_body_bytes: int = 1_000_000
    consumer_max_attempts: int = 3
    consumer_retry_backoff_s: float = 0.2

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        shared = EnvSettingsSource(settings_cls, env_prefix="HAVEN_")
        return init_settings, env_settings, shared, file_secret_settings

    @model_validator(mode="after")
    def _no_default_secrets(self) -> ServiceSettings:
        if self.env is Environment.DEVELOPMENT:
            return self
        for name, value in self:
            if isinstance(value, SecretStr) and value.get_secret_value() in (
                "",
                PLACEHOLDER_SECRET,
            ):
                raise ValueError(
                    f"{name} must be set (env {self.model_config.get('env_prefix')}"
                    f"{name.upper()}) outside development"
                )
        return self

    def topic(self, spec: TopicSpec | str) -> str:
        """A contract topic's name within this deployment's namespace (``schemas.topics``'
        constants; a string only for names built at run time, such as a platform's topic)."""
        return qualified(spec.name if isinstance(spec, TopicSpec) else spec, self.kafka_namespace)

    def group(self, purpose: str) -> str:
        """A consumer group id, namespaced like the topics."""
        return self.topic(f"haven.{self.service_name}.{purpose}")

    def redis_key(self, *parts: Any) -> str:
        """A Redis key, namespaced like the topics."""
        return ":".join([self.kafka_namespace or "haven", self.service_name, *map(str, parts)])
