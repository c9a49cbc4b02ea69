"""Audit settings (env prefix ``HAVEN_AUDIT_``, falling back to ``HAVEN_``)."""

from pathlib import Path
from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from services.common.settings import ServiceSettings


class AuditSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="HAVEN_AUDIT_", extra="ignore")
    service_name: ClassVar[str] = "audit"

    log_dir: Path | None = None

    @property
    def resolved_log_dir(self) -> Path:
        return self.log_dir or self.data_dir / "audit" / (self.kafka_namespace or "default")

    @property
    def topic_pattern(self) -> str:
        """Every ``haven.*`` topic of this namespace (librdkafka regex subscription)."""
        prefix = f"{self.kafka_namespace}\\." if self.kafka_namespace else ""
        return f"^{prefix}haven\\..*"
