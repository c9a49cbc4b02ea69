"""Haven's services as real processes for end-to-end tests, each on a free port.

The processes get the test run's Kafka namespace, so they only see this run's topics, and
their own data directory. ``kill()`` is SIGKILL (a crash); ``stop()`` is SIGTERM (a deploy).
"""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from schemas.security import KafkaAccess
from services.audit.log.keys import keygen
from tests.support import infra
from tests.support.wait import wait_until

ROOT = Path(__file__).resolve().parents[2]
SERVICE_NAMES = ("intake", "distributor", "matcher", "audit")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class ServiceProcess:
    name: str
    env: dict[str, str]
    log_dir: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServiceProcess:
        log = (self.log_dir / f"{self.name}.log").open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", f"services.{self.name}", "--port", str(self.port)],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        return self

    def ready(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            tail = (self.log_dir / f"{self.name}.log").read_text()[-2000:]
            raise AssertionError(f"{self.name} exited with {self.proc.returncode}:\n{tail}")
        try:
            return httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def wait_ready(self, timeout: float = 90.0) -> ServiceProcess:
        try:
            wait_until(self.ready, timeout=timeout, interval=0.2, what=f"{self.name} /readyz")
        except AssertionError as exc:
            try:
                checks = httpx.get(f"{self.url}/readyz", timeout=2).text
            except httpx.HTTPError as http_error:
                checks = repr(http_error)
            raise AssertionError(f"{exc}; /readyz says {checks}") from None
        return self

    def _signal(self, sig: int) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        self._signal(signal.SIGTERM)

    def kill(self) -> None:
        self._signal(signal.SIGKILL)

    def restart(self) -> ServiceProcess:
        self.stop()
        return self.start().wait_ready()

    def log_text(self) -> str:
        return (self.log_dir / f"{self.name}.log").read_text()


def service_env(
    *,
    kafka: KafkaAccess,
    redis: str,
    namespace: str,
    data_dir: Path,
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    """The environment of the services a test starts: its namespace, strong secrets, and each
    service's own Kafka principal (``HAVEN_<SERVICE>_KAFKA_PASSWORD``), never the admin's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAVEN_")}
    env.update(
        {
            "HAVEN_ENV": "test",
            **infra.kafka_env(),
            **infra.redis_service_env(),
            "HAVEN_KAFKA_BOOTSTRAP": kafka.bootstrap,
            "HAVEN_REDIS_URL": infra.without_credentials(redis),
            "HAVEN_KAFKA_NAMESPACE": namespace,
            "HAVEN_DATA_DIR": str(data_dir),
            **namespace_secrets(namespace),
            "HAVEN_LOG_LEVEL": "INFO",
            # Test webhook receivers listen on loopback (never allowed in production).
            "HAVEN_DISTRIBUTOR_WEBHOOK_ALLOW_LOOPBACK": "true",
            # Cheap proof-of-work and generous per-client limits (every test client is
            # 127.0.0.1); tests of the limits themselves pass their own low values.
            "HAVEN_INTAKE_POW_MAX_NUMBER": "2000",
            "HAVEN_INTAKE_RATE_LIMIT_WRITES_PER_MINUTE": "100000",
            "HAVEN_INTAKE_RATE_LIMIT_READS_PER_MINUTE": "100000",
            "HAVEN_AUDIT_SIGNING_KEY_FILE": str(audit_signing_key(data_dir, namespace)),
        }
    )
    env.update(extra or {})
    return env


SECRET_NAMES = (
    "HAVEN_ADMIN_TOKEN",
    "HAVEN_AUDITOR_TOKEN",
    "HAVEN_CLIENT_KEY_SEED",
    "HAVEN_POW_HMAC_KEY",
    "HAVEN_WEBHOOK_KEY_SEED",
    "HAVEN_CASE_MAC_KEY",
)


def namespace_secrets(namespace: str) -> dict[str, str]:
    """Strong secrets of one test namespace (the services refuse weak ones outside
    development), derived from it so that a test can compute the one it needs."""
    return {
        name: hashlib.sha256(f"{namespace}:{name}".encode()).hexdigest() for name in SECRET_NAMES
    }


def audit_signing_key(data_dir: Path, namespace: str) -> Path:
    """A per-run audit log key (origin ``haven.test/<namespace>``), created once in data_dir."""
    path = data_dir / "audit-signing.key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        keygen(name=f"haven.test/{namespace}", path=path)
    return path
