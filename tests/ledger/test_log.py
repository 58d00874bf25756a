"""The ledger of record in a real database: appends, proofs, concurrency, immutability,
and verification that names the first altered event."""

from __future__ import annotations

import threading
import time
from typing import Any

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import Session

from coop.db import Database
from ledger import log, merkle
from ledger.events import EventError, event_bytes
from ledger.models import STORED_FROM_LEVEL
from ledger.signing import key_id
from ledger.verify import verify


def _append(database: Database, n: int, subject: str = "test:1") -> None:
    with database.unit_of_work() as s:
        for i in range(n):
            log.append(s, "test.event", "cli", subject, {"i": i})


def _verify(database: Database):  # type: ignore[no-untyped-def]
    with database.unit_of_work(write=False) as s:
        return verify(s.connection(), {database.signer.key_id: database.signer.public_key})


def test_append_numbers_densely_and_proofs_verify(database: Database) -> None:
    for batch in (1, 2, 5, 1, 13, 49):
        _append(database, batch)
    with database.unit_of_work(write=False) as s:
        events = log.events_after(s, 0, 100)
        size = log.tree_size(s)
        assert [e.seq for e in events] == list(range(1, 72)) and size == 71
        leaves = [e.leaf_hash for e in events]
        for n in (1, 7, 16, 22, 33, 64, 71):
            assert log.root_at(s, n) == merkle.root_of_leaf_hashes(leaves[:n])
            for seq in range(1, n + 1):
                p = log.inclusion_proof(s, seq, n)
                merkle.verify_inclusion(leaves[seq - 1], seq - 1, n, p.path, p.root_hash)
        for first in (1, 7, 16, 22, 33, 64, 71):
            c = log.consistency_proof(s, first, 71)
            merkle.verify_consistency(first, 71, c.path, c.first_root, c.second_root)
    assert _verify(database).ok


def test_rollback_leaves_no_trace(database: Database) -> None:
    _append(database, 3)
    with pytest.raises(RuntimeError), database.unit_of_work() as s:
        log.append(s, "test.event", "cli", "test:1", {})
        raise RuntimeError("the state change failed")
    _append(database, 1)
    with database.unit_of_work(write=False) as s:
        assert [e.seq for e in log.events_after(s, 0, 10)] == [1, 2, 3, 4]
    assert _verify(database).ok


@pytest.mark.parametrize("appended_before", [0, 2])
def test_a_savepoint_rolled_back_takes_its_events_and_the_next_takes_their_numbers(
    database: Database, appended_before: int
) -> None:
    _append(database, 3)
    with database.unit_of_work() as s:
        for i in range(appended_before):
            log.append(s, "test.event", "cli", "test:1", {"i": i})
        with pytest.raises(RuntimeError), s.begin_nested():
            log.append(s, "test.event", "cli", "test:2", {})
            log.append(s, "test.event", "cli", "test:2", {})
            raise RuntimeError("what followed the events failed")
        after = log.append(s, "test.event", "cli", "test:3", {})
        assert after.seq == 3 + appended_before + 1
        with s.begin_nested():  # released: its event stays
            log.append(s, "test.event", "cli", "test:4", {})
    with database.unit_of_work(write=False) as s:
        events = log.events_after(s, 0, 100)
        assert [e.seq for e in events] == list(range(1, 3 + appended_before + 3))
        assert [e.subject for e in events[-2:]] == ["test:3", "test:4"]
    _append(database, 1)
    assert _verify(database).ok


@pytest.mark.parametrize("bad", [{"amount": 1.5}, {"é": 1}])
def test_bad_payload_is_refused(database: Database, bad: dict) -> None:
    with pytest.raises(EventError), database.unit_of_work() as s:
        log.append(s, "test.event", "cli", "test:1", bad)


