"""Fixtures for the browser fingerprinting engine tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.infra import require_tool

from .harness import TESTDATA, find_node


@pytest.fixture(scope="session")
def node() -> str:
    """Path of the Node.js binary that runs the harness scripts."""
    return require_tool(find_node() or "node", package="nodejs")


@pytest.fixture(scope="session")
def testdata() -> Path:
    """The shared reference media, used in place (never copied into the repo)."""
    assert TESTDATA.is_dir(), f"reference test data missing at {TESTDATA}"
    return TESTDATA
