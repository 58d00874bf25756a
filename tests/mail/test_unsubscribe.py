"""The dividend message: each member with a share is told the amount in their language, with
a link to their statement; it is optional, so it carries a one-click unsubscribe link that
works without a login, for that member and that message only, and cannot be forged."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from email.message import EmailMessage

from fastapi.testclient import TestClient
from sqlalchemy import select

from coop.db import Database
from coop.mail import schedule, unsubscribe
from coop.mail.messages import Letter, compose
from coop.mail.models import MailKind, MessageSettings
from coop.mail.preferences import Topic
from coop.mail.worker import deliver_due
from coop.settings import MailSettings
from coop.surface import MAIL_PASSES
from reports.texts import euros
from tests import factories as f
from tests.conftest import Clock
from tests.factories.mail import SmtpServer
from tests.factories.mail import plain_part as _text

DIVIDEND_NL = "Je dividend van de coöperatie"
ONE_CLICK = {"List-Unsubscribe": "One-Click"}


def _header(message: EmailMessage, name: str) -> str:
    """A header's value; a long one arrives folded onto its own line."""
    return str(message[name]).strip()


def _key(database: Database) -> bytes:
    return unsubscribe.key_from(database.settings.auth.secret_file.read_bytes().strip())


def _settings(client: TestClient, member: f.MemberHandle) -> dict[str, object]:
    r = client.get(f"/api/v1/members/{member.id}/message-settings", headers=member.headers)
    assert r.status_code == 200
    return dict(r.json())


def _distribute(client: TestClient, database: Database, board: dict[str, str], clock: Clock) -> None:
    clock.moment = f.AFTER
    d = client.post("/api/v1/distributions", json=f.PERIOD, headers=board)
    assert d.status_code == 201, d.text
    assert f.commit(client, database, board, d.json()["id"]).status_code == 200
    schedule.run(database, MAIL_PASSES, f.AFTER)  # the worker's schedule tells the members


def test_each_member_is_told_their_dividend_and_unsubscribes_with_one_click_once(
    client: TestClient, database: Database, clock: Clock, smtp: SmtpServer, mail: MailSettings
) -> None:
    board, people, permit_id = f.cooperative(client, database)
    f.money(client, board, permit_id, income=100_003, expense=10_000)
    _distribute(client, database, board, clock)
    deliver_due(database, mail, clock=clock)
    dividends = {str(m["To"]): m for m in smtp.inbox.messages if m["Subject"] == DIVIDEND_NL}
    assert sorted(dividends) == sorted(p.email for p in people)
    others = [m for m in smtp.inbox.messages if m["Subject"] != DIVIDEND_NL]
    assert others and all(m["List-Unsubscribe"] is None and m["List-Unsubscribe-Post"] is None for m in others)
    for person in people:
        message = dividends[person.email]
        text = _text(message)
        assert "http://testserver/me/dividends" in text
        mine = client.get(f"/api/v1/members/{person.id}/dividends", headers=person.headers).json()
        cents = mine["distributions"][0]["total_cents"]
        assert f"Jouw deel daarvan is {euros(cents, 'nl')}." in text and cents in (15_000, 15_001)
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        link = re.fullmatch(r"<http://testserver(/unsubscribe/[^>]+)>", _header(message, "List-Unsubscribe"))
        assert link and f"http://testserver{link.group(1)}" in text

    ann, bob = people[0], people[1]
    ann_link = _header(dividends[ann.email], "List-Unsubscribe").strip("<>").removeprefix("http://testserver")
    client.cookies.clear()
    question = client.get(ann_link)  # a scanner that follows the link changes nothing
    assert question.status_code == 200 and 'action="' + ann_link + '"' in question.text
    assert _settings(client, ann)["dividend"] is True

    done = client.post(ann_link, data=ONE_CLICK)  # RFC 8058: no login, no CSRF token
    assert done.status_code == 200 and 'role="status"' in done.text
    assert _settings(client, ann) == {"dividend": False, "digest": "monthly", "votes": True}
    with database.unit_of_work(write=False) as s:
        first = s.execute(select(MessageSettings.updated_at)).scalar_one()
    clock.moment = datetime(f.NEXT, 2, 1, tzinfo=UTC)
    again = client.post(ann_link, data=ONE_CLICK)
    assert again.status_code == 200
    with database.unit_of_work(write=False) as s:
        assert s.execute(select(MessageSettings.updated_at)).scalar_one() == first  # nothing more changed

    token = ann_link.removeprefix("/unsubscribe/")
    member_id, topic, signature = token.split(".")
    forged = [
        f"{bob.id}.{topic}.{signature}",  # another member
        f"{member_id}.votes.{signature}",  # another kind of message
        f"{bob.id}.{topic}.{'A' * len(signature)}",
        f"{bob.id}.{topic}",
        "nonsense",
    ]
    for bad in forged:
        assert client.get(f"/unsubscribe/{bad}").status_code == 404
        assert client.post(f"/unsubscribe/{bad}", data=ONE_CLICK).status_code == 404
    assert _settings(client, bob) == {"dividend": True, "digest": "monthly", "votes": True}
    assert _settings(client, ann)["votes"] is True


