"""``haven audit keygen`` and ``haven audit verify`` as an operator runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.audit.log.keys import load_signer
from services.audit.log.note import Signer
from services.audit.log.storage import ENTRIES_FILE
from services.cli import main


def test_keygen_writes_a_private_key_once_and_prints_the_verifier_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "audit.key"
    assert main(["audit", "keygen", "--name", "haven.example/audit", "--out", str(out)]) == 0
    printed = capsys.readouterr().out.strip()
    assert printed == load_signer(out).verifier.key
    assert out.stat().st_mode & 0o777 == 0o600
    before = out.read_bytes()
    assert main(["audit", "keygen", "--name", "haven.example/audit", "--out", str(out)]) == 1
    assert "refusing to overwrite" in capsys.readouterr().err
    assert out.read_bytes() == before


def test_verify_passes_a_good_log(
    log_dir: Path, signer: Signer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit", "verify", str(log_dir), "--key", signer.verifier.key]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["ok"], report["entries"], report["checkpoints"]) == (True, 30, 3)


def test_verify_names_the_first_bad_index_of_a_tampered_log(
    log_dir: Path, signer: Signer, capsys: pytest.CaptureFixture[str]
) -> None:
    path = log_dir / ENTRIES_FILE
    data = bytearray(path.read_bytes())
    at = data.index(b'"offset":17')
    data[at + len('"offset":1')] = ord("8")  # entry 17 now claims offset 18
    path.write_bytes(bytes(data))
    assert main(["audit", "verify", str(log_dir), "--key", signer.verifier.key]) == 1
    captured = capsys.readouterr()
    assert json.loads(captured.out)["first_bad_entry"] == 17
    assert "first bad entry index 17" in captured.err


def test_verify_with_the_wrong_key_fails(
    log_dir: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    other = Signer.generate("haven.test/audit")
    key_file = tmp_path / "vkey"
    key_file.write_text(other.verifier.key + "\n")
    assert main(["audit", "verify", str(log_dir), "--key-file", str(key_file)]) == 1
    assert json.loads(capsys.readouterr().out)["first_bad_checkpoint"] == 0
