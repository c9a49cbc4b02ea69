"""Signed notes and checkpoints: Go sumdb/note's published vectors, round trips, keys."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from services.audit.log.checkpoint import Checkpoint, CheckpointError, open_checkpoint
from services.audit.log.keys import keygen, load_signer, main
from services.audit.log.merkle import EMPTY_ROOT
from services.audit.log.note import NoteError, Signer, Verifier, open_note, sign

# Published in golang.org/x/mod/sumdb/note/note_test.go.
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_SIG = (
    "\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqf"
    "qdngotpRZb6KE6RyyBwJnAM=\n"
)
ENOCH_SIG = (
    "\u2014 EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTG"
    "wnWLox33WWd1RvMc+QQ=\n"
)


def test_go_note_vector_signs_byte_for_byte() -> None:
    signer = Signer.from_key(PETER_SKEY)
    assert signer.key_id == 0xC74F20A3
    assert signer.verifier.key == PETER_VKEY
    assert signer.key == PETER_SKEY
    assert sign(TEXT, signer) == (TEXT + "\n" + PETER_SIG).encode()


def test_go_note_vector_opens_with_known_and_unknown_keys() -> None:
    peter, enoch = Verifier.from_key(PETER_VKEY), Verifier.from_key(ENOCH_VKEY)
    message = (TEXT + "\n" + PETER_SIG + ENOCH_SIG).encode()
    note = open_note(message, [peter])
    assert note.text == TEXT
    assert [s.name for s in note.signatures] == ["PeterNeumann"]
    assert [s.key_id for s in note.unverified] == [0xAF0CFE78]
    both = open_note(message, [peter, enoch])
    assert [s.name for s in both.signatures] == ["PeterNeumann", "EnochRoot"]
    with pytest.raises(NoteError, match="no verifiable"):
        open_note(message, [])


@pytest.mark.parametrize(
    "message",
    [
        TEXT,
        TEXT + "\n",
        TEXT + "\n" + PETER_SIG[:-1],
        "\x01" + TEXT + "\n" + PETER_SIG,
        TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
        TEXT + "\n" + PETER_SIG.replace("PeterNeumann", "Peter Neumann"),
    ],
)
def test_malformed_notes_are_refused(message: str) -> None:
    with pytest.raises(NoteError):
        open_note(message.encode(), [Verifier.from_key(PETER_VKEY)])


def test_bad_signature_from_known_key_rejects_note() -> None:
    forged = TEXT.replace("problem", "pr0blem")
    with pytest.raises(NoteError, match="invalid signature"):
        open_note((forged + "\n" + PETER_SIG).encode(), [Verifier.from_key(PETER_VKEY)])


@pytest.mark.parametrize(
    "vkey",
    [
        PETER_VKEY.replace("c74f20a3", "c74f20a4"),
        PETER_VKEY.replace("+ARpc", "+ZRpc"),
        PETER_VKEY[:-4],
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        PETER_VKEY + "+extra",
    ],
)
def test_mangled_verifier_keys_are_refused(vkey: str) -> None:
    with pytest.raises(NoteError):
        Verifier.from_key(vkey)


def test_generated_key_round_trip() -> None:
    signer = Signer.generate("haven.test/audit")
    again = Signer.from_key(signer.key)
    verifier = Verifier.from_key(signer.verifier.key)
    note = open_note(sign("hello\n", again), [verifier])
    assert note.text == "hello\n"
    other = Signer.generate("haven.test/audit")
    with pytest.raises(NoteError):
        open_note(sign("hello\n", other), [verifier])


def test_checkpoint_signed_by_us_parses() -> None:
    signer = Signer.generate("haven.test/audit")
    root = bytes(range(32))
    cp = Checkpoint("haven.test/audit", 20852163, root, ("ext line",))
    assert (
        cp.body()
        == "haven.test/audit\n20852163\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\next line\n"
    )
    opened = open_checkpoint(cp.sign(signer), [signer.verifier], origin="haven.test/audit")
    assert opened.checkpoint == cp
    with pytest.raises(CheckpointError, match="origin"):
        open_checkpoint(cp.sign(signer), [signer.verifier], origin="other")
    with pytest.raises(CheckpointError):
        open_checkpoint(cp.sign(signer), [Signer.generate("haven.test/audit").verifier])


@pytest.mark.parametrize(
    "body",
    ["o\n01\nAAAA\n", "o\n1\n", "o\n-1\n" + "A" * 44 + "\n", "o\n1\nnot base64!\n", "o\n1\nAAAA\n"],
)
def test_bad_checkpoint_bodies_are_refused(body: str) -> None:
    with pytest.raises(CheckpointError):
        Checkpoint.parse(body)


def test_empty_tree_checkpoint() -> None:
    cp = Checkpoint("o", 0, EMPTY_ROOT)
    assert Checkpoint.parse(cp.body()) == cp


def test_keygen_writes_private_file_0600_and_prints_verifier(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "audit.key"
    assert main(["--name", "haven.test/audit", "--out", str(path)]) == 0
    vkey = capsys.readouterr().out.strip()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    signer = load_signer(path)
    assert signer.verifier.key == vkey == Verifier.from_key(vkey).key
    assert main(["--name", "x", "--out", str(path)]) == 1
    with pytest.raises(FileExistsError):
        keygen(name="x", path=path)
