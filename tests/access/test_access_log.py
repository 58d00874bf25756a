"""The access log: every read of a member's data by someone else is recorded once (the board's
pages, lists and API reads, a proxy's or carer's reads, a statement the board produces, each
manifest download), the member's own reads never; a member sees only the reads of their own
data, and nobody but the member and the board sees any; an auditor reads counts only."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text, update
from sqlalchemy.exc import DBAPIError
from sqlmodel import col

from coop.access import queries
from coop.db import Database
from coop.mail.models import MailStatus, OutboxMessage
from coop.types import utcnow
from ledger import log
from tests import factories as f

RESEARCH = {"purpose": "research", "user_type": "academic"}


def _records(database: Database) -> list[dict[str, Any]]:
    """The access log, oldest first, with the members each list showed."""
    with database.unit_of_work(write=False) as s:
        rows = s.execute(
            text("SELECT id, role, reader, purpose, what, member_id, manifest_id FROM access_record ORDER BY id")
        ).all()
        listed = s.execute(text("SELECT record_id, member_id FROM access_record_member")).all()
    members: dict[int, list[int]] = {}
    for record, member in listed:
        members.setdefault(record, []).append(member)
    return [{**dict(r._mapping), "members": sorted(members.get(r.id, []))} for r in rows]


class Log:
    """The records added since the last look."""

    def __init__(self, database: Database) -> None:
        self.database, self.seen = database, len(_records(database))

    def new(self) -> list[dict[str, Any]]:
        rows = _records(self.database)
        out, self.seen = rows[self.seen :], len(rows)
        return out

    def one(self) -> dict[str, Any]:
        [row] = self.new()
        return row


def _kinds(rows: list[dict[str, Any]]) -> list[tuple[str, str, str, int | None]]:
    return [(r["role"], r["purpose"], r["what"], r["member_id"]) for r in rows]


def test_each_read_by_the_board_over_the_api_is_one_record(client: TestClient, database: Database) -> None:
    board = f.founded(client, database)
    people = f.members(client, board, 2)
    me = people[0]
    log_ = Log(database)
    base = f"/api/v1/members/{me.id}"
    for path in ("", "/choices", "/choices/history", "/choices/fhir", "/choices/agreed", "/export", "/export.pdf"):
        assert client.get(base + path, headers=board).status_code == 200, path
    assert client.get(base + "/effective", params=RESEARCH, headers=board).status_code == 200
    rows = log_.new()
    assert _kinds(rows) == [
        ("board", "member-administration", what, me.id)
        for what in ("member-page", "choices", "history", "fhir-consent", "history", "export", "export", "decision")
    ]
    assert all(r["reader"].startswith("user:") for r in rows)
    listed = client.get("/api/v1/members", params={"limit": 500}, headers=board)
    assert listed.status_code == 200
    shown = sorted(m["id"] for m in listed.json()["items"])
    row = log_.one()
    assert (row["what"], row["member_id"], row["members"]) == ("member-list", None, shown)
    assert {p.id for p in people} <= set(shown)


def test_the_members_export_holds_who_looked_and_the_boards_download_is_itself_recorded(
    client: TestClient, database: Database
) -> None:
    board = f.founded(client, database)
    me = f.member(client, board)
    assert client.get(f"/api/v1/members/{me.id}", headers=board).status_code == 200
    assert client.get(f"/api/v1/members/{me.id}/export", headers=board).status_code == 200  # on her request
    exported = client.get(f"/api/v1/members/{me.id}/export", headers=me.headers).json()  # her own: not recorded
    seen = [(a["role"], a["what"]) for a in exported["access_log"]]
    assert seen == [("board", "member-page"), ("board", "export")]  # oldest first
    assert all(a["reader"] and "@" not in a["reader"] for a in exported["access_log"])
    assert [r["what"] for r in _records(database)] == ["member-page", "export"]


def test_the_members_own_reads_are_not_recorded(client: TestClient, database: Database) -> None:
    board = f.founded(client, database)
    me = f.member(client, board)
    log_ = Log(database)
    base = f"/api/v1/members/{me.id}"
    year = utcnow().year
    for path in ("", "/choices", "/choices/history", "/choices/fhir", "/access-log", f"/statement/{year}.pdf"):
        assert client.get(base + path, headers=me.headers).status_code == 200, path
    assert client.get(base + "/effective", params=RESEARCH, headers=me.headers).status_code == 200
    f.portal_login(client, me.email)
    for page in ("/me", "/me/choices", "/me/history", "/me/data-use", "/me/details", "/me/access"):
        assert client.get(page).status_code == 200, page
    assert log_.new() == []


def test_a_refused_read_is_not_recorded(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    me, other = f.members(client, board, 2)
    log_ = Log(database)
    for path in ("", "/choices", "/choices/history", "/access-log"):
        assert client.get(f"/api/v1/members/{me.id}{path}", headers=other.headers).status_code in (403, 404)
    assert log_.new() == []


def test_a_proxy_and_a_carer_reading_are_recorded(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    principal, proxy = f.members(client, board, 2)
    appointment = f.appointed(client, principal, proxy, purposes=["research"], voting=True)
    log_ = Log(database)
    base = f"/api/v1/members/{principal.id}"
    for path in ("/choices", "/choices/history"):
        assert client.get(base + path, headers=proxy.headers).status_code == 200
    assert _kinds(log_.new()) == [
        ("proxy", "acting-as-proxy", "choices", principal.id),
        ("proxy", "acting-as-proxy", "history", principal.id),
    ]
    f.portal_login(client, proxy.email)
    for page, what in (("", "appointment"), ("/choices", "choices"), ("/votes", "votes"), ("/data-use", "data-use")):
        assert client.get(f"/acting-for/{appointment['id']}{page}").status_code == 200, page
        assert _kinds([log_.one()]) == [("proxy", "acting-as-proxy", what, principal.id)]
    asked = f.ask_carer(client, principal, "carer.access@example.org", purposes=["education"])
    carer = f.signed_in_carer(client, database, "carer.access@example.org")
    assert client.post(f"/api/v1/carers/me/acting-for/{asked['id']}/accept", headers=carer).status_code == 200
    log_.new()
    assert client.get(base + "/choices", headers=carer).status_code == 200
    assert _kinds([log_.one()]) == [("carer", "acting-as-proxy", "choices", principal.id)]
    with database.unit_of_work(write=False) as session:
        seen = queries.seen_by_others(session, principal.id)
    assert {v.reader for v in seen} == {"your proxy", "your carer"}
    assert all("@" not in v.reader and "Member" not in v.reader for v in seen)


def test_the_boards_pages_are_recorded(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    me = f.member(client, board)
    f.portal_login(client, f.BOARD_EMAIL)
    log_ = Log(database)
    assert client.get(f"/board/members/{me.id}").status_code == 200
    assert _kinds([log_.one()]) == [("board", "member-administration", "member-page", me.id)]
    assert client.get(f"/board/members/{me.id}/details").status_code == 200
    assert _kinds([log_.one()]) == [("board", "member-administration", "member-details", me.id)]
    assert client.get("/board/members", params={"q": me.number}).status_code == 200
    row = log_.one()
    assert (row["what"], row["members"]) == ("member-list", [me.id])
    assert client.get("/board/members", params={"q": "nobody-has-this-name"}).status_code == 200
    assert log_.new() == []  # a list that showed nobody read nobody's data
    shown = client.get(f"/board/members/{me.id}/access")
    assert shown.status_code == 200 and f"lid {me.number}" in shown.text
    assert shown.text.count("Ledenadministratie") >= 3  # the page, the details and the list before it
    assert _kinds([log_.one()]) == [("board", "member-administration", "access-log", me.id)]
    year = utcnow().year - 1
    assert f'action="/board/members/{me.id}/statement.pdf"' in client.get(f"/board/members/{me.id}").text
    log_.new()
    statement = client.get(f"/board/members/{me.id}/statement.pdf", params={"year": year})
    assert statement.status_code == 200 and statement.content.startswith(b"%PDF")
    assert _kinds([log_.one()]) == [("board", "statement", "statement", me.id)]
    assert client.get(f"/board/members/{me.id}/statement.pdf", params={"year": 1999}).status_code == 422
    assert client.get("/board/members/999999/access").status_code == 404
    assert log_.new() == []  # refused reads read nothing


def test_a_statement_the_board_produces_is_recorded(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    me, other = f.members(client, board, 2)
    log_ = Log(database)
    year = utcnow().year
    r = client.get(f"/api/v1/members/{me.id}/statement/{year}.pdf", headers=board)
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert _kinds([log_.one()]) == [("board", "statement", "statement", me.id)]
    assert client.get(f"/api/v1/members/{me.id}/statement/{year}.pdf", headers=other.headers).status_code == 404
    assert log_.new() == []


def test_a_manifest_download_is_one_record_seen_by_every_member_in_it(client: TestClient, database: Database) -> None:
    hdab, permit, people = f.registered(client, database, members=3, manifest=True)
    board = f.board(client, database)
    outsider = f.member(client, board)  # admitted after the manifest: not in it
    holder = f.api_key(database, "data_holder", "SPE Nederland")
    log_ = Log(database)
    url = f"/api/v1/permits/{permit['id']}/manifests/1"
    for headers in (hdab, holder):
        body = client.get(url, headers=headers)
        assert body.status_code == 200 and len(body.json()["pseudonyms"]) == 3
    rows = log_.new()
    assert [(r["role"], r["what"], r["manifest_id"], r["member_id"], r["members"]) for r in rows] == [
        ("hdab", "manifest", 1, None, []),
        ("data-holder", "manifest", 1, None, []),
    ]
    for person in people:
        seen = client.get(f"/api/v1/members/{person.id}/access-log", headers=person.headers).json()
        assert seen["total"] == 2
        assert [(i["purpose"], i["what"], i["permit"]) for i in seen["items"]] == [
            ("manifest-download", "manifest", permit["permit_number"])
        ] * 2
        assert seen["items"][0]["organisation"] == "SPE Nederland"
    assert client.get(f"/api/v1/members/{outsider.id}/access-log", headers=outsider.headers).json()["items"] == []
    assert log_.new() == []  # the members reading their own log are not recorded


def test_a_member_sees_only_their_own_log(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    me, other = f.members(client, board, 2)
    client.get(f"/api/v1/members/{other.id}", headers=board)
    mine = client.get(f"/api/v1/members/{me.id}/access-log", headers=me.headers)
    assert mine.status_code == 200 and mine.json()["items"] == []
    theirs = client.get(f"/api/v1/members/{other.id}/access-log", headers=me.headers)
    assert theirs.status_code == 404 and theirs.json()["code"] == "member-not-found"
    for role in ("hdab", "data_holder", "auditor"):
        key = f.api_key(database, role)
        r = client.get(f"/api/v1/members/{other.id}/access-log", headers=key)
        assert r.status_code == 404, role
    log_ = Log(database)
    by_board = client.get(f"/api/v1/members/{other.id}/access-log", headers=board)
    assert by_board.status_code == 200 and by_board.json()["items"][0]["what"] == "member-page"
    assert _kinds([log_.one()]) == [("board", "member-administration", "access-log", other.id)]
    assert client.get("/api/v1/members/999999/access-log", headers=board).status_code == 404


def test_the_members_page_shows_who_looked(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    me = f.member(client, board)
    for _ in range(3):
        client.get(f"/api/v1/members/{me.id}/choices", headers=board)
    f.portal_login(client, me.email)
    nl = client.get("/me/access?lang=nl")
    assert nl.status_code == 200 and "Wie bekeek mijn gegevens" in nl.text
    assert nl.text.count("Het bestuur") >= 3 and "Ledenadministratie" in nl.text and "Uw keuzes" in nl.text
    en = client.get("/me/access?lang=en")
    assert "Who looked at my data" in en.text and "Member administration" in en.text
    assert 'href="/me/access"' in client.get("/me").text


def test_an_auditor_reads_counts_only(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    me = f.member(client, board)
    client.get(f"/api/v1/members/{me.id}", headers=board)
    auditor = f.api_key(database, "auditor")
    r = client.get("/api/v1/access-log/summary", headers=auditor)
    assert r.status_code == 200
    body = r.json()
    assert body["threshold"] == database.settings.privacy.small_count_threshold
    [row] = body["rows"]
    assert (row["role"], row["purpose"], row["what"], row["reads"]) == (
        "board",
        "member-administration",
        "member-page",
        f"<{body['threshold']}",
    )
    assert row["month"] == utcnow().strftime("%Y-%m")
    assert set(row) == {"month", "role", "purpose", "what", "reads"}  # no member, no reader
    for headers in (f.api_key(database, "hdab"), f.api_key(database, "data_holder"), me.headers):
        assert client.get("/api/v1/access-log/summary", headers=headers).status_code == 403


def test_each_record_has_its_event_naming_nobody(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    me = f.member(client, board)
    client.get(f"/api/v1/members/{me.id}/choices", headers=board)
    [row] = _records(database)
    with database.unit_of_work(write=False) as s:
        [event] = log.events_of(s, f"access:{row['id']}")
    assert event.type == "access.recorded" and event.actor == row["reader"]
    assert json.loads(event.payload) == {
        "manifest_id": None,
        "member_id": me.id,
        "members": [],
        "purpose": "member-administration",
        "role": "board",
        "what": "choices",
    }


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE access_record SET role = 'proxy'",
        "DELETE FROM access_record",
        "UPDATE access_record_member SET member_id = member_id",
        "DELETE FROM access_record_member",
    ],
)
def test_the_database_refuses_to_change_the_log(client: TestClient, database: Database, statement: str) -> None:
    board = f.board(client, database)
    people = f.members(client, board, 2)
    client.get("/api/v1/members", headers=board)
    assert len(_records(database)) == 1 and len(_records(database)[0]["members"]) == len(people)
    with pytest.raises(DBAPIError), database.write_engine.begin() as conn:
        conn.exec_driver_sql(statement)
    assert len(_records(database)) == 1 and len(_records(database)[0]["members"]) == len(people)


def test_the_boards_list_of_undeliverable_mail_is_a_read_of_those_members(
    client: TestClient, database: Database
) -> None:
    board = f.board(client, database)
    refused = f.admit(client, board)["member"]
    f.admit(client, board)  # their invitation waits: not on the list
    with database.unit_of_work() as s:
        s.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.member_id) == refused["id"])
            .values(status=MailStatus.failed.value, failed_at=utcnow(), last_error="550 no such mailbox")
        )
    log_ = Log(database)
    assert client.get("/api/v1/mail/undeliverable", headers=board).status_code == 200
    row = log_.one()
    assert (row["role"], row["what"], row["members"]) == ("board", "undeliverable-mail", [refused["id"]])
    f.portal_login(client, f.BOARD_EMAIL)
    assert client.get("/board/mail").status_code == 200
    assert log_.one()["members"] == [refused["id"]]
