"""A proxy in the portal: answers a member who asks, then acts for them within the
appointment (their choices for its purposes, their votes when it includes voting), on pages
that say whom they act for; the ledger of record names the proxy as actor and the member as
subject. Nobody else reaches those pages."""

from __future__ import annotations

import html

from fastapi.testclient import TestClient

from coop.db import Database
from coop.members.models import Member
from tests import factories as f


def _form(client: TestClient, page: str, url: str, **data: str):  # type: ignore[no-untyped-def]
    return client.post(url, data={"csrf": f.csrf(client.get(page).text), **data}, follow_redirects=False)


def _name(database: Database, member: f.MemberHandle) -> str:
    with database.unit_of_work(write=False) as s:
        return s.get_one(Member, member.id).name


def test_a_proxy_accepts_acts_for_the_member_and_votes_for_them(client: TestClient, database: Database) -> None:
    board = f.founded(client, database)
    anna, bram = f.member(client, board), f.member(client, board)
    proposal = f.propose(client, board)
    asked = f.ask_proxy(client, anna, bram, purposes=["research"], voting=True, show_name=True)
    f.portal_login(client, bram.email)
    page = client.get("/me/proxies").text
    assert "Leden die u vragen als gevolmachtigde" in page and f"Lid {anna.number}, voor:" in page
    assert client.get(f"/acting-for/{asked['id']}").status_code == 404  # not before the yes

    accepted = _form(client, "/me/proxies", f"/me/acting-for/{asked['id']}/accept")
    assert accepted.headers["location"] == f"/acting-for/{asked['id']}"
    overview = client.get(f"/acting-for/{asked['id']}").text
    assert f"U treedt op voor {_name(database, anna)} ({anna.number})." in overview  # she agreed to show her name

    choices = client.get(f"/acting-for/{asked['id']}/choices").text
    assert 'name="pref:research:academic"' in choices and 'name="pref:education:academic"' not in choices
    assert 'name="excluded"' not in choices and 'name="donate"' not in choices  # only the member decides those
    saved = _form(
        client,
        f"/acting-for/{asked['id']}/choices",
        f"/acting-for/{asked['id']}/choices",
        **{
            "pref:research:academic": "deny",
            "etag": html.unescape(choices.split('name="etag" value="')[1].split('"')[0]),
        },
    )
    assert saved.headers["location"] == f"/acting-for/{asked['id']}/choices?saved=1"
    theirs = client.get(f"/api/v1/members/{anna.id}/choices", headers=anna.headers).json()
    assert theirs["acting_proxy_id"] == bram.id
    assert {"purpose": "research", "user_type": "academic", "decision": "deny"} in theirs["preferences"]

    votes = client.get(f"/acting-for/{asked['id']}/votes").text
    assert proposal["title"] in votes
    cast = _form(
        client, f"/acting-for/{asked['id']}/votes", f"/acting-for/{asked['id']}/votes/{proposal['id']}", vote="no"
    )
    assert cast.headers["location"] == f"/acting-for/{asked['id']}/votes?saved=1"
    assert "Stem uitgebracht voor dit lid: Tegen" in client.get(f"/acting-for/{asked['id']}/votes").text

    events = client.get("/api/v1/ledger/events", params={"limit": 1000}, headers=board).json()["items"]
    by_bram = [e for e in events if e["subject"] == f"member:{anna.id}" and e["actor"] not in ("cli",)]
    changed = [e for e in by_bram if e["type"] == "choices.changed"][-1]
    assert changed["payload"]["acting_proxy_id"] == bram.id
    accepted_event = next(e for e in events if e["type"] == "proxy.accepted")
    assert accepted_event["actor"] == changed["actor"] != f"member:{anna.id}"
    vote = next(e for e in events if e["type"] == "vote.cast" and e["payload"]["member_id"] == anna.id)
    assert vote["payload"]["proxy_member_id"] == bram.id and vote["actor"] == changed["actor"]

    data_use = client.get(f"/acting-for/{asked['id']}/data-use").text
    assert "Deze vergunningen gebruikten de gegevens van het lid" in data_use and "U treedt op voor" in data_use

    f.portal_login(client, anna.email)  # the member sees what her proxy decided for her
    history = client.get("/me/history").text
    assert bram.number in history


def test_without_her_consent_the_proxy_sees_only_the_member_number(client: TestClient, database: Database) -> None:
    board = f.founded(client, database)
    anna, bram = f.member(client, board), f.member(client, board)
    appointment = f.appointed(client, anna, bram, purposes=["research"])
    f.portal_login(client, bram.email)
    page = client.get(f"/acting-for/{appointment['id']}").text
    assert f"U treedt op voor {anna.number}." in page and _name(database, anna) not in page
    assert "/votes" not in page.split("<main")[1]  # no voting in this appointment
    refused = _form(
        client, f"/acting-for/{appointment['id']}/votes", f"/acting-for/{appointment['id']}/votes/1", vote="yes"
    )
    assert refused.status_code == 303 and "error=" in refused.headers["location"]


def test_nobody_else_reaches_a_proxys_pages(client: TestClient, database: Database) -> None:
    board = f.founded(client, database)
    anna, bram, carl = f.member(client, board), f.member(client, board), f.member(client, board)
    appointment = f.appointed(client, anna, bram, purposes=["research"], voting=True)
    before = client.get(f"/api/v1/members/{anna.id}/choices", headers=anna.headers).json()["version"]
    for who in (carl, anna):
        f.portal_login(client, who.email)
        for url in ("", "/choices", "/votes", "/data-use"):
            assert client.get(f"/acting-for/{appointment['id']}{url}").status_code == 404, (who, url)
        refused = client.post(
            f"/acting-for/{appointment['id']}/choices",
            data={"csrf": f.csrf(client.get("/me").text), "pref:research:academic": "allow"},
            follow_redirects=False,
        )
        assert refused.status_code in (303, 404)
    after = client.get(f"/api/v1/members/{anna.id}/choices", headers=anna.headers).json()["version"]
    assert after == before
    f.portal_login(client, bram.email)
    _form(client, "/me/proxies", f"/me/acting-for/{appointment['id']}/step-down")
    assert client.get(f"/acting-for/{appointment['id']}").status_code == 404  # it ended
