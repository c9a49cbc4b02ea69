"""Export the JSON Schema of every event to ``schemas/json/`` (checked in; a test fails on drift).

Run ``make schemas`` after changing a model.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from schemas.topics import TOPICS

JSON_DIR = Path(__file__).parent / "json"


def rendered() -> dict[str, str]:
    """File name -> JSON text for every event model of every topic."""
    files: dict[str, str] = {}
    for spec in TOPICS:
        for event in spec.events:
            schema: dict[str, Any] = event.model_json_schema()
            schema["$id"] = f"https://haven.invalid/schemas/{spec.name}/{event.__name__}.json"
            schema["x-topic"] = spec.name
            files[f"{spec.name}.{event.__name__}.json"] = json.dumps(schema, indent=2) + "\n"
    return files


def main() -> None:
    JSON_DIR.mkdir(exist_ok=True)
    files = rendered()
    for stale in JSON_DIR.glob("*.json"):
        if stale.name not in files:
            stale.unlink()
    for name, text in files.items():
        (JSON_DIR / name).write_text(text)
    print(f"wrote {len(files)} schemas to {JSON_DIR}")


if __name__ == "__main__":
    main()
