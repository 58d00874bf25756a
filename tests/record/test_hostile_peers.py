"""Other people's servers that misbehave: a witness and a log answering without end, a byte
at a time, or with numbers no tree has. The witnesses' round and the auditor end in bounded
time and memory with a clear error (the command: its exit code, never a traceback)."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from coop.cli import app
from coop.db import Database
from coop.record.witnesses import MAX_ANSWER, witness_round
from coop.settings import Settings, WitnessSettings, get_settings
from ledger.notes import COSIGNATURE_V1, cosigned_message, parse_note, verifier_of
from ledger.signing import Signer, note_verifier_key
from ledger.tiles import checkpoint_text
from tests.conftest import make_settings
from tests.record.hostile import Answer, Hostile, endless
from tests.record.hostile import hostile as hostile  # the fixture
from tests.record.test_tiles import fill

WITNESS_KEY = Ed25519PrivateKey.generate()
WITNESS = verifier_of("hostile.coop.test/w", WITNESS_KEY.public_key(), COSIGNATURE_V1)


def cosigned_at(timestamp: int) -> Answer:
    """A witness that cosigns every checkpoint offered, with its key, at ``timestamp``."""

    def answer(_path: str, body: bytes) -> tuple[int, dict[str, str], Iterator[bytes]]:
        note = body.decode().split("\n\n", 1)[1]
        signature = WITNESS_KEY.sign(cosigned_message(timestamp, parse_note(note).text))
        blob = base64.b64encode(WITNESS.key_hash + timestamp.to_bytes(8, "big") + signature).decode()
        return 200, {}, iter([f"\u2014 {WITNESS.name} {blob}\n".encode()])

    return answer


def drip(_path: str, _body: bytes) -> tuple[int, dict[str, str], Iterator[bytes]]:
    """A byte at a time, each well within the client's timeout, for far longer than it."""

    def pieces() -> Iterator[bytes]:
        for _ in range(100):
            yield b"x"
            time.sleep(0.05)

    return 200, {}, pieces()


WITNESS_ANSWERS: list[tuple[Answer, str]] = [
    (lambda _p, _b: (200, {}, endless(b"garbage\n" * 8192, 8 << 20)), f"more than the {MAX_ANSWER:,} bytes"),
    (drip, "took more than 0.5 seconds"),
    (cosigned_at(2**63 - 1), "without a cosignature that verifies"),  # dated after the year 9999
]


@pytest.mark.parametrize(("answer", "error"), WITNESS_ANSWERS, ids=["endless", "drip", "far-future"])
def test_a_hostile_witness_ends_its_round_with_an_error_and_the_next_witness_is_still_asked(
    db_url: str, tmp_path: Path, hostile: Hostile, answer: Answer, error: str
) -> None:
    hostile.answer = answer
    fine = verifier_of("fine.coop.test/w", Ed25519PrivateKey.generate().public_key(), COSIGNATURE_V1)
    settings = make_settings(
        db_url,
        tmp_path,
        witnesses=[
            WitnessSettings(name="w1", url=hostile.url, vkey=WITNESS.text),
            WitnessSettings(name="w2", url=hostile.url + "/fine", vkey=fine.text),
        ],
        witness_interval_seconds=3600,
        witness_timeout_seconds=0.5,
    )
    database = Database(settings)
    try:
        fill(database, 3)
        first, second = witness_round(database)
        assert not first.cosigned and error in (first.error or ""), first
        assert second.witness == "w2"  # the round went on to the next witness
    finally:
        database.dispose()


LOG = "hostile.coop.test/log"
LOG_KEY = Signer(Ed25519PrivateKey.generate())


def hostile_log(
    size: str, tile: Answer | None = None, endless_checkpoint: bool = False, key_body: bytes | None = None
) -> Answer:
    """A log whose key signs a checkpoint of ``size`` events; its tiles are ``tile`` or missing."""
    note = LOG_KEY.sign_note(LOG, checkpoint_text(LOG, 0, bytes(32)).replace("\n0\n", f"\n{size}\n", 1))
    key = key_body or json.dumps({"note_verifier_key": note_verifier_key(LOG, LOG_KEY.public_key)}).encode()

    def answer(path: str, body: bytes) -> tuple[int, dict[str, str], Iterator[bytes]]:
        if path.endswith("/checkpoint"):
            return 200, {}, endless(b"\n" * (1 << 16), 64 << 20) if endless_checkpoint else iter([note.encode()])
        if path.endswith("/public-key"):
            return 200, {}, iter([key])
        if "/tile/" in path and tile is not None:
            return tile(path, body)
        return 404, {}, iter(())

    return answer


AUDITS: list[tuple[Answer, int, str]] = [
    (hostile_log(str(2**63 - 1)), 1, "the log does not serve tile/0/000"),
    (hostile_log("9" * 5000), 2, "is not a checkpoint"),
    (hostile_log("256", lambda _p, _b: (200, {}, endless(bytes(1 << 16), 64 << 20))), 1, "longer than the 8,192 bytes"),
    (hostile_log("256", endless_checkpoint=True), 2, "bytes allowed"),
    (hostile_log("1", key_body=b"[" * 100_000), 2, "names no note verifier key"),
    (lambda _p, _b: (500, {}, iter([b"[/red] [link=https://evil.example]see here[/link]"])), 2, "500 [/red] [link="),
]


@pytest.mark.parametrize(
    ("answer", "code", "says"), AUDITS, ids=["2^63 events", "5000 digits", "tile", "checkpoint", "deep key", "markup"]
)
def test_a_hostile_log_fails_the_audit_with_its_exit_code(
    hostile: Hostile, tmp_path: Path, answer: Answer, code: int, says: str
) -> None:
    hostile.answer = answer
    done = CliRunner().invoke(app, ["ledger", "audit", f"{hostile.url}/log", "--state", str(tmp_path / "state")])
    assert done.exception is None or isinstance(done.exception, SystemExit), done.exception
    assert done.exit_code == code and says in " ".join(done.output.split()), done.output
    assert not (tmp_path / "state").exists()


def test_the_witness_command_shows_a_witness_answer_word_for_word(
    cli_env: Settings, database: Database, hostile: Hostile, monkeypatch: pytest.MonkeyPatch
) -> None:
    hostile.answer = lambda _p, _b: (500, {}, iter([b"[/red] [link=https://evil.example]see here[/link]"]))
    fill(database, 2)
    monkeypatch.setenv("COOP_LEDGER_WITNESSES", json.dumps([{"name": "w1", "url": hostile.url, "vkey": WITNESS.text}]))
    get_settings.cache_clear()
    done = CliRunner().invoke(app, ["ledger", "witness"])
    assert done.exit_code == 1 and "w1: 500: [/red] [link=https://evil.example]" in done.output, done.output


def test_a_saved_checkpoint_with_a_size_of_thousands_of_digits_is_refused_clearly(
    cli_env: Settings, tmp_path: Path
) -> None:
    saved = tmp_path / "checkpoint"
    saved.write_text(LOG_KEY.sign_note(LOG, f"{LOG}\n{'9' * 5000}\n{base64.b64encode(bytes(32)).decode()}\n"))
    done = CliRunner().invoke(app, ["ledger", "verify", "--checkpoint", str(saved)])
    assert done.exit_code == 2 and "is not a checkpoint" in " ".join(done.output.split()), done.output
