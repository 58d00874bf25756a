"""Messages the clock causes, and incidents.

The data-use digest tells each member, at the frequency they chose, which permits have their
data and what came out: one message per member per pass however many permits there were,
never to members who left or chose never. A vote's reminder reaches, once, 48 hours before it
closes, the members who have not voted. An incident reported under a permit reaches at once
every member in its group, those who left and those who switched optional mail off too.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from functools import partial

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import col

from coop.auth.policy import Permission
from coop.db import Database
from coop.mail import schedule
from coop.mail.models import MailRun
from coop.mail.worker import deliver_due
from coop.settings import MailSettings
from coop.surface import MAIL_PASSES
from coop.types import utcnow
from tests import factories as f
from tests.conftest import Clock
from tests.factories import services
from tests.factories.mail import SmtpServer
from tests.factories.mail import html_part as _html
from tests.factories.mail import plain_part as _text
from tests.factories.members import MemberHandle
from tests.together import together

DIGEST = {"nl": "Hoe uw gezondheidsgegevens zijn gebruikt", "en": "How your health data was used"}
CLOSING = {"nl": "Een stemming sluit over twee dagen", "en": "A vote closes in two days"}
INCIDENT = {
    "nl": "Er ging iets mis met gegevens waar die van u bij zitten",
    "en": "Something went wrong with data that includes yours",
}


def _received(smtp: SmtpServer, subjects: dict[str, str]) -> dict[str, EmailMessage]:
    """The messages with one of these subjects, by recipient (each gets at most one), taken
    out of the inbox."""
    found = [m for m in smtp.inbox.messages if m["Subject"] in set(subjects.values())]
    assert len({str(m["To"]) for m in found}) == len(found), "one message per member"
    smtp.inbox.messages.clear()
    return {str(m["To"]): m for m in found}


def _pass(database: Database, mail: MailSettings, clock: Clock, smtp: SmtpServer, at: datetime) -> None:
    schedule.run(database, MAIL_PASSES, at)
    with clock.at(max(at, utcnow())):
        deliver_due(database, mail, clock=clock)


def _digest_setting(client: TestClient, who: MemberHandle, how_often: str) -> None:
    url = f"/api/v1/members/{who.id}/message-settings"
    settings = client.get(url, headers=who.headers).json()
    assert client.put(url, json={**settings, "digest": how_often}, headers=who.headers).status_code == 200


def _permit_with_group(client: TestClient, hdab: dict[str, str], number: str, applicant: str) -> int:
    actor = services.actor_of(client, hdab, Permission.register_permits)
    body = f.permit_body(permit_number=number, applicant=applicant, approved_at=utcnow().isoformat())
    with services.database_of(client).unit_of_work() as session:
        permit = services.register_permit(client, session, actor, body)
        services.make_manifest(client, session, actor, permit)
        assert permit.id is not None
        return permit.id


def _result(client: TestClient, hdab: dict[str, str], permit_id: int, title: str, url: str) -> None:
    body = {
        "kind": "publication",
        "title": title,
        "url": url,
        "published_at": utcnow().isoformat(),
        "open_access": True,
    }
    r = client.post(f"/api/v1/permits/{permit_id}/results", json=body, headers=hdab)
    assert r.status_code == 201, r.text


def test_a_digest_tells_each_member_once_what_used_their_data_as_often_as_they_chose(
    client: TestClient, database: Database, clock: Clock, smtp: SmtpServer, mail: MailSettings
) -> None:
    board = f.board(client, database)
    f.statutes(database)
    soon, monthly, english, never, leaver = (
        f.member(client, board, language=x) for x in ("nl", "nl", "en", "nl", "nl")
    )
    _digest_setting(client, soon, "immediately")
    _digest_setting(client, never, "never")
    hdab = f.api_key(database, "hdab")
    start = datetime(2026, 6, 15, 12, tzinfo=UTC)
    _pass(database, mail, clock, smtp, start)  # where digests begin: nothing before is told
    smtp.inbox.messages.clear()

    first = _permit_with_group(client, hdab, "NL-HDAB-2026-0101", "Universiteit Utrecht")
    _result(client, hdab, first, "Hartfalen in Nederland", "https://example.org/hartfalen")
    second = _permit_with_group(client, hdab, "NL-HDAB-2026-0102", "RIVM")
    assert client.post(f"/api/v1/members/{leaver.id}/leave", headers=leaver.headers).status_code == 200
    smtp.inbox.messages.clear()

    _pass(database, mail, clock, smtp, start + timedelta(minutes=30))
    assert _received(smtp, DIGEST) == {}, "at most one digest an hour for those who want news at once"
    _pass(database, mail, clock, smtp, start + timedelta(minutes=61))
    at_once = _received(smtp, DIGEST)
    assert set(at_once) == {soon.email}, "two permits, one message; monthly ones wait"
    text = _text(at_once[soon.email])
    assert "NL-HDAB-2026-0101" in text and "NL-HDAB-2026-0102" in text
    assert "Hartfalen in Nederland https://example.org/hartfalen" in text
    assert "15 juni 2026" in text and "/me/data-use" in text and "/me/messages" in text
    assert 'href="https://example.org/hartfalen"' in _html(at_once[soon.email])
    assert str(at_once[soon.email]["List-Unsubscribe-Post"]).strip() == "List-Unsubscribe=One-Click"
    _pass(database, mail, clock, smtp, start + timedelta(hours=3))
    assert _received(smtp, DIGEST) == {}, "nothing new, nothing sent"

    july = datetime(2026, 7, 1, 6, tzinfo=UTC)
    _pass(database, mail, clock, smtp, july)
    month = _received(smtp, DIGEST)
    assert set(month) == {monthly.email, english.email}, "not those who left, chose never or had it at once"
    assert month[english.email]["Content-Language"] == "en"
    english_text = _text(month[english.email])
    assert "Permit NL-HDAB-2026-0101 for Universiteit Utrecht" in english_text
    assert "once a month" in english_text and "Scientific research" in english_text
    _pass(database, mail, clock, smtp, july + timedelta(hours=5))
    assert _received(smtp, DIGEST) == {}, "one monthly digest in a month"

    _result(client, hdab, second, "Griep in 2026", "https://example.org/griep")
    _pass(database, mail, clock, smtp, start + timedelta(hours=4))
    later = _received(smtp, DIGEST)
    assert set(later) == {soon.email}
    later_text = _text(later[soon.email])
    assert "NL-HDAB-2026-0102" in later_text and "Griep in 2026" in later_text
    assert "NL-HDAB-2026-0101" not in later_text, "only what is new"
    assert "toegevoegd" not in later_text, "the group was formed before the last digest"


def test_members_who_have_not_voted_are_reminded_once_two_days_before_a_vote_closes(
    client: TestClient, database: Database, clock: Clock, smtp: SmtpServer, mail: MailSettings
) -> None:
    board = f.board(client, database)
    f.statutes(database)
    voter, forgetful, english, quiet = (f.member(client, board, language=x) for x in ("nl", "nl", "en", "nl"))
    settings = client.get(f"/api/v1/members/{quiet.id}/message-settings", headers=quiet.headers).json()
    client.put(f"/api/v1/members/{quiet.id}/message-settings", json={**settings, "votes": False}, headers=quiet.headers)
    now = utcnow()
    closes = now + timedelta(days=5)
    proposal = f.propose(client, board, title="Een nieuw mandaat", closes_at=closes.isoformat())
    short = f.propose(client, board, title="Kort", closes_at=(now + timedelta(hours=30)).isoformat())
    assert f.vote(client, voter, proposal["id"], "yes").status_code in (200, 201)
    latecomer = f.member(client, board)
    smtp.inbox.messages.clear()

    _pass(database, mail, clock, smtp, closes - timedelta(hours=49))
    assert _received(smtp, CLOSING) == {}, "not yet"
    _pass(database, mail, clock, smtp, closes - timedelta(hours=47))
    reminded = _received(smtp, CLOSING)
    assert set(reminded) == {forgetful.email, english.email}, "not who voted, switched it off, or joined later"
    assert latecomer.email not in reminded
    assert "Een nieuw mandaat" in _text(reminded[forgetful.email]) and "/me/votes" in _text(reminded[forgetful.email])
    assert "Kort" not in "".join(_text(m) for m in reminded.values()), "a short vote's opening message said it all"
    assert "/unsubscribe/" in str(reminded[english.email]["List-Unsubscribe"])
    _pass(database, mail, clock, smtp, closes - timedelta(hours=20))
    assert _received(smtp, CLOSING) == {}, "once"
    assert short["id"] != proposal["id"]


def test_workers_making_the_same_pass_at_once_write_its_messages_once(
    client: TestClient, database: Database, clock: Clock, smtp: SmtpServer, mail: MailSettings
) -> None:
    board = f.board(client, database)
    f.statutes(database)
    members = {f.member(client, board).email for _ in range(3)}
    closes = utcnow() + timedelta(days=3)
    f.propose(client, board, title="Tegelijk", closes_at=closes.isoformat())
    smtp.inbox.messages.clear()
    moment = closes - timedelta(hours=40)
    workers = [Database(database.settings) for _ in range(6)]
    try:
        together(*(partial(schedule.run, db, MAIL_PASSES, moment) for db in workers))
    finally:
        for db in workers:
            db.dispose()
    with clock.at(moment):
        deliver_due(database, mail, clock=clock)
    assert set(_received(smtp, CLOSING)) == members, "each member once, however many workers"
    with database.unit_of_work(write=False) as session:
        runs = session.execute(select(MailRun).where(col(MailRun.kind) == "vote-closing")).scalars().all()
    assert [run.messages for run in runs] == [len(members)], "one pass, recorded with what it wrote"


def test_an_incident_reaches_everyone_in_the_permits_group_at_once_and_cannot_be_switched_off(
    client: TestClient, database: Database, clock: Clock, smtp: SmtpServer, mail: MailSettings
) -> None:
    hdab, permit, (dutch, other, quiet) = f.registered(client, database, members=3, manifest=True)
    board = f.board(client, database)
    _digest_setting(client, quiet, "never")
    settings = client.get(f"/api/v1/members/{quiet.id}/message-settings", headers=quiet.headers).json()
    client.put(f"/api/v1/members/{quiet.id}/message-settings", json={**settings, "votes": False}, headers=quiet.headers)
    assert client.post(f"/api/v1/members/{quiet.id}/leave", headers=quiet.headers).status_code == 200
    with services.database_of(client).unit_of_work() as session:
        services.admit(client, session, services.actor_of(client, board, Permission.admit_members), **_newcomer())
    deliver_due(database, mail, clock=clock)
    smtp.inbox.messages.clear()

    refused = f.report_usage(
        client, hdab, permit["id"], kind="incident", description="x", occurred_at="2999-01-01T00:00:00Z"
    )
    assert refused.status_code == 422
    deliver_due(database, mail, clock=clock)
    assert _received(smtp, INCIDENT) == {}, "a refused report tells nobody"

    r = f.report_usage(
        client, hdab, permit["id"], kind="incident", description="Een laptop met de dataset is gestolen."
    )
    assert r.status_code == 201, r.text
    deliver_due(database, mail, clock=clock)
    told = _received(smtp, INCIDENT)
    assert set(told) == {dutch.email, other.email, quiet.email}, "everyone in the group, not the newcomer"
    text = _text(told[dutch.email])
    assert "Een laptop met de dataset is gestolen." in text and permit["permit_number"] in text
    assert "Een laptop met de dataset is gestolen." in _html(told[dutch.email])
    assert told[dutch.email]["List-Unsubscribe"] is None, "a message nobody can switch off"


def _newcomer() -> dict[str, str]:
    return {"name": "Nieuw Lid", "email": "nieuw.lid@example.org", "language": "nl"}


PROXY_ENDED = {"nl": "Uw gevolmachtigde is gestopt", "en": "Your proxy has stopped"}
ACTING_ENDED = {"en": "You are no longer a proxy for a member", "nl": "U bent geen gevolmachtigde meer voor een lid"}


def test_both_sides_are_told_once_when_a_proxy_reaches_its_end_date(
    client: TestClient, database: Database, clock: Clock, smtp: SmtpServer, mail: MailSettings
) -> None:
    board = f.board(client, database)
    principal, proxy, other = (f.member(client, board, language=x) for x in ("nl", "en", "nl"))
    now = utcnow()
    _pass(database, mail, clock, smtp, now)  # where looking begins
    ends = now + timedelta(days=2)
    for who, until, purpose in ((proxy, ends, "research"), (other, ends + timedelta(days=30), "education")):
        body = {"proxy_member_id": who.id, "valid_until": until.isoformat(), "purposes": [purpose]}
        r = client.post(f"/api/v1/members/{principal.id}/proxies", json=body, headers=principal.headers)
        assert r.status_code == 201, r.text
    revoked = client.post(
        f"/api/v1/members/{principal.id}/proxies",
        json={"proxy_member_id": other.id, "valid_until": ends.isoformat(), "purposes": ["innovation"]},
        headers=principal.headers,
    ).json()
    client.post(f"/api/v1/members/{principal.id}/proxies/{revoked['id']}/revoke", headers=principal.headers)
    deliver_due(database, mail, clock=clock)  # the appointments' and the revocation's notices
    smtp.inbox.messages.clear()

    _pass(database, mail, clock, smtp, ends - timedelta(hours=1))
    assert smtp.inbox.messages == [], "not before the end date"
    _pass(database, mail, clock, smtp, ends + timedelta(minutes=10))
    told = {str(m["To"]): m for m in smtp.inbox.messages}
    assert set(told) == {principal.email, proxy.email}, "not the one revoked before, nor the one still running"
    assert told[principal.email]["Subject"] == PROXY_ENDED["nl"]
    principal_text = _text(told[principal.email])
    assert f"Lid {proxy.number} is niet meer uw gevolmachtigde: de einddatum" in principal_text
    assert told[proxy.email]["Subject"] == ACTING_ENDED["en"]
    assert f"You are no longer the proxy of member {principal.number}" in _text(told[proxy.email])
    smtp.inbox.messages.clear()
    _pass(database, mail, clock, smtp, ends + timedelta(hours=2))
    assert smtp.inbox.messages == [], "once"
