"""The log as a C2SP transparency log: the checkpoint (a signed note), hash tiles and entry
bundles, checked here with nothing but the specifications, hashlib and an Ed25519 library
(tests/record/test_go_verifier.py checks them with Go's golang.org/x/mod)."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi.testclient import TestClient

from coop.app import create_app
from coop.db import Database
from coop.settings import LedgerSettings
from coop.types import utcnow
from ledger import log, merkle, tiles
from ledger.events import MAX_EVENT_BYTES, EventError, event_bytes, format_time
from ledger.tiles import ENTRIES, Tile
from tests import factories as f
from tests.conftest import make_settings

FILLER = "test.filler"


def fill(database: Database, n: int) -> int:
    """``n`` more events in one transaction (its commit signs a head); returns the log's size."""
    with database.unit_of_work() as s:
        start = log.tree_size(s)
        log.append_many(s, [log.NewEvent(FILLER, "books", f"filler:{start + i}", {"i": start + i}) for i in range(n)])
        return start + n


def leaves(database: Database) -> list[bytes]:
    with database.unit_of_work(write=False) as s:
        return [e.leaf_hash for e in log.events_after(s, 0, 10_000)]


@pytest.mark.parametrize(
    ("tile", "path"),
    [
        (Tile(0, 0, 256), "tile/0/000"),
        (Tile(0, 1234067, 256), "tile/0/x001/x234/067"),
        (Tile(3, 1234067, 1), "tile/3/x001/x234/067.p/1"),
        (Tile(1, 1000, 17), "tile/1/x001/000.p/17"),
        (Tile(ENTRIES, 67, 255), "tile/entries/067.p/255"),
        (Tile(63, 999, 256), "tile/63/999"),
    ],
)
def test_tile_paths_are_written_and_read_as_the_specification_spells_them(tile: Tile, path: str) -> None:
    assert tile.path == path
    assert tiles.parse_path(path.removeprefix("tile/")) == tile


@pytest.mark.parametrize(
    "path",
    [
        *("0", "0/67", "0/0067", "00/000", "64/000", "-1/000", "data/000", "0/x000/067", "0/067/x001"),
        *("0/000.p/256", "0/000.p/0", "0/000.p/07", "0/000.p", "0/000.p/1/2", "0/x1/000", "0//000", "0/000/"),
        "entries/000.p/x",
    ],
)
def test_every_other_spelling_of_a_tile_is_refused(path: str) -> None:
    with pytest.raises(tiles.TilePathError):
        tiles.parse_path(path)


def test_tiles_of_a_tree_as_in_the_specification() -> None:
    """tlog-tiles: a tree of 70,000 has 273 full level 0 tiles, a partial one of 112, one full
    level 1 tile, a partial one of 17 and a partial level 2 tile of 1; 256 has a full level 0
    tile and a level 1 tile of width 1."""
    big = tiles.tiles_of(70_000)
    assert sum(t.level == 0 and t.full for t in big) == 273
    assert [t for t in big if not t.full] == [Tile(0, 273, 112), Tile(1, 1, 17), Tile(2, 0, 1)]
    assert Tile(1, 0, 256) in big and len(big) == 273 + 1 + 1 + 1 + 1
    assert tiles.tiles_of(256) == [Tile(0, 0, 256), Tile(1, 0, 1)]
    assert tiles.tiles_of(0) == []


def test_the_checkpoint_is_the_newest_head_as_a_signed_note(client: TestClient, database: Database) -> None:
    f.board(client, database)
    fill(database, 5)
    head = client.get("/api/v1/ledger/tree-head").json()
    key = client.get("/api/v1/ledger/public-key").json()
    r = client.get("/api/v1/ledger/checkpoint")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/plain; charset=utf-8"
    assert r.headers["cache-control"] == "public, max-age=5"
    name = LedgerSettings().log_name
    assert name == "demo-coop.nl/ledger" == key["log_name"]
    root = base64.b64encode(bytes.fromhex(head["root_hash"])).decode()
    body = f"{name}\n{head['tree_size']}\n{root}\n"
    assert r.text.startswith(body + "\n\u2014 " + name + " ")
    [signature_line] = r.text.removeprefix(body + "\n").splitlines()
    assert r.text.endswith(signature_line + "\n")
    blob = base64.b64decode(signature_line.split(" ")[2], validate=True)
    public = bytes.fromhex(key["public_key_hex"])
    assert blob[:4] == hashlib.sha256(name.encode() + b"\n\x01" + public).digest()[:4]
    Ed25519PublicKey.from_public_bytes(public).verify(blob[4:], body.encode())
    encoded = base64.b64encode(bytes([1]) + public).decode()
    verifier = f"{name}+{blob[:4].hex()}+{encoded}"
    assert key["note_verifier_key"] == verifier
    assert client.get("/api/v1/ledger/checkpoint").text == r.text  # one head, one checkpoint


