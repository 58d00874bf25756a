"""``coop ledger audit``: the log audited over HTTP from its checkpoint and tiles alone, against
the real app served by uvicorn on a free port, and the checkpoint it keeps between audits."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from coop.cli import app
from coop.db import Database
from coop.settings import Settings
from ledger import log
from ledger.audit import DoesNotVerify, event_problem
from ledger.audit_client import CHECKPOINT_FILE, KEY_FILE, TILES_DIR, prepare, state_dir_of
from ledger.events import event_bytes
from ledger.notes import NoteError, parse_checkpoint, parse_note, parse_verifier_key, verifier_of
from ledger.signing import Signer, note_verifier_key
from ledger.tiles import WIDTH
from tests.record.test_tiles import fill
from tests.record.test_verification import _drop_ledger_guards, _rebuild_tree

runner = CliRunner()


def audit(url: str, state: Path, *more: str) -> tuple[int, str]:
    r = runner.invoke(app, ["ledger", "audit", url, "--state", str(state), *more])
    return r.exit_code, " ".join(r.output.split())


def cut_back(database: Database, size: int) -> None:
    """What anyone with the database and the signing key can do: lift the guards, remove the
    events after ``size`` and every head and stored subtree that covers them, and sign again."""
    _drop_ledger_guards(database)
    with database.write_engine.begin() as conn:
        conn.exec_driver_sql(f"DELETE FROM ledger_event WHERE seq > {size}")
        conn.exec_driver_sql(f"DELETE FROM ledger_tree_head WHERE tree_size > {size}")
        conn.exec_driver_sql("DELETE FROM ledger_node")
    _rebuild_tree(database)


def test_audits_keep_a_checkpoint_and_catch_a_log_truncated_or_rewritten_after_it(
    live_server: str, database: Database, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    fill(database, 100)
    fill(database, 200)  # 300: a full tile, a partial one, and a level 1 tile
    code, said = audit(live_server, state)
    assert code == 0, said
    key = httpx.get(f"{live_server}/api/v1/ledger/public-key", timeout=60).json()
    assert f"trusting the key the server names, on first use: {key['note_verifier_key']}" in said
    assert f"fingerprint {key['key_id']}" in said
    assert "300 events" in said and "first audit of this log" in said
    assert (state / KEY_FILE).read_text() == key["note_verifier_key"] + "\n"
    first = (state / CHECKPOINT_FILE).read_text()
    assert first == httpx.get(f"{live_server}/api/v1/ledger/checkpoint", timeout=60).text

    fill(database, 2 * WIDTH)  # grows past a second full tile
    code, said = audit(live_server, state)
    assert code == 0, said
    assert "812 events" in said and "extends the checkpoint of 300 events" in said and "trusting" not in said
    # tile/0/000 was verified last time; tiles 1 and 2 and the partial tile 3, their bundles and tile/1/000.p/3 are read
    assert "7 tiles read, 1 full tile kept from earlier audits" in said
    assert sorted(p.name for p in (state / TILES_DIR / "tile" / "0").iterdir()) == ["000", "001", "002"]
    kept = (state / CHECKPOINT_FILE).read_text()
    assert parse_checkpoint(kept).tree_size == 812

    cut_back(database, 100)
    code, said = audit(live_server, state)
    assert code == 3, said
    assert "the log was truncated: it now holds 100 events, fewer than the 812" in said
    assert (state / CHECKPOINT_FILE).read_text() == kept

    with database.unit_of_work() as s:  # other events in the place of those removed, signed with the log's key
        log.append_many(s, [log.NewEvent("test.other", "books", f"other:{i}", {"i": i}) for i in range(800)])
    code, said = audit(live_server, state)
    assert code == 4, said
    assert "the log was rewritten: its first 812 events no longer give the root of the checkpoint saved" in said
    assert (state / CHECKPOINT_FILE).read_text() == kept

    # the rewritten log is well formed in itself: only a checkpoint kept from before catches it
    code, said = audit(live_server, tmp_path / "fresh")
    assert code == 0 and "900 events" in said, said


def test_coop_ledger_verify_reads_the_checkpoint_an_audit_kept(
    cli_env: Settings, live_server: str, database: Database, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    fill(database, 20)
    assert audit(live_server, state)[0] == 0
    fill(database, 5)
    r = runner.invoke(app, ["ledger", "verify", "--checkpoint", str(state / CHECKPOINT_FILE)])
    assert r.exit_code == 0, r.output
    assert "1 checkpoints" in " ".join(r.output.split())
    cut_back(database, 10)
    fill(database, 30)
    r = runner.invoke(app, ["ledger", "verify", "--checkpoint", str(state / CHECKPOINT_FILE)])
    said = " ".join(r.output.split())
    assert r.exit_code == 1
    assert "checkpoint of size 20 (a signed note of demo-coop.nl/ledger): the log's first 20 events" in said
    assert "the log was rewritten" in said


class Tampering(httpx.BaseTransport):
    """A server, or anyone on the way, changing one resource's bytes."""

    def __init__(self, path: str, change: Callable[[bytes], bytes]) -> None:
        self.inner, self.path, self.change = httpx.HTTPTransport(), path, change

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if not request.url.path.endswith(self.path):
            return response
        body = self.change(response.read())
        return httpx.Response(response.status_code, headers={"content-type": "application/octet-stream"}, content=body)


