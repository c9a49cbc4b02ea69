"""Matcher settings (env prefix ``HAVEN_MATCHER_``, falling back to ``HAVEN_``)."""

from pathlib import Path
from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.common.settings import ServiceSettings


class MatcherSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="HAVEN_MATCHER_", extra="ignore")
    service_name: ClassVar[str] = "matcher"

    # A batch of 1,000 vPDQ signals of a few minutes each is several MB; an image up to
    # max_image_bytes. The body is held in memory, never spooled to disk.
    max_body_bytes: int = 16_000_000
    max_wide_queries: int = Field(
        10, ge=0, description="signals per request with a radius above 31 (exact scan path)"
    )
    max_image_bytes: int = 10_000_000
    max_image_pixels: int = 40_000_000
    image_workers: int = Field(2, ge=1, description="images decoded and hashed at once")
    publish_timeout_s: float = 10.0
    platform_requests_per_minute: int = Field(
        6000, ge=1, description="per platform and matcher instance (429 beyond)"
    )
    index_snapshot: bool = Field(True, description="keep an index snapshot in data_dir")
    snapshot_after_replay: int = Field(
        100_000, ge=0, description="save a snapshot at start-up if this many entries were replayed"
    )

    @property
    def snapshot_path(self) -> Path:
        return self.data_dir / "matcher" / f"{self.kafka_namespace or 'haven'}.index.snapshot"
