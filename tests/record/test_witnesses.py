"""Witnesses (c2sp.org/tlog-witness) against aics-witness, an independent implementation
from PyPI (tests/record/witness.py): checkpoints are cosigned and served with their
cosignatures, which verify here from the tlog-cosignature specification alone; the log
grows and is cosigned again on a consistency proof; a 409 is followed by a second offer from
the witness's size; a split view is refused by the witness and nothing of it is kept; a
witness that is away never holds up a write."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError
from typer.testing import CliRunner

from coop.app import create_app
from coop.cli import app
from coop.db import Database
from coop.record import checkpoints
from coop.record.models import WitnessCosignature, WitnessState
from coop.record.witnesses import witness_round
from coop.settings import LedgerSettings, Settings, WitnessSettings, get_settings
from coop.types import utcnow
from ledger import log
from ledger.notes import COSIGNATURE_V1, verifier_of
from ledger.signing import note_verifier_key
from tests import factories as f
from tests.conftest import make_settings
from tests.record.test_tiles import fill
from tests.record.witness import NAME, AicsWitness
from tests.record.witness import aics_witness as aics_witness  # the fixture

DASH = "\u2014"
runner = CliRunner()


def verify_cosignature(witness_vkey: str, note: str) -> int:
    """The time of the witness's one cosignature on ``note``, checked from the specification:
    key id SHA-256(name || 0x0A || 0x04 || key)[:4], then a big-endian u64 time, then Ed25519
    over ``cosignature/v1``, ``time <t>`` and the checkpoint's body."""
    name, key_id_hex, key_b64 = witness_vkey.split("+", 2)
    key = base64.b64decode(key_b64)
    assert key[0] == 0x04 and len(key) == 33
    body, _, signatures = note.partition("\n\n")
    mine = [line for line in signatures.splitlines() if line.startswith(f"{DASH} {name} ")]
    assert len(mine) == 1, note
    blob = base64.b64decode(mine[0].split(" ")[2])
    assert blob[:4] == hashlib.sha256(name.encode() + b"\n\x04" + key[1:]).digest()[:4] == bytes.fromhex(key_id_hex)
    timestamp = int.from_bytes(blob[4:12], "big")
    Ed25519PublicKey.from_public_bytes(key[1:]).verify(
        blob[12:], f"cosignature/v1\ntime {timestamp}\n{body}\n".encode()
    )
    return timestamp


@pytest.fixture
def witnessed(db_url: str, tmp_path: Path, aics_witness: AicsWitness) -> Settings:
    """Settings with the witness and a log name of this test's own."""
    return _settings(
        db_url, tmp_path, f"t{uuid.uuid4().hex[:12]}.coop.test/ledger", aics_witness.url, aics_witness.vkey
    )


def _settings(db_url: str, tmp_path: Path, log_name: str, url: str, vkey: str, **ledger: object) -> Settings:
    return make_settings(
        db_url,
        tmp_path,
        log_name=log_name,
        witnesses=[WitnessSettings(name="w1", url=url, vkey=vkey)],
        witness_interval_seconds=3600,  # the server's own round runs at its start only: the tests make theirs
        **ledger,
    )


@pytest.fixture
def db(witnessed: Settings) -> Iterator[Database]:
    database = Database(witnessed)
    yield database
    database.dispose()


def _trust(witness: AicsWitness, db: Database, initial: tuple[int, bytes] | None = None) -> None:
    name = db.settings.ledger.log_name
    witness.trust(name, note_verifier_key(name, db.signer.public_key), initial)


def _state(db: Database) -> WitnessState | None:
    with db.unit_of_work(write=False) as s:
        return s.get(WitnessState, "w1")


def _cosignatures(db: Database) -> int:
    with db.unit_of_work(write=False) as s:
        return len(s.execute(text("SELECT id FROM witness_cosignature")).all())