def test_the_json_tree_head_and_public_key_stay_as_they_were(client: TestClient, database: Database) -> None:
    f.board(client, database)
    head = client.get("/api/v1/ledger/tree-head").json()
    assert set(head) == {"tree_size", "root_hash", "timestamp", "key_id", "signature", "signed_message"}
    assert head["signed_message"] == (
        "coop-ledger-tree-head-v1\n"
        + json.dumps(
            {"root_hash": head["root_hash"], "timestamp": head["timestamp"], "tree_size": head["tree_size"]},
            separators=(",", ":"),
        )
    )
    key = client.get("/api/v1/ledger/public-key").json()
    assert {"key_id", "algorithm", "public_key_hex", "public_key_pem"} <= set(key)
    assert key["public_entries"] is True  # COOP_LEDGER_PUBLIC_ENTRIES: entry bundles are public by default
    assert key["algorithm"] == "Ed25519" and key["key_id"] == head["key_id"]


def test_an_empty_log_has_a_checkpoint_of_the_empty_tree_and_no_tiles(client: TestClient) -> None:
    text = client.get("/api/v1/ledger/checkpoint").text
    assert text.split("\n")[1:3] == ["0", base64.b64encode(merkle.EMPTY_ROOT).decode()]
    assert client.get("/api/v1/ledger/tile/0/000.p/1").status_code == 404


def test_full_and_partial_tiles_hold_the_tree(client: TestClient, database: Database) -> None:
    size = fill(database, 300)
    hashes = leaves(database)
    assert len(hashes) == size == 300
    full = client.get("/api/v1/ledger/tile/0/000")
    assert full.status_code == 200 and full.headers["content-type"] == "application/octet-stream"
    assert full.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert full.content == b"".join(hashes[:256])
    partial = client.get("/api/v1/ledger/tile/0/001.p/44")
    assert partial.content == b"".join(hashes[256:]) and partial.headers["cache-control"] == "public, max-age=5"
    assert client.get("/api/v1/ledger/tile/0/001.p/10").content == b"".join(hashes[256:266])  # an older tree's
    above = client.get("/api/v1/ledger/tile/1/000.p/1")
    assert above.content == merkle.root_of_leaf_hashes(hashes[:256])
    bundle = client.get("/api/v1/ledger/tile/entries/000")
    assert bundle.headers["cache-control"] == "public, max-age=31536000, immutable"
    entries = tiles.bundle_entries(bundle.content) + tiles.bundle_entries(
        client.get("/api/v1/ledger/tile/entries/001.p/44").content
    )
    assert [merkle.leaf_hash(e) for e in entries] == hashes
    assert json.loads(entries[299]) | {"time": None} == {
        "seq": 300, "type": FILLER, "actor": "books", "subject": "filler:299", "payload": {"i": 299}, "time": None
    }  # fmt: skip
    # the tiles' hashes give the checkpoint's root
    text = client.get("/api/v1/ledger/checkpoint").text
    assert text.split("\n")[2] == base64.b64encode(merkle.root_of_leaf_hashes(hashes)).decode()


@pytest.mark.parametrize(
    "path",
    [
        *("0/001", "0/001.p/45", "0/002.p/1", "1/000", "1/000.p/2", "2/000.p/1", "entries/001", "entries/001.p/45"),
        *("0/0001", "0/x000/000", "entries/001.p/300", "nothing"),
    ],
)
def test_tiles_beyond_the_checkpoint_or_misspelt_are_not_found(
    client: TestClient, database: Database, path: str
) -> None:
    fill(database, 300)
    r = client.get(f"/api/v1/ledger/tile/{path}")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "tile-not-found"


def test_tiles_wait_for_their_events_signed_head(db_url: str, tmp_path: Path) -> None:
    """Events no signed head covers yet are in no tile: clients fetch tiles for a checkpoint."""
    settings = make_settings(db_url, tmp_path, head_interval_seconds=3600.0)
    database = Database(settings)
    try:
        fill(database, 3)  # the first head is signed at once
        fill(database, 1)  # the next waits for the signing interval
        with TestClient(create_app(settings)) as client:
            assert client.get("/api/v1/ledger/checkpoint").text.split("\n")[1] == "3"
            assert client.get("/api/v1/ledger/tile/0/000.p/3").status_code == 200
            assert client.get("/api/v1/ledger/tile/entries/000.p/4").status_code == 404
    finally:
        database.dispose()


def test_an_event_too_large_for_an_entry_bundle_is_refused(database: Database) -> None:
    at = utcnow()
    empty = len(event_bytes(1, format_time(at), FILLER, "books", "filler:big", '{"x":""}'))
    with database.unit_of_work() as s:
        log.append(s, FILLER, "books", "filler:big", {"x": "a" * (MAX_EVENT_BYTES - empty)}, at=at)
    with pytest.raises(EventError, match="65,535 bytes"), database.unit_of_work() as s:
        log.append(s, FILLER, "books", "filler:big", {"x": "a" * (MAX_EVENT_BYTES - empty + 1)}, at=at)
    with database.unit_of_work(write=False) as s:
        assert log.tree_size(s) == 1
        [event] = log.events_after(s, 0, 10)
    assert len(event.canonical_bytes) == MAX_EVENT_BYTES


