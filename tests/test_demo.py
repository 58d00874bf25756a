"""The demo cooperative shows every part working: members with varied choices and proxies,
two adopted votes, permits from three kinds of applicants with manifests, usage with one
compliance breach, results, money in and out, a committed distribution, a grant; and the
ledger of record verifies, every table reconciled with its events."""

from __future__ import annotations

from fastapi.testclient import TestClient

from coop import demo
from coop.db import Database
from coop.mail import queries as mail_queries
from coop.record.verification import verify_record
from coop.types import utcnow
from tests import pdfs
from tests.factories import login


def test_the_demo_cooperative_has_every_part(client: TestClient, database: Database) -> None:
    logins = demo.seed(database, 60)
    board = login(client, demo.BOARD_EMAIL, demo.BOARD_PASSWORD)
    anna = login(client, "anna@demo-coop.nl", demo.MEMBER_PASSWORD)
    assert client.get("/api/v1/members", headers=board).json()["total"] == 60
    proposals = client.get("/api/v1/governance/proposals", headers=board).json()
    assert [p["status"] for p in proposals] == ["adopted", "adopted"]
    hdab = {"Authorization": f"Bearer {logins.keys['hdab']}"}
    permits = client.get("/api/v1/permits", headers=hdab).json()
    assert {p["user_type"] for p in permits} == {"public", "academic", "commercial"}
    flagged = [p for p in permits if client.get(f"/api/v1/permits/{p['id']}/compliance", headers=hdab).json()["flags"]]
    assert len(flagged) == 1  # the permit whose data was used before it was valid
    page = client.get("/api/v1/public/transparency").json()
    (year,) = [f for f in page["benefit_flows"] if f["distributed"]]
    assert year["income_cents"] > year["members_cents"] > 0
    (granted,) = [f for f in page["benefit_flows"] if f["grants_cents"]]  # today: the story began a month ago
    assert granted["grants_cents"] == 150_000
    assert sum(len(p["results"]) for p in page["permits"]) == 2
    report = client.get(f"/api/v1/reports/annual/{granted['year']}.pdf", params={"lang": "en"}, headers=board)
    assert report.status_code == 200 and "Stichting Hartpatiënten Nederland" in pdfs.text(report.content)
    mine = client.get("/api/v1/members/1/dividends", headers=anna).json()
    assert mine["distributions"], "Anna, in every manifest she allows, received a dividend"
    with database.unit_of_work(write=False) as s:  # demo members have their password: no invitations to mail
        assert mail_queries.waiting(s) == 0
    with database.unit_of_work(write=False) as s:  # every table reconciled with the events that made it
        checked = verify_record(
            s.connection(), database.settings, {database.signer.key_id: database.signer.public_key}, now=utcnow()
        )
    assert checked.ok and checked.warnings == [], checked.problems
    pdfs.render_png(report.content, "demo-annual-report")
