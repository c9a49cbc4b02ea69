"""The attack suite: each test makes an attack on the real broker, Redis or a service and
asserts the refusal; every attack is also recorded as a row (attack, expected, observed) and
the table is printed at the end of the run, so the closing note can quote it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

pytestmark = pytest.mark.security


@dataclass
class AttackTable:
    rows: list[tuple[str, str, str]] = field(default_factory=list)

    def record(self, attack: str, expected: str, observed: str) -> None:
        self.rows.append((attack, expected, observed))

    def render(self) -> str:
        widths = [max(len(row[i]) for row in [("attack", "expected", "observed"), *self.rows])
                  for i in range(3)]  # fmt: skip
        lines = []
        for row in [("attack", "expected", "observed"), *self.rows]:
            lines.append(
                " | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
            )
            if len(lines) == 1:
                lines.append("-+-".join("-" * width for width in widths))
        return "\n".join(lines)


TABLE = AttackTable()


@pytest.fixture
def attacks() -> Iterator[AttackTable]:
    yield TABLE


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if TABLE.rows:
        terminalreporter.section("attack table (tests/security)")
        terminalreporter.write_line(TABLE.render())
