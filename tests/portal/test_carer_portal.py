"""A member appoints someone who is not a member in the portal; that carer makes a password
from the mailed link, signs in, lands on the members who ask them, accepts, and acts for the
member; the member pages stay closed to them."""

from __future__ import annotations

import html

from fastapi.testclient import TestClient

from coop.db import Database
from tests import factories as f

CARER = "carer.portal@example.org"


def _form(client: TestClient, page: str, url: str, **data: str):  # type: ignore[no-untyped-def]
    return client.post(url, data={"csrf": f.csrf(client.get(page).text), **data}, follow_redirects=False)


def test_a_member_appoints_a_carer_who_signs_in_and_accepts(client: TestClient, database: Database) -> None:
    board = f.founded(client, database)
    anna = f.member(client, board)
    f.portal_login(client, anna.email)
    form = client.get("/me/proxies").text
    assert 'value="carer"' in form and 'name="carer_email"' in form
    refused = _form(client, "/me/proxies", "/me/proxies", kind="carer", carer_name="Carla", carer_email="no-address")
    assert refused.headers["location"] == "/me/proxies?error=carer-details"
    made = _form(
        client,
        "/me/proxies",
        "/me/proxies",
        kind="carer",
        carer_name="Carla Zorg",
        carer_email=CARER,
        purposes="research",
        voting="on",
    )
    assert made.headers["location"] == "/me/proxies?saved=1"
    assert "Carla Zorg" in client.get("/me/proxies").text  # the member sees whom she chose
    client.post("/logout", data={"csrf": f.csrf(client.get("/me").text)})

    f.set_password(client, f.invitation(database, CARER)["token"])
    page = client.get("/login")
    signed = client.post(
        "/login",
        data={"csrf": f.csrf(page.text), "email": CARER, "password": f.CARER_PASSWORD},
        follow_redirects=False,
    )
    assert signed.headers["location"] == "/me/proxies"
    answers = client.get("/me/proxies").text
    assert anna.number in answers and 'action="/me/proxies"' not in answers  # no proxies of their own
    assert 'href="/me/choices"' not in answers and 'href="/me/votes"' not in answers
    appointment = answers.split('action="/me/acting-for/')[1].split("/")[0]
    accepted = _form(client, "/me/proxies", f"/me/acting-for/{appointment}/accept")
    assert accepted.headers["location"] == f"/acting-for/{appointment}"
    assert client.get(f"/acting-for/{appointment}/choices").status_code == 200
    for page_url in ("/me", "/me/choices", "/me/votes", "/me/dividends", "/me/history", "/me/data-use"):
        r = client.get(page_url)
        assert r.status_code == 403, page_url
    assert client.get(f"/board/members/{anna.id}").status_code == 403

    choices = client.get(f"/acting-for/{appointment}/choices").text
    etag = html.unescape(choices.split('name="etag" value="')[1].split('"')[0])
    changed = _form(
        client,
        f"/acting-for/{appointment}/choices",
        f"/acting-for/{appointment}/choices",
        **{"pref:research:academic": "deny", "etag": etag},
    )
    assert changed.headers["location"] == f"/acting-for/{appointment}/choices?saved=1"
    again = f.login(client, anna.email)  # her logging out of the portal ended her earlier tokens
    history = client.get(f"/api/v1/members/{anna.id}/choices/history", headers=again).json()
    assert history[-1]["acting_carer_id"] is not None and history[-1]["acting_proxy_id"] is None
    f.portal_login(client, anna.email)  # the member sees what her carer changed, and who it was
    assert "Gedaan door uw gevolmachtigde Carla Zorg." in client.get("/me/history").text
