"""Choices: versioned, never overwritten, guarded by If-Match, private to the member."""

from __future__ import annotations

from functools import partial

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from coop.auth.policy import Actor, Role
from coop.choices import queries, recount, service
from coop.choices.encoding import Preference
from coop.db import Database
from coop.errors import PreconditionFailed
from coop.types import utcnow
from coop.vocabulary.terms import Purpose, UserType
from ledger import log
from tests import factories as f
from tests.together import together


def _url(member_id: int, tail: str = "") -> str:
    return f"/api/v1/members/{member_id}/choices{tail}"


def _events(database: Database, type_: str) -> list:
    with database.unit_of_work(write=False) as s:
        return [e for e in log.events_after(s, 0, 10_000) if e.type == type_]


def test_a_new_member_follows_the_mandate(client: TestClient, database: Database) -> None:
    m = f.member(client, f.board(client, database))
    r = client.get(_url(m.id), headers=m.headers)
    assert r.status_code == 200
    body = r.json()
    assert body["version"] == 1 and body["is_member"] and not body["opt_out"]
    assert len(body["preferences"]) == 24 and {p["decision"] for p in body["preferences"]} == {"mandate"}
    assert r.headers["ETag"] == f'"{m.id}.1"'


def test_changes_are_new_versions_in_the_ledger(client: TestClient, database: Database) -> None:
    m = f.member(client, f.board(client, database))
    etag = client.get(_url(m.id), headers=m.headers).headers["ETag"]
    patch = {
        "preferences": [{"purpose": "ai-training", "user_type": "commercial", "decision": "deny"}],
        "excluded_categories": ["genetic", "biobanks"],
        "donate_dividend": True,
    }
    r = client.patch(_url(m.id), json=patch, headers={**m.headers, "If-Match": etag})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["version"] == 2 and body["excluded_categories"] == ["genetic", "biobanks"] and body["donate_dividend"]
    pref = next(p for p in body["preferences"] if (p["purpose"], p["user_type"]) == ("ai-training", "commercial"))
    assert pref["decision"] == "deny"
    history = client.get(_url(m.id, "/history"), headers=m.headers).json()
    assert [v["version"] for v in history] == [1, 2]
    assert history[0]["valid_to"] == history[1]["valid_from"]
    assert history[0]["excluded_categories"] == []  # the old version is unchanged
    changed = _events(database, "choices.changed")
    assert len(changed) == 1 and changed[0].subject == f"member:{m.id}"
    assert '"preferences":[["ai-training","commercial","deny"]]' in changed[0].payload


def test_stale_if_match_is_412_and_writes_nothing(client: TestClient, database: Database) -> None:
    m = f.member(client, f.board(client, database))
    first = client.patch(_url(m.id), json={"opt_out": True}, headers={**m.headers, "If-Match": f'"{m.id}.1"'})
    assert first.status_code == 200
    stale = client.patch(_url(m.id), json={"opt_out": False}, headers={**m.headers, "If-Match": f'"{m.id}.1"'})
    assert stale.status_code == 412 and stale.json()["etag"] == f'"{m.id}.2"'
    assert client.get(_url(m.id), headers=m.headers).json()["opt_out"] is True
    assert len(_events(database, "choices.changed")) == 1


def test_a_change_that_changes_nothing_writes_nothing(client: TestClient, database: Database) -> None:
    m = f.member(client, f.board(client, database))
    client.patch(_url(m.id), json={"opt_out": True}, headers=m.headers)
    again = client.patch(_url(m.id), json={"opt_out": True}, headers=m.headers)
    assert again.status_code == 200 and again.json()["version"] == 2
    assert len(_events(database, "choices.changed")) == 1


def test_bad_codes_are_422_and_write_nothing(client: TestClient, database: Database) -> None:
    m = f.member(client, f.board(client, database))
    for body in (
        {"preferences": [{"purpose": "gossip", "user_type": "public", "decision": "allow"}]},
        {"preferences": [{"purpose": "research", "user_type": "aliens", "decision": "allow"}]},
        {"preferences": [{"purpose": "research", "user_type": "public", "decision": "maybe"}]},
        {"excluded_categories": ["horoscopes"]},
        {"opt_out": "perhaps"},
        {"colour": "blue"},
    ):
        r = client.patch(_url(m.id), json=body, headers=m.headers)
        assert r.status_code == 422, body
        assert r.headers["content-type"] == "application/problem+json"
    assert _events(database, "choices.changed") == []


def test_no_yes_to_a_use_the_law_reserves_for_the_public_sector(client: TestClient, database: Database) -> None:
    m = f.member(client, f.board(client, database))
    body = {"preferences": [{"purpose": "statistics", "user_type": "academic", "decision": "allow"}]}
    refused = client.patch(_url(m.id), json=body, headers=m.headers)
    assert refused.status_code == 422 and refused.json()["code"] == "prohibited-use"
    assert refused.json()["field"] == "preferences" and "53(2)" in refused.json()["detail"]
    assert _events(database, "choices.changed") == []
    public = {"preferences": [{"purpose": "statistics", "user_type": "public", "decision": "allow"}]}
    assert client.patch(_url(m.id), json=public, headers=m.headers).status_code == 200
    body["preferences"][0]["decision"] = "deny"  # saying no to it is harmless
    assert client.patch(_url(m.id), json=body, headers=m.headers).status_code == 200


