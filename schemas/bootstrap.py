"""Create every topic of the registry, idempotently: existing topics are left as they are.

Run as ``python -m schemas.bootstrap`` (``make up`` does); reads ``HAVEN_KAFKA_BOOTSTRAP`` and
``HAVEN_KAFKA_NAMESPACE``.
"""

from __future__ import annotations

import os

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from schemas.topics import TopicSpec, all_topics, qualified


def ensure_topics(
    bootstrap: str, specs: tuple[TopicSpec, ...], *, namespace: str = "", timeout: float = 60.0
) -> list[str]:
    """Create the topics that do not exist yet; returns the names created."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    existing = set(admin.list_topics(timeout=timeout).topics)
    wanted = [
        NewTopic(
            qualified(spec.name, namespace),
            num_partitions=spec.partitions,
            replication_factor=1,
            config=spec.config,
        )
        for spec in specs
        if qualified(spec.name, namespace) not in existing
    ]
    if not wanted:
        return []
    created: list[str] = []
    for name, future in admin.create_topics(wanted, request_timeout=timeout).items():
        try:
            future.result(timeout=timeout)
            created.append(name)
        except KafkaException as exc:
            if exc.args[0].name() != "TOPIC_ALREADY_EXISTS":
                raise
    return created


def main() -> None:
    bootstrap = os.environ.get("HAVEN_KAFKA_BOOTSTRAP", "127.0.0.1:19092")
    namespace = os.environ.get("HAVEN_KAFKA_NAMESPACE", "")
    created = ensure_topics(bootstrap, all_topics(), namespace=namespace)
    print(f"[haven] topics: {len(created)} created, {len(all_topics()) - len(created)} existed")


if __name__ == "__main__":
    main()
