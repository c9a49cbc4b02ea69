"""The ``haven`` command line: one entry point, one sub-command group per service.

Each service that has commands ships ``services/<service>/cli.py`` with
``register(subparsers)``, which adds its commands; every command sets ``func`` (taking the
parsed namespace, returning an exit code). Groups:

- intake: ``haven hash``, ``haven submit``, ``haven status``, ``haven withdraw``
- distributor: ``haven platforms add|list|disable|enable|rotate-key``
- audit: ``haven audit keygen|verify|prove``

The services never import each other; this module only imports their ``cli`` modules.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

GROUPS = ("services.intake.cli", "services.distributor.cli", "services.audit.cli")


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="haven", description="Haven: fingerprint, submit, distribute and audit."
    )
    subparsers = root.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_name in GROUPS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        module.register(subparsers)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
