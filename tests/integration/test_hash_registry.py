"""The distributor's registry on the real broker: exactly once in effect, rebuilt from Kafka."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from schemas.events import CaseOpened, CaseWithdrawn, EntryStatus, HashListEntry, MediaItem
from schemas.security import KafkaAccess
from schemas.signals import ImageMedia
from schemas.topics import qualified
from services.common.kafka import EventProducer
from tests.integration.conftest import read_topic
from tests.support.namespace import new_namespace
from tests.support.services import ServiceProcess, service_env
from tests.support.wait import wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def distributor(
    request: pytest.FixtureRequest, kafka_bootstrap: KafkaAccess, redis_url: str, tmp_path: Path
) -> Iterator[tuple[ServiceProcess, str]]:

    namespace = new_namespace(request, "r")
    env = service_env(
        kafka=kafka_bootstrap, redis=redis_url, namespace=namespace, data_dir=tmp_path
    )
    service = ServiceProcess("distributor", env, tmp_path).start().wait_ready()
    yield service, namespace
    service.stop()


def entries(bootstrap: KafkaAccess, namespace: str, expect: int) -> list[HashListEntry]:
    topic = qualified("haven.hashlist.v1", namespace)
    return [
        HashListEntry.model_validate_json(m.value() or b"")
        for m in read_topic(bootstrap, topic, expect=expect, timeout=10 if expect else 3)
    ]


def test_redelivered_submission_is_not_double_counted_and_state_survives_a_crash(
    kafka_bootstrap: KafkaAccess, distributor: tuple[ServiceProcess, str]
) -> None:
    service, namespace = distributor
    producer = EventProducer(kafka_bootstrap)
    submissions = qualified("haven.submissions.v1", namespace)
    image = ImageMedia(pdq="c" * 64, quality=90, md5="d" * 32)
    opened = CaseOpened(case_id="case-1", items=[MediaItem(media_id="m1", media=image)])
    try:
        producer.send(submissions, opened.case_id, opened)
        producer.send(submissions, opened.case_id, opened)  # a producer retry / replay
        wait_until(
            lambda: len(entries(kafka_bootstrap, namespace, 2)) == 2,
            timeout=30,
            what="two hash-list entries",
        )

        service.kill()
        service.start().wait_ready()
        other = CaseOpened(case_id="case-2", items=[MediaItem(media_id="m1", media=image)])
        producer.send(submissions, other.case_id, other)
        producer.send(submissions, "case-1", CaseWithdrawn(case_id="case-1"))

        def six() -> list[HashListEntry] | None:
            found = entries(kafka_bootstrap, namespace, 6)
            return found if len(found) == 6 else None

        final = wait_until(six, timeout=30, what="six hash-list entries")
    finally:
        producer.close()
    assert sorted(e.sequence for e in final) == [1, 2, 3, 4, 5, 6]
    latest = {e.key: e for e in sorted(final, key=lambda e: e.sequence)}
    assert all(e.status is EntryStatus.ACTIVE and e.holders == ["case-2"] for e in latest.values())


def test_poison_on_the_hash_list_does_not_stop_a_restarted_registry(
    kafka_bootstrap: KafkaAccess, distributor: tuple[ServiceProcess, str]
) -> None:
    service, namespace = distributor
    producer = EventProducer(kafka_bootstrap)
    submissions = qualified("haven.submissions.v1", namespace)
    image = ImageMedia(pdq="e" * 64, quality=90, md5="f" * 32)
    try:
        producer.send(qualified("haven.hashlist.v1", namespace), b"poison", b"\x00not an entry")
        service.kill()
        service.start().wait_ready()
        opened = CaseOpened(case_id="case-9", items=[MediaItem(media_id="m1", media=image)])
        producer.send(submissions, opened.case_id, opened)

        def two() -> list[HashListEntry] | None:
            topic = qualified("haven.hashlist.v1", namespace)
            found = [
                HashListEntry.model_validate_json(m.value() or b"")
                for m in read_topic(kafka_bootstrap, topic, expect=3, timeout=5)
                if m.key() != b"poison"
            ]
            return found if len(found) == 2 else None

        found = wait_until(two, timeout=60, what="the restarted registry to add two entries")
    finally:
        producer.close()
    assert {e.status for e in found} == {EntryStatus.ACTIVE}
