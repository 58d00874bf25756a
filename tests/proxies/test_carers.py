"""A member appoints someone who is not a member (a parent, guardian or carer): the carer gets
a proxy-only login by invitation, accepts, and acts for the member within the appointment,
never as a member themselves."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from coop.auth.models import UserAccount
from coop.carers.models import Carer
from coop.db import Database
from ledger import canonical, log
from tests import factories as f

CARER = "carla@example.org"


def _events(database: Database, typ: str) -> list[Event]:
    with database.unit_of_work(write=False) as s:
        return [
            Event(e.actor, e.subject, canonical.loads(e.payload))
            for e in log.events_after(s, 0, 10_000)
            if e.type == typ
        ]


@dataclass
class Event:
    actor: str
    subject: str
    payload: Any


def _as_carer(client: TestClient, database: Database, principal: f.MemberHandle, **body: object) -> tuple[dict, dict]:
    asked = f.ask_carer(client, principal, CARER, **body)
    headers = f.signed_in_carer(client, database, CARER)
    r = client.post(f"/api/v1/carers/me/acting-for/{asked['id']}/accept", headers=headers)
    assert r.status_code == 200, r.text
    return r.json(), headers


def test_a_member_appoints_a_carer_who_is_invited_and_accepts(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    principal = f.member(client, board)
    asked = f.ask_carer(client, principal, CARER, purposes=["research"], show_name=True)
    assert (asked["proxy_member_id"], asked["waiting"], asked["active"]) == (None, True, False)
    assert asked["proxy_carer_id"] is not None
    mail = f.invitation(database, CARER)
    assert mail["token"] and mail["principal"].endswith(f"({principal.number})") and mail["name"] == "Carla Zorg"
    with database.unit_of_work(write=False) as s:
        account = s.execute(select(UserAccount).where(UserAccount.carer_id == asked["proxy_carer_id"])).scalar_one()  # type: ignore[arg-type]
        assert (account.role, account.member_id, account.email) == ("carer", None, CARER)
    headers = f.signed_in_carer(client, database, CARER)
    listed = client.get("/api/v1/carers/me/acting-for", headers=headers).json()
    assert [a["id"] for a in listed] == [asked["id"]]
    accepted = client.post(f"/api/v1/carers/me/acting-for/{asked['id']}/accept", headers=headers)
    assert accepted.status_code == 200 and accepted.json()["active"]
    appointed = _events(database, "proxy.appointed")[-1]
    assert (
        appointed.payload["proxy_carer_id"] == asked["proxy_carer_id"] and appointed.payload["proxy_member_id"] is None
    )
    registered = _events(database, "carer.registered")
    assert [e.payload for e in registered] == [{"language": "en"}]  # no name, no email in the ledger
    assert CARER not in str([e.payload for e in _events(database, "account.created")])


def test_an_existing_carer_is_reused_and_a_login_address_is_refused(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    one, two = f.member(client, board), f.member(client, board)
    first = f.ask_carer(client, one, CARER)
    second = f.ask_carer(client, two, CARER.upper(), name="Another Name")
    assert first["proxy_carer_id"] == second["proxy_carer_id"]
    assert f.invitation(database, CARER)["token"] is None  # known: no new link, an invitation to answer
    three = f.member(client, board)
    taken = client.post(
        f"/api/v1/members/{three.id}/proxies",
        json={"carer": {"name": "X", "email": two.email}},
        headers=three.headers,
    )
    assert taken.status_code == 409 and taken.json()["code"] == "carer-email-taken"


def test_exactly_one_kind_of_proxy(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    principal, other = f.member(client, board), f.member(client, board)
    carer = {"name": "C", "email": CARER}
    for body in ({}, {"proxy_member_id": other.id, "carer": carer}):
        r = client.post(f"/api/v1/members/{principal.id}/proxies", json=body, headers=principal.headers)
        assert r.status_code == 422, r.text
    r = client.post(f"/api/v1/members/{other.id}/proxies", json={"carer": carer}, headers=principal.headers)
    assert r.status_code == 404  # nobody else appoints for a member, nor learns of them
    with database.unit_of_work(write=False) as s:
        assert s.execute(select(Carer)).first() is None


def test_a_carer_changes_choices_within_scope_only(client: TestClient, database: Database) -> None:
    board = f.founded(client, database)
    principal = f.member(client, board)
    _, headers = _as_carer(client, database, principal, purposes=["research"])
    url = f"/api/v1/members/{principal.id}/choices"
    inside = {"preferences": [{"purpose": "research", "user_type": "academic", "decision": "deny"}]}
    r = client.patch(url, json=inside, headers=headers)
    assert r.status_code == 200, r.text
    outside = {"preferences": [{"purpose": "education", "user_type": "academic", "decision": "deny"}]}
    r = client.patch(url, json=outside, headers=headers)
    assert r.status_code == 403 and r.json()["code"] == "outside-proxy-scope"
    assert client.patch(url, json={"opt_out": True}, headers=headers).status_code == 403
    changed = _events(database, "choices.changed")[-1]
    assert changed.subject == f"member:{principal.id}" and changed.actor.startswith("user:")
    assert changed.payload["acting_carer_id"] is not None and changed.payload["acting_proxy_id"] is None
    effective = client.get(
        f"/api/v1/members/{principal.id}/effective",
        params={"purpose": "research", "user_type": "academic"},
        headers=principal.headers,
    )
    assert effective.status_code == 200, effective.text
    assert (effective.json()["decision"], effective.json()["reason"]) == ("deny", "own-choice")


def test_a_carer_votes_for_the_member_only_with_voting_and_never_for_themselves(
    client: TestClient, database: Database
) -> None:
    board = f.founded(client, database)
    principal, other = f.member(client, board), f.member(client, board)
    proposal = f.propose(client, board)
    _, headers = _as_carer(client, database, principal, voting=True)
    url = f"/api/v1/governance/proposals/{proposal['id']}/votes"
    own = client.post(url, json={"vote": "yes"}, headers=headers)
    assert own.status_code == 403 and own.json()["code"] == "not-a-voter"
    stranger = client.post(url, json={"vote": "yes", "on_behalf_of": other.id}, headers=headers)
    assert stranger.status_code == 403 and stranger.json()["code"] == "not-a-voter"
    voted = client.post(url, json={"vote": "no", "on_behalf_of": principal.id}, headers=headers)
    assert voted.status_code == 201, voted.text
    cast = _events(database, "vote.cast")[-1]
    assert cast.payload["member_id"] == principal.id and cast.payload["proxy_carer_id"] is not None


def test_a_carer_without_voting_does_not_vote(client: TestClient, database: Database) -> None:
    board = f.founded(client, database)
    principal = f.member(client, board)
    proposal = f.propose(client, board)
    _, headers = _as_carer(client, database, principal)
    url = f"/api/v1/governance/proposals/{proposal['id']}/votes"
    r = client.post(url, json={"vote": "yes", "on_behalf_of": principal.id}, headers=headers)
    assert r.status_code == 403 and r.json()["code"] == "not-a-voter"


def test_a_carer_reads_no_member_and_no_record_of_their_own(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    principal, other = f.member(client, board), f.member(client, board)
    _, headers = _as_carer(client, database, principal, purposes=["research"])
    for url in (
        f"/api/v1/members/{other.id}",
        f"/api/v1/members/{other.id}/choices",
        f"/api/v1/members/{principal.id}",
        f"/api/v1/members/{principal.id}/proxies",
        f"/api/v1/members/{principal.id}/dividends",
    ):
        assert client.get(url, headers=headers).status_code in (403, 404), url
    assert client.get(f"/api/v1/members/{principal.id}/choices", headers=headers).status_code == 200
    assert client.get("/api/v1/members", headers=headers).status_code == 403


def test_leaving_ends_the_carer_appointment(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    principal = f.member(client, board)
    accepted, headers = _as_carer(client, database, principal)
    r = client.post(f"/api/v1/members/{principal.id}/leave", headers=principal.headers)
    assert r.status_code == 200, r.text
    listed = client.get("/api/v1/carers/me/acting-for", headers=headers)
    assert listed.status_code == 200 and not listed.json()[0]["active"]  # the login stays
    revoked = _events(database, "proxy.revoked")[-1]
    assert revoked.payload == {"appointment_id": accepted["id"], "reason": "principal-left"}
