"""The distributor's rebuilds from Kafka, through the in-memory ``TopicReader``: the registry
from the hash list (skipping someone else's poison), the push cursors from the deliveries."""

from __future__ import annotations

from schemas.events import CaseWithdrawn, Channel, DeliveryOutcome
from schemas.signals import SignalType
from services.distributor.adapters.deliveries import delivery_record, read_delivery_cursors
from services.distributor.domain.registry import HashRegistry
from services.distributor.domain.view import ViewEntry
from services.distributor.worker import read_hash_list
from tests.support.fakes import MemoryPublisher
from tests.unit.distributor.test_registry import MD5_A, MD5_B, PDQ_A, PDQ_B, opened

HASHLIST = "unit.haven.hashlist.v1"
DELIVERIES = "unit.haven.deliveries.v1"


def test_the_registry_rebuilt_from_the_hash_list_carries_on_where_it_stopped() -> None:
    broker = MemoryPublisher()
    original = HashRegistry()
    for event in (opened("c1", (PDQ_A, MD5_A)), opened("c2", (PDQ_A, MD5_B))):
        for entry in original.apply(event):
            broker.send(HASHLIST, entry.key, entry)
    broker.send(HASHLIST, "poison", b"\x00 not an entry")  # someone else's: skipped
    broker.send(HASHLIST, f"md5:{MD5_B}", None)  # a tombstone: nothing to load

    rebuilt = HashRegistry()
    assert read_hash_list(broker, HASHLIST, rebuilt) == 6  # every message was read
    assert rebuilt.sequence == original.sequence == 4
    assert rebuilt.entries[f"pdq:{PDQ_A}"].refcount == 2
    changed = rebuilt.apply(CaseWithdrawn(case_id="c1"))
    assert [e.sequence for e in changed] == [5, 6]  # no sequence is reused after a restart


def test_push_cursors_are_the_last_recorded_batch_of_each_platform_and_channel() -> None:
    broker = MemoryPublisher()
    batches = [
        ("alpha", Channel.WEBHOOK, 1, 10),
        ("alpha", Channel.WEBHOOK, 11, 20),
        ("alpha", Channel.KAFKA, 1, 5),
        ("beta", Channel.WEBHOOK, 1, 3),
    ]
    for platform, channel, first, last in batches:
        run = [ViewEntry(seq, SignalType.MD5, f"md5:{PDQ_B[:32]}", b"{}") for seq in (first, last)]
        record = delivery_record(platform, channel, run, DeliveryOutcome.DELIVERED)
        broker.send(DELIVERIES, platform, record)
    broker.send(DELIVERIES, "alpha", b"{not json")
    assert read_delivery_cursors(broker, DELIVERIES) == {
        ("alpha", Channel.WEBHOOK): 20,
        ("alpha", Channel.KAFKA): 5,
        ("beta", Channel.WEBHOOK): 3,
    }