def _flip_last_byte(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 1])


TAMPERINGS: list[tuple[str, Callable[[bytes], bytes], str]] = [
    (
        "tile/entries/001.p/47",
        lambda d: d.replace(b'"i":266', b'"i":267'),
        "event 267: its bytes in tile/entries/001.p/47 do not hash to its leaf hash in tile/0/001.p/47",
    ),
    ("tile/0/000", _flip_last_byte, "event 256: its bytes in tile/entries/000 do not hash to its leaf hash"),
    ("tile/1/000.p/1", _flip_last_byte, "tile/1/000.p/1: level 1 hash 0 is not the root of its full tile below"),
    ("tile/entries/000", lambda d: d[:-1], "tile/entries/000: an entry bundle ends inside an entry"),
    ("tile/0/001.p/47", lambda d: d[:-1], "tile/0/001.p/47 has 1503 bytes, not 47 hashes of 32"),
]


def test_a_tampered_tile_fails_the_audit_naming_it_and_keeps_the_state(
    live_server: str, database: Database, tmp_path: Path
) -> None:
    fill(database, WIDTH + 44)
    state = tmp_path / "state"
    with httpx.Client(timeout=60) as client:
        prepare(live_server, client, state).run()
    kept = (state / CHECKPOINT_FILE).read_text()
    fill(database, 3)
    for path, change, message in TAMPERINGS:
        with httpx.Client(timeout=60, transport=Tampering(path, change)) as client:
            plan = prepare(live_server, client, state)
            with pytest.raises(DoesNotVerify) as failed:
                plan.run(full=True)
        assert message in str(failed.value)
        assert (state / CHECKPOINT_FILE).read_text() == kept
    # a tile kept from before that no longer fits: everything is read again, and the server's tiles decide
    kept_tile = state / TILES_DIR / "tile" / "0" / "000"
    good = kept_tile.read_bytes()
    kept_tile.write_bytes(_flip_last_byte(good))
    with httpx.Client(timeout=60) as client:
        report = prepare(live_server, client, state).run()
    assert report.reused == 0 and report.tree_size == WIDTH + 47
    assert kept_tile.read_bytes() == good


