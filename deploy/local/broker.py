"""The local Kafka broker: the jars from Maven Central, its configuration (SASL/SCRAM over TLS,
the StandardAuthorizer, ``admin`` the only super user), formatting and starting it."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from deploy.local.credentials import dev_secrets, ensure_tls, kafka_admin_env, kafka_service_env
from deploy.local.processes import (
    CACHE,
    CONTROLLER_PORT,
    KAFKA_BOOTSTRAP,
    KAFKA_PORT,
    KAFKA_VERSION,
    PY,
    ROOT,
    STATE,
    log,
    running_pid,
    spawn,
    wait_port,
)


def kafka_libs() -> Path:
    """The broker's jars, fetched once from Maven Central into the cache."""
    libs = CACHE / f"kafka-{KAFKA_VERSION}" / "libs"
    marker = libs / ".complete"
    if marker.exists():
        return libs
    log(f"fetching Apache Kafka {KAFKA_VERSION} jars from Maven Central into {libs}")
    libs.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "mvn",
            "-q",
            "-B",
            "-f",
            str(ROOT / "deploy" / "local" / "kafka-pom.xml"),
            f"-Dkafka.version={KAFKA_VERSION}",
            "dependency:copy-dependencies",
            f"-DoutputDirectory={libs}",
            "-DincludeScope=runtime",
        ],
        check=True,
    )
    marker.write_text(KAFKA_VERSION)
    return libs


def kafka_config() -> Path:
    """The broker: SASL/SCRAM-SHA-512 over TLS for clients, the StandardAuthorizer with no
    access unless an ACL grants it, and ``admin`` the only super user (``schemas.security``).
    The controller listener (loopback) takes SASL/PLAIN over TLS with the admin credential,
    since a KRaft controller cannot check SCRAM credentials it has not loaded yet."""
    data = STATE / "kafka" / "data"
    config = STATE / "kafka" / "server.properties"
    config.parent.mkdir(parents=True, exist_ok=True)
    tls = ensure_tls()
    secret = dev_secrets()
    admin, keystore = secret["HAVEN_KAFKA_ADMIN_PASSWORD"], secret["HAVEN_KAFKA_KEYSTORE_PASSWORD"]
    scram = "org.apache.kafka.common.security.scram.ScramLoginModule"
    plain = "org.apache.kafka.common.security.plain.PlainLoginModule"
    config.write_text(
        "\n".join(
            [
                "process.roles=broker,controller",
                "node.id=1",
                f"controller.quorum.voters=1@127.0.0.1:{CONTROLLER_PORT}",
                f"listeners=CLIENT://127.0.0.1:{KAFKA_PORT},CONTROLLER://127.0.0.1:{CONTROLLER_PORT}",
                f"advertised.listeners=CLIENT://127.0.0.1:{KAFKA_PORT}",
                "controller.listener.names=CONTROLLER",
                "listener.security.protocol.map=CLIENT:SASL_SSL,CONTROLLER:SASL_SSL",
                "inter.broker.listener.name=CLIENT",
                "listener.name.client.sasl.enabled.mechanisms=SCRAM-SHA-512,PLAIN",
                "listener.name.controller.sasl.enabled.mechanisms=PLAIN",
                "sasl.mechanism.inter.broker.protocol=PLAIN",
                "sasl.mechanism.controller.protocol=PLAIN",
                f"listener.name.client.scram-sha-512.sasl.jaas.config={scram} required "
                f'username="admin" password="{admin}";',
                # admin is also a static PLAIN user: it can always log in, even while a
                # restarted broker has not loaded the SCRAM credentials it then renews.
                f"listener.name.client.plain.sasl.jaas.config={plain} required "
                f'username="admin" password="{admin}" user_admin="{admin}";',
                f"listener.name.controller.plain.sasl.jaas.config={plain} required "
                f'username="admin" password="{admin}" user_admin="{admin}";',
                "ssl.keystore.type=PKCS12",
                f"ssl.keystore.location={tls / 'broker.p12'}",
                f"ssl.keystore.password={keystore}",
                f"ssl.key.password={keystore}",
                "ssl.truststore.type=PEM",
                f"ssl.truststore.location={tls / 'ca.crt'}",
                "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
                "allow.everyone.if.no.acl.found=false",
                "super.users=User:admin",
                f"log.dirs={data}",
                "num.partitions=3",
                "offsets.topic.replication.factor=1",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "share.coordinator.state.topic.replication.factor=1",
                "share.coordinator.state.topic.min.isr=1",
                "group.initial.rebalance.delay.ms=0",
                "auto.create.topics.enable=false",
                # Compaction kicks in quickly so compacted topics stay small in development.
                "log.cleaner.min.compaction.lag.ms=0",
                "",
            ]
        )
    )
    config.chmod(0o600)
    (STATE / "kafka" / "log4j2.properties").write_text(
        "\n".join(
            [
                "rootLogger.level = WARN",
                "rootLogger.appenderRef.stdout.ref = STDOUT",
                "appender.stdout.type = Console",
                "appender.stdout.name = STDOUT",
                "appender.stdout.layout.type = PatternLayout",
                "appender.stdout.layout.pattern = [%d] %p %m (%c)%n",
                "logger.kafka.name = kafka.server.KafkaRaftServer",
                "logger.kafka.level = INFO",
                "",
            ]
        )
    )
    return config


