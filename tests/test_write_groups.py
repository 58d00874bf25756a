"""Group commit on PostgreSQL: many writers of one process in one transaction, each in its
own savepoint. Every write acknowledged is durable and in the log once, in a chain without
gap or fork; a writer whose work fails changes nothing and the rest of its group commits; a
COMMIT that fails fails every member of its group, and none of their work is kept."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, text
from sqlmodel import Session

from coop.auth.policy import CLI_ACTOR, Actor, Role
from coop.choices import service as choices
from coop.choices.encoding import Preference
from coop.db import Database, Trouble, trouble
from coop.money import service as money
from coop.record.verification import verify_record
from coop.settings import Settings
from coop.types import utcnow
from coop.vocabulary.terms import Purpose, UserType
from tests import factories as f
from tests.concurrency.conftest import crowd, statuses
from tests.conftest import POSTGRESQL_ONLY, libpq_url, make_settings

pytestmark = POSTGRESQL_ONLY


@pytest.fixture
def grouped(db_url: str, tmp_path: Path) -> Iterator[Database]:
    """The database of the app under test, with groups that wait for everyone queued."""
    settings = make_settings(db_url, tmp_path)
    patient = settings.database.model_copy(update={"group_max_age_ms": 60_000})
    db = Database(settings.model_copy(update={"database": patient}))
    assert db.groups is not None
    yield db
    db.dispose()


def _one_group(db: Database, works: list[Callable[[Session], Any]]) -> list[Any]:
    """Run each work in a unit of work of its own thread, all in one group: the first writer
    takes the turn and holds it until all the others wait for theirs. Results (or the
    exceptions raised) in order."""
    assert db.groups is not None
    groups = db.groups
    results: list[Any] = [None] * len(works)

    def run(i: int) -> None:
        try:
            with db.unit_of_work() as session:
                session.execute(text("SELECT 1"))  # join the group (take the turn)
                if i == 0:
                    for t in others:
                        t.start()
                    while groups.waiting() < len(works) - 1:
                        threading.Event().wait(0.001)
                results[i] = works[i](session)
        except Exception as exc:
            results[i] = exc

    others = [threading.Thread(target=run, args=(i,)) for i in range(1, len(works))]
    first = threading.Thread(target=run, args=(0,))
    first.start()
    first.join()
    for t in others:
        t.join()
    return results


def _change(member_id: int, k: int) -> Callable[[Session], Any]:
    actor = Actor("user", member_id, Role.member, member_id=member_id)
    pairs = [(p, u) for p in Purpose for u in UserType]
    purpose, user_type = pairs[k % len(pairs)]
    patch = choices.ChoicePatch(preferences=((purpose, user_type, Preference.deny),), donate_dividend=bool(k % 2))
    return lambda s: choices.change(s, actor, member_id, patch, None, utcnow())


def _events(db: Database) -> list[tuple[int, str, str]]:
    with db.unit_of_work(write=False) as s:
        rows = s.execute(text("SELECT seq, type, subject FROM ledger_event ORDER BY seq"))
        return [(int(seq), str(kind), str(subject)) for seq, kind, subject in rows]


def _verified(db: Database) -> None:
    keys = {db.signer.key_id: db.signer.public_key}
    with db.unit_of_work(write=False) as s:
        report = verify_record(s.connection(), db.settings, keys, now=utcnow())
    assert report.ok, report.problems


def _member_ids(client: TestClient, database: Database, n: int) -> list[int]:
    _board, people = f.with_members(client, database, n)
    return [p.id for p in people]


def test_a_crowd_of_writers_commits_together_and_each_change_is_in_the_log_once(
    client: TestClient, database: Database, grouped: Database
) -> None:
    members = _member_ids(client, database, 12)
    before = len(_events(grouped))
    commits: list[object] = []
    event.listen(grouped.write_engine, "commit", commits.append)
    results = _one_group(grouped, [_change(m, k) for k, m in enumerate(members)])
    assert not [r for r in results if isinstance(r, Exception)]
    assert len(commits) == 1  # one COMMIT for the twelve
    new = _events(grouped)[before:]
    assert [seq for seq, _, _ in new] == list(range(before + 1, before + 1 + len(new)))  # no gap, no fork
    changed = [s for _, _, s in new if s.startswith("member:")]
    assert sorted(changed) == sorted(f"member:{m}" for m in members)  # each acknowledged change, once
    assert not grouped.unsigned  # the group's head was signed with it
    _verified(grouped)


def test_a_writer_whose_work_fails_changes_nothing_and_its_group_commits(
    client: TestClient, database: Database, grouped: Database
) -> None:
    members = _member_ids(client, database, 6)
    before = len(_events(grouped))

    def failing(session: Session) -> None:
        _change(members[3], 3)(session)
        raise ValueError("the writer's own mistake")

    works = [_change(m, k) for k, m in enumerate(members)]
    works[3] = failing
    results = _one_group(grouped, works)
    assert isinstance(results[3], ValueError)
    assert not [r for i, r in enumerate(results) if isinstance(r, Exception) and i != 3]
    new = _events(grouped)[before:]
    subjects = [s for _, _, s in new]
    assert f"member:{members[3]}" not in subjects
    assert sorted(s for s in subjects if s.startswith("member:")) == sorted(
        f"member:{m}" for i, m in enumerate(members) if i != 3
    )
    assert [seq for seq, _, _ in new] == list(range(before + 1, before + 1 + len(new)))
    _verified(grouped)


def test_a_commit_that_fails_fails_every_member_and_keeps_nothing(
    client: TestClient, database: Database, grouped: Database, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    members = _member_ids(client, database, 5)
    before = len(_events(grouped))
    assert grouped.groups is not None
    commit = grouped.groups._commit

    def cut_off(group: Any) -> Any:  # the server goes away just before the COMMIT
        pid = group.conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        with psycopg.connect(libpq_url(db_url), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        return commit(group)

    monkeypatch.setattr(grouped.groups, "_commit", cut_off)
    results = _one_group(grouped, [_change(m, k) for k, m in enumerate(members)])
    assert all(isinstance(r, Exception) and trouble(r) is Trouble.unavailable for r in results)  # 503, not 500
    assert _events(grouped)[before:] == []
    monkeypatch.undo()
    again = _one_group(grouped, [_change(m, k) for k, m in enumerate(members)])  # the service recovers
    assert not [r for r in again if isinstance(r, Exception)]
    _verified(grouped)


def test_the_same_payment_sent_by_many_writers_of_one_group_is_booked_once(
    client: TestClient, database: Database, grouped: Database
) -> None:
    _hdab, permit, _people = f.registered(client, database, members=1)

    def pay(amount: int) -> Callable[[Session], Any]:
        return lambda s: money.payment(
            s, CLI_ACTOR, "inv-7", permit["id"], date(2026, 3, 1), amount, "fee", now=utcnow()
        )

    results = _one_group(grouped, [pay(5_000)] * 6 + [pay(4_000)])
    assert [written for _entry, written in results[:6]] == [True] + [False] * 5
    assert isinstance(results[6], Exception) and getattr(results[6], "code", "") == "entry-differs"
    with grouped.unit_of_work(write=False) as s:
        booked = s.execute(text("SELECT count(*) FROM ledger_event WHERE subject = 'entry:payment:inv-7'"))
        assert booked.scalar_one() == 1
    _verified(grouped)


def test_without_group_commit_each_writer_commits_alone(db_url: str, tmp_path: Path) -> None:
    settings: Settings = make_settings(db_url, tmp_path)
    alone = settings.model_copy(update={"database": settings.database.model_copy(update={"group_commit": False})})
    db = Database(alone)
    try:
        assert db.groups is None
        with db.unit_of_work() as s:
            assert (
                s.execute(
                    text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()")
                ).scalar_one()
                == 1
            )
    finally:
        db.dispose()


@pytest.mark.parametrize("group_commit", [True, False])
def test_every_write_transaction_holds_the_lock_and_waits_no_longer_than_the_busy_timeout(
    db_url: str, tmp_path: Path, group_commit: bool
) -> None:
    """The writers' lock and the lock timeout are taken in one round trip when a write
    transaction begins; both hold for the whole transaction, and only for it."""
    settings: Settings = make_settings(db_url, tmp_path)
    database = settings.database.model_copy(update={"group_commit": group_commit, "busy_timeout_ms": 4321})
    db = Database(settings.model_copy(update={"database": database}))
    try:
        with db.unit_of_work() as s:
            held = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
            assert s.execute(text(held)).scalar_one() == 1
            assert s.execute(text("SHOW lock_timeout")).scalar_one() == "4321ms"
            s.execute(text("SAVEPOINT later"))  # still so after the first statements
            assert s.execute(text("SHOW lock_timeout")).scalar_one() == "4321ms"
        with db.read_engine.connect() as conn:  # set for the transaction only
            assert conn.execute(text("SHOW lock_timeout")).scalar_one() == "0"
    finally:
        db.dispose()


def test_a_crowd_of_clients_larger_than_the_worker_threads_all_get_their_change(
    client: TestClient, database: Database, live_server: str
) -> None:
    """More writers than the server's 40 worker threads: none may wait for its turn on a
    thread that the writer whose turn it is needs to answer (they would all answer 503)."""
    _board, people = f.with_members(client, database, 48)
    before = len(_events(database))

    def change(http: httpx.Client, i: int) -> httpx.Response:
        person = people[i]
        body = {"donate_dividend": True}
        return http.patch(f"/api/v1/members/{person.id}/choices", json=body, headers=person.headers)

    assert statuses(crowd(live_server, change, n=len(people))) == [200] * len(people)
    changed = [s for _, kind, s in _events(database)[before:] if kind == "choices.changed"]
    assert sorted(changed) == sorted(f"member:{p.id}" for p in people)
    _verified(database)
