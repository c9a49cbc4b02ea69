"""Intake settings (env prefix ``HAVEN_INTAKE_``, falling back to ``HAVEN_``)."""

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from services.common.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="HAVEN_INTAKE_", extra="ignore")
    service_name: ClassVar[str] = "intake"

    max_media_per_case: int = 50
    max_frames_per_video: int = 7200
    max_body_bytes: int = 2_000_000
