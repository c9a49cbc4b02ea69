"""``haven hash|submit|status|withdraw``: the submitter's side of intake from a terminal.

``hash`` prints the fingerprints of photos and videos as JSON (what the page would send) with
a progress bar on stderr when there are several files. ``submit`` hashes, solves the
proof-of-work and opens a case through the same API the page uses; it prints the case number
and secret once (``--save FILE`` writes them to a file readable only by you). ``status`` and
``withdraw`` read the secret from ``--secret-file`` (that saved file, or a file holding just
the secret), never from the command line, where it would land in shell history.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from services.intake.adapters.pow import solve
from services.intake.fingerprint import FingerprintError, fingerprints

DEFAULT_URL = os.environ.get("HAVEN_INTAKE_URL", "http://127.0.0.1:8001")


def _progress(done: int, total: int, name: str) -> None:
    width = 30
    filled = width * done // total
    bar = "#" * filled + "." * (width - filled)
    sys.stderr.write(f"\r[{bar}] {done}/{total} {name[:40]:<40}")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def hash_paths(paths: Sequence[str]) -> list[dict[str, Any]]:
    items = []
    for index, raw in enumerate(paths, start=1):
        path = Path(raw)
        items.append({"file": path.name, **fingerprints(path)})
        if len(paths) > 1:
            _progress(index, len(paths), path.name)
    return items


def _fail(message: str) -> int:
    sys.stderr.write(f"haven: {message}\n")
    return 1


def _api_error(response: httpx.Response) -> int:
    try:
        body = response.json()
        detail = body.get("message", "")
        fields = "; ".join(f"{f['field']}: {f['message']}" for f in body.get("fields", []))
        return _fail(f"{response.status_code} {body.get('error')}: {fields or detail}")
    except (ValueError, AttributeError):
        return _fail(f"{response.status_code}: {response.text[:200]}")


def cmd_hash(args: argparse.Namespace) -> int:
    try:
        items = hash_paths(args.paths)
    except FingerprintError as exc:
        return _fail(str(exc))
    json.dump(items, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


def cmd_submit(args: argparse.Namespace) -> int:
    try:
        items = [{k: v for k, v in item.items() if k != "file"} for item in hash_paths(args.paths)]
    except FingerprintError as exc:
        return _fail(str(exc))
    with httpx.Client(base_url=args.url, timeout=60) as client:
        challenge = client.get("/v1/challenge")
        if challenge.status_code != 200:
            return _api_error(challenge)
        headers = {"X-Altcha": solve(challenge.json()), "Idempotency-Key": str(uuid.uuid4())}
        response = client.post("/v1/cases", json={"items": items}, headers=headers)
    if response.status_code != 201:
        return _api_error(response)
    created = response.json()
    if args.save:
        path = Path(args.save)
        path.touch(mode=0o600)
        record = {k: created[k] for k in ("case_number", "secret")} | {"url": args.url}
        path.write_text(json.dumps(record, indent=2) + "\n")
    print(f"case number: {created['case_number']}")
    print(f"secret:      {created['secret']}")
    print("Keep both: the secret is shown only once and Haven cannot recover it.")
    return 0


def _secret(path: str) -> str:
    text = Path(path).read_text().strip()
    if text.startswith("{"):
        return str(json.loads(text)["secret"])
    return text


def _authorised(args: argparse.Namespace, method: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {_secret(args.secret_file)}"}
    return httpx.request(method, f"{args.url}/v1/cases/{args.case}", headers=headers, timeout=60)


def cmd_status(args: argparse.Namespace) -> int:
    response = _authorised(args, "GET")
    if response.status_code != 200:
        return _api_error(response)
    json.dump(response.json(), sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


def cmd_withdraw(args: argparse.Namespace) -> int:
    response = _authorised(args, "DELETE")
    if response.status_code != 200:
        return _api_error(response)
    print(f"{response.json()['case_number']}: withdrawn")
    return 0


def register(subparsers: Any) -> None:
    hasher = subparsers.add_parser("hash", help="fingerprint photos and videos (JSON on stdout)")
    hasher.add_argument("paths", nargs="+", metavar="PATH")
    hasher.set_defaults(func=cmd_hash)

    submit = subparsers.add_parser("submit", help="fingerprint files and open a case")
    submit.add_argument("paths", nargs="+", metavar="PATH")
    submit.add_argument("--url", default=DEFAULT_URL, help="intake URL (env HAVEN_INTAKE_URL)")
    submit.add_argument("--save", metavar="FILE", help="write case number and secret to FILE")
    submit.set_defaults(func=cmd_submit)

    for name, func, what in (
        ("status", cmd_status, "show what happened to a case"),
        ("withdraw", cmd_withdraw, "withdraw a whole case"),
    ):
        command = subparsers.add_parser(name, help=what)
        command.add_argument("case", metavar="CASE")
        command.add_argument("--secret-file", required=True, metavar="FILE")
        command.add_argument("--url", default=DEFAULT_URL)
        command.set_defaults(func=func)
