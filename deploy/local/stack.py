"""Run Haven's whole stack on one machine without Docker: real Kafka, real Redis, four services.

`make up`, `make down` and `make test` call this script; the test fixtures import it to find
or start the same processes. It uses only the standard library so it runs before the
virtualenv exists.

Everything it starts is recorded by pid under ``.state/pids`` so ``down`` stops exactly what
``up`` started. State that must survive a restart (Kafka's log directory, generated development
secrets) lives under ``.state`` in the checkout; downloads that are expensive to repeat (the
Kafka jars) live in ``~/.cache/haven`` so a fresh clone on the same machine reuses them.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

if not __package__:  # run as a script: make the checkout importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from deploy.local.processes import (
    ROOT,
    STATE,
    pid_file,
    running_pid,
    spawn,
    stop,
    wait_port,
)

__all__ = ["ROOT", "STATE", "pid_file", "running_pid", "spawn", "stop", "wait_port"]
CACHE = Path(os.environ.get("HAVEN_CACHE_DIR", Path.home() / ".cache" / "haven"))
VENV = Path(os.environ.get("HAVEN_VENV", ROOT / ".venv"))
PY = VENV / "bin" / "python"
KAFKA_VERSION = "4.1.1"
KAFKA_PORT = int(os.environ.get("HAVEN_LOCAL_KAFKA_PORT", "19092"))
CONTROLLER_PORT = KAFKA_PORT + 1
REDIS_PORT = int(os.environ.get("HAVEN_LOCAL_REDIS_PORT", "16379"))
KAFKA_BOOTSTRAP = f"127.0.0.1:{KAFKA_PORT}"
REDIS_URL = f"redis://127.0.0.1:{REDIS_PORT}/0"


@dataclass(frozen=True)
class ServiceSpec:
    """One Haven service as the local stack runs it."""

    name: str
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


SERVICES = (
    ServiceSpec("intake", 8001),
    ServiceSpec("distributor", 8002),
    ServiceSpec("matcher", 8003),
    ServiceSpec("audit", 8004),
)

# Debian package that provides each command the stack needs.
SYSTEM_PACKAGES = {
    "java": "openjdk-17-jre-headless",
    "mvn": "maven",
    "redis-server": "redis-server",
    "openssl": "openssl",
}
# What the test suite needs beyond the stack: ffmpeg decodes the reference videos, Chromium
# runs the browser tests (driven by Playwright, never a downloaded browser), Prometheus and
# promtool run the metrics and alert-rule tests.
TEST_PACKAGES = {
    "ffmpeg": "ffmpeg",
    "chromium": "chromium",
    "chromedriver": "chromium-driver",
    "prometheus": "prometheus",
    "promtool": "prometheus",
}


# Debian package of the command that installs the locked JavaScript tools (TypeScript, which
# type-checks the web page in `make lint`).
NODE_PACKAGES = {"npm": "npm"}


# Debian packages that Python dependencies build against: the `vpdq` package (Meta's vPDQ,
# used by `haven hash` for videos) compiles against FFmpeg's libraries.
BUILD_PACKAGES = (
    "cmake",
    "g++",
    "pkg-config",
    "libavcodec-dev",
    "libavdevice-dev",
    "libavfilter-dev",
    "libavformat-dev",
    "libavutil-dev",
    "libswresample-dev",
    "libswscale-dev",
)


def log(message: str) -> None:
    print(f"[haven] {message}", flush=True)


# --------------------------------------------------------------------------- system packages


def ensure_commands(commands: dict[str, str]) -> None:
    """Install the Debian packages of missing commands as root, or stop with their names."""
    install(sorted({pkg for cmd, pkg in commands.items() if shutil.which(cmd) is None}))


def ensure_packages(packages: tuple[str, ...]) -> None:
    """Install Debian packages that are not installed (libraries have no command to look for)."""

    def installed(package: str) -> bool:
        query = subprocess.run(
            ["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True
        )
        return query.returncode == 0 and query.stdout.endswith("installed")

    if shutil.which("dpkg-query") is None:
        return
    install([package for package in packages if not installed(package)])


def install(missing: list[str]) -> None:
    if not missing:
        return
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        sys.exit(
            f"[haven] missing system packages: {' '.join(missing)} (install them, e.g. "
            f"'sudo apt-get install {' '.join(missing)}')"
        )
    log(f"installing system packages: {' '.join(missing)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-q"], check=True, env=env, stdout=subprocess.DEVNULL)
    subprocess.run(
        ["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )


# --------------------------------------------------------------------------- virtualenv


def ensure_venv() -> None:
    """Create .venv and install the locked dependencies (``requirements.lock``: every extra,
    each pinned with its hashes, so nothing unreviewed is installed), then the project itself,
    when the lock or pyproject changed."""
    stamp = VENV / ".haven-installed"
    digest = hashlib.sha256(
        (ROOT / "pyproject.toml").read_bytes() + (ROOT / "requirements.lock").read_bytes()
    ).hexdigest()
    if stamp.exists() and stamp.read_text() == digest and PY.exists():
        return
    if not PY.exists():
        log(f"creating virtualenv {VENV}")
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    log("installing Python dependencies (pip's cache makes this quick after the first time)")
    subprocess.run([str(PY), "-m", "pip", "install", "-q", "--upgrade", "pip"], check=True)
    lock = ROOT / "requirements.lock"
    pip = [str(PY), "-m", "pip", "install", "-q"]
    subprocess.run([*pip, "--require-hashes", "-r", str(lock)], check=True)
    subprocess.run([*pip, "--no-deps", "-e", str(ROOT)], check=True)
    stamp.write_text(digest)


def ensure_node_modules() -> None:
    """``npm ci`` when node_modules is missing or package-lock.json changed since the last one."""
    modules = ROOT / "node_modules"
    stamp = modules / ".haven-installed"
    digest = hashlib.sha256((ROOT / "package-lock.json").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    ensure_commands(NODE_PACKAGES)
    log("installing JavaScript dev dependencies from package-lock.json (npm ci)")
    subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=ROOT, check=True
    )
    stamp.write_text(digest)


# --------------------------------------------------------------------------- kafka


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


KAFKA_PRINCIPALS = ("intake", "distributor", "matcher", "audit")


def tls_dir() -> Path:
    return STATE / "kafka" / "tls"


def ensure_tls() -> Path:
    """A development CA and the broker's certificate (for 127.0.0.1 and localhost), made once
    into ``.state/kafka/tls`` with openssl. Clients trust ``ca.crt``; production brings its own
    CA and certificates."""
    tls = tls_dir()
    keystore = tls / "broker.p12"
    if keystore.exists():
        return tls
    tls.mkdir(parents=True, exist_ok=True)
    tls.chmod(0o700)
    password = dev_secrets()["HAVEN_KAFKA_KEYSTORE_PASSWORD"]
    log(f"making a development CA and broker certificate in {tls} (once)")
    (tls / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    steps = [
        ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650",
         "-keyout", "ca.key", "-out", "ca.crt", "-subj", "/CN=Haven development CA"],
        ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "broker.key",
         "-out", "broker.csr", "-subj", "/CN=localhost"],
        ["x509", "-req", "-in", "broker.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
         "-CAcreateserial", "-days", "825", "-out", "broker.crt", "-extfile", "san.ext"],
        ["pkcs12", "-export", "-in", "broker.crt", "-inkey", "broker.key", "-certfile", "ca.crt",
         "-out", "broker.p12.tmp", "-passout", f"pass:{password}"],
    ]  # fmt: skip
    for step in steps:
        subprocess.run(["openssl", *step], cwd=tls, check=True, capture_output=True)
    (tls / "broker.p12.tmp").rename(keystore)
    return tls


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
                "listener.name.client.sasl.enabled.mechanisms=SCRAM-SHA-512",
                "listener.name.controller.sasl.enabled.mechanisms=PLAIN",
                "sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512",
                "sasl.mechanism.controller.protocol=PLAIN",
                f"listener.name.client.scram-sha-512.sasl.jaas.config={scram} required "
                f'username="admin" password="{admin}";',
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


# --------------------------------------------------------------------------- redis


# What intake's Redis user may run: reads, writes and scripts on its own keys, nothing that
# lists, flushes or reconfigures the server.
REDIS_INTAKE_RULES = (
    "~*:intake:* resetchannels -@all +@read +@write +@scripting +@transaction +@connection"
    " -@dangerous"
)


def redis_acl_file() -> Path:
    """Redis ACL users: no anonymous ``default`` user; ``admin`` for the operator's tools and
    the tests; ``intake`` limited to keys ``*:intake:*`` (production ``haven:intake:…``, a
    test run ``<namespace>:intake:…``)."""
    secret = dev_secrets()
    path = STATE / "redis" / "users.acl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "\n".join(
            [
                "user default off",
                f"user admin on >{secret['HAVEN_REDIS_ADMIN_PASSWORD']} ~* &* +@all",
                f"user intake on >{secret['HAVEN_INTAKE_REDIS_PASSWORD']} {REDIS_INTAKE_RULES}",
                "",
            ]
        )
    )
    path.chmod(0o600)
    return path


def redis_admin_url() -> str:
    """The local Redis as its ``admin`` user (for the operator's tools and the tests)."""
    password = dev_secrets()["HAVEN_REDIS_ADMIN_PASSWORD"]
    return f"redis://admin:{password}@127.0.0.1:{REDIS_PORT}/0"


def ensure_redis() -> None:
    if running_pid("redis") is not None:
        return
    (STATE / "redis").mkdir(parents=True, exist_ok=True)
    acl = redis_acl_file()
    log(f"starting Redis on {REDIS_URL} (ACL users only: {acl})")
    # Redis holds only what Kafka can rebuild, so no persistence: a restart starts empty.
    spawn(
        "redis",
        [
            "redis-server",
            "--port",
            str(REDIS_PORT),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(STATE / "redis"),
            "--aclfile",
            str(acl),
        ],
    )
    wait_port(REDIS_PORT, timeout=30, what="Redis")


# --------------------------------------------------------------------------- services


def dev_secrets() -> dict[str, str]:
    """Development secrets, generated once per checkout and kept in .state/secrets.json."""
    path = STATE / "secrets.json"
    stored: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    tokens = ("HAVEN_ADMIN_TOKEN", "HAVEN_AUDITOR_TOKEN")
    keys = (
        "HAVEN_CLIENT_KEY_SEED",
        "HAVEN_POW_HMAC_KEY",
        "HAVEN_WEBHOOK_KEY_SEED",
        "HAVEN_KAFKA_ADMIN_PASSWORD",
        "HAVEN_KAFKA_KEYSTORE_PASSWORD",
        "HAVEN_DISTRIBUTOR_PROVISIONER_PASSWORD",
        *(f"HAVEN_{name.upper()}_KAFKA_PASSWORD" for name in KAFKA_PRINCIPALS),
        "HAVEN_REDIS_ADMIN_PASSWORD",
        "HAVEN_INTAKE_REDIS_PASSWORD",
        "HAVEN_INTAKE_CASE_MAC_KEY",
    )
    values = {name: stored.get(name) or secrets.token_urlsafe(24) for name in tokens}
    values.update({name: stored.get(name) or secrets.token_hex(32) for name in keys})
    if values == stored:
        return values
    STATE.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(values, indent=2))
    path.chmod(0o600)
    return values