def test_an_event_recorded_before_the_limit_is_named_not_served(
    client: TestClient, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as m:
        m.setattr(log, "check_size", lambda data: data)  # as before the limit
        with database.unit_of_work() as s:
            log.append(s, FILLER, "books", "filler:big", {"x": "a" * MAX_EVENT_BYTES})
    fill(database, 1)
    r = client.get("/api/v1/ledger/tile/entries/000.p/2")
    assert r.status_code == 404 and r.json()["code"] == "entry-too-long" and "event 1 " in r.json()["detail"]
    assert len(client.get("/api/v1/ledger/tile/0/000.p/2").content) == 64


def test_the_largest_mandate_fits_an_entry_bundle_many_times_over() -> None:
    """Governance documents go into the ledger whole: the largest valid mandate (a
    conditional rule with every condition for every purpose and user type) in its
    proposal's event stays far below the limit."""
    from coop.governance.documents import Conditions, Mandate, MandateDecision, MandateRule
    from coop.vocabulary.terms import Purpose, UserType
    from ledger import canonical

    conditions = Conditions(
        min_benefit_share_pct=100, open_results=True, processing_in_eu=True, ethics_review=True, max_duration_months=240
    )
    mandate = Mandate(
        rules=[
            MandateRule(purpose=p, user_type=u, decision=MandateDecision.conditional, conditions=conditions)
            for p in Purpose
            for u in UserType
        ]
    )
    body = canonical.dumps({"title": "x" * 200, "body": mandate.model_dump(mode="json"), "kind": "mandate"})
    assert len(body.encode()) * 4 < MAX_EVENT_BYTES


def test_entry_bundles_name_no_member_or_carer(client: TestClient, database: Database) -> None:
    """The tiles are public: a varied cooperative's events (the demo, and a leaver, a renamed
    member with a new address, carers, proxies, votes, permits, reads of members' data)
    name members and carers by id and number only, never by name or email address."""
    from sqlalchemy import text

    from tests.record.test_verification import _build

    _build(database)
    size = int(client.get("/api/v1/ledger/checkpoint").text.split("\n")[1])
    bundles = b"".join(
        client.get(f"/api/v1/ledger/{Tile(ENTRIES, t.index, t.width).path}").content
        for t in tiles.tiles_of(size)
        if t.level == 0
    )
    events = [json.loads(e) for e in tiles.bundle_entries(bundles)]
    assert len(events) == size
    with database.unit_of_work(write=False) as s:
        people = [
            value
            for sql in (
                "SELECT name, email FROM member",
                "SELECT name, email FROM carer",
                "SELECT email, email FROM user_account",
                "SELECT new_email, new_email FROM member_email_change",
            )
            for row in s.execute(text(sql))
            for value in row
            if value
        ]
    earlier = ["New Comer", "Joi Ner", "joiner@coop-test.nl", "joiner@elsewhere.nl", "Carla Zorg", "carla@coop-test.nl"]
    identities = {p for p in people + earlier if p.strip()}
    assert len(identities) > 25
    for identity in identities:
        for form in (identity, json.dumps(identity)[1:-1]):
            assert form.encode() not in bundles, identity
            assert form.lower().encode() not in bundles.lower(), identity
    types = {e["type"] for e in events}
    assert len(types) >= 38, sorted(types)


def test_an_entry_with_a_posting_per_member_fits_a_bundle_and_verifies(database: Database) -> None:
    """A distribution's closing entry has a posting per member: beyond what an event can
    list, the event records the postings' count and SHA-256, and verify proves them so."""
    from coop.record.verification import verify_record
    from ledger import books

    n = 5_000
    codes = [f"liabilities:members:{i}" for i in range(1, n + 1)]
    postings = (
        *(books.Posting(c, -(i + 1)) for i, c in enumerate(codes)),
        books.Posting("assets:bank", n * (n + 1) // 2),
    )
    small = books.Entry(
        "small", utcnow().date(), "two lines", (books.Posting(codes[0], 5), books.Posting(codes[1], -5))
    )
    with database.unit_of_work() as s:
        books.open_accounts(s, [(c, books.Kind.liability, f"member {c}") for c in codes])
        books.open_account(s, "assets:bank", books.Kind.asset, "Bank")
        books.post(s, books.Entry("closing", utcnow().date(), "a posting per member", postings), "books")
        books.post(s, small, "books")
    with database.unit_of_work(write=False) as s:
        events = [e for e in log.events_after(s, 0, 100) if e.type == "money.entry"]
        keys = {database.signer.key_id: database.signer.public_key}
        report = verify_record(s.connection(), database.settings, keys, now=utcnow())
    assert report.ok, report.problems
    big, listed = (json.loads(e.payload)["postings"] for e in events)
    lines = "".join(f'["{a}",{c}]\n' for a, c in postings)
    assert big == {"count": n + 1, "sha256": hashlib.sha256(lines.encode()).hexdigest()}
    assert listed == [[codes[0], 5], [codes[1], -5]]
    assert all(len(e.canonical_bytes) <= MAX_EVENT_BYTES for e in events)
