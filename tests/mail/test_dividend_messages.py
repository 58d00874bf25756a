"""Members hear of their dividend from the mail worker's schedule, once per distribution:
the commit itself writes no message (it holds the writers' lock), the schedule's pass writes
one per member with a share, however many workers make it and however often."""

from __future__ import annotations

from functools import partial

from alembic.config import Config
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlmodel import col

from alembic import command
from coop.db import Database
from coop.mail import schedule
from coop.mail.models import MailKind, MailRun, OutboxMessage
from coop.mail.worker import deliver_due
from coop.settings import ROOT, MailSettings
from coop.surface import MAIL_PASSES
from tests import factories as f
from tests.conftest import Clock
from tests.factories.mail import SmtpServer
from tests.together import together

SUBJECT = "Je dividend van de coöperatie"


def _committed(client: TestClient, database: Database, clock: Clock, members: int = 3) -> list[f.MemberHandle]:
    board, people, permit_id = f.cooperative(client, database, members)
    f.money(client, board, permit_id, income=100_003, expense=10_000)
    clock.moment = f.AFTER
    d = client.post("/api/v1/distributions", json=f.PERIOD, headers=board)
    assert d.status_code == 201, d.text
    assert f.commit(client, database, board, d.json()["id"]).status_code == 200
    return people


def _messages(database: Database) -> int:
    with database.unit_of_work(write=False) as s:
        kind = col(OutboxMessage.kind) == MailKind.dividend.value
        return int(s.execute(select(func.count()).select_from(OutboxMessage).where(kind)).scalar_one())


def _runs(database: Database) -> list[tuple[str, int]]:
    with database.unit_of_work(write=False) as s:
        runs = s.execute(select(MailRun).where(col(MailRun.kind) == "dividend").order_by(col(MailRun.id))).scalars()
        return [(run.key, run.messages) for run in runs]


def test_the_commit_writes_no_message_and_the_schedule_tells_each_member_once(
    client: TestClient, database: Database, clock: Clock, smtp: SmtpServer, mail: MailSettings
) -> None:
    people = _committed(client, database, clock)
    assert _messages(database) == 0, "the commit leaves the messages to the schedule"
    schedule.run(database, MAIL_PASSES, f.AFTER)
    assert _messages(database) == len(people)
    (key, written), *more = _runs(database)
    assert key.startswith("distribution:") and written == len(people) and not more
    schedule.run(database, MAIL_PASSES, f.AFTER)  # the next look finds nobody left to tell
    assert _messages(database) == len(people) and len(_runs(database)) == 1
    with clock.at(f.AFTER):
        deliver_due(database, mail, clock=clock)
    told = sorted(str(m["To"]) for m in smtp.inbox.messages if m["Subject"] == SUBJECT)
    assert told == sorted(p.email for p in people)


def test_workers_making_the_dividend_pass_at_once_tell_each_member_once(
    client: TestClient, database: Database, clock: Clock
) -> None:
    people = _committed(client, database, clock, members=4)
    workers = [Database(database.settings) for _ in range(6)]
    try:
        together(*(partial(schedule.run, db, MAIL_PASSES, f.AFTER) for db in workers))
    finally:
        for db in workers:
            db.dispose()
    assert _messages(database) == len(people), "each member once, however many workers"
    assert [written for _, written in _runs(database)] == [len(people)], "one pass, recorded with what it wrote"


def test_distributions_committed_before_the_schedule_told_members_are_not_told_again(
    client: TestClient, database: Database, clock: Clock, db_url: str
) -> None:
    """Migration 0032 records a run for every distribution committed before it (whose commit
    wrote the messages), with the number of messages it wrote."""
    people = _committed(client, database, clock)
    schedule.run(database, MAIL_PASSES, f.AFTER)  # as the commit did before 0032, at its moment
    with database.unit_of_work() as s:
        s.execute(text("DELETE FROM mail_run WHERE kind = 'dividend'"))
    database.dispose()
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["url"] = db_url
    config.attributes["configure_logger"] = False
    command.downgrade(config, "0031")
    command.upgrade(config, "head")
    assert [written for _, written in _runs(database)] == [len(people)]
    schedule.run(database, MAIL_PASSES, f.AFTER)
    assert _messages(database) == len(people), "nobody told twice"
