"""Distributor settings (env prefix ``HAVEN_DISTRIBUTOR_``, falling back to ``HAVEN_``)."""

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from services.common.settings import ServiceSettings


class DistributorSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="HAVEN_DISTRIBUTOR_", extra="ignore")
    service_name: ClassVar[str] = "distributor"

    registry_batch_size: int = 500
