"""The board's page of one member: status, login, choices in summary and proxies both ways,
with the actions the board takes on the member's request (a new invitation, leaving after
ticking that the member asked). Members do not get it."""

from __future__ import annotations

from fastapi.testclient import TestClient

from coop.db import Database
from tests import factories as f


def test_the_board_sees_a_member_and_ends_the_membership_on_their_request(
    client: TestClient, database: Database
) -> None:
    board = f.founded(client, database)
    anna, bram = f.member(client, board), f.member(client, board)
    r = client.patch(
        f"/api/v1/members/{anna.id}/choices",
        json={
            "preferences": [{"purpose": "research", "user_type": "commercial", "decision": "deny"}],
            "sensitive_yes": ["biobanks"],
        },
        headers=anna.headers,
    )
    assert r.status_code == 200, r.text
    f.appointed(client, anna, bram, purposes=["innovation"])
    invited = f.admit_over_http(client, board)["member"]

    f.portal_login(client, f.BOARD_EMAIL)
    listing = client.get("/board/members")
    assert f'href="/board/members/{anna.id}"' in listing.text
    page = client.get(f"/board/members/{anna.id}")
    assert page.status_code == 200 and f"Lid {anna.number}" in page.text
    assert "wetenschappelijk onderzoek, bedrijf: nee" in page.text
    assert "Eigen ja voor gevoelige gegevens: Biobanken" in page.text
    assert f"Lid {bram.number} is de gevolmachtigde, voor:" in page.text
    assert "heeft een wachtwoord gemaakt" in page.text and f'href="/board/members/{anna.id}/details"' in page.text
    assert f"Treedt op voor lid {anna.number}" in client.get(f"/board/members/{bram.id}").text
    new = client.get(f"/board/members/{invited['id']}").text
    assert "heeft nog geen wachtwoord gemaakt" in new and f'action="/board/members/{invited["id"]}/invitation"' in new

    unsure = client.post(f"/board/members/{anna.id}/leave", data={"csrf": f.csrf(page.text)}, follow_redirects=False)
    assert unsure.headers["location"] == f"/board/members/{anna.id}?error=not-confirmed"
    assert client.get(f"/api/v1/members/{anna.id}", headers=board).json()["status"] == "active"
    done = client.post(
        f"/board/members/{anna.id}/leave", data={"csrf": f.csrf(page.text), "asked": "yes"}, follow_redirects=False
    )
    assert done.headers["location"] == f"/board/members/{anna.id}?saved=1"
    assert client.get(f"/api/v1/members/{anna.id}", headers=board).json()["status"] == "left"
    after = client.get(f"/board/members/{anna.id}").text
    assert "Beëindig het lidmaatschap" not in after and "is de gevolmachtigde" not in after, "proxies ended"


def test_a_member_does_not_get_the_boards_member_page(client: TestClient, database: Database) -> None:
    board = f.founded(client, database)
    anna, bram = f.member(client, board), f.member(client, board)
    f.portal_login(client, anna.email)
    assert client.get(f"/board/members/{bram.id}").status_code == 403
    me = client.get("/me")
    r = client.post(f"/board/members/{bram.id}/leave", data={"csrf": f.csrf(me.text), "asked": "yes"})
    assert r.status_code == 403
    assert client.get(f"/api/v1/members/{bram.id}", headers=board).json()["status"] == "active"


def test_the_boards_admission_form_checks_the_email_as_the_api_does(client: TestClient, database: Database) -> None:
    board = f.founded(client, database)
    f.portal_login(client, f.BOARD_EMAIL)
    page = client.get("/board/members")
    form = {"csrf": f.csrf(page.text), "name": "Dirk Dekker", "email": "dirk.at.coop-test.nl", "language": "nl"}
    refused = client.post("/board/members", data=form, follow_redirects=False)
    assert refused.status_code == 303 and refused.headers["location"] == "/board/members?error=invalid-email"
    assert 'role="alert"' in client.get(refused.headers["location"]).text
    assert client.get("/api/v1/members", headers=board).json()["total"] == 0, "nobody admitted"
    admitted = client.post("/board/members", data={**form, "email": "dirk@coop-test.nl"})
    assert admitted.status_code == 200 and client.get("/api/v1/members", headers=board).json()["total"] == 1
