"""Processes the local stack starts: recorded by pid so ``down`` stops exactly what ``up`` started.

Standard library only, like ``stack.py``, which re-exports these for the test fixtures.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STATE = Path(os.environ.get("HAVEN_STATE_DIR", ROOT / ".state"))


def pid_file(name: str) -> Path:
    return STATE / "pids" / f"{name}.pid"


def running_pid(name: str) -> int | None:
    path = pid_file(name)
    if not path.exists():
        return None
    try:
        pid = int(path.read_text().strip())
        os.kill(pid, 0)
    except (ValueError, ProcessLookupError, PermissionError):
        path.unlink(missing_ok=True)
        return None
    return pid


def spawn(name: str, argv: list[str], *, env: dict[str, str] | None = None) -> int:
    """Start a detached process whose pid is recorded, its output in .state/logs/<name>.log."""
    (STATE / "pids").mkdir(parents=True, exist_ok=True)
    (STATE / "logs").mkdir(parents=True, exist_ok=True)
    with (STATE / "logs" / f"{name}.log").open("ab") as out:
        proc = subprocess.Popen(
            argv,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )
    pid_file(name).write_text(str(proc.pid))
    return proc.pid


def stop(name: str, *, sig: int = signal.SIGTERM, timeout: float = 20.0) -> bool:
    """Stop a recorded process (SIGTERM, then SIGKILL after timeout). True if one was running."""
    pid = running_pid(name)
    if pid is None:
        return False
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            break
        time.sleep(0.1)
    else:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        while _alive(pid):
            time.sleep(0.05)
    pid_file(name).unlink(missing_ok=True)
    return True


def _alive(pid: int) -> bool:
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)
        if waited == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie that is not our child still answers kill(0); /proc tells the truth.
    with contextlib.suppress(OSError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        if stat.rsplit(")", 1)[1].split()[0] == "Z":
            return False
    return True


def wait_port(port: int, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit(f"[haven] {what} did not open port {port} within {timeout:.0f}s")


# Where the local stack's parts live and listen.
CACHE = Path(os.environ.get("HAVEN_CACHE_DIR", Path.home() / ".cache" / "haven"))
VENV = Path(os.environ.get("HAVEN_VENV", ROOT / ".venv"))
PY = VENV / "bin" / "python"
KAFKA_VERSION = "4.1.1"
KAFKA_PORT = int(os.environ.get("HAVEN_LOCAL_KAFKA_PORT", "19092"))
CONTROLLER_PORT = KAFKA_PORT + 1
REDIS_PORT = int(os.environ.get("HAVEN_LOCAL_REDIS_PORT", "16379"))
KAFKA_BOOTSTRAP = f"127.0.0.1:{KAFKA_PORT}"
REDIS_URL = f"redis://127.0.0.1:{REDIS_PORT}/0"


def log(message: str) -> None:
    print(f"[haven] {message}", flush=True)