def test_bad_token_is_refused(database: Database) -> None:
    with pytest.raises(EventError), database.unit_of_work() as s:
        log.append(s, "test event", "cli", "test:1", {})


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_event SET payload = '{}' WHERE seq = 1",
        "DELETE FROM ledger_event WHERE seq = 1",
        "UPDATE ledger_event SET leaf_hash = leaf_hash",
        "UPDATE ledger_node SET hash = hash",
        "DELETE FROM ledger_tree_head",
    ],
)
def test_database_refuses_changes_to_the_ledger(database: Database, statement: str) -> None:
    _append(database, 16)  # 16 events complete the first stored subtree
    with pytest.raises((DBAPIError, IntegrityError)) as info, database.unit_of_work() as s:
        s.execute(text(statement))
    assert "append-only" in str(info.value)


def test_database_refuses_emptying_the_ledger(database: Database) -> None:
    """TRUNCATE on PostgreSQL; on SQLite an unqualified DELETE is its truncate."""
    _append(database, 1)
    statement = "TRUNCATE ledger_event" if database.dialect == "postgresql" else "DELETE FROM ledger_event"
    with pytest.raises(DBAPIError, match="append-only"), database.unit_of_work() as s:
        s.execute(text(statement))


def _drop_guards(database: Database) -> None:
    """What an attacker with database access would do first."""
    with database.write_engine.begin() as conn:
        if database.dialect == "postgresql":
            for t in ("ledger_event", "ledger_node", "ledger_tree_head"):
                conn.exec_driver_sql(f"ALTER TABLE {t} DISABLE TRIGGER USER")
        else:
            for t in ("ledger_event", "ledger_node", "ledger_tree_head"):
                for a in ("update", "delete"):
                    conn.exec_driver_sql(f"DROP TRIGGER {t}_no_{a}")


def test_verify_names_the_first_altered_event(database: Database) -> None:
    _append(database, 40)
    _drop_guards(database)
    with database.write_engine.begin() as conn:
        conn.exec_driver_sql("UPDATE ledger_event SET payload = '{\"i\":999}' WHERE seq IN (17, 30)")
    report = _verify(database)
    assert not report.ok and report.first_bad_seq == 17


def test_verify_catches_a_consistent_rewrite_through_the_signed_heads(database: Database) -> None:
    """Rewriting an event, its leaf hash and every stored subtree above it still breaks
    the signed heads, which the forger cannot re-sign."""
    _append(database, 20)
    _append(database, 20)
    _drop_guards(database)
    mark = "%s" if database.dialect == "postgresql" else "?"
    with database.write_engine.begin() as conn:
        rows = conn.exec_driver_sql(
            "SELECT seq, recorded_at, type, actor, subject, payload FROM ledger_event ORDER BY seq"
        ).all()
        conn.exec_driver_sql("DELETE FROM ledger_node")
        nodes: dict = {}
        tree = merkle.CompactRange(on_node=nodes.__setitem__)
        for seq, t, typ, actor, subj, payload in rows:
            if seq == 5:
                payload = '{"i":12345}'
            leaf = merkle.leaf_hash(event_bytes(seq, t, typ, actor, subj, payload))
            conn.exec_driver_sql(
                f"UPDATE ledger_event SET payload = {mark}, leaf_hash = {mark} WHERE seq = {mark}", (payload, leaf, seq)
            )
            tree.push(leaf)
        for (level, idx), h in nodes.items():
            if level >= STORED_FROM_LEVEL:
                conn.exec_driver_sql(
                    f"INSERT INTO ledger_node (level, idx, hash) VALUES ({mark}, {mark}, {mark})", (level, idx, h)
                )
    report = _verify(database)
    assert not report.ok
    assert report.first_bad_seq == 20  # the first signed head the rewrite broke covers events 1-20
    assert any("signed tree head" in p for p in report.problems)


def test_verify_catches_an_altered_stored_subtree(database: Database) -> None:
    _append(database, 40)
    _drop_guards(database)
    with database.write_engine.begin() as conn:
        conn.exec_driver_sql(
            "UPDATE ledger_node SET hash = (SELECT leaf_hash FROM ledger_event WHERE seq = 1)"
            " WHERE level = 4 AND idx = 1"
        )
    report = _verify(database)
    assert not report.ok and report.first_bad_seq == 17


