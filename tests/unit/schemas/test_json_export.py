"""The checked-in JSON Schemas match the pydantic models (run ``make schemas`` when they drift)."""

from __future__ import annotations

from schemas.export import JSON_DIR, rendered
from schemas.topics import TOPICS


def test_exported_json_schemas_are_current() -> None:
    expected = rendered()
    on_disk = {path.name: path.read_text() for path in JSON_DIR.glob("*.json")}
    stale = sorted(name for name in expected if on_disk.get(name) != expected[name])
    extra = sorted(set(on_disk) - set(expected))
    assert not stale and not extra, f"run `make schemas`: stale {stale}, extra {extra}"


def test_every_event_of_every_topic_is_exported() -> None:
    names = {f"{spec.name}.{event.__name__}.json" for spec in TOPICS for event in spec.events}
    assert names == set(rendered())