def test_a_checkpoint_is_cosigned_served_with_its_cosignature_and_cosigned_again_as_the_log_grows(
    witnessed: Settings, db: Database, aics_witness: AicsWitness
) -> None:
    _trust(aics_witness, db)
    fill(db, 5)
    [outcome] = witness_round(db)
    assert (outcome.cosigned, outcome.tree_size, outcome.error) == (True, 5, None)
    with TestClient(create_app(witnessed)) as client:
        note = client.get("/api/v1/ledger/checkpoint").text
        assert note.startswith(f"{witnessed.ledger.log_name}\n5\n")
        first = verify_cosignature(aics_witness.vkey, note)
        assert note.splitlines()[-2].startswith(f"{DASH} {witnessed.ledger.log_name} ")  # the log's own line first

        size = fill(db, 300)  # beyond a full tile: the proof from 5 has several hashes
        assert witness_round(db)[0].cosigned
        monitored = f"{aics_witness.url}/{hashlib.sha256(witnessed.ledger.log_name.encode()).hexdigest()}/checkpoint"
        assert httpx.get(monitored, timeout=10).text.split("\n")[1] == str(size)  # the witness took the proof
        note = client.get("/api/v1/ledger/checkpoint").text
        assert note.split("\n")[1] == str(size) and verify_cosignature(aics_witness.vkey, note) >= first
        assert witness_round(db)[0].cosigned and _cosignatures(db) == 2  # nothing new to cosign: nothing sent

        fill(db, 1)  # a newer head than the witness cosigned: the newest is served, with the log's line alone
        newest = client.get("/api/v1/ledger/checkpoint").text
        assert newest.split("\n")[1] == str(size + 1) and NAME not in newest
        with db.unit_of_work(write=False) as s:
            assert checkpoints.cosigned_for(s, db, 3) == note  # for a receipt: the newest cosigned one
            assert checkpoints.cosigned_for(s, db, size + 1) is None
            assert checkpoints.cosigned_note(s, db, 5).split("\n")[1] == "5"

        board = f.board(client, db)  # the board's first user is an event too
        view = client.get("/api/v1/ledger/witnesses", headers=board).json()
        assert view["tree_size"] > size + 1
        assert [(w["name"], w["cosigned_size"], w["behind"], w["error"]) for w in view["witnesses"]] == [
            ("w1", size, view["tree_size"] - size, None)
        ]
        f.portal_login(client, f.BOARD_EMAIL)
        page = client.get("/board/witnesses?lang=en")
        assert (
            page.status_code == 200 and f"{size} events" in page.text and "None: the last attempt worked" in page.text
        )
        assert 'href="/board/witnesses" aria-current="page">Witnesses</a>' in page.text


def test_a_409_is_followed_by_an_offer_from_the_witness_size(db: Database, aics_witness: AicsWitness) -> None:
    pinned = fill(db, 10)
    with db.unit_of_work(write=False) as s:
        root = log.root_at(s, pinned)
    _trust(aics_witness, db, initial=(pinned, root))  # a witness that joined a running log, pinned out of band
    fill(db, 7)
    [outcome] = witness_round(db)  # "old 0" is answered 409 with 10; the second offer proves 10 -> 17
    assert (outcome.cosigned, outcome.tree_size) == (True, 17)
    state = _state(db)
    assert state is not None and state.cosigned_size == 17 and state.error is None


def test_a_witness_that_holds_a_size_this_log_never_signed_is_a_serious_failure(
    db: Database, aics_witness: AicsWitness
) -> None:
    fill(db, 4)
    _trust(aics_witness, db, initial=(50, hashlib.sha256(b"another log").digest()))
    [outcome] = witness_round(db)
    assert not outcome.cosigned and outcome.serious and "50" in (outcome.error or "")
    state = _state(db)
    assert state is not None and state.serious and state.cosigned_size == 0 and _cosignatures(db) == 0


def test_a_split_view_is_refused_by_the_witness_and_nothing_of_it_is_kept(
    witnessed: Settings, db: Database, aics_witness: AicsWitness, templates: dict[str, str], tmp_path: Path
) -> None:
    _trust(aics_witness, db)
    fill(db, 6)
    assert witness_round(db)[0].cosigned
    # a second database with the same key and log name: another tree of the same size
    other_file = tmp_path / "other.db"
    shutil.copyfile(templates["sqlite"], other_file)
    ledger = witnessed.ledger
    other = Database(
        _settings(f"sqlite:///{other_file}", tmp_path, ledger.log_name, ledger.witnesses[0].url, aics_witness.vkey)
    )
    try:
        assert other.signer.public_key == db.signer.public_key
        with other.unit_of_work() as s:
            log.append_many(s, [log.NewEvent("test.other", "books", f"other:{i}", {"other": i}) for i in range(6)])
        with other.unit_of_work(write=False) as s, db.unit_of_work(write=False) as mine:
            split, cosigned = (base64.b64encode(log.root_at(x, 6)).decode() for x in (s, mine))
        assert split != cosigned
        [outcome] = witness_round(other)  # old 0 -> 409 6 -> the same size with another root: 422
        assert not outcome.cosigned and outcome.serious and "422" in (outcome.error or "")
        assert _cosignatures(other) == 0
        state = _state(other)
        assert state is not None and state.serious and state.error and state.cosigned_size == 0
    finally:
        other.dispose()
    evidence = aics_witness.evidence(ledger.log_name)  # both offers (the 409 and the 422) are kept, log-signed
    assert evidence and all(f"\n6\n{split}\n" in e["request"] and e["witness_root"] == cosigned for e in evidence)
    kept = _state(db)
    assert _cosignatures(db) == 1 and kept is not None and kept.cosigned_size == 6


