"""The ledger of record over HTTP: signed heads, events and proofs an auditor can check
with nothing but ``ledger.merkle`` and an Ed25519 library."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from coop.app import create_app
from coop.db import Database
from ledger import log, merkle
from ledger.canonical import encode
from ledger.models import LedgerTreeHead
from tests import factories as f
from tests.conftest import make_settings, writer_lock_held


def _populate(client: TestClient, database: Database, members: int = 6) -> dict[str, str]:
    board = f.board(client, database)
    for _ in range(members):
        f.admit_over_http(client, board)
    return board


def test_tree_head_is_signed_by_the_served_key(client: TestClient, database: Database) -> None:
    _populate(client, database)
    head = client.get("/api/v1/ledger/tree-head").json()
    key = client.get("/api/v1/ledger/public-key").json()
    assert head["key_id"] == key["key_id"] and head["tree_size"] > 0
    public = Ed25519PublicKey.from_public_bytes(bytes.fromhex(key["public_key_hex"]))
    public.verify(bytes.fromhex(head["signature"]), head["signed_message"].encode())
    assert f'"root_hash":"{head["root_hash"]}"' in head["signed_message"]


def test_events_page_in_order_and_hash_as_documented(client: TestClient, database: Database) -> None:
    auditor = f.api_key(database, "auditor")
    _populate(client, database)
    seen, after = [], 0
    while True:
        page = client.get("/api/v1/ledger/events", params={"after_seq": after, "limit": 4}, headers=auditor).json()
        seen += page["items"]
        if page["next_after_seq"] is None:
            break
        after = page["next_after_seq"]
    assert [e["seq"] for e in seen] == list(range(1, len(seen) + 1))
    for e in seen:
        body = {k: e[k] for k in ("seq", "time", "type", "actor", "subject", "payload")}
        assert merkle.leaf_hash(encode(body)).hex() == e["leaf_hash"]
    leaves = [bytes.fromhex(e["leaf_hash"]) for e in seen]
    head = client.get("/api/v1/ledger/tree-head").json()
    assert merkle.root_of_leaf_hashes(leaves[: head["tree_size"]]).hex() == head["root_hash"]


def test_events_are_not_for_members_or_hdab(client: TestClient, database: Database) -> None:
    board = _populate(client, database, 1)
    m = f.member(client, board)
    assert client.get("/api/v1/ledger/events", headers=m.headers).status_code == 403
    assert client.get("/api/v1/ledger/events", headers=f.api_key(database, "hdab")).status_code == 403
    assert client.get("/api/v1/ledger/events").status_code == 401


def test_inclusion_proofs_verify(client: TestClient, database: Database) -> None:
    auditor = f.api_key(database, "auditor")
    _populate(client, database, 9)
    events = client.get("/api/v1/ledger/events", params={"limit": 1000}, headers=auditor).json()["items"]
    size = len(events)
    for tree_size in (1, size // 2, size):
        for e in events[:tree_size]:
            p = client.get("/api/v1/ledger/proofs/inclusion", params={"seq": e["seq"], "tree_size": tree_size}).json()
            assert p["leaf_hash"] == e["leaf_hash"]
            merkle.verify_inclusion(
                bytes.fromhex(p["leaf_hash"]),
                p["leaf_index"],
                tree_size,
                [bytes.fromhex(h) for h in p["audit_path"]],
                bytes.fromhex(p["root_hash"]),
            )


def test_consistency_proofs_verify_between_signed_heads(client: TestClient, database: Database) -> None:
    board = _populate(client, database, 3)
    old = client.get("/api/v1/ledger/tree-head").json()
    for _ in range(5):
        f.admit_over_http(client, board)
    new = client.get("/api/v1/ledger/tree-head").json()
    p = client.get(
        "/api/v1/ledger/proofs/consistency", params={"first": old["tree_size"], "second": new["tree_size"]}
    ).json()
    assert p["first_root"] == old["root_hash"] and p["second_root"] == new["root_hash"]
    merkle.verify_consistency(
        old["tree_size"],
        new["tree_size"],
        [bytes.fromhex(h) for h in p["proof"]],
        bytes.fromhex(old["root_hash"]),
        bytes.fromhex(new["root_hash"]),
    )


def test_proofs_outside_the_log_are_422(client: TestClient, database: Database) -> None:
    _populate(client, database, 1)
    size = client.get("/api/v1/ledger/tree-head").json()["tree_size"]
    for path, params in [
        ("inclusion", {"seq": size + 1}),
        ("inclusion", {"seq": 1, "tree_size": size + 1}),
        ("inclusion", {"seq": 0}),
        ("inclusion", {"seq": "one"}),
        ("consistency", {"first": size + 1}),
        ("consistency", {"first": 2, "second": 1}),
        ("consistency", {"first": 1, "second": size + 5}),
    ]:
        r = client.get(f"/api/v1/ledger/proofs/{path}", params=params)
        assert r.status_code == 422, (path, params, r.text)
        assert r.headers["content-type"] == "application/problem+json"


def _heads(database: Database) -> int:
    with database.unit_of_work(write=False) as s:
        return int(s.execute(select(func.count()).select_from(LedgerTreeHead)).scalar_one())


def test_reading_the_tree_head_never_writes(db_url: str, tmp_path: Path) -> None:
    """With an hour between heads, the first commit signs one and later commits wait for the
    schedule: reading the head a hundred times, even while another writer holds the writers'
    lock, signs nothing."""
    settings = make_settings(db_url, tmp_path, head_interval_seconds=3600.0)
    database = Database(settings)
    with TestClient(create_app(settings)) as client:
        board = _populate(client, database, 2)
        first = client.get("/api/v1/ledger/tree-head").json()
        f.admit_over_http(client, board)
        stored = _heads(database)
        with writer_lock_held(db_url):
            for _ in range(100):
                assert client.get("/api/v1/ledger/tree-head").json() == first
        assert _heads(database) == stored
    database.dispose()


def test_the_schedule_signs_what_commits_left_unsigned(db_url: str, tmp_path: Path) -> None:
    settings = make_settings(db_url, tmp_path, head_interval_seconds=2.0)
    database = Database(settings)
    with TestClient(create_app(settings)) as client:
        board = _populate(client, database, 2)
        f.admit_over_http(client, board)  # a second commit within the interval: not signed at commit
        with database.unit_of_work(write=False) as s:
            size = log.tree_size(s)
        for _ in range(100):
            if client.get("/api/v1/ledger/tree-head").json()["tree_size"] == size:
                break
            time.sleep(0.1)
        else:
            pytest.fail("no head covered the newest events after five seconds")
    database.dispose()


def test_an_empty_log_shows_the_signed_empty_tree_and_stores_nothing(client: TestClient, database: Database) -> None:
    head = client.get("/api/v1/ledger/tree-head").json()
    assert head["tree_size"] == 0 and head["root_hash"] == merkle.EMPTY_ROOT.hex()
    assert _heads(database) == 0
