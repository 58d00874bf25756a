"""The invitation and the password reset arrive at a real SMTP server, in the member's
language, as plain text and HTML, and the links in them work."""

from __future__ import annotations

import re
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from coop.db import Database
from coop.i18n import translator
from coop.mail import outbox
from coop.mail.messages import SUBJECTS
from coop.mail.models import MailKind, MailStatus, OutboxMessage
from coop.mail.worker import deliver_due
from coop.record.verification import verify_record
from coop.settings import MailSettings
from coop.types import utcnow
from ledger import log
from tests import factories as f
from tests.conftest import Clock
from tests.factories.mail import SENDER, SmtpServer
from tests.factories.portal import csrf

NEW_PASSWORD = "a brand new passphrase"


def _parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None, "plain text and HTML"
    return text.get_content(), html.get_content()


def _link(text: str, path: str) -> str:
    found = re.search(rf"http://testserver{re.escape(path)}\?token=([A-Za-z0-9_\-]+)", text)
    assert found, text
    return found.group(0).removeprefix("http://testserver")


def _check_headers(message: EmailMessage, to: str, language: str) -> None:
    assert message["From"] == SENDER
    assert message["To"] == to
    assert re.fullmatch(r"<[0-9a-f]{32}@coop-test\.nl>", str(message["Message-ID"]))
    assert message["Content-Language"] == language


def test_the_invitation_arrives_in_the_members_language_and_its_link_makes_an_account(
    client: TestClient, database: Database, smtp: SmtpServer, mail: MailSettings
) -> None:
    board = f.board(client, database)
    admitted = f.admit(client, board, name="Ella <Evers>", language="en")
    member = admitted["member"]
    assert deliver_due(database, mail).sent == 1
    [message] = smtp.inbox.messages
    _check_headers(message, member["email"], "en")
    assert message["Subject"] == "Welcome: make your password for the portal"
    text, html = _parts(message)
    assert "Dear Ella <Evers>," in text and "Dear Ella &lt;Evers&gt;," in html
    link = _link(text, "/invitation")
    assert f'href="http://testserver{link}"' in html
    assert link.endswith(admitted["invitation_token"])  # the API still answers the token

    page = client.get(link)
    assert page.status_code == 200
    token = link.partition("token=")[2]
    done = client.post("/invitation", data={"csrf": csrf(page.text), "token": token, "password": f.PASSWORD})
    assert done.status_code == 200 and 'role="status"' in done.text
    f.login(client, member["email"])


def test_a_new_invitation_from_the_board_replaces_the_unsent_one_and_the_old_link_stops_working(
    client: TestClient, database: Database, smtp: SmtpServer, mail: MailSettings
) -> None:
    board = f.board(client, database)
    admitted = f.admit(client, board, language="nl")
    member_id = admitted["member"]["id"]
    r = client.post(f"/api/v1/members/{member_id}/invitation", headers=board)
    assert r.status_code == 201
    assert deliver_due(database, mail).sent == 1  # the first, withdrawn, is not sent
    [message] = smtp.inbox.messages
    _check_headers(message, admitted["member"]["email"], "nl")
    assert message["Subject"] == "Welkom: maak uw wachtwoord voor het portaal"
    link = _link(_parts(message)[0], "/invitation")
    assert link.endswith(r.json()["invitation_token"])
    old = client.post(
        "/api/v1/auth/accept-invitation", json={"token": admitted["invitation_token"], "password": f.PASSWORD}
    )
    assert old.status_code == 422
    token = link.partition("token=")[2]
    new = client.post("/api/v1/auth/accept-invitation", json={"token": token, "password": f.PASSWORD})
    assert new.status_code == 201


def _ask_reset(client: TestClient, email: str) -> str:
    page = client.get("/password/forgot")
    assert page.status_code == 200
    r = client.post("/password/forgot", data={"csrf": csrf(page.text), "email": email})
    assert r.status_code == 200
    return r.text


def test_a_forgotten_password_is_reset_by_a_single_use_link_and_unknown_addresses_look_the_same(
    client: TestClient, database: Database, smtp: SmtpServer, mail: MailSettings
) -> None:
    board = f.board(client, database)
    member = f.member(client, board, language="nl")
    assert deliver_due(database, mail).sent == 1  # the invitation
    login_page = client.get("/login")
    assert 'href="/password/forgot"' in login_page.text

    known = _ask_reset(client, member.email.upper())
    unknown = _ask_reset(client, "nobody@coop-test.nl")
    assert re.sub(r'value="[0-9a-f]+"', "", known) == re.sub(r'value="[0-9a-f]+"', "", unknown)
    assert deliver_due(database, mail).sent == 1  # only the known address gets mail
    message = smtp.inbox.messages[-1]
    _check_headers(message, member.email, "nl")
    assert message["Subject"] == "Een nieuw wachtwoord kiezen"
    text, html = _parts(message)
    link = _link(text, "/password/reset")
    assert f'href="http://testserver{link}"' in html

    page = client.get(link)
    token = link.partition("token=")[2]
    form = {"csrf": csrf(page.text), "token": token, "password": NEW_PASSWORD}
    done = client.post("/password/reset", data=form)
    assert done.status_code == 200 and 'role="status"' in done.text
    f.login(client, member.email, NEW_PASSWORD)
    assert client.get(f"/api/v1/members/{member.id}", headers=member.headers).status_code == 401  # logins ended
    assert client.post("/api/v1/auth/token", data={"username": member.email, "password": f.PASSWORD}).status_code == 401
    again = client.post("/password/reset", data=form)
    assert again.status_code == 410

    with database.unit_of_work(write=False) as s:
        events = log.events_after(s, 0, 10_000)
        reset = [e for e in events if e.type == "account.password-reset"]
        assert len(reset) == 1
        assert not any("@" in str(e.payload) for e in events), "the ledger of record never holds an address"
        checked = verify_record(
            s.connection(), database.settings, {database.signer.key_id: database.signer.public_key}, now=utcnow()
        )
    assert checked.ok and checked.warnings == [], checked.problems  # the outbox and reset links need no events


