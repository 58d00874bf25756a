"""Leaving the cooperative: appointments on both sides end in the same transaction (each
principal falls back to the mandate, in both engines), a former member acts for nobody,
invitations from before cannot be used, logins end, and a former member may still read
their own record, and nothing else."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta
from functools import partial

from fastapi.testclient import TestClient
from sqlmodel import select

from coop.auth.secrets import sha256_hex
from coop.db import Database
from coop.decisions import bulk
from coop.decisions.rules import Decision, Reason
from coop.decisions.service import effective
from coop.members.models import Invitation
from coop.proxies.models import ProxyAppointment
from coop.types import utcnow
from coop.vocabulary.terms import Purpose, UserType
from ledger import log
from tests import factories as f
from tests.together import together

RESEARCH_ACADEMIC = {"purpose": "research", "user_type": "academic"}  # the example mandate allows it


def _setup(client: TestClient, database: Database) -> dict[str, str]:
    f.statutes(database)
    return f.board(client, database)


def _appoint(client: TestClient, principal: f.MemberHandle, proxy: f.MemberHandle, **body: object) -> dict:
    r = client.post(
        f"/api/v1/members/{principal.id}/proxies",
        json={"proxy_member_id": proxy.id, **body},
        headers=principal.headers,
    )
    assert r.status_code == 201, r.text
    return r.json()


def _leave(client: TestClient, who: f.MemberHandle, headers: dict[str, str] | None = None) -> dict:
    r = client.post(f"/api/v1/members/{who.id}/leave", headers=headers or who.headers)
    assert r.status_code == 200, r.text
    return r.json()


def _again(client: TestClient, who: f.MemberHandle) -> f.MemberHandle:
    """Logged in afresh (leaving ended the member's logins)."""
    return f.MemberHandle(who.id, who.number, who.email, f.login(client, who.email))


def _events(database: Database, kind: str) -> list:
    with database.unit_of_work(write=False) as s:
        return [e for e in log.events_after(s, 0, 10_000) if e.type == kind]


def test_a_proxy_who_leaves_ends_their_appointments(client: TestClient, database: Database) -> None:
    board = _setup(client, database)
    principal, proxy = f.member(client, board), f.member(client, board)
    appointment = _appoint(client, principal, proxy, purposes=["research"], voting=True)
    client.patch(  # the proxy's own choice, which the principal followed
        f"/api/v1/members/{proxy.id}/choices",
        json={"preferences": [{**RESEARCH_ACADEMIC, "decision": "deny"}]},
        headers=proxy.headers,
    )
    left = _leave(client, proxy)
    (listed,) = client.get(f"/api/v1/members/{principal.id}/proxies", headers=principal.headers).json()
    assert listed["id"] == appointment["id"] and listed["active"] is False and listed["revoked_at"] == left["left_at"]
    (revoked,) = _events(database, "proxy.revoked")
    assert revoked.subject == f"member:{principal.id}" and revoked.actor == _events(database, "member.left")[0].actor
    assert json.loads(revoked.payload) == {"appointment_id": appointment["id"], "reason": "proxy-left"}
    # the principal falls back to the mandate, not to the departed proxy's 'no'
    answer = client.get(
        f"/api/v1/members/{principal.id}/effective", params=RESEARCH_ACADEMIC, headers=principal.headers
    ).json()
    assert (answer["decision"], answer["reason"], answer["chain"]) == ("allow", "mandate", [principal.id])


def test_both_engines_agree_after_a_proxy_left(client: TestClient, database: Database) -> None:
    board = _setup(client, database)
    principal, proxy, bystander = f.member(client, board), f.member(client, board), f.member(client, board)
    _appoint(client, principal, proxy, purposes=["research"])
    client.patch(
        f"/api/v1/members/{proxy.id}/choices",
        json={"preferences": [{**RESEARCH_ACADEMIC, "decision": "deny"}]},
        headers=proxy.headers,
    )
    _leave(client, proxy)
    with database.unit_of_work(write=False) as s:
        now = utcnow()
        one_by_one = Counter(
            (e.decision, e.reason)
            for e in (
                effective(s, m.id, Purpose.research, UserType.academic, [], now) for m in (principal, proxy, bystander)
            )
        )
        cohort = bulk.cohort_counts(s, [Purpose.research], UserType.academic, [], now)
        eligible = set(bulk.eligible_members(s, [Purpose.research], UserType.academic, [], now))
    assert cohort.outcomes == one_by_one
    assert one_by_one == Counter({(Decision.allow, Reason.mandate): 2, (Decision.deny, Reason.not_member): 1})
    assert eligible == {principal.id, bystander.id}


def test_a_member_who_leaves_ends_the_appointments_made_for_them(client: TestClient, database: Database) -> None:
    board = _setup(client, database)
    principal, proxy = f.member(client, board), f.member(client, board)
    appointment = _appoint(client, principal, proxy)
    _leave(client, principal, board)
    (revoked,) = _events(database, "proxy.revoked")
    assert json.loads(revoked.payload) == {"appointment_id": appointment["id"], "reason": "principal-left"}
    assert client.get(f"/api/v1/members/{principal.id}/choices", headers=proxy.headers).status_code == 404
    held = client.get(f"/api/v1/members/{proxy.id}/proxies", headers=proxy.headers).json()
    assert [a["active"] for a in held] == [False]


def test_a_former_member_acts_for_nobody(client: TestClient, database: Database) -> None:
    board = _setup(client, database)
    principal, proxy = f.member(client, board), f.member(client, board)
    _appoint(client, principal, proxy, voting=True)
    p = f.propose(client, board)
    _leave(client, proxy)
    former = _again(client, proxy)
    url = f"/api/v1/members/{principal.id}/choices"
    assert client.get(url, headers=former.headers).status_code == 404
    assert client.get(url + "/history", headers=former.headers).status_code == 404
    assert client.patch(url, json={"opt_out": True}, headers=former.headers).status_code == 404
    vote = f.vote(client, former, p["id"], "yes", on_behalf_of=principal.id)
    assert vote.status_code == 403 and vote.json()["code"] == "membership-ended"
    assert client.get(url, headers=principal.headers).json()["opt_out"] is False


def test_a_former_member_reads_their_own_record_and_does_nothing_else(client: TestClient, database: Database) -> None:
    board = _setup(client, database)
    me, other = f.member(client, board), f.member(client, board)
    _appoint(client, me, other, purposes=["research"])
    p = f.propose(client, board)
    _leave(client, me)
    token = client.post("/api/v1/auth/token", data={"username": me.email, "password": f.PASSWORD}).json()
    assert token["role"] == "former_member" and token["member_id"] == me.id
    former = _again(client, me)
    year = utcnow().year
    for path in (
        "",
        "/choices",
        "/choices/history",
        "/choices/fhir",
        "/proxies",
        "/data-use",
        "/dividends",
        f"/statement/{year}.pdf",
    ):
        assert client.get(f"/api/v1/members/{me.id}{path}", headers=former.headers).status_code == 200, path
    effective_now = client.get(f"/api/v1/members/{me.id}/effective", params=RESEARCH_ACADEMIC, headers=former.headers)
    assert effective_now.json()["reason"] == "not-member"
    refused = [
        client.patch(f"/api/v1/members/{me.id}/choices", json={"opt_out": True}, headers=former.headers),
        client.post(f"/api/v1/members/{me.id}/proxies", json={"proxy_member_id": other.id}, headers=former.headers),
        client.post(f"/api/v1/members/{me.id}/proxies/1/revoke", headers=former.headers),
        f.vote(client, former, p["id"], "yes"),
        client.get("/api/v1/governance/proposals", headers=former.headers),
    ]
    for r in refused:
        assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json", r.text
    assert [r.json()["code"] for r in refused[:4]] == ["membership-ended"] * 4
    assert client.post(f"/api/v1/members/{me.id}/leave", headers=former.headers).status_code == 200  # changes nothing
    assert len(_events(database, "member.left")) == 1


def test_an_invitation_from_before_leaving_cannot_be_used(client: TestClient, database: Database) -> None:
    board = _setup(client, database)
    admitted = f.admit(client, board)
    member_id = admitted["member"]["id"]
    assert client.post(f"/api/v1/members/{member_id}/leave", headers=board).status_code == 200
    accept = {"token": admitted["invitation_token"], "password": f.PASSWORD}
    r = client.post("/api/v1/auth/accept-invitation", json=accept)
    assert r.status_code == 422 and r.json()["code"] == "invitation-invalid"  # withdrawn when leaving
    r = client.post(f"/api/v1/members/{member_id}/invitation", headers=board)
    assert r.status_code == 409 and r.json()["code"] == "member-left"
    with database.unit_of_work() as s:  # an invitation left open by a version that did not withdraw at leaving
        now = utcnow()
        s.add(
            Invitation(
                member_id=member_id,
                token_hash=sha256_hex("left-open-token"),
                created_at=now,
                expires_at=now + timedelta(hours=1),
            )
        )
    r = client.post("/api/v1/auth/accept-invitation", json={**accept, "token": "left-open-token"})
    assert r.status_code == 410 and r.json()["code"] == "member-left"


def test_simultaneous_appointments_of_a_leaving_proxy_all_end(client: TestClient, database: Database) -> None:
    """Members appoint a proxy while that proxy leaves (twice at once): whatever the order,
    no appointment of the former member stays in force, leaving is recorded once, and no
    request is answered with a 500."""
    board = _setup(client, database)
    proxy = f.member(client, board)
    principals = [f.member(client, board) for _ in range(8)]
    appointing = [
        partial(client.post, f"/api/v1/members/{p.id}/proxies", json={"proxy_member_id": proxy.id}, headers=p.headers)
        for p in principals
    ]
    leaving = [partial(client.post, f"/api/v1/members/{proxy.id}/leave", headers=board)] * 2
    statuses = Counter(r.status_code for r in together(*appointing, *leaving))
    assert set(statuses) <= {200, 201, 422} and statuses[500] == 0, statuses
    with database.unit_of_work(write=False) as s:
        appointments = s.exec(select(ProxyAppointment).where(ProxyAppointment.proxy_member_id == proxy.id)).all()
    assert len(appointments) == statuses[201]
    assert all(a.revoked_at is not None for a in appointments)
    assert len(_events(database, "member.left")) == 1
    assert len(_events(database, "proxy.revoked")) == len(appointments)


def test_revoking_while_the_proxy_leaves_ends_each_appointment_once(client: TestClient, database: Database) -> None:
    board = _setup(client, database)
    proxy = f.member(client, board)
    principals = [f.member(client, board) for _ in range(8)]
    appointments = {p.id: _appoint(client, p, proxy)["id"] for p in principals}
    revoking = [
        partial(client.post, f"/api/v1/members/{p.id}/proxies/{appointments[p.id]}/revoke", headers=p.headers)
        for p in principals
    ]
    leaving = partial(client.post, f"/api/v1/members/{proxy.id}/leave", headers=board)
    statuses = Counter(r.status_code for r in together(*revoking, leaving))
    assert statuses == Counter({200: len(principals) + 1})
    revoked = [json.loads(e.payload)["appointment_id"] for e in _events(database, "proxy.revoked")]
    assert sorted(revoked) == sorted(appointments.values())  # each ended once, by one or the other


def test_accepting_an_invitation_while_leaving_takes_turns(client: TestClient, database: Database) -> None:
    """The same invitation accepted by many clients while the board ends the membership:
    at most one account, no answer is a 500, and leaving is recorded once."""
    board = _setup(client, database)
    admitted = f.admit(client, board)
    member_id = admitted["member"]["id"]
    accept = {"token": admitted["invitation_token"], "password": f.PASSWORD}
    accepting = [partial(client.post, "/api/v1/auth/accept-invitation", json=accept)] * 8
    leaving = partial(client.post, f"/api/v1/members/{member_id}/leave", headers=board)
    statuses = Counter(r.status_code for r in together(*accepting, leaving))
    assert set(statuses) <= {200, 201, 410, 422} and statuses[200] == 1 and statuses[201] <= 1, statuses
    assert len(_events(database, "member.left")) == 1
    assert len(_events(database, "account.created")) == statuses[201] + 1  # and the board's
