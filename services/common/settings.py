"""Settings base for every service (pydantic-settings).

Each service's settings class sets its own prefix (``HAVEN_INTAKE_`` …); any field may also be
given with the shared ``HAVEN_`` prefix, which the service prefix overrides.

Fail closed: production is the default. Development behaviour (placeholder secrets accepted)
needs ``HAVEN_ENV=development`` said out loud, as ``make up`` and ``deploy/local`` do. In any
other environment every secret must be set, must not be the placeholder, and must carry
enough entropy: at least ``MIN_SECRET_BYTES`` bytes, and not a short pattern repeated (the
estimate is length × log2 of the distinct characters used, at least 128 bits). The error
names the environment variable to set.
"""

from __future__ import annotations

import math
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

from schemas.security import KafkaAccess
from schemas.topics import TopicSpec, qualified

PLACEHOLDER_SECRET = "changethis"  # noqa: S105 - the value refused outside development
MIN_SECRET_BYTES = 32
MIN_SECRET_BITS = 128


class InsecureSettings(RuntimeError):
    """A secret is missing or weak outside development. Not a ``ValueError`` on purpose:
    pydantic would wrap that in a ``ValidationError`` that prints (part of) the input, which
    here is the secret itself."""


def secret_problem(value: str) -> str | None:
    """Why ``value`` is not a usable secret outside development, or None if it is."""
    if value in ("", PLACEHOLDER_SECRET):
        return "must be set"
    if len(value.encode()) < MIN_SECRET_BYTES:
        return f"is too short: at least {MIN_SECRET_BYTES} bytes, e.g. `openssl rand -hex 32`"
    if len(value) * math.log2(max(2, len(set(value)))) < MIN_SECRET_BITS or len(set(value)) < 8:
        return "has too little entropy (a short pattern repeated?): use `openssl rand -hex 32`"
    return None


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class ServiceSettings(BaseSettings):
    """Settings every service has. Subclasses add their own and set ``env_prefix``."""

    model_config = SettingsConfigDict(env_prefix="HAVEN_", extra="ignore")
    service_name: ClassVar[str] = "haven"

    env: Environment = Environment.PRODUCTION
    kafka_bootstrap: str = "127.0.0.1:19092"
    # This service's principal on the broker (SASL/SCRAM-SHA-512 over TLS, schemas.security):
    # the username defaults to the service's name; the CA is the one that signed the broker.
    kafka_username: str = ""
    kafka_password: SecretStr = SecretStr(PLACEHOLDER_SECRET)
    kafka_ca_file: Path | None = None
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
    def _no_weak_secrets(self) -> ServiceSettings:
        if self.env is Environment.DEVELOPMENT:
            return self
        for name, value in self:
            if isinstance(value, SecretStr):
                problem = secret_problem(value.get_secret_value())
                if problem is not None:
                    variable = f"{self.model_config.get('env_prefix')}{name.upper()}"
                    raise InsecureSettings(
                        f"{name} {problem} (set {variable}, or HAVEN_{name.upper()}; "
                        f"HAVEN_ENV is {self.env.value!r}, and only 'development' relaxes this)"
                    )
        return self

    @property
    def kafka(self) -> KafkaAccess:
        """How this service reaches the broker, as its own principal."""
        return KafkaAccess(
            self.kafka_bootstrap,
            self.kafka_username or self.service_name,
            self.kafka_password.get_secret_value(),
            str(self.kafka_ca_file) if self.kafka_ca_file else None,
        )

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
