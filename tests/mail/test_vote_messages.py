"""Vote messages: when the board opens a proposal every member is told what it is about and
when they can vote, in their language, with a link to vote; when it closes they are told the
outcome and the count. Both are optional: a member who switched vote messages off gets
neither, and each carries a one-click unsubscribe link. Members who left get none."""

from __future__ import annotations

from datetime import datetime, timedelta
from email.message import EmailMessage

from fastapi.testclient import TestClient

from coop.db import Database
from coop.mail.worker import deliver_due
from coop.settings import MailSettings
from tests import factories as f
from tests.conftest import Clock
from tests.factories.mail import SmtpServer
from tests.factories.mail import html_part as _html
from tests.factories.mail import plain_part as _text

OPENED = {"nl": "Een nieuwe stemming voor leden", "en": "A new vote for members"}
RESULT = {"nl": "De uitslag van een stemming", "en": "The result of a vote"}


def _by_recipient(smtp: SmtpServer, subjects: set[str]) -> dict[str, EmailMessage]:
    found = [m for m in smtp.inbox.messages if m["Subject"] in subjects]
    assert len({str(m["To"]) for m in found}) == len(found), "one message per member"
    return {str(m["To"]): m for m in found}


def test_members_are_told_a_vote_opened_and_its_result_unless_they_switched_it_off(
    client: TestClient, database: Database, clock: Clock, smtp: SmtpServer, mail: MailSettings
) -> None:
    board = f.board(client, database)
    f.statutes(database)
    dutch, english, quiet, leaver = (f.member(client, board, language=lang) for lang in ("nl", "en", "nl", "nl"))
    settings = client.get(f"/api/v1/members/{quiet.id}/message-settings", headers=quiet.headers).json()
    r = client.put(
        f"/api/v1/members/{quiet.id}/message-settings", json={**settings, "votes": False}, headers=quiet.headers
    )
    assert r.status_code == 200, r.text
    assert client.post(f"/api/v1/members/{leaver.id}/leave", headers=leaver.headers).status_code == 200
    deliver_due(database, mail, clock=clock)
    smtp.inbox.messages.clear()

    proposal = f.propose(client, board, title="Meer geld naar het solidariteitsfonds")
    deliver_due(database, mail, clock=clock)
    opened = _by_recipient(smtp, set(OPENED.values()))
    assert set(opened) == {dutch.email, english.email}
    for member, lang in ((dutch, "nl"), (english, "en")):
        message = opened[member.email]
        assert message["Subject"] == OPENED[lang] and message["Content-Language"] == lang
        text = _text(message)
        assert "Meer geld naar het solidariteitsfonds" in text and "/me/votes" in text
        assert "/me/votes" in _html(message)
        assert str(message["List-Unsubscribe-Post"]).strip() == "List-Unsubscribe=One-Click"
        assert "/unsubscribe/" in str(message["List-Unsubscribe"])
    closes = datetime.fromisoformat(proposal["closes_at"])
    assert ("Nederlandse tijd" in _text(opened[dutch.email])) and ("Amsterdam time" in _text(opened[english.email]))
    assert f.vote(client, dutch, proposal["id"], "yes").status_code in (200, 201)

    smtp.inbox.messages.clear()
    clock.moment = closes + timedelta(minutes=1)
    closed = client.post(f"/api/v1/governance/proposals/{proposal['id']}/close", headers=board)
    assert closed.status_code == 200, closed.text
    deliver_due(database, mail, clock=clock)
    results = _by_recipient(smtp, set(RESULT.values()))
    assert set(results) == {dutch.email, english.email}
    outcome = closed.json()
    tally = outcome["tally"]
    count = f"Yes: {tally['yes']}. No: {tally['no']}. Abstain: {tally['abstain']}."
    assert count in _text(results[english.email])
    accepted = outcome["status"] == "adopted"
    assert ("aangenomen" in _text(results[dutch.email])) and (
        ("niet aangenomen" not in _text(results[dutch.email])) == accepted
    )


def test_a_refused_proposal_tells_nobody(
    client: TestClient, database: Database, clock: Clock, smtp: SmtpServer, mail: MailSettings
) -> None:
    board = f.board(client, database)
    f.statutes(database)
    f.member(client, board)
    deliver_due(database, mail, clock=clock)
    smtp.inbox.messages.clear()
    r = f.try_proposal(client, board, closes_at="2001-01-01T00:00:00Z", opens_at="2000-01-01T00:00:00Z")
    assert r.status_code == 422
    deliver_due(database, mail, clock=clock)
    assert not [m for m in smtp.inbox.messages if m["Subject"] in set(OPENED.values())]
