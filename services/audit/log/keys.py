"""Create the log's Ed25519 signing key.

Run once per log: ``python -m services.audit.log.keys --name haven.example/audit
--out /secure/dir/audit.key``. The private key file is created 0600 and never
overwritten (a log must not silently change keys); the verifier key printed on
stdout is what auditors configure.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from services.audit.log.note import Signer


def keygen(*, name: str, path: Path) -> str:
    """Write a new signer key to ``path`` (mode 0600, must not exist); return the verifier key."""
    signer = Signer.generate(name)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, (signer.key + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    return signer.verifier.key


def load_signer(path: Path) -> Signer:
    """Read a signer key file written by ``keygen``."""
    return Signer.from_key(path.read_text(encoding="ascii").strip())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--name", required=True, help="key name; should equal the log origin")
    parser.add_argument("--out", required=True, type=Path, help="private key file to create")
    args = parser.parse_args(argv)
    try:
        print(keygen(name=args.name, path=args.out))
    except FileExistsError:
        print(f"{args.out} already exists; refusing to overwrite a log key", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
