"""Run the JavaScript fingerprinting engine under Node and read its answers.

The engine is plain JavaScript served to browsers; the tests drive it through the small
`*.mjs` harness scripts next to this file, which print one JSON object per line.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

WEB_TESTS = Path(__file__).resolve().parent
REPO_ROOT = WEB_TESTS.parent.parent
TESTDATA = REPO_ROOT.parent / "shared" / "testdata"
ENGINE = REPO_ROOT / "services" / "intake" / "web" / "fingerprint"


def find_node() -> str | None:
    """The Node.js binary, or None when it is not installed."""
    found = shutil.which("node")
    if found is not None:
        return found
    return "/usr/bin/node" if Path("/usr/bin/node").exists() else None


def run_harness(
    node: str, script: str, *args: str, stdin: bytes | None = None
) -> list[dict[str, Any]]:
    """Run tests/web/<script> with Node and parse its JSON-lines output."""
    completed = subprocess.run(
        [node, str(WEB_TESTS / script), *args],
        input=stdin,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr.decode(errors="replace")
    lines = completed.stdout.decode().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def hamming(a: str, b: str) -> int:
    """Number of bits that differ between two hex hashes."""
    return (int(a, 16) ^ int(b, 16)).bit_count()
