"""The delivery worker's transactions: one commit per message, the outcome of each message
written with the claim of the next, so that only the message being sent is ever unrecorded."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event

from coop.db import Database
from coop.mail import schedule
from coop.mail.worker import deliver_due
from coop.settings import MailSettings
from tests.factories.mail import SmtpServer, enqueue, statuses


def test_each_message_costs_one_commit_and_is_recorded_sent_before_the_next_goes(
    database: Database, smtp: SmtpServer, mail: MailSettings
) -> None:
    enqueue(database, 10)
    seen: list[list[str]] = []
    engine = schedule.engine(database)

    def on_commit(_conn: Any) -> None:
        seen.append([str(m["Message-ID"]) for m in smtp.inbox.messages])

    event.listen(engine, "commit", on_commit)
    try:
        assert deliver_due(database, mail).sent == 10
    finally:
        event.remove(engine, "commit", on_commit)
    assert len(seen) == 11, "a claim per message, each with the outcome of the one before, and one that finds none"
    assert [len(received) for received in seen] == list(range(11)), "a message goes only once the one before is written"
    assert statuses(database) == ["sent"] * 10