HEAD = "events up to 100 do not match the signed tree head of that size"
ALTERATIONS = {
    "nothing": ("SELECT 1", [], None),
    "a stored subtree": (
        "UPDATE ledger_node SET hash = (SELECT leaf_hash FROM ledger_event WHERE seq = 1) WHERE level = 5 AND idx = 1",
        ["stored subtree over events 33-64 does not match them"],
        33,
    ),
    "an event": (
        "UPDATE ledger_event SET payload = '{\"i\":999}' WHERE seq = 50",
        ["event 50 does not match its recorded leaf hash", HEAD],  # the subtrees hold the recorded hashes
        50,
    ),
    "an event and its leaf hash": (
        "UPDATE ledger_event SET payload = '{\"i\":999}', leaf_hash = (SELECT leaf_hash FROM ledger_event "
        "WHERE seq = 1) WHERE seq = 50",
        ["event 50 does not match its recorded leaf hash"]
        + [f"stored subtree over events {a}-{b} does not match them" for a, b in ((49, 64), (33, 64), (1, 64))]
        + [HEAD],
        1,
    ),
    "a deleted event": (  # the log is read no further than the gap (on PostgreSQL its query is cancelled)
        "DELETE FROM ledger_event WHERE seq = 50",
        ["sequence gap: expected event 50, found 51"]
        + [
            f"level {level} holds {stored} stored subtrees; the events make {made}"
            for level, stored, made in ((4, 6, 3), (5, 3, 1), (6, 1, 0))
        ]
        + ["signed tree head of size 100 is beyond the log of 49 events"],
        50,
    ),
}


@pytest.mark.parametrize("batch", [7, 16, 20_000])
@pytest.mark.parametrize("altered", list(ALTERATIONS))
def test_verify_a_log_of_many_batches(
    database: Database, monkeypatch: pytest.MonkeyPatch, batch: int, altered: str
) -> None:
    """The log read a batch at a time (here of 7 or 16 events, or all at once) is checked
    as a whole: the root, every stored subtree once, and what was altered named."""
    _append(database, 100)  # stored subtrees: 6 of 16 events, 3 of 32, 1 of 64; a head over all
    with database.unit_of_work(write=False) as s:
        leaves = [e.leaf_hash for e in log.events_after(s, 0, 100)]
    _drop_guards(database)
    statement, problems, first_bad = ALTERATIONS[altered]
    with database.write_engine.begin() as conn:
        conn.exec_driver_sql(statement)
    monkeypatch.setattr("ledger.verify.BATCH", batch)
    report = _verify(database)
    assert (report.events, report.nodes, report.heads) == (49 if altered == "a deleted event" else 100, 10, 1)
    assert (report.problems, report.first_bad_seq) == (problems, first_bad)
    if altered in ("nothing", "a stored subtree"):  # the root of the events as they are
        assert report.root_hash == merkle.root_of_leaf_hashes(leaves)


def test_heads_signed_by_an_unknown_key_are_reported(database: Database) -> None:
    _append(database, 3)
    with database.unit_of_work(write=False) as s:
        report = verify(s.connection(), {})
    assert not report.ok and "untrusted key" in report.problems[0]
    assert key_id(database.signer.public_key) == database.signer.key_id


def test_concurrent_writers_never_fork_or_gap(database: Database) -> None:
    writers, per_writer = 8, 15
    errors: list[BaseException] = []

    def work(w: int) -> None:
        try:
            for i in range(per_writer):
                with database.unit_of_work() as s:
                    log.append(s, "test.event", "cli", f"writer:{w}", {"i": i})
                    log.append(s, "test.event", "cli", f"writer:{w}", {"i": i, "second": True})
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with database.unit_of_work(write=False) as s:
        events = log.events_after(s, 0, 10_000)
    assert [e.seq for e in events] == list(range(1, writers * per_writer * 2 + 1))
    # each transaction's two events are adjacent: nobody interleaved inside a transaction
    for first, second in zip(events[::2], events[1::2], strict=True):
        assert first.subject == second.subject and '"second":true' in second.payload
    report = _verify(database)
    assert report.ok, report.problems
    assert report.heads >= 1