def kafka_admin_env() -> dict[str, str]:
    """How the operator's tools (the bootstrap step, the tests) reach the broker as ``admin``."""
    return {
        "HAVEN_KAFKA_BOOTSTRAP": KAFKA_BOOTSTRAP,
        "HAVEN_KAFKA_USERNAME": "admin",
        "HAVEN_KAFKA_PASSWORD": dev_secrets()["HAVEN_KAFKA_ADMIN_PASSWORD"],
        "HAVEN_KAFKA_CA_FILE": str(tls_dir() / "ca.crt"),
    }


def kafka_service_env() -> dict[str, str]:
    """Each service's own Kafka password (``HAVEN_<SERVICE>_KAFKA_PASSWORD``, which only that
    service reads) and the CA; never the admin credential."""
    secret = dev_secrets()
    env = {
        "HAVEN_KAFKA_BOOTSTRAP": KAFKA_BOOTSTRAP,
        "HAVEN_KAFKA_CA_FILE": str(tls_dir() / "ca.crt"),
        "HAVEN_DISTRIBUTOR_PROVISIONER_PASSWORD": secret["HAVEN_DISTRIBUTOR_PROVISIONER_PASSWORD"],
    }
    for name in KAFKA_PRINCIPALS:
        env[f"HAVEN_{name.upper()}_KAFKA_PASSWORD"] = secret[f"HAVEN_{name.upper()}_KAFKA_PASSWORD"]
    return env


