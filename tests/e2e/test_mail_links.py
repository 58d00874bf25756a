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
