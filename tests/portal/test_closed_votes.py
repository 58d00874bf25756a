"""After a vote closes, a member sees on their votes page what was decided, how many voted
against the quorum, the count, and how their own vote was cast (by them, by their proxy, or
not at all)."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from coop.db import Database
from coop.types import utcnow
from tests import factories as f
from tests.conftest import Clock


def test_a_member_sees_the_outcome_turnout_and_who_cast_their_vote_once_a_vote_closed(
    client: TestClient, database: Database, clock: Clock
) -> None:
    board = f.founded(client, database)
    anna, bram, cor, dirk = (f.member(client, board) for _ in range(4))
    f.appointed(client, cor, bram, voting=True, purposes=["research"])
    proposal = f.propose(client, board, title="Een nieuw beleid", quorum_pct=50)
    assert f.vote(client, anna, proposal["id"], "yes").status_code in (200, 201)
    assert f.vote(client, bram, proposal["id"], "no").status_code in (200, 201)
    assert f.vote(client, bram, proposal["id"], "yes", on_behalf_of=cor.id).status_code in (200, 201)
    with clock.at(utcnow() + timedelta(hours=2)):
        closed = client.post(f"/api/v1/governance/proposals/{proposal['id']}/close", headers=board)
        assert closed.status_code == 200, closed.text
        adopted = closed.json()["status"] == "adopted"

        f.portal_login(client, cor.email)
        page = client.get("/me/votes").text
        assert "Stemmingen die gesloten zijn" in page and "Een nieuw beleid" in page
        assert ("De leden hebben het voorstel aangenomen." in page) == adopted
        assert "3 van de 4 leden die konden stemmen, hebben gestemd: 75%." in page
        assert "Dat is genoeg: minstens 50% moest stemmen." in page
        assert "Voor: 2. Tegen: 1. Onthouden: 0." in page
        assert f"Uw gevolmachtigde {bram.number} heeft voor u gestemd: Voor." in page

        f.portal_login(client, dirk.email)
        assert "U hebt niet gestemd." in client.get("/me/votes").text
        f.portal_login(client, anna.email)
        page = client.get("/me/votes").text
        assert "Uw stem: Voor" in page and "U hebt niet gestemd." not in page
