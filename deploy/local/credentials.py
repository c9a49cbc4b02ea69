"""The local stack's credentials: development secrets, the broker's TLS material, Redis ACL
users, and which process gets which secret (``deploy/local/stack.py`` uses them; the tests
and benchmarks read them to act as the operator or as a service).

Everything is generated once per checkout into ``.state`` (mode 0600) and reused; production
brings its own (README, "Security model").
"""

from __future__ import annotations

import json
import secrets
import subprocess
from pathlib import Path

from deploy.local.processes import KAFKA_BOOTSTRAP, REDIS_PORT, STATE, log

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
        "HAVEN_KAFKA_SASL_MECHANISM": "PLAIN",
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
