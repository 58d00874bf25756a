"""Rectification: a member corrects their name at once, and moves to a new email address only
once the single-use link mailed to that address is followed; the old address is told when
the change is asked for and when it took effect, saying by whom. The login moves with the
email. Nobody else may change a member's details, refused input changes nothing, and the
ledger of record never holds a name or an address."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import col

from coop.auth.models import UserAccount
from coop.db import Database
from coop.mail.models import MailKind
from coop.types import utcnow
from ledger import log
from ledger.verify import verify
from tests import factories as f
from tests.conftest import Clock
from tests.factories.mail import composed as _composed
from tests.factories.mail import html_part as _html
from tests.factories.mail import outbox_of as _outbox
from tests.factories.mail import plain_part as _text
from tests.factories.members import BOARD_EMAIL

NEW = "new.address@coop-test.nl"


DETAILS_MAIL = (
    MailKind.email_change_confirm,
    MailKind.email_change_requested,
    MailKind.email_changed,
    MailKind.name_changed,
)


def _token(database: Database, to: str = NEW) -> str:
    """The token of the newest link mailed to ``to``."""
    [*_, newest] = [m for m in _outbox(database, MailKind.email_change_confirm) if m.recipient == to]
    return str(json.loads(newest.context)["token"])


def _events(database: Database, prefix: str = "member.") -> list[log.Event]:
    with database.unit_of_work(write=False) as s:
        return [e for e in log.events_after(s, 0, 100_000) if e.type.startswith(prefix)]


def _ask(client: TestClient, member: f.MemberHandle, email: str = NEW, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return client.post(
        f"/api/v1/members/{member.id}/email-change", json={"email": email}, headers=headers or member.headers
    )


def _confirm(client: TestClient, token: str):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/members/confirm-email", json={"token": token})


def _verified(database: Database) -> None:
    with database.unit_of_work(write=False) as s:
        report = verify(s.connection(), {database.signer.key_id: database.signer.public_key})
    assert report.ok, report.problems


def test_a_new_email_counts_only_once_the_link_sent_to_it_is_followed(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    member = f.member(client, board, language="en")
    r = _ask(client, member, "  New.Address@Coop-Test.nl ")
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "pending"

    assert client.get(f"/api/v1/members/{member.id}", headers=member.headers).json()["email"] == member.email
    f.login(client, member.email)  # the old address still logs in
    confirm, requested = _outbox(database, MailKind.email_change_confirm, MailKind.email_change_requested)
    assert (confirm.kind, confirm.recipient) == ("email-change-confirm", NEW)
    assert (requested.kind, requested.recipient) == ("email-change-requested", member.email)

    r = _confirm(client, _token(database))
    assert r.status_code == 200, r.text
    assert r.json() == {"email": NEW}
    assert client.get(f"/api/v1/members/{member.id}", headers=member.headers).json()["email"] == NEW
    f.login(client, NEW)  # the login moved with it
    refused = client.post("/api/v1/auth/token", data={"username": member.email, "password": f.PASSWORD})
    assert refused.status_code == 401
    [changed] = _outbox(database, MailKind.email_changed)
    assert changed.recipient == member.email, "the old address is told the change took effect"

    events = [(e.type, e.subject, e.payload) for e in _events(database) if e.subject == f"member:{member.id}"]
    assert events[-2:] == [
        ("member.email-change-requested", f"member:{member.id}", events[-2][2]),
        ("member.email-changed", f"member:{member.id}", "{}"),
    ]
    assert all("@" not in e.payload for e in _events(database, ""))
    _verified(database)


def test_the_messages_say_who_asked_in_the_members_language_and_link_to_the_portal(
    client: TestClient, database: Database
) -> None:
    board = f.board(client, database)
    member = f.member(client, board, language="nl")
    assert _ask(client, member).status_code == 202
    confirm, requested = (_composed(client, m) for m in _outbox(database, *DETAILS_MAIL))
    assert confirm["Subject"] == "Bevestig uw nieuwe e-mailadres" and confirm["Content-Language"] == "nl"
    token = _token(database)
    assert f"/email/confirm?token={token}" in _text(confirm) and f"/email/confirm?token={token}" in _html(confirm)
    assert "maar één keer" in _text(confirm)
    assert requested["Subject"] == "Iemand wil uw e-mailadres wijzigen"
    assert NEW in _text(requested) and "U heeft dit zelf gedaan" in _text(requested)
    assert "/me/details" in _html(requested)

    assert _confirm(client, token).status_code == 200
    [changed] = (_composed(client, m) for m in _outbox(database, MailKind.email_changed))
    assert changed["To"] == member.email and changed["Subject"] == "Uw e-mailadres is gewijzigd"
    assert "Vanaf nu logt u in met het nieuwe adres" in _text(changed) and NEW in _html(changed)

    english = f.member(client, board, language="en")
    assert _ask(client, english, "english@coop-test.nl", headers=board).status_code == 202
    [*_, requested] = (_composed(client, m) for m in _outbox(database, MailKind.email_change_requested))
    assert requested["To"] == english.email and requested["Subject"] == "Someone asked to change your email address"
    assert "The board did this." in _text(requested)


def test_the_link_works_once_expires_and_gives_way_to_a_newer_one(
    client: TestClient, database: Database, clock: Clock
) -> None:
    board = f.board(client, database)
    member = f.member(client, board)
    assert _ask(client, member).status_code == 202
    first = _token(database)
    assert _confirm(client, first).status_code == 200
    again = _confirm(client, first)
    assert (again.status_code, again.json()["code"]) == (410, "email-change-used")

    assert _ask(client, member, "second@coop-test.nl").status_code == 202
    older = _token(database, "second@coop-test.nl")  # read before the newer request empties its message
    assert _ask(client, member, "third@coop-test.nl").status_code == 202
    newer = _token(database, "third@coop-test.nl")
    statuses = {m.recipient: m.status for m in _outbox(database, MailKind.email_change_confirm)}
    assert statuses["second@coop-test.nl"] == "withdrawn", "the older link's message is not sent if still waiting"
    withdrawn = _confirm(client, older)
    assert (withdrawn.status_code, withdrawn.json()["code"]) == (422, "email-change-invalid")
    with clock.at(utcnow() + timedelta(minutes=database.settings.mail.email_change_minutes, seconds=1)):
        late = _confirm(client, newer)
    assert (late.status_code, late.json()["code"]) == (410, "email-change-expired")
    unknown = _confirm(client, "not-a-token")
    assert (unknown.status_code, unknown.json()["code"]) == (422, "email-change-invalid")
    assert client.get(f"/api/v1/members/{member.id}", headers=member.headers).json()["email"] == NEW
    assert [e.type for e in _events(database)].count("member.email-changed") == 1


def test_a_name_is_corrected_at_once_and_the_member_is_told(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    member = f.member(client, board, language="en")
    r = client.put(f"/api/v1/members/{member.id}/name", json={"name": " Anna de Vries "}, headers=member.headers)
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "Anna de Vries"
    [notice] = (_composed(client, m) for m in _outbox(database, MailKind.name_changed))
    assert notice["To"] == member.email and notice["Subject"] == "Your name was changed"
    assert "It is now: Anna de Vries." in _text(notice) and "You did this yourself" in _text(notice)

    again = client.put(f"/api/v1/members/{member.id}/name", json={"name": "Anna de Vries"}, headers=member.headers)
    assert again.status_code == 200
    assert len(_outbox(database, MailKind.name_changed)) == 1, "the same name again tells nothing"
    by_board = client.put(f"/api/v1/members/{member.id}/name", json={"name": "Anna Jansen"}, headers=board)
    assert by_board.status_code == 200
    assert "The board did this." in _text(_composed(client, _outbox(database, MailKind.name_changed)[-1]))
    renamed = [e for e in _events(database) if e.type == "member.renamed"]
    assert [(e.subject, e.payload) for e in renamed] == [(f"member:{member.id}", "{}")] * 2
    assert all("Anna" not in e.payload for e in _events(database, ""))
    _verified(database)


def test_nobody_else_changes_a_members_details(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    owner, other = f.members(client, board, 2)
    appointed = client.post(
        f"/api/v1/members/{owner.id}/proxies", json={"proxy_member_id": other.id}, headers=owner.headers
    )
    assert appointed.status_code == 201, "even their proxy"
    before = (len(_events(database)), len(_outbox(database, *DETAILS_MAIL)))
    for r in (
        client.put(f"/api/v1/members/{owner.id}/name", json={"name": "Someone Else"}, headers=other.headers),
        _ask(client, owner, headers=other.headers),
    ):
        assert (r.status_code, r.json()["code"]) == (404, "member-not-found")
    hdab = f.api_key(database, "hdab")
    assert client.put(f"/api/v1/members/{owner.id}/name", json={"name": "X"}, headers=hdab).status_code == 404
    assert client.put(f"/api/v1/members/{owner.id}/name", json={"name": "X"}).status_code == 401
    assert (len(_events(database)), len(_outbox(database, *DETAILS_MAIL))) == before
    me = client.get(f"/api/v1/members/{owner.id}", headers=owner.headers).json()
    assert (me["email"], me["name"]) == (
        owner.email,
        client.get(f"/api/v1/members/{owner.id}", headers=board).json()["name"],
    )
    assert me["name"] != "Someone Else"


@pytest.mark.parametrize(
    ("path", "body", "code"),
    [
        ("email-change", {"email": "not an address"}, "invalid"),
        ("email-change", {"email": NEW, "also": 1}, "invalid"),
        ("email-change", {}, "invalid"),
        ("email-change", {"email": "SAME"}, "email-unchanged"),
        ("name", {"name": ""}, "invalid"),
        ("name", {"name": "x" * 201}, "invalid"),
        ("name", {"name": "Evil\u202eName"}, "invalid"),
    ],
)
def test_refused_input_changes_nothing(
    client: TestClient, database: Database, path: str, body: dict[str, object], code: str
) -> None:
    board = f.board(client, database)
    member = f.member(client, board)
    if body.get("email") == "SAME":
        body = {"email": member.email.upper()}
    before = (len(_events(database)), len(_outbox(database)))
    send = client.put if path == "name" else client.post
    r = send(f"/api/v1/members/{member.id}/{path}", json=body, headers=member.headers)
    assert (r.status_code, r.json()["code"]) == (422, code)
    assert r.headers["content-type"].startswith("application/problem+json")
    assert (len(_events(database)), len(_outbox(database))) == before


def test_an_address_in_use_is_refused_without_telling_a_member_whose_it_is(
    client: TestClient, database: Database
) -> None:
    """A member gets the same answer for an address in use as for a free one (no probing which
    addresses are members'); only the holder of that mailbox, following the link, learns it is
    taken. The board, which sees every member, is told at once."""
    board = f.board(client, database)
    member, holder = f.members(client, board, 2)
    for address in (holder.email, BOARD_EMAIL, "free@coop-test.nl"):
        r = _ask(client, member, address)
        assert (r.status_code, sorted(r.json())) == (202, ["expires_at", "status"])
        if address != "free@coop-test.nl":
            taken = _confirm(client, _token(database, address))
            assert (taken.status_code, taken.json()["code"]) == (409, "email-taken")
    assert client.get(f"/api/v1/members/{member.id}", headers=member.headers).json()["email"] == member.email
    f.login(client, holder.email)  # the holder keeps their address and login

    by_board = _ask(client, member, holder.email.upper(), headers=board)
    assert (by_board.status_code, by_board.json()["code"], by_board.json()["field"]) == (409, "email-taken", "email")
    assert _ask(client, member, BOARD_EMAIL, headers=board).status_code == 409
    assert [e.type for e in _events(database)].count("member.email-changed") == 0


def test_the_board_changes_an_email_on_the_members_request(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    member = f.member(client, board)
    assert _ask(client, member, headers=board).status_code == 202
    assert client.get(f"/api/v1/members/{member.id}", headers=board).json()["email"] == member.email
    assert _confirm(client, _token(database)).status_code == 200
    [changed] = (_composed(client, m) for m in _outbox(database, MailKind.email_changed))
    assert changed["To"] == member.email and "Het bestuur heeft dit gedaan." in _text(changed)
    f.login(client, NEW)
    with database.unit_of_work(write=False) as s:
        account = s.execute(select(UserAccount).where(col(UserAccount.member_id) == member.id)).scalar_one()
        assert account.email == NEW
    [event] = [e for e in _events(database) if e.type == "member.email-changed"]
    assert (
        event.actor.startswith("user:") and event.actor == _events(database, "member.email-change-requested")[0].actor
    )


def test_a_member_who_left_may_still_correct_their_details(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    member = f.member(client, board)
    assert client.post(f"/api/v1/members/{member.id}/leave", headers=member.headers).status_code == 200
    former = f.login(client, member.email)
    assert (
        client.put(f"/api/v1/members/{member.id}/name", json={"name": "Old Member"}, headers=former).status_code == 200
    )
    assert _ask(client, member, headers=former).status_code == 202
    assert _confirm(client, _token(database)).status_code == 200
    f.login(client, NEW)


def test_links_to_one_mailbox_are_limited_per_hour(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    member = f.member(client, board)
    limit = database.settings.mail.email_change_max_per_hour
    for i in range(limit):
        assert _ask(client, member, f"try{i}@coop-test.nl").status_code == 202
    r = _ask(client, member, "one-more@coop-test.nl")
    assert (r.status_code, r.json()["code"]) == (429, "too-many-requests")
    assert 1 <= int(r.headers["Retry-After"]) <= 3600
    assert len(_outbox(database, MailKind.email_change_confirm)) == limit
