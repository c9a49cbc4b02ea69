"""Matcher settings (env prefix ``HAVEN_MATCHER_``, falling back to ``HAVEN_``)."""

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from services.common.settings import ServiceSettings


class MatcherSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="HAVEN_MATCHER_", extra="ignore")
    service_name: ClassVar[str] = "matcher"

    max_batch: int = 1000
    default_pdq_distance: int = 31
