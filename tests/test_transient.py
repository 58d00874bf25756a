"""Database trouble is never a 500: a deadlocked transaction runs again and succeeds; a
database that cannot be reached, or a writers' lock not granted in time, answers 503 with
Retry-After and changes nothing; the service recovers by itself on the next request."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from coop.app import create_app
from coop.db import Database
from coop.members.models import Member
from ledger import log
from tests import factories as f
from tests.conftest import POSTGRESQL_ONLY, libpq_url, make_settings, pg_admin, writer_lock_held


def _count(database: Database, email: str) -> int:
    with database.unit_of_work(write=False) as s:
        return int(s.execute(select(func.count()).where(Member.email == email)).scalar_one())


def test_a_writer_that_waits_too_long_gets_503_and_readers_go_on(db_url: str, tmp_path: Path) -> None:
    settings = make_settings(db_url, tmp_path)
    settings.database.busy_timeout_ms = 300
    with TestClient(create_app(settings)) as client:
        board = f.board(client, Database(settings))
        body = {"name": "Ada", "email": "ada@coop-test.nl", "language": "nl"}
        with writer_lock_held(db_url):
            refused = client.post("/api/v1/members", json=body, headers=board)
            assert refused.status_code == 503, refused.text
            assert refused.headers["content-type"] == "application/problem+json"
            assert refused.json()["code"] == "database-unavailable" and int(refused.headers["Retry-After"]) > 0
            assert client.get("/api/v1/members", headers=board).status_code == 200  # readers take no lock
        assert client.post("/api/v1/members", json=body, headers=board).status_code == 201
        with Database(settings).unit_of_work(write=False) as s:
            assert s.execute(select(func.count()).select_from(Member)).scalar_one() == 1


@POSTGRESQL_ONLY  # a server that goes away; SQLite's counterpart is the lock timeout above
def test_a_lost_database_answers_503_and_the_service_recovers(
    db_url: str, client: TestClient, database: Database
) -> None:
    board = f.board(client, database)
    name = make_url(db_url).database
    assert client.get("/api/v1/members", headers=board).status_code == 200  # the pool now holds connections

    def drop_connections(allow: bool) -> None:
        with pg_admin() as admin:
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(allow).lower()}')
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )

    drop_connections(allow=True)  # the server drops every connection, then comes back at once
    assert client.get("/api/v1/members", headers=board).status_code == 200  # dead connections are replaced
    drop_connections(allow=False)  # the server drops every connection and refuses new ones
    try:
        api = client.get("/api/v1/members", headers=board)
        assert api.status_code == 503 and api.json()["code"] == "database-unavailable", api.text
        assert int(api.headers["Retry-After"]) > 0
        write = client.post("/api/v1/members", json={"name": "B", "email": "b@x.nl", "language": "en"}, headers=board)
        assert write.status_code == 503
        client.cookies.set("coop_session", board["Authorization"].split()[1])
        page = client.get("/board/members?lang=en")
        assert page.status_code == 503 and "try again" in page.text and "Retry-After" in page.headers
        client.cookies.clear()
        assert client.get("/health").status_code == 200
    finally:
        with pg_admin() as admin:
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    assert client.get("/api/v1/members", headers=board).status_code == 200
    assert _count(database, "b@x.nl") == 0


@POSTGRESQL_ONLY  # SQLite writers take the one write lock at BEGIN and cannot deadlock
def test_a_deadlocked_transaction_runs_again(db_url: str, database: Database, live_server: str) -> None:
    """Another transaction (outside the application) inserts a member with an email and,
    before committing, asks for the writers' lock, while the application, holding that
    lock, waits to insert the same email: a real deadlock, which PostgreSQL resolves by
    aborting the application's transaction. The application runs it again and succeeds."""
    with TestClient(create_app(database.settings)) as setup:
        board = f.board(setup, database)
    body = {"name": "Ada", "email": "ada@coop-test.nl", "language": "nl"}
    answer: list[httpx.Response] = []
    with psycopg.connect(libpq_url(db_url)) as other:
        other.execute(
            "INSERT INTO member (name, email, language, status, admitted_at) "
            "VALUES ('Other', %s, 'nl', 'active', now())",
            (body["email"],),
        )
        admit = threading.Thread(
            target=lambda: answer.append(
                httpx.post(f"{live_server}/api/v1/members", json=body, headers=board, timeout=60)
            )
        )
        admit.start()
        for _ in range(500):  # until the application waits for the other transaction's row (not, say, for the
            with pg_admin() as admin:  # writers' lock while the server signs a tree head)
                waiting = admin.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock' "
                    "AND wait_event = 'transactionid'",
                    (make_url(db_url).database,),
                ).fetchone()
            if waiting and waiting[0]:
                break
            time.sleep(0.01)
        else:
            pytest.fail("the application never waited for the other transaction")
        # The backend that waited deadlock_timeout first finds the deadlock and gives way: the other
        # transaction waits longer than the application's, so that is always the application's
        # (on a loaded machine the two checks could otherwise fire in either order).
        other.execute("SET LOCAL deadlock_timeout = '30s'")
        other.execute(f"SELECT pg_advisory_xact_lock({log.WRITE_LOCK_KEY})")  # granted once the application gave way
        other.rollback()
        admit.join(timeout=60)
    assert answer and answer[0].status_code == 201, answer[0].text if answer else "no answer"
    assert _count(database, body["email"]) == 1
