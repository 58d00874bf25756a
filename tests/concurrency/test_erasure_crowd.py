"""Erasure in a crowd, on both engines: many clients asking to erase the same former members
while daily runs of ``erase-due`` overlap give no server error, one request event per member
and one erasure event per member and step; the ledger of record verifies afterwards."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta

import httpx
from fastapi.testclient import TestClient

from coop.auth.policy import CLI_ACTOR
from coop.db import Database
from coop.members import erasure
from coop.record.verification import verify_record
from ledger import log
from tests import factories as f
from tests.concurrency.conftest import crowd, statuses
from tests.conftest import Clock


def _erased(database: Database) -> Counter[tuple[str, str]]:
    with database.unit_of_work(write=False) as s:
        return Counter(
            (e.subject, ",".join(json.loads(e.payload)["fields"]))
            for e in log.events_after(s, 0, 100_000)
            if e.type == "member.erased"
        )


def test_requests_and_runs_at_once_erase_each_field_once(
    client: TestClient, database: Database, live_server: str, clock: Clock
) -> None:
    board = f.board(client, database)
    people = f.members(client, board, 3)
    for p in people:
        assert client.post(f"/api/v1/members/{p.id}/leave", headers=board).status_code == 200
    now = f.AFTER
    clock.moment = now

    def ask_and_run(http: httpx.Client, i: int) -> httpx.Response:
        r = http.post(f"/api/v1/members/{people[i % 3].id}/erasure-request", headers=board)
        erasure.erase_due(database, CLI_ACTOR, now, 7)
        return r

    assert set(statuses(crowd(live_server, ask_and_run))) == {200}
    with database.unit_of_work(write=False) as s:
        asked = Counter(e.subject for e in log.events_after(s, 0, 100_000) if e.type == "member.erasure-requested")
    assert asked == Counter({f"member:{p.id}": 1 for p in people})
    contact = ",".join(erasure.CONTACT_FIELDS)
    assert _erased(database) == Counter({(f"member:{p.id}", contact): 1 for p in people})

    later = now + timedelta(days=366 * 7 + 1)
    clock.moment = later

    def run(http: httpx.Client, i: int) -> httpx.Response:
        erasure.erase_due(database, CLI_ACTOR, later, 7)
        return http.get(f"/api/v1/members/{people[i % 3].id}", headers=board)

    answers = crowd(live_server, run)
    assert set(statuses(answers)) == {200}
    assert _erased(database) == Counter({(f"member:{p.id}", field): 1 for p in people for field in (contact, "name")})
    with database.unit_of_work(write=False) as s:
        report = verify_record(
            s.connection(), database.settings, {database.signer.key_id: database.signer.public_key}, now=later
        )
    assert report.problems == []
