"""Attacks on the broker: nobody connects without a credential, a platform's credential reads
its own topic and nothing else, and each service principal stays inside its matrix
(``schemas.security.ACCESS``), whose every cell is tried here."""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer

from deploy.local import stack as local_stack
from schemas.security import SERVICES, KafkaAccess, allows, grants_of
from schemas.signals import ImageMedia
from schemas.topics import TopicSpec, all_topics, qualified
from tests.integration.test_distributor_support import (  # noqa: F401 - fixtures
    Haven,
    haven_factory_fixture,
    haven_fixture,
)
from tests.security.conftest import AttackTable
from tests.support import infra
from tests.support.wait import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.security]

QUICK = {"socket.timeout.ms": 5000, "message.timeout.ms": 8000}
REFUSALS = (KafkaError.TOPIC_AUTHORIZATION_FAILED, KafkaError.GROUP_AUTHORIZATION_FAILED)


def try_produce(access: KafkaAccess, topic: str) -> str:
    """``delivered``, or the broker's refusal."""
    producer = Producer(access.config() | QUICK)
    outcome: list[str] = []
    producer.produce(
        topic,
        b"forged",
        key=b"k",
        on_delivery=lambda err, _: outcome.append("delivered" if err is None else err.name()),
    )
    producer.flush(15)
    return outcome[0] if outcome else "no answer"


