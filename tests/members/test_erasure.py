"""Erasure of a former member (GDPR Art. 17): asked for early, their email address, login,
new addresses waiting for a link and the outbox's copies are erased by ``erase-due``; their
name stays until the retention period for the books has passed, then goes too. Afterwards
the name and address are nowhere in the database, the API, the board's pages or the
statement PDF, while the member's number stays in the ledger and the books, ``coop ledger
verify`` passes and the beancount export passes bean-check. Nothing is erased twice, and a
member who has not left is not erased."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import MetaData, String, literal, select
from typer.testing import CliRunner

from coop.auth.policy import CLI_ACTOR, Actor, Role
from coop.cli import app as cli
from coop.db import Database
from coop.errors import Conflict
from coop.mail import outbox
from coop.mail.models import MailKind, MailStatus, OutboxMessage
from coop.members import erasure
from coop.members.models import Member
from coop.record.verification import verify_record
from coop.reporting import service as reporting
from coop.settings import Settings
from ledger import log
from tests import factories as f
from tests import pdfs
from tests.conftest import Clock
from tests.factories.portal import csrf, portal_login

NAME = "Xandrina Quellwater"
NEW_EMAIL = "xandrina.new@elsewhere-test.nl"
YEARS = 7
BEAN_CHECK = Path(sys.executable).with_name("bean-check")


def _everything(database: Database) -> str:
    """Every value in every table, as text (lower case): where an erased value must not be."""
    parts: list[str] = []
    with database.unit_of_work(write=False) as s:
        conn = s.connection()
        meta = MetaData()
        meta.reflect(conn)
        for table in meta.sorted_tables:
            for row in conn.execute(select(table)):
                parts.extend(str(v) for v in row if v is not None)
    return "\n".join(parts).lower()


def _events(database: Database, kind: str) -> list[log.Event]:
    with database.unit_of_work(write=False) as s:
        return [e for e in log.events_after(s, 0, 100_000) if e.type == kind]


def _verified(database: Database, now: datetime) -> list[str]:
    with database.unit_of_work(write=False) as s:
        return verify_record(
            s.connection(), database.settings, {database.signer.key_id: database.signer.public_key}, now=now
        ).problems


def _bean_checked(client: TestClient, board: dict[str, str], tmp_path: Path) -> str:
    r = client.get("/api/v1/ledger/export", params={"format": "beancount"}, headers=board)
    assert r.status_code == 200
    books = tmp_path / "books.beancount"
    books.write_text(r.text)
    checked = subprocess.run([str(BEAN_CHECK), str(books)], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    return r.text


def _former_member(client: TestClient, database: Database, clock: Clock) -> tuple[dict[str, str], f.MemberHandle]:
    """A cooperative whose year was distributed; its first member renamed to NAME, asked for a
    new address (still waiting) and left. The board's headers and the member (signed in again)."""
    board, people, permit_id = f.cooperative(client, database, members=3)
    f.money(client, board, permit_id, income=123_456, expense=7_891)
    clock.moment = f.AFTER
    draft = client.post("/api/v1/distributions", json=f.PERIOD, headers=board).json()
    assert f.commit(client, database, board, draft["id"]).status_code == 200
    me = people[0]
    assert client.put(f"/api/v1/members/{me.id}/name", json={"name": NAME}, headers=me.headers).status_code == 200
    assert client.post(f"/api/v1/members/{me.id}/leave", headers=me.headers).status_code == 200
    again = f.MemberHandle(me.id, me.number, me.email, f.login(client, me.email))
    changing = client.post(f"/api/v1/members/{me.id}/email-change", json={"email": NEW_EMAIL}, headers=again.headers)
    assert changing.status_code == 202, changing.text
    return board, again


