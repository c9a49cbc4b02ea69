"""``haven platforms add|list|disable|enable|rotate-key``: the platform registry from a shell.

Talks to the distributor's admin API (``--url``, default ``$HAVEN_DISTRIBUTOR_URL`` or
http://127.0.0.1:8002). The admin token comes from ``$HAVEN_ADMIN_TOKEN`` or ``--token-file``,
never from a command-line argument (it would land in shell history and ``ps``). Credentials
the API returns once (API key, webhook secret) are printed once, as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import httpx

DEFAULT_URL = "http://127.0.0.1:8002"


def _token(args: argparse.Namespace) -> str:
    if args.token_file:
        return str(Path(args.token_file).read_text().strip())
    token = os.environ.get("HAVEN_ADMIN_TOKEN", "")
    if not token:
        raise SystemExit("haven platforms: set HAVEN_ADMIN_TOKEN or pass --token-file")
    return token


def _call(args: argparse.Namespace, method: str, path: str, body: Any = None) -> int:
    try:
        response = httpx.request(
            method,
            f"{args.url.rstrip('/')}{path}",
            json=body,
            headers={"Authorization": f"Bearer {_token(args)}"},
            timeout=30,
        )
    except httpx.HTTPError as exc:
        print(f"haven platforms: {args.url} unreachable: {exc}", file=sys.stderr)
        return 2
    try:
        shown: Any = response.json()
    except ValueError:
        shown = response.text
    out = sys.stdout if response.is_success else sys.stderr
    print(json.dumps(shown, indent=2), file=out)
    return 0 if response.is_success else 1


def _add(args: argparse.Namespace) -> int:
    body: dict[str, Any] = {"id": args.id, "name": args.name or args.id}
    if args.signals:
        body["signals"] = args.signals.split(",")
    if args.channels:
        body["channels"] = args.channels.split(",")
    if args.webhook_url:
        body["webhook_url"] = args.webhook_url
    return _call(args, "POST", "/v1/platforms", body)


def _list(args: argparse.Namespace) -> int:
    return _call(args, "GET", "/v1/platforms")


def _disable(args: argparse.Namespace) -> int:
    return _call(args, "POST", f"/v1/platforms/{args.id}/disable")


def _enable(args: argparse.Namespace) -> int:
    return _call(args, "POST", f"/v1/platforms/{args.id}/enable")


def _rotate(args: argparse.Namespace) -> int:
    body = {} if args.grace_period_s is None else {"grace_period_s": args.grace_period_s}
    return _call(args, "POST", f"/v1/platforms/{args.id}/rotate-key", body)


def register(subparsers: Any) -> None:
    """Add ``haven platforms …`` to the ``haven`` command line."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--url", default=os.environ.get("HAVEN_DISTRIBUTOR_URL", DEFAULT_URL), help="distributor"
    )
    common.add_argument("--token-file", help="file holding the admin token")
    group = subparsers.add_parser("platforms", help="manage participating platforms")
    commands = group.add_subparsers(dest="platforms_command", metavar="ACTION", required=True)

    add = commands.add_parser("add", parents=[common], help="register a platform")
    add.add_argument("id", help="platform id: lower-case letters, digits, '-'")
    add.add_argument("--name", help="display name (default: the id)")
    add.add_argument("--signals", help="comma-separated: pdq,md5,vpdq (default: all)")
    add.add_argument("--channels", help="comma-separated: pull,webhook,kafka (default: pull)")
    add.add_argument("--webhook-url", help="https URL receiving signed batches")
    add.set_defaults(func=_add)

    listing = commands.add_parser("list", parents=[common], help="list platforms")
    listing.set_defaults(func=_list)

    for name, func, text in (
        ("disable", _disable, "stop deliveries and refuse the platform's keys"),
        ("enable", _enable, "resume a disabled platform"),
    ):
        command = commands.add_parser(name, parents=[common], help=text)
        command.add_argument("id")
        command.set_defaults(func=func)

    rotate = commands.add_parser(
        "rotate-key", parents=[common], help="new API key and webhook secret"
    )
    rotate.add_argument("id")
    rotate.add_argument(
        "--grace-period-s", type=int, help="how long the old key keeps working (seconds)"
    )
    rotate.set_defaults(func=_rotate)