def service_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    admin_only = (
        "HAVEN_KAFKA_ADMIN_PASSWORD",
        "HAVEN_KAFKA_KEYSTORE_PASSWORD",
        "HAVEN_REDIS_ADMIN_PASSWORD",
    )
    env = {
        **os.environ,
        "HAVEN_ENV": os.environ.get("HAVEN_ENV", "development"),
        "HAVEN_REDIS_URL": os.environ.get("HAVEN_REDIS_URL", REDIS_URL),
        "HAVEN_DATA_DIR": str(STATE / "data"),
        "HAVEN_DISTRIBUTOR_WEBHOOK_ALLOW_LOOPBACK": "true",  # development: local receivers
        **{k: v for k, v in dev_secrets().items() if k not in admin_only},
        **kafka_service_env(),
    }
    env.update(extra or {})
    return env


def only_own_secrets(env: dict[str, str], service: str) -> dict[str, str]:
    """``env`` without the Kafka passwords of the other services (and the provisioner's,
    unless ``service`` is the distributor)."""
    others = {
        f"HAVEN_{name.upper()}_KAFKA_PASSWORD" for name in KAFKA_PRINCIPALS if name != service
    }
    if service != "distributor":
        others.add("HAVEN_DISTRIBUTOR_PROVISIONER_PASSWORD")
    if service != "intake":
        others |= {"HAVEN_INTAKE_REDIS_PASSWORD", "HAVEN_INTAKE_CASE_MAC_KEY"}
    return {k: v for k, v in env.items() if k not in others}


