"""Distributor settings (env prefix ``HAVEN_DISTRIBUTOR_``, falling back to ``HAVEN_``).

``admin_token`` guards the platform registry; ``provisioner_password`` is the credential of
the Kafka principal that gives platforms their own Kafka credentials; ``webhook_key_seed`` is
the only secret webhook signing secrets are derived from (they are never stored). All are
refused at start-up when weak or left at the placeholder outside development. The webhook retry budget is configurable so a
test can make "the last attempt" come quickly.
"""

from typing import ClassVar

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from schemas.security import PROVISIONER, KafkaAccess
from services.common.settings import PLACEHOLDER_SECRET, ServiceSettings


class DistributorSettings(ServiceSettings):
    """See the module docstring."""

    model_config = SettingsConfigDict(env_prefix="HAVEN_DISTRIBUTOR_", extra="ignore")
    service_name: ClassVar[str] = "distributor"

    registry_batch_size: int = 500

    admin_token: SecretStr = SecretStr(PLACEHOLDER_SECRET)
    webhook_key_seed: SecretStr = SecretStr(PLACEHOLDER_SECRET)
    # The provisioner principal (schemas.security): gives a platform that uses the Kafka
    # channel its SCRAM credential and ACLs. Only the admin API uses it.
    provisioner_password: SecretStr = SecretStr(PLACEHOLDER_SECRET)
    key_grace_period_s: int = Field(default=7 * 24 * 3600, ge=0)

    feed_default_limit: int = Field(default=1000, ge=1)
    feed_max_limit: int = Field(default=5000, ge=1)

    fanout_enabled: bool = True
    fanout_batch_size: int = Field(default=500, ge=1)
    fanout_idle_s: float = Field(default=0.2, gt=0)

    webhook_timeout_s: float = Field(default=10.0, gt=0)
    webhook_max_attempts: int = Field(default=8, ge=1)
    webhook_backoff_base_s: float = Field(default=0.5, ge=0)
    webhook_backoff_max_s: float = Field(default=60.0, ge=0)
    # Development and tests only: accept http:// and loopback webhook URLs (never public).
    webhook_allow_loopback: bool = False

    @property
    def provisioner(self) -> KafkaAccess:
        return self.kafka.as_user(PROVISIONER, self.provisioner_password.get_secret_value())
