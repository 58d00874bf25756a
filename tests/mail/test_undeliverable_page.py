"""The board's page of undeliverable mail: what could not be delivered, to whom, for which
member and why, in the board's language; the board's alone."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import update

from coop.db import Database
from coop.mail.models import MailStatus, OutboxMessage
from coop.mail.worker import deliver_due
from coop.settings import MailSettings
from coop.types import utcnow
from tests import factories as f
from tests.factories.mail import SmtpServer, enqueue


def test_the_board_sees_what_was_not_delivered_in_dutch_and_english(
    client: TestClient, database: Database, smtp: SmtpServer, mail: MailSettings
) -> None:
    board = f.board(client, database)
    delivered = f.admit(client, board)["member"]
    refused = f.admit(client, board)["member"]
    smtp.inbox.answers = ["250 OK", "550 5.1.1 no such mailbox here"]
    assert deliver_due(database, mail).failed == 1
    f.portal_login(client, f.BOARD_EMAIL)

    nl = client.get("/board/mail?lang=nl")
    assert nl.status_code == 200
    assert 'href="/board/mail" aria-current="page">Onbestelbare mail</a>' in nl.text  # in the board's menu
    assert refused["email"] in nl.text and delivered["email"] not in nl.text
    assert f'<a href="/board/members?q={refused["number"]}">{refused["number"]}</a>' in nl.text
    assert "550 5.1.1 no such mailbox here" in nl.text
    assert "Welkom: maak uw wachtwoord voor het portaal" in nl.text  # the message, as the member would see it
    assert "Pagina 1 van 1 (1 berichten)" in nl.text

    en = client.get("/board/mail?lang=en")
    assert "Undeliverable mail" in en.text and "What the mail server said" in en.text
    assert refused["email"] in en.text and "Page 1 of 1 (1 messages)" in en.text
    assert "Onbestelbare" not in en.text


def test_the_page_says_when_nothing_is_undeliverable_and_pages_through_many(
    client: TestClient, database: Database
) -> None:
    f.board(client, database)
    f.portal_login(client, f.BOARD_EMAIL)
    assert "No message is undeliverable." in client.get("/board/mail?lang=en").text
    enqueue(database, 51)
    with database.unit_of_work() as s:
        s.execute(
            update(OutboxMessage).values(status=MailStatus.failed.value, failed_at=utcnow(), last_error="550 gone")
        )
    first = client.get("/board/mail").text
    assert "Page 1 of 2 (51 messages)" in first and first.count("550 gone") == 50
    assert 'href="?page=2"' in first
    second = client.get("/board/mail", params={"page": 2}).text
    assert second.count("550 gone") == 1  # the newest first: the first message written comes last
    assert "member0@coop-test.nl" in second and "member0@coop-test.nl" not in first


def test_members_are_refused_the_page(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    anna = f.member(client, board)
    f.portal_login(client, anna.email)
    refused = client.get("/board/mail")
    assert refused.status_code == 403
    assert "/board/mail" not in client.get("/me").text  # nor is it in their menu
    assert client.get("/board/mail", follow_redirects=False).status_code == 403