def test_choices_are_private(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    a, b = f.member(client, board), f.member(client, board)
    for method, tail in (("get", ""), ("get", "/history"), ("patch", "")):
        r = client.request(
            method, _url(b.id, tail), headers=a.headers, json={"opt_out": True} if method == "patch" else None
        )
        assert r.status_code == 404
    hdab = f.api_key(database, "hdab")
    assert client.get(_url(b.id), headers=hdab).status_code == 404
    assert client.get(_url(b.id), headers=board).status_code == 200
    assert client.patch(_url(b.id), json={"opt_out": True}, headers=board).status_code == 403


def test_opting_out_and_back_in(client: TestClient, database: Database) -> None:
    m = f.member(client, f.board(client, database))
    assert client.patch(_url(m.id), json={"opt_out": True}, headers=m.headers).json()["opt_out"] is True
    assert client.patch(_url(m.id), json={"opt_out": False}, headers=m.headers).json()["opt_out"] is False
    assert [v["opt_out"] for v in client.get(_url(m.id, "/history"), headers=m.headers).json()] == [False, True, False]


def test_leaving_ends_the_choices(client: TestClient, database: Database) -> None:
    m = f.member(client, f.board(client, database))
    client.post(f"/api/v1/members/{m.id}/leave", headers=m.headers)
    former = f.login(client, m.email)
    body = client.get(_url(m.id), headers=former).json()
    assert body["is_member"] is False and body["version"] == 2
    r = client.patch(_url(m.id), json={"opt_out": True}, headers=former)
    assert r.status_code == 403 and r.json()["code"] == "membership-ended"


def test_concurrent_changes_with_the_same_etag_one_wins(client: TestClient, database: Database) -> None:
    m = f.member(client, f.board(client, database))
    actor = Actor("user", 999, Role.member, member_id=m.id)

    def change(decision: Preference) -> str:
        try:
            with database.unit_of_work() as s:
                patch = service.ChoicePatch(preferences=((Purpose.research, UserType.commercial, decision),))
                service.change(s, actor, m.id, patch, f'"{m.id}.1"', utcnow())
            return "ok"
        except PreconditionFailed:
            return "412"

    outcomes = together(partial(change, Preference.allow), partial(change, Preference.deny))
    assert sorted(outcomes) == ["412", "ok"]
    history = client.get(_url(m.id, "/history"), headers=m.headers).json()
    assert [v["version"] for v in history] == [1, 2]


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE choice_version SET opt_out = NOT opt_out",
        "UPDATE choice_version SET preference_mask = 5",
        "DELETE FROM choice_version",
    ],
)
def test_versions_cannot_be_rewritten(client: TestClient, database: Database, statement: str) -> None:
    f.member(client, f.board(client, database))
    with pytest.raises(DBAPIError, match="written once"), database.unit_of_work() as s:
        s.execute(text(statement))


def test_a_closed_version_stays_closed(client: TestClient, database: Database) -> None:
    m = f.member(client, f.board(client, database))
    client.patch(_url(m.id), json={"opt_out": True}, headers=m.headers)
    with pytest.raises(DBAPIError, match="written once"), database.unit_of_work() as s:
        s.execute(text("UPDATE choice_version SET valid_to = valid_from WHERE version = 1"))


def test_a_member_has_one_open_version_at_most(client: TestClient, database: Database) -> None:
    m = f.member(client, f.board(client, database))
    second = (
        "INSERT INTO choice_version (member_id, version, valid_from, is_member, opt_out, excluded_mask, "
        "preference_mask, donate_dividend, recorded_by) "
        "SELECT member_id, 2, valid_from, is_member, opt_out, excluded_mask, preference_mask, donate_dividend, "
        f"recorded_by FROM choice_version WHERE member_id = {m.id} AND version = 1"
    )
    with pytest.raises(IntegrityError), database.unit_of_work() as s:
        s.execute(text(second))
    with database.unit_of_work() as s:  # closed first, as the services do, it may follow
        s.execute(text(f"UPDATE choice_version SET valid_to = valid_from WHERE member_id = {m.id}"))
        s.execute(text(second))


def test_a_change_rolled_back_leaves_the_session_reading_the_version_open(
    client: TestClient, database: Database
) -> None:
    m = f.member(client, f.board(client, database))
    me = Actor("user", m.id, Role.member, member_id=m.id)
    with database.unit_of_work() as s:
        before = queries.current(s, m.id)
        assert before is not None
        size = log.tree_size(s)
        with pytest.raises(RuntimeError), s.begin_nested():
            service.change(s, me, m.id, service.ChoicePatch(opt_out=True), None, utcnow())
            raise RuntimeError("what followed the change failed")
        again = queries.current(s, m.id)
        assert again is before and again.valid_to is None
        assert [v.opt_out for v in queries.history(s, me, m.id, utcnow())] == [False]
        service.change(s, me, m.id, service.ChoicePatch(donate_dividend=True), None, utcnow())
    with database.unit_of_work(write=False) as s:
        assert [(v.opt_out, v.donate_dividend) for v in queries.history(s, me, m.id, utcnow())] == [
            (False, False),
            (False, True),
        ]
        assert [e.type for e in log.events_after(s, size, 10)] == ["choices.changed"]  # the next number
        assert recount.check(s.connection()) == []