def ensure_kafka() -> None:
    if running_pid("kafka") is not None:
        wait_port(KAFKA_PORT, timeout=60, what="Kafka")
        return
    libs = kafka_libs()
    config = kafka_config()
    classpath = f"{libs}/*"
    data = STATE / "kafka" / "data"
    secured = STATE / "kafka" / "secured"
    if (data / "meta.properties").exists() and not secured.exists():
        log(f"{data} was formatted for an unsecured broker: formatting it again")
        shutil.rmtree(data)
    if not (data / "meta.properties").exists():
        log(f"formatting Kafka storage in {data} (once)")
        cluster_id = (
            subprocess.run(
                ["java", "-cp", classpath, "kafka.tools.StorageTool", "random-uuid"],
                check=True,
                capture_output=True,
                text=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        subprocess.run(
            [
                "java",
                "-cp",
                classpath,
                "kafka.tools.StorageTool",
                "format",
                "-t",
                cluster_id,
                "-c",
                str(config),
                # The super user's SCRAM credential, written into the metadata log at format.
                "--add-scram",
                f"SCRAM-SHA-512=[name=admin,password={dev_secrets()['HAVEN_KAFKA_ADMIN_PASSWORD']}]",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        secured.write_text("SASL_SSL + StandardAuthorizer\n")
    log(f"starting Kafka {KAFKA_VERSION} on {KAFKA_BOOTSTRAP}")
    log4j = STATE / "kafka" / "log4j2.properties"
    spawn(
        "kafka",
        [
            "java",
            "-Xms256m",
            "-Xmx1g",
            "-XX:+UseG1GC",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={log4j}",
            "-cp",
            classpath,
            "kafka.Kafka",
            str(config),
        ],
    )
    wait_port(KAFKA_PORT, timeout=90, what="Kafka")
    renew_principals()


def renew_principals() -> None:
    """After a (re)start: set every service principal's SCRAM credential again, as admin, and
    wait until each logs in. A broker restarted after SIGKILL was seen refusing credentials it
    held before; renewing them makes the restart whole. Needs the virtualenv (not yet there on
    the very first start, when ``infra`` runs the same bootstrap just after)."""
    if not PY.exists():
        return
    env = {**os.environ, **kafka_service_env(), **kafka_admin_env()}
    subprocess.run(
        [str(PY), "-m", "schemas.bootstrap", "--principals-only"],
        check=True,
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
