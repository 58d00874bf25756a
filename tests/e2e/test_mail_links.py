"""A real browser follows the links in received mail: the invitation (set a password, log in)
and the password reset."""

from __future__ import annotations

import re
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest
from fastapi.testclient import TestClient

from coop.db import Database
from coop.mail.worker import deliver_due
from tests import factories as f
from tests.e2e.conftest import log_in, shot
from tests.factories.mail import SmtpServer, free_port, mail_settings


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer(free_port())
    server.start()
    yield server
    server.stop()


def _link(message: EmailMessage, base: str) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    found = re.search(rf"{re.escape(base)}/\S+\?token=[A-Za-z0-9_\-]+", body.get_content())
    assert found, body.get_content()
    return found.group(0)


def test_a_member_follows_the_invitation_and_the_reset_links_from_their_mail(
    client: TestClient, database: Database, live_server: str, browser: Any, smtp: SmtpServer
) -> None:
    mail = mail_settings(smtp.port, portal_url=live_server)
    board = f.board(client, database)
    member = f.admit(client, board, language="nl")["member"]
    assert deliver_due(database, mail).sent == 1

    page = browser.new_page()
    page.goto(_link(smtp.inbox.messages[-1], live_server))
    page.get_by_label("Kies een wachtwoord").fill(f.PASSWORD)
    page.get_by_role("button", name="Opslaan").click()
    page.get_by_role("status").wait_for()
    shot(page, "mail-invitation-accepted")
    log_in(page, live_server, member["email"])
    page.get_by_role("heading", name="Hallo").wait_for()

    other = browser.new_page()
    other.goto(f"{live_server}/login")
    other.get_by_role("link", name="Wachtwoord vergeten?").click()
    other.get_by_label("E-mailadres").fill(member["email"])
    other.get_by_role("button", name="Stuur mij een link").click()
    other.get_by_role("status").wait_for()
    assert deliver_due(database, mail).sent == 1
    other.goto(_link(smtp.inbox.messages[-1], live_server))
    other.get_by_label("Kies een wachtwoord").fill("a brand new passphrase")
    other.get_by_role("button", name="Opslaan").click()
    other.get_by_role("status").wait_for()
    log_in(other, live_server, member["email"], "a brand new passphrase")
    other.get_by_role("heading", name="Hallo").wait_for()


def test_a_member_moves_to_a_new_email_address_by_following_the_link_sent_to_it(
    client: TestClient, database: Database, live_server: str, browser: Any, smtp: SmtpServer
) -> None:
    mail = mail_settings(smtp.port, portal_url=live_server)
    board = f.board(client, database)
    member = f.member(client, board)
    deliver_due(database, mail)  # the invitation
    page = browser.new_page()
    log_in(page, live_server, member.email)
    page.get_by_role("heading", name="Hallo").wait_for()
    page.get_by_role("link", name="Mijn naam en e-mail", exact=True).first.click()
    page.wait_for_url("**/me/details")
    page.get_by_label("Nieuw e-mailadres").fill("verhuisd@coop-test.nl")
    page.get_by_role("button", name="Link sturen om te bevestigen").click()
    page.get_by_text("Wacht op bevestiging: verhuisd@coop-test.nl").wait_for()
    shot(page, "details-email-pending")
    assert deliver_due(database, mail).sent == 2  # the link to the new address, the notice to the old one
    [link] = [m for m in smtp.inbox.messages[-2:] if m["To"] == "verhuisd@coop-test.nl"]
    [notice] = [m for m in smtp.inbox.messages[-2:] if m["To"] == member.email]
    assert notice["Subject"] == "Iemand wil uw e-mailadres wijzigen"

    other = browser.new_page()
    other.goto(_link(link, live_server))
    other.get_by_role("button", name="Ja, dit adres gebruiken").click()
    other.get_by_role("status").wait_for()
    shot(other, "details-email-confirmed")
    log_in(other, live_server, "verhuisd@coop-test.nl")
    other.get_by_role("heading", name="Hallo").wait_for()
    assert deliver_due(database, mail).sent == 1
    assert smtp.inbox.messages[-1]["To"] == member.email
    assert smtp.inbox.messages[-1]["Subject"] == "Uw e-mailadres is gewijzigd"
