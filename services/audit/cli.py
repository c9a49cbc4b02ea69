"""``haven audit keygen|verify|prove``: create the log key, audit a log copy, prove an entry.

- ``keygen --name ORIGIN --out FILE``: a new Ed25519 signer key (0600, never overwritten);
  prints the verifier key to pin and publish.
- ``verify DIR --key VKEY``: re-derive the whole tree from the entries in a log directory
  (a copy is fine: nothing is written), check every checkpoint's signature and that each is
  consistent with the next. Prints a JSON report; exit 1 naming the first bad index.
- ``prove --url URL --key VKEY --index N``: check one entry's inclusion under the latest
  checkpoint using only the public proof endpoints. The entry's canonical bytes come from
  ``--entry FILE`` (e.g. saved from ``GET /v1/audit/entries``) or, for an auditor, are
  fetched with ``--auditor-token`` (or ``HAVEN_AUDITOR_TOKEN``); either way they are hashed
  here, never taken on trust. ``--since FILE`` keeps the last checkpoint seen there and
  also checks that the log only grew since then.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from services.audit.adapters.client import AuditClient, ProofFailed
from services.audit.log.checkpoint import CheckpointError, open_checkpoint
from services.audit.log.entry import Entry, EntryError
from services.audit.log.keys import keygen
from services.audit.log.note import NoteError, Verifier
from services.audit.log.verify import verify_log


def _verifier(args: argparse.Namespace) -> Verifier:
    text = args.key or Path(args.key_file).read_text(encoding="ascii").strip()
    return Verifier.from_key(text)


def _add_key_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--key", help="the log's verifier key (<name>+<id>+<base64>)")
    group.add_argument("--key-file", help="a file holding the verifier key")


def cmd_keygen(args: argparse.Namespace) -> int:
    try:
        print(keygen(name=args.name, path=Path(args.out)))
    except FileExistsError:
        print(f"{args.out} already exists; refusing to overwrite a log key", file=sys.stderr)
        return 1
    except NoteError as exc:
        print(f"--name: {exc}", file=sys.stderr)
        return 2
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    directory = Path(args.directory)
    if not directory.is_dir():
        print(f"{directory} is not a log directory", file=sys.stderr)
        return 2
    verifier = _verifier(args)
    report = verify_log(directory, [verifier], origin=args.origin or verifier.name)
    json.dump(report.to_json(), sys.stdout, indent=2)
    print()
    if report.ok:
        print(f"ok: {report.entries} entries, {report.checkpoints} checkpoints", file=sys.stderr)
        return 0
    print(
        f"FAILED: first bad entry index {report.first_bad_entry}, "
        f"first bad checkpoint {report.first_bad_checkpoint}: {report.problems[0].message}",
        file=sys.stderr,
    )
    return 1


def _leaf(args: argparse.Namespace, client: AuditClient) -> bytes:
    if args.entry:
        return Path(args.entry).read_bytes()
    token = args.auditor_token or os.environ.get("HAVEN_AUDITOR_TOKEN")
    if not token:
        raise ProofFailed("give --entry FILE, or --auditor-token to fetch the entry")
    leaf: bytes = client.entries(args.index, args.index + 1, token=token)[0]["leaf"]
    return leaf


def cmd_prove(args: argparse.Namespace) -> int:
    verifier = _verifier(args)
    client = AuditClient(args.url, verifier)
    try:
        leaf = _leaf(args, client)
        entry = Entry.decode(leaf)
        latest, note = client.signed_checkpoint()
        result: dict[str, Any] = {"index": args.index, "tree_size": latest.size}
        if args.since and Path(args.since).exists():
            seen = open_checkpoint(Path(args.since).read_bytes(), [verifier], origin=verifier.name)
            client.prove_consistency(seen.checkpoint, latest)
            result["consistent_with"] = seen.checkpoint.size
        client.prove_inclusion(index=args.index, leaf=leaf, checkpoint=latest)
        if args.since:
            Path(args.since).write_bytes(note)
    except (ProofFailed, EntryError, CheckpointError, OSError) as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    finally:
        client.close()
    result.update({"ok": True, "root": latest.root_hash.hex(), "entry": entry.to_json()})
    json.dump(result, sys.stdout, indent=2, ensure_ascii=False)
    print()
    return 0


def register(subparsers: Any) -> None:
    audit = subparsers.add_parser("audit", help="the audit log: keys, verification, proofs")
    commands = audit.add_subparsers(dest="audit_command", metavar="COMMAND", required=True)

    keygen_cmd = commands.add_parser("keygen", help="create the log's signing key")
    keygen_cmd.add_argument("--name", required=True, help="key name = log origin")
    keygen_cmd.add_argument("--out", required=True, help="private key file to create")
    keygen_cmd.set_defaults(func=cmd_keygen)

    verify_cmd = commands.add_parser("verify", help="verify a log directory offline")
    verify_cmd.add_argument("directory")
    _add_key_options(verify_cmd)
    verify_cmd.add_argument("--origin", help="expected origin (default: the key name)")
    verify_cmd.set_defaults(func=cmd_verify)

    prove_cmd = commands.add_parser("prove", help="prove one entry against the live log")
    prove_cmd.add_argument("--url", required=True, help="audit service base URL")
    _add_key_options(prove_cmd)
    prove_cmd.add_argument("--index", required=True, type=int, help="entry index")
    prove_cmd.add_argument("--entry", help="file with the entry's canonical bytes")
    prove_cmd.add_argument("--auditor-token", help="fetch the entry with the auditor key")
    prove_cmd.add_argument("--since", help="checkpoint file to check growth from and update")
    prove_cmd.set_defaults(func=cmd_prove)
