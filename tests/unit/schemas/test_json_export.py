"""The checked-in JSON Schemas and the page's generated constants match the pydantic models
(run ``make schemas`` when they drift)."""

from __future__ import annotations

from schemas.events import ActionKind
from schemas.export import JSON_DIR, PAGE_ACTION_ORDER, PAGE_CONTRACT, page_contract, rendered
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


def test_page_contract_is_current() -> None:
    on_disk = PAGE_CONTRACT.read_text() if PAGE_CONTRACT.exists() else ""
    assert on_disk == page_contract(), f"run `make schemas`: {PAGE_CONTRACT.name} is stale"


def test_page_lists_every_action_kind_once() -> None:
    assert sorted(PAGE_ACTION_ORDER) == sorted(ActionKind)
