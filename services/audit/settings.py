"""Audit settings (env prefix ``HAVEN_AUDIT_``, falling back to ``HAVEN_``).

The signing key is never defaulted: ``signing_key_file`` names a file written by
``haven audit keygen`` (mount it as a secret). Outside development a missing setting is
refused at start-up; in development, when it is unset, a key is generated once into
``<data_dir>/audit/dev-signing.key`` and reused, like the other development secrets.
The log's origin is the key's name; ``origin``, when set, must match it, so a log can
never be signed under a name its operators did not intend.
"""

from pathlib import Path
from typing import ClassVar

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from services.common.settings import PLACEHOLDER_SECRET, Environment, ServiceSettings


class AuditSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="HAVEN_AUDIT_", extra="ignore")
    service_name: ClassVar[str] = "audit"

    log_dir: Path | None = Field(
        None, description="durable log directory; default <data_dir>/audit/<namespace>"
    )
    signing_key_file: Path | None = Field(
        None, description="Ed25519 signer key file from `haven audit keygen`"
    )
    origin: str | None = Field(None, description="expected log origin (= the key's name)")
    auditor_token: SecretStr = SecretStr(PLACEHOLDER_SECRET)
    checkpoint_every_entries: int = Field(1000, ge=1)
    checkpoint_interval_s: float = Field(10.0, gt=0)
    batch_max_messages: int = Field(5000, ge=1)
    topic_discovery_interval_s: float = Field(5.0, gt=0)
    entries_max_range: int = Field(1000, ge=1)

    @model_validator(mode="after")
    def _signing_key_required(self) -> "AuditSettings":
        if self.signing_key_file is None and self.env is not Environment.DEVELOPMENT:
            raise ValueError(
                "signing_key_file must be set (env HAVEN_AUDIT_SIGNING_KEY_FILE) outside "
                "development; create one with `haven audit keygen --name <origin> --out <file>`"
            )
        return self

    @property
    def resolved_log_dir(self) -> Path:
        return self.log_dir or self.data_dir / "audit" / (self.kafka_namespace or "default")

    @property
    def resolved_signing_key_file(self) -> Path:
        return self.signing_key_file or self.data_dir / "audit" / "dev-signing.key"