def test_an_active_member_is_not_erased(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    one, other = f.member(client, board), f.member(client, board)
    r = client.post(f"/api/v1/members/{one.id}/erasure-request", headers=one.headers)
    assert r.status_code == 409 and r.json()["code"] == "member-active"
    assert client.post(f"/api/v1/members/{one.id}/erasure-request", headers=board).status_code == 409
    assert client.post(f"/api/v1/members/{one.id}/erasure-request", headers=other.headers).status_code == 404
    with database.unit_of_work(write=False) as s:
        assert erasure.due(s, f.AFTER + timedelta(days=366 * 50), YEARS) == []
    with pytest.raises(Conflict) as refused, database.unit_of_work() as s:
        erasure.erase(s, CLI_ACTOR, one.id, f.AFTER, YEARS)
    assert refused.value.code == "member-active"
    assert _events(database, "member.erased") == [] and _events(database, "member.erasure-requested") == []


def test_early_erasure_then_the_name_after_the_retention_period(
    client: TestClient, database: Database, clock: Clock, tmp_path: Path
) -> None:
    board, me = _former_member(client, database, clock)
    assert me.email in _everything(database) and NEW_EMAIL in _everything(database)

    asked = client.post(f"/api/v1/members/{me.id}/erasure-request", headers=me.headers)
    assert asked.status_code == 200 and asked.json()["erasure_requested_at"] is not None
    again = client.post(f"/api/v1/members/{me.id}/erasure-request", headers=board)
    assert again.json() == asked.json()  # asked twice: the same, one event
    assert len(_events(database, "member.erasure-requested")) == 1

    soon = f.AFTER + timedelta(hours=3)
    (done,) = erasure.erase_due(database, CLI_ACTOR, soon, YEARS)
    assert (done.number, done.fields) == (me.number, erasure.CONTACT_FIELDS)
    assert erasure.erase_due(database, CLI_ACTOR, soon + timedelta(days=1), YEARS) == []  # nothing twice

    everything = _everything(database)
    assert me.email not in everything and NEW_EMAIL not in everything
    assert NAME.lower() in everything  # the books still need to know whom they paid
    shown = client.get(f"/api/v1/members/{me.id}", headers=board).json()
    assert (shown["name"], shown["email"], shown["contact_erased_at"] is not None) == (NAME, None, True)
    login = client.post("/api/v1/auth/token", data={"username": me.email, "password": f.PASSWORD})
    assert login.status_code == 401
    assert client.get(f"/api/v1/members/{me.id}", headers=me.headers).status_code == 401  # its logins ended
    with database.unit_of_work(write=False) as s:
        mail = list(s.execute(select(OutboxMessage).where(OutboxMessage.member_id == me.id)).scalars())
        assert mail and all(m.status != MailStatus.pending.value and m.context == "{}" for m in mail)
    with database.unit_of_work() as s:
        member = s.get(Member, me.id)
        assert member is not None
        later_one = outbox.enqueue(  # a message written for them later is never sent
            s, to=member.email, kind=MailKind.dividend, language="nl", context={"cents": 1}, now=soon
        )
    with database.unit_of_work(write=False) as s:
        written = s.execute(select(OutboxMessage).where(OutboxMessage.message_id == later_one)).scalar_one()
        assert written.status == MailStatus.withdrawn.value
    with database.unit_of_work() as s:  # nor one of a pass over many members (a dividend, a vote)
        selection = select(Member.id, Member.email, Member.language, literal("{}", String)).where(Member.id == me.id)
        assert outbox.enqueue_selected(s, MailKind.dividend, selection, soon) == 0
    with database.unit_of_work(write=False) as s:
        waiting = s.execute(select(OutboxMessage).where(OutboxMessage.status == MailStatus.pending.value)).scalars()
        assert all(m.member_id != me.id for m in waiting)

    later = f.AFTER + timedelta(days=366 * YEARS + 1)
    (done,) = erasure.erase_due(database, CLI_ACTOR, later, YEARS)
    assert done.fields == erasure.NAME_FIELDS
    assert erasure.erase_due(database, CLI_ACTOR, later, YEARS) == []

    everything = _everything(database)
    for value in (NAME.lower(), me.email, NEW_EMAIL):
        assert value not in everything
    erased = _events(database, "member.erased")
    assert [json.loads(e.payload)["fields"] for e in erased] == [list(erasure.CONTACT_FIELDS), ["name"]]
    assert {e.subject for e in erased} == {f"member:{me.id}"}
    assert _events(database, "account.disabled")  # the login, for good
    assert _events(database, "member.admitted")[0].subject == f"member:{me.id}"  # the number stays
    assert _verified(database, later) == []

    books = _bean_checked(client, board, tmp_path)
    assert f":Members:{me.id} " in books  # the books keep the member's account, by id
    answers = [
        client.get(f"/api/v1/members/{me.id}", headers=board).text,
        client.get("/api/v1/members", params={"status": "left"}, headers=board).text,
        client.get(f"/api/v1/members/{me.id}/dividends", headers=board).text,
    ]
    shown = client.get(f"/api/v1/members/{me.id}", headers=board).json()
    assert (shown["name"], shown["email"]) == (None, None)
    exported = client.get(f"/api/v1/members/{me.id}/export", headers=board)  # on the member's request, by letter
    assert exported.status_code == 200 and (exported.json()["member"]["name"], exported.json()["member"]["email"]) == (
        None,
        None,
    )
    answers.append(exported.text)
    summary = client.get(f"/api/v1/members/{me.id}/export.pdf", headers=board)
    assert summary.status_code == 200
    answers.append(pdfs.text(summary.content))
    with database.unit_of_work(write=False) as s:  # the statement as the member would get it, were they able to
        themselves = Actor(kind="user", id=0, role=Role.former_member, member_id=me.id)
        _, statement = reporting.statement_pdf(s, themselves, me.id, f.YEAR, later)
    answers.append(pdfs.text(statement))
    assert me.number in answers[-1]
    portal_login(client, f.BOARD_EMAIL)
    for page in (f"/board/members/{me.id}", "/board/members", f"/board/members/{me.id}/details"):
        html = client.get(page)
        assert html.status_code == 200
        answers.append(html.text)
        assert "gewist" in html.text or "erased" in html.text
    for answer in answers:
        for value in (NAME, me.email, NEW_EMAIL):
            assert value.lower() not in answer.lower()


def test_the_retention_period_alone_erases_everything(client: TestClient, database: Database, clock: Clock) -> None:
    _board, me = _former_member(client, database, clock)
    assert erasure.erase_due(database, CLI_ACTOR, f.AFTER + timedelta(days=365), YEARS) == []  # nobody asked
    later = f.AFTER + timedelta(days=366 * YEARS + 1)
    assert [d.fields for d in erasure.erase_due(database, CLI_ACTOR, later, YEARS, dry_run=True)] == [
        erasure.CONTACT_FIELDS + erasure.NAME_FIELDS
    ]
    assert _events(database, "member.erased") == []  # a dry run changes nothing
    (done,) = erasure.erase_due(database, CLI_ACTOR, later, YEARS)
    assert done.fields == erasure.CONTACT_FIELDS + erasure.NAME_FIELDS
    assert len(_events(database, "member.erased")) == 2
    # asking afterwards changes nothing
    with database.unit_of_work() as s:
        erasure.request(s, CLI_ACTOR, me.id, later)
    assert _events(database, "member.erasure-requested") == []
    assert _verified(database, later) == []


def test_an_erased_name_and_address_cannot_be_written_again(
    client: TestClient, database: Database, clock: Clock
) -> None:
    board, me = _former_member(client, database, clock)
    later = f.AFTER + timedelta(days=366 * YEARS + 1)
    erasure.erase_due(database, CLI_ACTOR, later, YEARS)
    clock.moment = later
    r = client.put(f"/api/v1/members/{me.id}/name", json={"name": "Someone Else"}, headers=board)
    assert r.status_code == 409 and r.json()["code"] == "member-erased"
    r = client.post(f"/api/v1/members/{me.id}/email-change", json={"email": "x@y-test.nl"}, headers=board)
    assert r.status_code == 409 and r.json()["code"] == "member-erased"


def test_the_member_leaves_and_asks_in_the_portal(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    me = f.member(client, board, language="en")
    portal_login(client, me.email)
    page = client.get("/me/leave")
    assert page.status_code == 200 and "Dividends you have already earned are still paid to you." in page.text
    unticked = client.post("/me/leave", data={"csrf": csrf(page.text)}, follow_redirects=False)
    assert unticked.status_code == 303 and "not-confirmed" in unticked.headers["location"]
    assert client.get(f"/api/v1/members/{me.id}", headers=board).json()["status"] == "active"
    left = client.post("/me/leave", data={"csrf": csrf(page.text), "understood": "yes"})
    assert left.status_code == 200 and "You have left the cooperative" in left.text
    assert client.get(f"/api/v1/members/{me.id}", headers=board).json()["status"] == "left"
    assert client.get("/me/leave", follow_redirects=False).status_code in (302, 303, 401)  # signed out
    portal_login(client, me.email)
    page = client.get("/me/leave")
    assert "Erase my details now" in page.text
    asked = client.post("/me/erasure-request", data={"csrf": csrf(page.text), "understood": "yes"})
    assert asked.status_code == 200 and "You asked on" in asked.text
    assert client.get(f"/api/v1/members/{me.id}", headers=board).json()["erasure_requested_at"] is not None


def test_the_board_records_a_request_by_letter(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    me = f.member(client, board)
    portal_login(client, f.BOARD_EMAIL)
    page = client.get(f"/board/members/{me.id}")
    assert "/erasure-request" not in page.text  # a member is not erased
    assert client.post(f"/api/v1/members/{me.id}/leave", headers=board).status_code == 200
    page = client.get(f"/board/members/{me.id}")
    assert f'action="/board/members/{me.id}/erasure-request"' in page.text
    done = client.post(f"/board/members/{me.id}/erasure-request", data={"csrf": csrf(page.text), "asked": "yes"})
    assert done.status_code == 200 and f'action="/board/members/{me.id}/erasure-request"' not in done.text
    (event,) = _events(database, "member.erasure-requested")
    assert event.subject == f"member:{me.id}" and json.loads(event.payload) == {}


def test_erase_due_on_the_command_line(client: TestClient, database: Database, cli_env: Settings) -> None:
    board = f.board(client, database)
    me = f.member(client, board)
    assert client.post(f"/api/v1/members/{me.id}/leave", headers=board).status_code == 200
    assert client.post(f"/api/v1/members/{me.id}/erasure-request", headers=board).status_code == 200
    runner = CliRunner()
    dry = runner.invoke(cli, ["members", "erase-due", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert f"{me.number}: would erase email" in dry.output
    assert _events(database, "member.erased") == []
    done = runner.invoke(cli, ["members", "erase-due"])
    assert done.exit_code == 0 and f"{me.number}: erased email" in done.output
    again = runner.invoke(cli, ["members", "erase-due"])
    assert again.exit_code == 0 and "nothing due" in again.output
    later = (f.AFTER + timedelta(days=366 * YEARS + 1)).strftime("%Y-%m-%d")
    named = runner.invoke(cli, ["members", "erase-due", "--now", later])
    assert named.exit_code == 0 and f"{me.number}: erased name" in named.output
    assert len(_events(database, "member.erased")) == 2
