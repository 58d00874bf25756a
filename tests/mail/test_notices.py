"""Security and proxy notices arrive at a real SMTP server: to the right member, in their
language, as plain text and HTML, saying who acted (you, your proxy by number, the board),
with a link into the portal. A change that rolls back or is refused sends nothing."""

from __future__ import annotations

import re
from email.message import EmailMessage

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from coop.auth.policy import CLI_ACTOR
from coop.choices import service as choices_service
from coop.choices.notices import by_whom
from coop.choices.service import ChoicePatch
from coop.db import Database
from coop.mail.models import OutboxMessage
from coop.mail.worker import deliver_due
from coop.members.models import Member
from coop.settings import MailSettings
from coop.types import utcnow
from ledger import log
from tests import factories as f
from tests.factories import services
from tests.factories.mail import SmtpServer

RESEARCH = {"purpose": "research", "user_type": "academic", "decision": "allow"}


def _delivered(database: Database, mail: MailSettings, smtp: SmtpServer) -> list[EmailMessage]:
    """The messages that arrived in this delivery run."""
    before = len(smtp.inbox.messages)
    deliver_due(database, mail)
    return smtp.inbox.messages[before:]


def _to(messages: list[EmailMessage], member: f.MemberHandle, language: str) -> tuple[str, str, str]:
    """The one message to ``member``: its subject, plain text and HTML, checked to be in their language."""
    [message] = [m for m in messages if m["To"] == member.email]
    assert message["Content-Language"] == language
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None, "plain text and HTML"
    return str(message["Subject"]), text.get_content(), html.get_content()


def _link_works(client: TestClient, text: str, html: str, path: str) -> None:
    assert re.search(rf"^http://testserver{re.escape(path)}\r?$", text, re.MULTILINE), repr(text)
    assert f'href="http://testserver{path}"' in html
    page = client.get(path, follow_redirects=False)
    assert page.status_code == 200 or (page.status_code in (302, 303) and page.headers["location"] == "/login")


