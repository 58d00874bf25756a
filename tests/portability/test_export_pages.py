"""The portal's "Download my data": the page says in both languages what the files hold and how
a pseudonym proves inclusion, its two downloads are the member's own (also after leaving), and
the board downloads a member's files on their request."""

from __future__ import annotations

import jsonschema
from fastapi.testclient import TestClient

from coop.db import Database
from coop.portability.schemas import published_schema
from tests import factories as f
from tests import pdfs


def test_a_member_downloads_both_files_from_the_portal(client: TestClient, database: Database) -> None:
    _board, people = f.with_members(client, database, 2)
    me, other = people
    f.portal_login(client, me.email)
    page = client.get("/me/export")
    assert page.status_code == 200
    assert "Mijn gegevens downloaden" in page.text and "schuilnaam" in page.text
    assert 'href="/me/export.json"' in page.text and 'href="/me/export.pdf"' in page.text
    english = client.get("/me/export", params={"lang": "en"})
    assert "Download my data" in english.text and "code name" in english.text
    assert 'href="/me/export"' in client.get("/me").text and 'href="/me/export"' in client.get("/me/details").text
    data = client.get("/me/export.json")
    assert data.status_code == 200 and data.headers["content-disposition"].startswith("attachment;")
    jsonschema.Draft202012Validator(published_schema()).validate(data.json())
    assert data.json()["member"]["number"] == me.number and other.email not in data.text
    pdf = client.get("/me/export.pdf")
    assert pdf.status_code == 200 and me.number in pdfs.text(pdf.content)
    refused = client.get(f"/board/members/{other.id}/export.json")
    assert refused.status_code == 403


def test_a_former_member_downloads_from_the_portal(client: TestClient, database: Database) -> None:
    _board, people = f.with_members(client, database, 1)
    (me,) = people
    assert client.post(f"/api/v1/members/{me.id}/leave", headers=me.headers).status_code == 200
    f.portal_login(client, me.email)
    assert client.get("/me/export").status_code == 200
    data = client.get("/me/export.json")
    assert data.status_code == 200 and data.json()["member"]["status"] == "left"
    assert client.get("/me/export.pdf").status_code == 200


def test_the_board_downloads_a_members_files_on_their_request(client: TestClient, database: Database) -> None:
    _board, people = f.with_members(client, database, 1)
    (me,) = people
    f.portal_login(client, f.BOARD_EMAIL)
    details = client.get(f"/board/members/{me.id}/details")
    assert f'href="/board/members/{me.id}/export.pdf"' in details.text
    data = client.get(f"/board/members/{me.id}/export.json")
    assert data.status_code == 200 and data.json()["member"]["number"] == me.number
    pdf = client.get(f"/board/members/{me.id}/export.pdf")
    assert pdf.status_code == 200 and "Uw gegevens bij de coöperatie" in pdfs.text(pdf.content)  # the member's language
    assert client.get("/me/export.json").status_code == 403  # the board user is no member
