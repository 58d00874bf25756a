"""Verification's hooks for what the ledger does not know: consumers that reconcile tables
with the events, checkpoints kept outside the database, and events left without a head."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection

from coop.db import Database
from ledger import log
from ledger.log import NewEvent
from ledger.verify import EventRow, Report, verify


class Recorder:
    """A consumer that keeps what it is given."""

    types = ("test.kept",)

    def __init__(self) -> None:
        self.batches: list[list[EventRow]] = []
        self.finished = 0

    def take(self, events: list[EventRow]) -> None:
        self.batches.append(events)

    def finish(self, conn: Connection, report: Report) -> None:
        self.finished += 1
        report.disagree("test_table", "id=1", 1 if report.events else None, "kept for the test")


def _trusted(database: Database) -> dict:
    return {database.signer.key_id: database.signer.public_key}


def test_consumers_see_their_events_once_in_order_then_compare(database: Database) -> None:
    past = datetime(2026, 1, 1, tzinfo=UTC)
    with database.unit_of_work() as s:
        log.append_many(
            s,
            [
                NewEvent("test.kept" if i % 3 else "test.other", "cli", f"test:{i}", {"i": i}, past + timedelta(i))
                for i in range(30)
            ],
        )
    recorder = Recorder()
    with database.unit_of_work(write=False) as s:
        report = verify(s.connection(), _trusted(database), consumers=[recorder])
    seen = [e for batch in recorder.batches for e in batch]
    assert [e[0] for e in seen] == [i + 1 for i in range(30) if i % 3]
    assert {e[2] for e in seen} == {"test.kept"} and seen[0][1] == "2026-01-02T00:00:00.000000+00:00"
    assert recorder.finished == 1
    assert not report.ok and report.first_disagreement is not None
    assert str(report.first_disagreement) == "test_table id=1 (event 1): kept for the test"


def _head(database: Database, events: int):  # type: ignore[no-untyped-def]
    with database.unit_of_work() as s:
        for i in range(events):
            log.append(s, "test.event", "cli", "test:1", {"i": i})
    with database.unit_of_work() as s:
        return log.sign_current_head(s, database.signer)


def test_a_checkpoint_the_log_extends_is_accepted(database: Database) -> None:
    kept = _head(database, 5)
    _head(database, 7)
    with database.unit_of_work(write=False) as s:
        report = verify(s.connection(), _trusted(database), checkpoints=[kept])
    assert report.ok and report.checkpoints == 1


def test_a_checkpoint_beyond_the_log_or_with_another_root_is_refused(database: Database) -> None:
    kept = _head(database, 5)
    beyond = type(kept)(kept.tree_size + 3, kept.root_hash, kept.timestamp, kept.key_id, kept.signature)
    other = database.signer.sign(kept.tree_size, b"\x07" * 32, kept.timestamp)
    with database.unit_of_work(write=False) as s:
        report = verify(s.connection(), _trusted(database), checkpoints=[beyond, other])
    assert any("covers more events than the log holds (5): the log was cut back" in p for p in report.problems)
    assert any("invalid signature" in p for p in report.problems)
    assert any("do not have its root: the log was rewritten" in p for p in report.problems)


def test_events_no_head_covers_may_not_be_older_than_the_deadline(database: Database) -> None:
    _head(database, 4)
    with database.unit_of_work() as s:
        log.append(s, "test.event", "cli", "test:1", {}, at=datetime(2026, 1, 1, tzinfo=UTC))
    with database.write_engine.begin() as conn:
        if database.dialect == "postgresql":
            conn.exec_driver_sql("ALTER TABLE ledger_tree_head DISABLE TRIGGER USER")
        else:
            conn.exec_driver_sql("DROP TRIGGER ledger_tree_head_no_delete")
        conn.exec_driver_sql("DELETE FROM ledger_tree_head WHERE tree_size > 4")
    with database.unit_of_work(write=False) as s:
        late = verify(s.connection(), _trusted(database), unsigned_deadline=datetime(2026, 1, 2, tzinfo=UTC))
        early = verify(s.connection(), _trusted(database), unsigned_deadline=datetime(2025, 12, 31, tzinfo=UTC))
    assert early.ok
    assert not late.ok and late.first_bad_seq == 5
    assert "events 5-5 are not covered by a signed tree head" in late.problems[0]