def test_an_entry_must_be_the_canonical_event_with_its_sequence_number() -> None:
    """What the leaf hashes alone cannot show: bytes that hash right but are not the event in that place."""
    entry = event_bytes(300, "2026-11-27T10:00:00.000000+00:00", "test.filler", "books", "filler:1", '{"i":1}')
    assert event_problem(entry, 300) is None
    assert event_problem(entry.replace(b'"seq":300', b'"seq":301'), 300) == "has sequence number 301 where 300 belongs"
    assert event_problem(entry.replace(b'{"actor"', b'{ "actor"'), 300) == "is not in canonical form"
    assert (
        event_problem(entry.replace(b'"books"', b'"bo oks"'), 300) == "has a type, actor or subject that is not a token"
    )
    assert event_problem(b'{"seq": 1.5}', 1) is not None
    assert event_problem(b"[1]", 1) is not None


def test_the_wrong_key_fails_and_a_saved_key_is_required(live_server: str, database: Database, tmp_path: Path) -> None:
    fill(database, 5)
    stranger = note_verifier_key("demo-coop.nl/ledger", Ed25519PrivateKey.generate().public_key())
    code, said = audit(live_server, tmp_path / "a", "--key", stranger)
    assert code == 1 and f"the checkpoint is not signed by the trusted key {stranger}" in said
    assert not (tmp_path / "a").exists()
    other_log = note_verifier_key("other-coop.nl/ledger", Signer(Ed25519PrivateKey.generate()).public_key)
    assert audit(live_server, tmp_path / "b", "--key", other_log)[0] == 1
    assert audit(live_server, tmp_path / "c")[0] == 0  # trusts the server's key on first use
    code, said = audit(live_server, tmp_path / "c", "--key", stranger)
    assert code == 2 and "is not the one saved in" in said
    real = (tmp_path / "c" / KEY_FILE).read_text().strip()
    key_file = tmp_path / "key.txt"
    key_file.write_text(real + "\n")
    code, said = audit(live_server, tmp_path / "d", "--key", str(key_file))
    assert code == 0 and "trusting" not in said, said
    assert audit("ftp://example.org", tmp_path / "e")[0] == 2


def test_the_default_state_directory_is_per_user_and_per_log(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert state_dir_of("demo-coop.nl/ledger") == tmp_path / "coop" / "audit" / "demo-coop.nl%2Fledger"
    monkeypatch.delenv("XDG_STATE_HOME")
    assert state_dir_of("x.nl") == Path.home() / ".local" / "state" / "coop" / "audit" / "x.nl"


def test_a_checkpoint_with_a_witness_cosignature_and_an_extension_line_is_read() -> None:
    """signed-note: signature lines of unknown keys are set aside; tlog-checkpoint: extension lines are allowed."""
    signer = Signer(Ed25519PrivateKey.generate())
    text = "demo-coop.nl/ledger\n7\n" + base64.b64encode(b"\x07" * 32).decode() + "\nsome extension\n"
    note = signer.sign_note("demo-coop.nl/ledger", text)
    witness = Signer(Ed25519PrivateKey.generate()).sign_note("witness.example.org", text).split("\n")[-2]
    cosigned = note + witness + "\n"
    checkpoint = parse_checkpoint(cosigned)
    assert (checkpoint.tree_size, checkpoint.extensions) == (7, ("some extension",))
    key = parse_verifier_key(note_verifier_key("demo-coop.nl/ledger", signer.public_key))
    assert key == verifier_of("demo-coop.nl/ledger", signer.public_key)
    assert key.signed(checkpoint.note) and len(checkpoint.note.signatures) == 2
    assert checkpoint.signature_problem({"k": signer.public_key}) is None
    forged = cosigned.replace("\n7\n", "\n8\n")
    assert not key.signed(parse_note(forged))
    for bad in ("no blank line\n", text + "\n- demo-coop.nl/ledger AAAA\n", note.replace("\n7\n", "\n07\n")):
        with pytest.raises(NoteError):
            parse_checkpoint(bad)
    with pytest.raises(NoteError):
        parse_verifier_key(key.text.replace("+", "+00", 1))