def try_read(access: KafkaAccess, topic: str, group: str) -> str:
    """``read`` once the consumer reached the end of ``topic`` (subscribed with ``group``),
    else the broker's refusal (topic or group authorization)."""
    consumer = Consumer(
        access.config()
        | {
            "group.id": group,
            "auto.offset.reset": "earliest",
            "enable.partition.eof": True,
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            msg = consumer.poll(0.25)
            if msg is None:
                continue
            error = msg.error()
            if error is None or error.code() == KafkaError._PARTITION_EOF:
                return "read"
            if error.code() in REFUSALS:
                return str(error.name())
        return "no answer"
    finally:
        consumer.close()


def try_connect(access: KafkaAccess) -> str:
    """``connected`` if the broker answers a metadata request, else why not."""
    admin_config = access.config() | {"socket.timeout.ms": 3000}
    from confluent_kafka.admin import AdminClient

    try:
        AdminClient(admin_config).list_topics(timeout=5)
    except KafkaException as exc:
        return str(exc.args[0].name())
    return "connected"


@pytest.fixture(scope="module")
def platforms(
    haven_module: Haven,
) -> dict[str, dict[str, Any]]:
    """Two platforms on the Kafka channel, registered through the admin API."""
    return {
        name: haven_module.add_platform(
            id=name, name=name.title(), channels=["kafka"], signals=["pdq", "md5"]
        )
        for name in ("alpha", "beta")
    }


@pytest.fixture(scope="module")
def haven_module(
    request: pytest.FixtureRequest, kafka_bootstrap: KafkaAccess, redis_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Haven]:  # fmt: skip
    from services.common.kafka import EventProducer
    from tests.support.namespace import new_namespace
    from tests.support.services import ServiceProcess, service_env

    namespace = new_namespace(request, "s")
    data_dir = tmp_path_factory.mktemp("kafka-boundary")
    env = service_env(
        kafka=kafka_bootstrap, redis=redis_url, namespace=namespace, data_dir=data_dir
    )
    service = ServiceProcess("distributor", env, data_dir).start().wait_ready()
    producer = EventProducer(kafka_bootstrap)
    yield Haven(service, namespace, kafka_bootstrap, producer, env["HAVEN_ADMIN_TOKEN"])
    service.stop()
    producer.close()


def image_of(md5: str) -> ImageMedia:
    return ImageMedia(pdq=uuid.uuid4().hex * 2, quality=90, md5=md5)


def platform_access(admin: KafkaAccess, created: dict[str, Any]) -> KafkaAccess:
    kafka = created["kafka"]
    return admin.as_user(kafka["username"], kafka["password"])


def test_no_connection_without_a_credential(
    kafka_bootstrap: KafkaAccess, attacks: AttackTable
) -> None:
    anonymous = try_connect(KafkaAccess(kafka_bootstrap.bootstrap))
    attacks.record("anonymous Kafka client (PLAINTEXT) connects", "refused", anonymous)
    wrong = try_connect(kafka_bootstrap.as_user("intake", "not-the-password"))
    attacks.record("service principal with a wrong password", "refused", wrong)
    assert anonymous != "connected" and wrong != "connected"


def test_a_platform_reads_its_own_topic_and_nothing_else(
    haven_module: Haven, platforms: dict[str, dict[str, Any]], attacks: AttackTable
) -> None:
    alpha = platform_access(haven_module.bootstrap, platforms["alpha"])
    own = platforms["alpha"]["kafka"]
    group = own["group_prefix"] + "consumer"
    mine = try_read(alpha, own["topic"], group)
    attacks.record("platform reads its own haven.platform.<id>.v1", "allowed", mine)
    assert mine == "read"
    refusals = {
        "another platform's topic": platforms["beta"]["kafka"]["topic"],
        "haven.cases.v1": haven_module.topic("haven.cases.v1"),
        "haven.submissions.v1": haven_module.topic("haven.submissions.v1"),
        "haven.hashlist.v1": haven_module.topic("haven.hashlist.v1"),
    }
    for what, topic in refusals.items():
        observed = try_read(alpha, topic, group)
        attacks.record(f"platform credential reads {what}", "refused", observed)
        assert observed == "TOPIC_AUTHORIZATION_FAILED", what
    foreign_group = try_read(alpha, own["topic"], haven_module.topic("haven.intake.status"))
    attacks.record("platform joins a consumer group not its own", "refused", foreign_group)
    assert foreign_group == "GROUP_AUTHORIZATION_FAILED"


def test_a_platform_produces_nowhere(
    haven_module: Haven, platforms: dict[str, dict[str, Any]], attacks: AttackTable
) -> None:
    alpha = platform_access(haven_module.bootstrap, platforms["alpha"])
    for what, topic in {
        "a forged CaseWithdrawn to haven.submissions.v1": haven_module.topic(
            "haven.submissions.v1"
        ),
        "to its own topic": platforms["alpha"]["kafka"]["topic"],
        "to haven.hashlist.v1": haven_module.topic("haven.hashlist.v1"),
    }.items():
        observed = try_produce(alpha, topic)
        attacks.record(f"platform credential produces {what}", "refused", observed)
        assert observed == "TOPIC_AUTHORIZATION_FAILED", what


def test_disable_revokes_and_rotation_replaces_the_kafka_credential(
    haven_module: Haven, platforms: dict[str, dict[str, Any]], attacks: AttackTable
) -> None:
    beta = platforms["beta"]
    access = platform_access(haven_module.bootstrap, beta)
    topic, group = beta["kafka"]["topic"], beta["kafka"]["group_prefix"] + "c"
    url, headers = f"{haven_module.url}/v1/platforms/beta", haven_module.admin()
    assert httpx.post(f"{url}/disable", headers=headers, timeout=30).status_code == 200
    disabled = try_read(access, topic, group)
    attacks.record("disabled platform's credential reads its topic", "refused", disabled)
    assert disabled in ("TOPIC_AUTHORIZATION_FAILED", "GROUP_AUTHORIZATION_FAILED")
    assert httpx.post(f"{url}/enable", headers=headers, timeout=30).status_code == 200
    assert try_read(access, topic, group) == "read"
    rotated = httpx.post(f"{url}/rotate-key", headers=headers, timeout=30).json()
    old = try_connect(access)
    attacks.record("platform's Kafka password after rotate-key", "refused", old)
    assert old != "connected"
    assert try_read(platform_access(haven_module.bootstrap, rotated), topic, group) == "read"


def matrix_cells(service: str) -> Iterator[tuple[str, TopicSpec, bool]]:
    """Every (operation, contract topic or DLQ) and whether the matrix allows it."""
    grants = grants_of(service)
    for spec in all_topics():
        yield "read", spec, allows(grants, "topic", spec.name, "READ")
        yield "write", spec, allows(grants, "topic", spec.name, "WRITE")


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_principal_stays_inside_its_matrix(
    service: str, haven_module: Haven, attacks: AttackTable
) -> None:
    password = infra.kafka_env()[f"HAVEN_{service.upper()}_KAFKA_PASSWORD"]
    access = haven_module.bootstrap.as_user(service, password)
    group = qualified(f"haven.{service}.attack-{uuid.uuid4().hex[:6]}", haven_module.namespace)
    refused = allowed = 0
    for operation, spec, permitted in matrix_cells(service):
        topic = haven_module.topic(spec.name)
        if operation == "read":
            observed = try_read(access, topic, group)
            ok = observed == "read"
        else:
            observed = try_produce(access, topic)
            ok = observed == "delivered"
        assert ok == permitted, f"{service} {operation} {spec.name}: {observed}"
        refused += not permitted
        allowed += permitted
    attacks.record(
        f"{service} principal: every read/write outside its matrix",
        f"{refused} refused, {allowed} allowed",
        f"{refused} refused, {allowed} allowed",
    )


def test_a_stock_kafka_client_consumes_a_platforms_list_with_its_credential(
    haven_module: Haven, platforms: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    """What the README shows a platform doing: Kafka's own console consumer, with the
    credential the admin API answered, reads the platform's topic."""
    java = infra.require_tool("java", package="openjdk-17-jre-headless")
    md5 = uuid.uuid4().hex
    haven_module.open_case(f"stock-{md5[:8]}", image_of(md5))
    kafka = platforms["alpha"]["kafka"]
    config = tmp_path / "platform.properties"
    config.write_text(
        "\n".join(
            [
                "security.protocol=SASL_SSL",
                f"sasl.mechanism={kafka['mechanism']}",
                "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule "
                f'required username="{kafka["username"]}" password="{kafka["password"]}";',
                "ssl.truststore.type=PEM",
                f"ssl.truststore.location={haven_module.bootstrap.ca_file}",
                "",
            ]
        )
    )
    command = [
        java, "-cp", f"{local_stack.kafka_libs()}/*",
        "org.apache.kafka.tools.consumer.ConsoleConsumer",
        "--bootstrap-server", haven_module.bootstrap.bootstrap, "--topic", kafka["topic"],
        "--group", kafka["group_prefix"] + "console", "--consumer.config", str(config),
        "--from-beginning", "--timeout-ms", "30000",
    ]  # fmt: skip

    def consumed() -> bool:
        run = subprocess.run(command, capture_output=True, text=True, timeout=120)
        return md5 in run.stdout

    wait_until(consumed, timeout=150, interval=1, what="the console consumer reading the entry")