def test_a_member_who_unsubscribed_gets_no_dividend_message_from_the_next_distribution(
    client: TestClient, database: Database, clock: Clock, smtp: SmtpServer, mail: MailSettings
) -> None:
    board, people, permit_id = f.cooperative(client, database)
    ann = people[0]
    link = f"/unsubscribe/{unsubscribe.token(_key(database), ann.id, Topic.dividend)}"
    assert client.post(link, data=ONE_CLICK).status_code == 200
    f.money(client, board, permit_id, income=100_000)
    _distribute(client, database, board, clock)
    deliver_due(database, mail, clock=clock)
    told = sorted(str(m["To"]) for m in smtp.inbox.messages if m["Subject"] == DIVIDEND_NL)
    assert told == sorted(p.email for p in people[1:])
    mine = client.get(f"/api/v1/members/{ann.id}/dividends", headers=ann.headers).json()
    assert mine["distributions"][0]["total_cents"] > 0  # paid all the same; only the message is off


def test_the_amount_is_written_in_the_members_language_and_only_optional_messages_can_be_unsubscribed(
    database: Database, mail: MailSettings
) -> None:
    key = _key(database)
    context = json.dumps({"cents": 123_456, "start": "2026-01-01", "end": "2026-12-31"})
    english = compose(Letter(1, "a" * 32, "dividend", "ann@coop-test.nl", "en", context, 1, 7), mail, f.AFTER, key)
    dutch = compose(Letter(2, "b" * 32, "dividend", "an@coop-test.nl", "nl", context, 1, 7), mail, f.AFTER, key)
    assert "1 January 2026 to 31 December 2026. Your share is €1,234.56." in _text(english)
    assert "1 januari 2026 tot en met 31 december 2026. Jouw deel daarvan is € 1.234,56." in _text(dutch)
    expected = f"<http://testserver/unsubscribe/{unsubscribe.token(key, 7, Topic.dividend)}>"
    assert english["List-Unsubscribe"] == expected == dutch["List-Unsubscribe"]
    reset = json.dumps({"token": "t", "minutes": 30})
    kind = MailKind.password_reset.value
    plain = compose(Letter(3, "c" * 32, kind, "ann@coop-test.nl", "en", reset, 1, 7), mail, f.AFTER, key)
    assert plain["List-Unsubscribe"] is None and plain["List-Unsubscribe-Post"] is None
    assert unsubscribe.verify(key, unsubscribe.token(key, 7, Topic.dividend)) == (7, Topic.dividend)
    assert (
        unsubscribe.verify(unsubscribe.key_from(b"another secret" * 4), unsubscribe.token(key, 7, Topic.dividend))
        is None
    )