def create_topics() -> None:
    """Principals, topics and ACLs (``python -m schemas.bootstrap``, as ``admin``)."""
    env = {**service_env(), **kafka_admin_env()}
    subprocess.run([str(PY), "-m", "schemas.bootstrap"], check=True, env=env, cwd=ROOT)


def readyz(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/readyz", timeout=2) as resp:  # noqa: S310
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def ensure_services(timeout: float = 120.0) -> None:
    for spec in SERVICES:
        if running_pid(spec.name) is None:
            log(f"starting {spec.name} on {spec.url}")
            spawn(
                spec.name,
                [str(PY), "-m", f"services.{spec.name}", "--port", str(spec.port)],
                env=only_own_secrets(service_env(), spec.name),
            )
    deadline = time.monotonic() + timeout
    pending = list(SERVICES)
    while pending and time.monotonic() < deadline:
        pending = [spec for spec in pending if not readyz(spec.url)]
        for spec in pending:
            if running_pid(spec.name) is None:
                tail = (STATE / "logs" / f"{spec.name}.log").read_text()[-3000:]
                raise SystemExit(f"[haven] {spec.name} exited during start-up:\n{tail}")
        time.sleep(0.3)
    if pending:
        raise SystemExit(f"[haven] not ready after {timeout:.0f}s: {[s.name for s in pending]}")


# --------------------------------------------------------------------------- commands


def venv() -> None:
    """The virtualenv and node_modules (what ``make lint`` needs): no broker, no Redis."""
    ensure_packages(BUILD_PACKAGES)
    ensure_venv()
    ensure_node_modules()


def infra(*, test_deps: bool = False) -> None:
    """Everything but the services: system packages, venv, node_modules, Kafka, Redis, topics."""
    ensure_commands(SYSTEM_PACKAGES)
    if test_deps:
        ensure_commands(TEST_PACKAGES)
    ensure_packages(BUILD_PACKAGES)
    ensure_venv()
    ensure_node_modules()
    ensure_kafka()
    ensure_redis()
    create_topics()


def up() -> None:
    infra()
    ensure_services()
    log("Haven is up:")
    for spec in SERVICES:
        log(f"  {spec.name:<12} {spec.url}   (docs {spec.url}/docs, metrics {spec.url}/metrics)")
    log(f"  kafka        {KAFKA_BOOTSTRAP} (SASL/SCRAM over TLS, CA {tls_dir() / 'ca.crt'})")
    log(f"  redis        {REDIS_URL} (ACL users admin and intake; see .state/secrets.json)")
    log(f"  admin token and other development secrets: {STATE / 'secrets.json'}")


def down() -> None:
    for spec in reversed(SERVICES):
        if stop(spec.name):
            log(f"stopped {spec.name}")
    if stop("redis"):
        log("stopped redis")
    if stop("kafka", timeout=60):
        log("stopped kafka")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["up", "down", "venv", "infra", "test-infra", "status"])
    args = parser.parse_args()
    if args.command == "up":
        up()
    elif args.command == "down":
        down()
    elif args.command == "venv":
        venv()
    elif args.command == "infra":
        infra()
    elif args.command == "test-infra":
        infra(test_deps=True)
    else:
        for name in ["kafka", "redis", *(s.name for s in SERVICES)]:
            pid = running_pid(name)
            print(f"{name:<12} {'running pid ' + str(pid) if pid else 'stopped'}")


if __name__ == "__main__":
    main()