def test_a_witness_that_does_not_answer_never_holds_up_a_write(db_url: str, tmp_path: Path) -> None:
    silent = socket.socket()  # accepts connections and never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    vkey = verifier_of("silent.coop.test/w", Ed25519PrivateKey.generate().public_key(), COSIGNATURE_V1).text
    url = f"http://127.0.0.1:{silent.getsockname()[1]}"
    settings = _settings(db_url, tmp_path, "demo-coop.nl/ledger", url, vkey, witness_timeout_seconds=0.5)
    try:
        with TestClient(create_app(settings)) as client:
            database = client.app.state.db  # type: ignore[attr-defined]
            board = f.board(client, database)
            f.admit_over_http(client, board)  # the server's witness thread is waiting on the silent witness meanwhile
            [outcome] = witness_round(database)
            assert not outcome.cosigned and not outcome.serious and "unreachable" in (outcome.error or "")
            view = client.get("/api/v1/ledger/witnesses", headers=board).json()["witnesses"]
            assert view[0]["error"].startswith("unreachable") and view[0]["cosigned_size"] == 0
            with database.unit_of_work(write=False) as s:  # the checkpoint is served, without cosignatures
                assert checkpoints.checkpoint_note(s, database, utcnow()).count(DASH) == 1
    finally:
        silent.close()


def test_cosignatures_are_never_rewritten_or_removed(database: Database) -> None:
    with database.unit_of_work() as s:
        s.add(
            WitnessCosignature(
                witness="w1", tree_size=1, root_hash=bytes(32), cosigned_at=utcnow(), line="x", received_at=utcnow()
            )
        )
    for statement in ("UPDATE witness_cosignature SET line = 'y'", "DELETE FROM witness_cosignature"):
        with pytest.raises(DatabaseError, match=r"append-only|refuse"), database.unit_of_work() as s:
            s.connection().execute(text(statement))
    assert _cosignatures(database) == 1


@pytest.mark.parametrize(
    ("witness", "says"),
    [
        ({"name": "w1", "url": "ftp://witness.example", "vkey": "{vkey}"}, "http(s)"),
        ({"name": "w1", "url": "https://witness.example", "vkey": "{vkey}x"}, "cosignature/v1 verifier key"),
        ({"name": "w1", "url": "https://witness.example", "vkey": "witness.example+00000000+AQ=="}, "verifier key"),
    ],
)
def test_a_witness_set_up_wrongly_stops_the_start_with_a_clear_error(witness: dict[str, str], says: str) -> None:
    vkey = verifier_of("witness.example", Ed25519PrivateKey.generate().public_key(), COSIGNATURE_V1).text
    entry = {k: v.replace("{vkey}", vkey) for k, v in witness.items()}
    with pytest.raises(ValidationError, match=says.replace("(", r"\(").replace(")", r"\)")):
        LedgerSettings.model_validate({"witnesses": [entry]})
    with pytest.raises(ValidationError, match="a name of its own"):
        LedgerSettings.model_validate({"witnesses": [{**entry, "url": "https://a.example", "vkey": vkey}] * 2})
    twice = [{"name": n, "url": "https://a.example", "vkey": vkey} for n in ("w1", "w2")]
    with pytest.raises(ValidationError, match="a cosigner key of its own"):
        LedgerSettings.model_validate({"witnesses": twice})


def _other_vkey(name: str) -> str:
    return verifier_of(name, Ed25519PrivateKey.generate().public_key(), COSIGNATURE_V1).text


def test_the_command_makes_one_round_and_says_whether_every_witness_cosigned(
    cli_env: Settings, database: Database, aics_witness: AicsWitness, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert runner.invoke(app, ["ledger", "witness"]).exit_code == 2  # none configured
    name = f"t{uuid.uuid4().hex[:12]}.coop.test/ledger"
    aics_witness.trust(name, note_verifier_key(name, database.signer.public_key))
    fill(database, 3)
    real = {"name": "w1", "url": aics_witness.url, "vkey": aics_witness.vkey}
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        down = {"name": "w2", "url": f"http://127.0.0.1:{closed.getsockname()[1]}", "vkey": _other_vkey("w2.example")}
    monkeypatch.setenv("COOP_LEDGER_LOG_NAME", name)
    for witnesses, code in (([real], 0), ([real, down], 1)):
        monkeypatch.setenv("COOP_LEDGER_WITNESSES", json.dumps(witnesses))
        get_settings.cache_clear()
        done = runner.invoke(app, ["ledger", "witness"])
        assert done.exit_code == code, done.output
        assert "w1: cosigned the checkpoint of 3 events" in done.output
    assert "w2: unreachable" in done.output


def test_a_cosignature_that_does_not_verify_with_the_configured_key_is_not_kept(
    witnessed: Settings, aics_witness: AicsWitness
) -> None:
    name, _key_id, _key = aics_witness.vkey.split("+", 2)
    impostor = verifier_of(
        name, Ed25519PrivateKey.generate().public_key(), COSIGNATURE_V1
    ).text  # the witness's name, another key
    settings = witnessed.model_copy(deep=True)
    settings.ledger.witnesses = [WitnessSettings(name="w1", url=aics_witness.url, vkey=impostor)]
    database = Database(settings)
    try:
        _trust(aics_witness, database)
        fill(database, 3)
        [outcome] = witness_round(database)  # the witness cosigns, with its own key
        assert not outcome.cosigned and "verifies" in (outcome.error or "")
        assert _cosignatures(database) == 0
        with database.unit_of_work(write=False) as s:
            assert NAME not in checkpoints.checkpoint_note(s, database, utcnow())
    finally:
        database.dispose()