def _appoint(client: TestClient, principal: f.MemberHandle, proxy: f.MemberHandle, **body: object) -> int:
    r = client.post(
        f"/api/v1/members/{principal.id}/proxies", json={"proxy_member_id": proxy.id, **body}, headers=principal.headers
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def test_a_member_is_told_of_their_own_change_and_of_opting_out_and_back_in(
    client: TestClient, database: Database, smtp: SmtpServer, mail: MailSettings
) -> None:
    board = f.board(client, database)
    member = f.member(client, board, language="en")
    _delivered(database, mail, smtp)  # the invitation
    r = client.patch(f"/api/v1/members/{member.id}/choices", json={"opt_out": True}, headers=member.headers)
    assert r.status_code == 200
    subject, text, html = _to(_delivered(database, mail, smtp), member, "en")
    assert subject == "Your choices were changed"
    assert "The change: you opted out." in text and "You did this yourself" in text
    assert "You cannot turn it off." in text and "You did this yourself" in html
    _link_works(client, text, html, "/me/history")

    client.patch(f"/api/v1/members/{member.id}/choices", json={"opt_out": True}, headers=member.headers)
    assert _delivered(database, mail, smtp) == [], "a change that changes nothing tells nothing"
    client.patch(f"/api/v1/members/{member.id}/choices", json={"opt_out": False}, headers=member.headers)
    _, text, _ = _to(_delivered(database, mail, smtp), member, "en")
    assert "The change: you opted back in." in text


def test_a_proxy_is_appointed_acts_and_is_revoked_and_both_sides_are_told(
    client: TestClient, database: Database, smtp: SmtpServer, mail: MailSettings
) -> None:
    board = f.board(client, database)
    principal = f.member(client, board, language="nl")
    proxy = f.member(client, board, language="en")
    _delivered(database, mail, smtp)  # the invitations
    appointment = _appoint(client, principal, proxy, voting=True)
    arrived = _delivered(database, mail, smtp)
    assert len(arrived) == 2, "one message to each side, not one more for the choices it delegates"
    subject, text, html = _to(arrived, principal, "nl")
    assert subject == "U heeft iemand gevraagd als gevolmachtigde"
    assert f"U heeft lid {proxy.number} gevraagd om uw gevolmachtigde te zijn." in text
    assert "U heeft dit zelf gedaan" in text
    _link_works(client, text, html, "/me/proxies")
    subject, text, html = _to(arrived, proxy, "en")
    assert subject == "A member asks you to be their proxy"
    assert f"Member {principal.number} asks you to be their proxy" in text and "vote for this member" in text
    with database.unit_of_work(write=False) as s:
        principal_name = s.get_one(Member, principal.id).name
    assert principal.email not in text + html and f"{principal_name}," not in text, "only the number"
    _link_works(client, text, html, "/me/proxies")

    f.accept_proxy(client, proxy, appointment)
    arrived = _delivered(database, mail, smtp)
    assert [m["To"] for m in arrived] == [principal.email], "the proxy is not told of their own yes"
    subject, text, html = _to(arrived, principal, "nl")
    assert subject == "Uw gevolmachtigde heeft ja gezegd"
    assert f"Lid {proxy.number} heeft ja gezegd." in text
    _link_works(client, text, html, "/me/proxies")

    r = client.patch(f"/api/v1/members/{principal.id}/choices", json={"preferences": [RESEARCH]}, headers=proxy.headers)
    assert r.status_code == 200, r.text
    arrived = _delivered(database, mail, smtp)
    _, text, html = _to(arrived, principal, "nl")
    assert f"Uw gevolmachtigde heeft dit gedaan: lid {proxy.number}." in text
    assert f"Uw gevolmachtigde heeft dit gedaan: lid {proxy.number}." in html
    assert [m["To"] for m in arrived] == [principal.email], "the proxy who acted is not told"

    r = client.post(f"/api/v1/members/{principal.id}/proxies/{appointment}/revoke", headers=principal.headers)
    assert r.status_code == 200
    arrived = _delivered(database, mail, smtp)
    subject, text, _ = _to(arrived, principal, "nl")
    assert subject == "Uw gevolmachtigde is gestopt" and f"Lid {proxy.number} is niet meer" in text
    subject, text, _ = _to(arrived, proxy, "en")
    assert subject == "You are no longer a proxy for a member"
    assert f"Member {principal.number} has ended your role as their proxy." in text
    client.post(f"/api/v1/members/{principal.id}/proxies/{appointment}/revoke", headers=principal.headers)
    assert _delivered(database, mail, smtp) == [], "revoking again changes nothing and tells nothing"

    with database.unit_of_work(write=False) as s:
        payloads = str([e.payload for e in log.events_after(s, 0, 10_000)])
        names = s.execute(select(Member.name)).scalars().all()
    assert "@" not in payloads and not any(name in payloads for name in names), "no identity in the ledger"


def test_when_the_board_ends_a_proxys_membership_the_principal_is_told_the_board_did_it_once(
    client: TestClient, database: Database, smtp: SmtpServer, mail: MailSettings
) -> None:
    board = f.board(client, database)
    principal, proxy = f.member(client, board, language="en"), f.member(client, board, language="nl")
    f.appointed(client, principal, proxy, purposes=["research"])
    f.appointed(client, principal, proxy, purposes=["innovation"])
    _delivered(database, mail, smtp)
    assert client.post(f"/api/v1/members/{proxy.id}/leave", headers=board).status_code == 200
    arrived = _delivered(database, mail, smtp)
    assert [m["To"] for m in arrived] == [principal.email], "one message for the whole change; the leaver is not told"
    subject, text, html = _to(arrived, principal, "en")
    assert subject == "Your proxy has stopped"
    assert f"Your proxy, member {proxy.number}, left the cooperative." in text and "The board did this." in text
    _link_works(client, text, html, "/me/proxies")


def test_when_a_principal_leaves_their_proxy_is_told(
    client: TestClient, database: Database, smtp: SmtpServer, mail: MailSettings
) -> None:
    board = f.board(client, database)
    principal, proxy = f.member(client, board, language="nl"), f.member(client, board, language="nl")
    f.appointed(client, principal, proxy)
    _delivered(database, mail, smtp)
    assert client.post(f"/api/v1/members/{principal.id}/leave", headers=principal.headers).status_code == 200
    arrived = _delivered(database, mail, smtp)
    assert [m["To"] for m in arrived] == [proxy.email]
    subject, text, _ = _to(arrived, proxy, "nl")
    assert subject == "U bent geen gevolmachtigde meer voor een lid"
    assert f"Lid {principal.number} is uit de coöperatie gegaan." in text


def test_refused_and_rolled_back_changes_send_nothing(
    client: TestClient, database: Database, smtp: SmtpServer, mail: MailSettings
) -> None:
    board = f.board(client, database)
    member = f.member(client, board, language="en")
    _delivered(database, mail, smtp)
    url, headers = f"/api/v1/members/{member.id}/choices", member.headers
    stale = client.patch(url, json={"opt_out": True}, headers={**headers, "If-Match": '"stale"'})
    assert stale.status_code == 412
    banned = {"purpose": "statistics", "user_type": "commercial", "decision": "allow"}
    assert client.patch(url, json={"preferences": [banned]}, headers=headers).status_code == 422
    actor = services.actor_of(client, headers)
    with pytest.raises(RuntimeError), database.unit_of_work() as s:
        choices_service.change(s, actor, member.id, ChoicePatch(opt_out=True), None, utcnow())
        assert s.execute(select(OutboxMessage).where(OutboxMessage.member_id == member.id)).all()
        raise RuntimeError("the change fails after its notice was written")
    assert _delivered(database, mail, smtp) == []


def test_who_acted_is_told_relative_to_the_member() -> None:
    from coop.auth.policy import Actor, Role

    assert by_whom(Actor("user", 1, Role.member, member_id=7), 7) == {"by": "you", "by_number": None}
    assert by_whom(Actor("user", 2, Role.member, member_id=8), 7) == {"by": "proxy", "by_number": "M-000008"}
    assert by_whom(Actor("user", 3, Role.board), 7) == {"by": "board", "by_number": None}
    assert by_whom(CLI_ACTOR, 7) == {"by": "board", "by_number": None}