def test_a_reset_link_expires(
    client: TestClient, database: Database, smtp: SmtpServer, mail: MailSettings, clock: Clock
) -> None:
    board = f.board(client, database)
    member = f.member(client, board, language="en")
    _ask_reset(client, member.email)
    deliver_due(database, mail)
    link = _link(_parts(smtp.inbox.messages[-1])[0], "/password/reset")
    page = client.get(link)
    with clock.at(clock() + timedelta(minutes=mail.reset_minutes + 1)):
        r = client.post(
            "/password/reset",
            data={"csrf": csrf(page.text), "token": link.partition("token=")[2], "password": NEW_PASSWORD},
        )
    assert r.status_code == 410
    f.login(client, member.email)  # the old password still works


def test_reset_requests_are_throttled_per_account(
    client: TestClient, database: Database, smtp: SmtpServer, mail: MailSettings
) -> None:
    board = f.board(client, database)
    member = f.member(client, board)
    for _ in range(mail.reset_max_per_hour + 2):
        _ask_reset(client, member.email)
    with database.unit_of_work(write=False) as s:
        kinds = s.execute(select(OutboxMessage.kind).where(OutboxMessage.member_id == member.id)).scalars().all()
    assert kinds.count("password-reset") == mail.reset_max_per_hour


def test_the_board_sends_a_new_invitation_from_its_members_page(
    client: TestClient, database: Database, smtp: SmtpServer, mail: MailSettings
) -> None:
    from tests.factories.portal import portal_login

    board = f.board(client, database)
    waiting = f.admit(client, board, language="en")
    settled = f.member(client, board)
    assert deliver_due(database, mail).sent == 2
    portal_login(client, f.BOARD_EMAIL)
    page = client.get("/board/members")
    assert f'action="/board/members/{waiting["member"]["id"]}/invitation"' in page.text
    assert f'action="/board/members/{settled.id}/invitation"' not in page.text, "a member with a password needs none"
    r = client.post(f"/board/members/{waiting['member']['id']}/invitation", data={"csrf": csrf(page.text)})
    assert r.status_code == 200 and waiting["member"]["number"] in r.text
    assert deliver_due(database, mail).sent == 1
    link = _link(_parts(smtp.inbox.messages[-1])[0], "/invitation")
    old = {"token": waiting["invitation_token"], "password": f.PASSWORD}
    assert client.post("/api/v1/auth/accept-invitation", json=old).status_code == 422
    new = {"token": link.partition("token=")[2], "password": f.PASSWORD}
    assert client.post("/api/v1/auth/accept-invitation", json=new).status_code == 201


def test_every_kind_of_message_has_its_subject_and_both_parts_in_both_languages() -> None:
    templates = Path(__file__).resolve().parents[2] / "coop" / "templates" / "mail"
    for kind in MailKind:
        name = kind.value.replace("-", "_")
        assert (templates / f"{name}.txt").is_file() and (templates / f"{name}.html").is_file(), kind
        subjects = {translator(lang)(SUBJECTS[kind]) for lang in ("nl", "en")}
        assert len(subjects) == 2 and SUBJECTS[kind] not in subjects, f"{kind}: a subject in Dutch and in English"


def test_a_batch_whose_first_address_was_erased_still_reaches_the_others(database: Database) -> None:
    mails = [
        outbox.Mail("erased:1", MailKind.dividend, "nl", {"cents": 1}, member_id=1),
        outbox.Mail("second@example.nl", MailKind.dividend, "en", {"cents": 2}, member_id=2),
    ]
    with database.unit_of_work() as s:
        outbox.enqueue_many(s, mails, utcnow())
    with database.unit_of_work(write=False) as s:
        written = s.execute(select(OutboxMessage)).scalars().all()
    assert [(m.recipient, m.status, m.language) for m in written] == [
        ("second@example.nl", MailStatus.pending.value, "en")
    ]


def test_a_message_is_written_with_every_column_of_the_outbox() -> None:
    row = outbox._message(outbox.Mail("a@example.nl", MailKind.dividend, "nl", {}), utcnow())
    assert set(row) == {c.name for c in OutboxMessage.__table__.columns} - {"id"}  # type: ignore[attr-defined]
