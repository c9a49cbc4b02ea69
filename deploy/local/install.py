"""Installing what the local stack needs: Debian packages (as root, or stop naming them), the
virtualenv from the hash-checked lock file, and the locked JavaScript tools."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys

from deploy.local.processes import PY, ROOT, VENV, log

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
