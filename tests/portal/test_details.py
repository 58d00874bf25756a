"""The portal's details pages: a member corrects their name and asks for a new email address
with forms, the board does so on a member's request, and the link mailed to the new address
confirms it only when its button is pressed (a mail scanner opening it changes nothing)."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import col

from coop.db import Database
from coop.mail.models import MailKind, OutboxMessage
from tests import factories as f

NEW = "anna.nieuw@coop-test.nl"


def _token(database: Database, to: str) -> str:
    with database.unit_of_work(write=False) as s:
        contexts = s.execute(
            select(OutboxMessage.context)
            .where(col(OutboxMessage.kind) == MailKind.email_change_confirm.value, col(OutboxMessage.recipient) == to)
            .order_by(col(OutboxMessage.id))
        ).scalars()
        return str(json.loads(list(contexts)[-1])["token"])


def test_a_member_changes_their_details_and_the_link_confirms_the_new_address(
    client: TestClient, database: Database
) -> None:
    board = f.board(client, database)
    anna = f.member(client, board)
    f.portal_login(client, anna.email)
    page = client.get("/me/details")
    assert page.status_code == 200 and anna.email in page.text and "Mijn naam en e-mail" in page.text
    assert 'href="/me/details"' in client.get("/me").text

    r = client.post("/me/details/name", data={"csrf": f.csrf(page.text), "name": "Anna Bakker"}, follow_redirects=False)
    assert r.headers["location"] == "/me/details?saved=1"
    assert client.get(f"/api/v1/members/{anna.id}", headers=anna.headers).json()["name"] == "Anna Bakker"

    r = client.post("/me/details/email", data={"csrf": f.csrf(page.text), "email": NEW}, follow_redirects=False)
    assert r.headers["location"] == "/me/details?sent=1"
    sent = client.get("/me/details?sent=1").text
    assert "We hebben een link naar het nieuwe e-mailadres gestuurd." in sent and f"Wacht op bevestiging: {NEW}" in sent
    assert client.get(f"/api/v1/members/{anna.id}", headers=anna.headers).json()["email"] == anna.email

    token = _token(database, NEW)
    opened = client.get("/email/confirm", params={"token": token})
    assert opened.status_code == 200 and "Ja, dit adres gebruiken" in opened.text
    assert client.get(f"/api/v1/members/{anna.id}", headers=anna.headers).json()["email"] == anna.email
    done = client.post("/email/confirm", data={"csrf": f.csrf(opened.text), "token": token})
    assert done.status_code == 200 and f"Het e-mailadres is nu {NEW}" in done.text
    assert client.get(f"/api/v1/members/{anna.id}", headers=anna.headers).json()["email"] == NEW

    again = client.post("/email/confirm", data={"csrf": f.csrf(opened.text), "token": token})
    assert again.status_code == 410 and "Deze link is al gebruikt." in again.text
    assert token not in str(again.url), "the one-time token stays out of every address"
    client.post("/logout", data={"csrf": f.csrf(client.get("/me").text)})
    f.portal_login(client, NEW)


def test_a_refused_change_is_said_on_the_details_page(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    anna = f.member(client, board)
    f.portal_login(client, anna.email)
    page = client.get("/me/details")
    r = client.post("/me/details/email", data={"csrf": f.csrf(page.text), "email": anna.email.upper()})
    assert r.status_code == 200 and "Dit e-mailadres hebben we al." in r.text
    r = client.post("/me/details/email", data={"csrf": f.csrf(page.text), "email": "geen adres"})
    assert r.status_code == 200 and "Dit is geen e-mailadres" in r.text
    r = client.post("/me/details/name", data={"name": "Zonder Token"})
    assert r.status_code == 422
    assert client.get(f"/api/v1/members/{anna.id}", headers=anna.headers).json()["name"] != "Zonder Token"


def test_the_board_changes_a_members_details_on_their_request(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    anna, bram = f.members(client, board, 2)
    f.portal_login(client, f.BOARD_EMAIL)
    listing = client.get("/board/members").text
    assert f'href="/board/members/{anna.id}"' in listing, "the list leads to the member's page"
    assert f'href="/board/members/{anna.id}/details"' in client.get(f"/board/members/{anna.id}").text
    page = client.get(f"/board/members/{anna.id}/details")
    assert page.status_code == 200 and f"Gegevens van lid {anna.number}" in page.text
    r = client.post(
        f"/board/members/{anna.id}/details/email",
        data={"csrf": f.csrf(page.text), "email": bram.email},
        follow_redirects=False,
    )
    assert r.headers["location"] == f"/board/members/{anna.id}/details?error=email-taken"
    r = client.post(
        f"/board/members/{anna.id}/details/email",
        data={"csrf": f.csrf(page.text), "email": NEW},
        follow_redirects=False,
    )
    assert r.headers["location"] == f"/board/members/{anna.id}/details?sent=1"
    assert f"Wacht op bevestiging: {NEW}" in client.get(f"/board/members/{anna.id}/details").text
    assert client.post("/api/v1/members/confirm-email", json={"token": _token(database, NEW)}).status_code == 200
    assert client.get(f"/api/v1/members/{anna.id}", headers=board).json()["email"] == NEW


def test_a_member_never_reaches_the_boards_details_page(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    anna, bram = f.members(client, board, 2)
    f.portal_login(client, anna.email)
    assert client.get(f"/board/members/{bram.id}/details").status_code == 403
    page = client.get("/me/details")
    r = client.post(f"/board/members/{bram.id}/details/name", data={"csrf": f.csrf(page.text), "name": "Overgenomen"})
    assert r.status_code == 403
    assert client.get(f"/api/v1/members/{bram.id}", headers=board).json()["name"] != "Overgenomen"
