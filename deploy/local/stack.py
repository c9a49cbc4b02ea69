"""Run Haven's whole stack on one machine without Docker: real Kafka, real Redis, four services.

`make up`, `make down` and `make test` call this script; the test fixtures import it to find
or start the same processes. It uses only the standard library so it runs before the
virtualenv exists, as do its parts: ``install`` (Debian packages, the virtualenv from the lock
file, node modules), ``broker`` (Kafka, secured), ``credentials`` (development secrets, TLS
material, Redis ACL users) and ``processes`` (pids, ports, spawning and stopping).

Everything it starts is recorded by pid under ``.state/pids`` so ``down`` stops exactly what
``up`` started. State that must survive a restart (Kafka's log directory, generated development
secrets) lives under ``.state`` in the checkout; downloads that are expensive to repeat (the
Kafka jars) live in ``~/.cache/haven`` so a fresh clone on the same machine reuses them.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

if not __package__:  # run as a script: make the checkout importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from deploy.local.broker import ensure_kafka, kafka_libs
from deploy.local.credentials import (
    dev_secrets,
    kafka_admin_env,
    kafka_service_env,
    only_own_secrets,
    redis_acl_file,
    redis_admin_url,
    tls_dir,
)
from deploy.local.install import (
    BUILD_PACKAGES,
    SYSTEM_PACKAGES,
    TEST_PACKAGES,
    ensure_commands,
    ensure_node_modules,
    ensure_packages,
    ensure_venv,
)
from deploy.local.processes import (
    KAFKA_BOOTSTRAP,
    PY,
    REDIS_PORT,
    REDIS_URL,
    ROOT,
    STATE,
    log,
    pid_file,
    running_pid,
    spawn,
    stop,
    wait_port,
)

__all__ = [
    "KAFKA_BOOTSTRAP",
    "REDIS_URL",
    "ROOT",
    "STATE",
    "dev_secrets",
    "ensure_kafka",
    "kafka_admin_env",
    "kafka_libs",
    "kafka_service_env",
    "pid_file",
    "redis_admin_url",
    "running_pid",
    "spawn",
    "stop",
    "wait_port",
]


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

# --------------------------------------------------------------------------- redis


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
