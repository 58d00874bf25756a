"""Delivery faults: nothing is lost, nothing is sent for a change that rolled back, temporary
refusals are tried again, permanent ones are shown to the board, and two workers on
PostgreSQL send each message once."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from coop.auth.policy import Actor, Role
from coop.db import Database
from coop.i18n import Language
from coop.mail.models import MailStatus, OutboxMessage
from coop.mail.worker import deliver_due
from coop.members import service as members_service
from coop.settings import MailSettings, Settings
from coop.types import utcnow
from tests import factories as f
from tests.conftest import POSTGRESQL_ONLY
from tests.factories.mail import SmtpServer, enqueue, free_port, mail_settings, statuses
from tests.together import together

BOARD = Actor(kind="user", id=1, role=Role.board)


def _later(hours: float) -> datetime:
    return utcnow() + timedelta(hours=hours)


def test_a_rolled_back_admission_sends_nothing(database: Database, settings: Settings, smtp: SmtpServer) -> None:
    with pytest.raises(RuntimeError), database.unit_of_work() as s:
        members_service.admit(s, BOARD, settings.auth, "Rolled Back", "gone@coop-test.nl", Language.nl, utcnow())
        assert s.execute(select(func.count()).select_from(OutboxMessage)).scalar_one() == 1
        raise RuntimeError("the change fails after the message was written")
    assert statuses(database) == []
    assert deliver_due(database, settings.mail).sent == 0
    assert smtp.inbox.messages == []


def test_messages_wait_while_the_server_is_down_and_go_when_it_returns(database: Database) -> None:
    down = SmtpServer(free_port())  # nothing listens on its port yet
    mail = mail_settings(down.port, max_attempts=1)
    enqueue(database, 3)
    for hours in (0, 1, 2):  # however long it lasts, an outage fails no message
        done = deliver_due(database, mail, clock=lambda h=hours: _later(h))
        assert (done.sent, done.retrying, done.failed, done.stopped) == (0, 1, 0, True), "the run stops at once"
        assert statuses(database) == ["pending"] * 3
    down.start()
    try:
        assert deliver_due(database, mail, clock=lambda: _later(3)).sent == 3
        assert len(down.inbox.messages) == 3
    finally:
        down.stop()
    assert statuses(database) == ["sent"] * 3


def test_a_temporary_refusal_is_tried_again_and_a_permanent_one_is_shown_to_the_board(
    client: TestClient, database: Database, smtp: SmtpServer, mail: MailSettings
) -> None:
    board = f.board(client, database)
    first = f.admit(client, board)["member"]
    second = f.admit(client, board)["member"]
    smtp.inbox.answers = ["451 4.3.0 try again later", "550 5.1.1 no such mailbox"]
    done = deliver_due(database, mail)
    assert (done.sent, done.retrying, done.failed) == (0, 1, 1)
    assert deliver_due(database, mail, clock=lambda: _later(1)).sent == 1
    assert [str(m["To"]) for m in smtp.inbox.messages] == [first["email"]]
    assert statuses(database) == ["sent", "failed"]

    r = client.get("/api/v1/mail/undeliverable", headers=board)
    assert r.status_code == 200
    [failed] = r.json()["items"]
    assert (failed["member_id"], failed["recipient"], failed["kind"]) == (second["id"], second["email"], "invitation")
    assert "550" in failed["error"]
    member = f.member(client, board)
    assert client.get("/api/v1/mail/undeliverable", headers=member.headers).status_code == 403
    assert client.get("/api/v1/mail/undeliverable").status_code == 401


def test_a_message_that_keeps_failing_for_now_is_failed_after_its_last_attempt(
    database: Database, smtp: SmtpServer
) -> None:
    mail = mail_settings(smtp.port, max_attempts=3)
    enqueue(database, 1)
    smtp.inbox.answers = ["421 4.7.0 busy"] * 3
    for hours in (0, 1, 2):
        deliver_due(database, mail, clock=lambda h=hours: _later(h))
    assert statuses(database) == ["failed"]
    assert smtp.inbox.messages == []


@POSTGRESQL_ONLY
def test_two_workers_send_each_message_exactly_once(settings: Settings, smtp: SmtpServer, mail: MailSettings) -> None:
    n = 200
    databases = [Database(settings) for _ in range(2)]
    try:
        enqueue(databases[0], n)
        counts = [done.sent for done in together(*(partial(deliver_due, db, mail) for db in databases))]
        ids = smtp.inbox.message_ids()
        assert len(ids) == n and len(set(ids)) == n
        assert sum(counts) == n
        assert statuses(databases[0]) == [MailStatus.sent.value] * n
    finally:
        for db in databases:
            db.dispose()