def test_two_processes_appending_in_turn_keep_one_tree(database: Database) -> None:
    """Each Database remembers the tree's edge after its own commits; the other's appends
    make that memory stale, and the appender must notice and reload."""
    other = Database(database.settings)
    try:
        for turn in range(6):
            writer = database if turn % 2 == 0 else other
            with writer.unit_of_work() as s:
                for i in range(turn + 3):
                    log.append(s, "test.event", "cli", f"writer:{turn % 2}", {"i": i})
    finally:
        other.dispose()
    report = _verify(database)
    assert report.ok, report.problems
    assert report.events == sum(turn + 3 for turn in range(6))


def test_verify_reads_the_log_in_its_own_snapshot(database: Database) -> None:
    """The log may be read on a connection of its own (PostgreSQL): it still shows what the
    verifying transaction sees, not events appended since it began."""
    _append(database, 40)
    with database.unit_of_work(write=False) as s:
        one_snapshot = {"isolation_level": "REPEATABLE READ"} if database.dialect == "postgresql" else {}
        conn = s.connection(execution_options=one_snapshot)
        assert conn.exec_driver_sql("SELECT count(*) FROM ledger_event").scalar_one() == 40  # the snapshot is taken
        _append(database, 7)
        report = verify(conn, {database.signer.key_id: database.signer.public_key})
    assert report.ok, report.problems
    assert (report.events, report.heads) == (40, 1)
    assert _verify(database).events == 47


def test_verify_within_a_savepoint_or_a_writing_transaction_or_without_a_second_connection(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where the log cannot be read apart (a savepoint cannot export its snapshot; another
    connection would not see a transaction's own writes; the server may refuse another
    connection), it is read on the verifying connection."""
    _append(database, 40)
    trusted = {database.signer.key_id: database.signer.public_key}
    with database.unit_of_work(write=False) as s, s.begin_nested():
        report = verify(s.connection(), trusted)
    assert report.ok and report.events == 40, report.problems
    with Session(database.write_engine) as s:  # a transaction of its own (no group, no savepoint)
        for i in range(10):
            log.append(s, "test.event", "cli", "test:1", {"i": i})
        report = verify(s.connection(), trusted)
        s.rollback()
    assert report.ok and report.events == 50, report.problems

    refused: list[object] = []
    connect = psycopg.connect

    def full(*args: Any, **kwargs: Any) -> None:
        refused.append(args)
        raise psycopg.OperationalError("FATAL: sorry, too many clients already")

    def elsewhere(*args: Any, **kwargs: Any) -> Any:  # another server (or database) has not that snapshot
        refused.append(args)
        return connect(*args, **{**kwargs, "dbname": "postgres"})

    for server in (full, elsewhere):
        with database.unit_of_work(write=False) as s:
            conn = s.connection()  # drawn from the pool before the server is full
            monkeypatch.setattr(psycopg, "connect", server)
            report = verify(conn, trusted)
            monkeypatch.setattr(psycopg, "connect", connect)
        assert report.ok and report.events == 40, report.problems
    assert len(refused) == (2 if database.dialect == "postgresql" else 0)


def test_verify_that_stops_at_a_gap_while_batches_wait_ends(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The log's batches are read ahead: when verification stops at a gap while the reader
    has queued the last batches and is handing over its end, neither waits for the other."""
    _append(database, 100)
    _drop_guards(database)
    with database.write_engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM ledger_event WHERE seq = 75")
    monkeypatch.setattr("ledger.verify.BATCH", 10)
    reports: list[Any] = []

    def slowly(_n: int) -> None:
        time.sleep(0.05)  # the reader gets ahead: the queue is full when the gap is found

    def run() -> None:
        with database.unit_of_work(write=False) as s:
            reports.append(verify(s.connection(), {database.signer.key_id: database.signer.public_key}, slowly))

    verifying = threading.Thread(target=run, daemon=True)
    verifying.start()
    verifying.join(60)
    assert not verifying.is_alive(), "verification hung at the gap"
    assert reports[0].first_bad_seq == 75
