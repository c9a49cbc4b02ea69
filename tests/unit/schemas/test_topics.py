"""The topic registry says what DESIGN.md says."""

from __future__ import annotations

import pytest

from schemas.events import CaseOpened, MediaItem
from schemas.signals import ImageMedia
from schemas.topics import CONSUMED, HASHLIST, SUBMISSIONS, all_topics, platform_topic, qualified


def test_compacted_topics_are_the_state_topics() -> None:
    compacted = {spec.name for spec in all_topics() if spec.compacted}
    assert compacted == {"haven.cases.v1", "haven.hashlist.v1", "haven.platforms.v1"}
    assert HASHLIST.config["cleanup.policy"] == "compact"


def test_every_consumed_topic_has_a_dlq() -> None:
    names = {spec.name for spec in all_topics()}
    assert all(spec.name + ".dlq" in names for spec in CONSUMED)


def test_namespace_prefixes_names() -> None:
    assert qualified("haven.submissions.v1", "t1") == "t1.haven.submissions.v1"
    assert qualified("haven.submissions.v1") == "haven.submissions.v1"


def test_platform_topic_validates_the_id() -> None:
    assert platform_topic("acme-1").name == "haven.platform.acme-1.v1"
    with pytest.raises(ValueError, match="not a valid platform id"):
        platform_topic("../etc")


def test_submission_topic_parses_its_events() -> None:
    event = CaseOpened(
        case_id="c1",
        items=[MediaItem(media_id="m1", media=ImageMedia(pdq="a" * 64, quality=90, md5="b" * 32))],
    )
    parsed = SUBMISSIONS.adapter().validate_json(event.model_dump_json())
    assert parsed == event
