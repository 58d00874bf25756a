"""Pages: the member's message settings, the unsubscribe link of an optional message, and
the board's list of messages that could not be delivered.

The unsubscribe page needs no login: the link itself (see :mod:`coop.mail.unsubscribe`) says
which member and which topic, and nobody without the server's secret can make one. Its POST
has no CSRF check, so that a mail program can unsubscribe with one click (RFC 8058, body
``List-Unsubscribe=One-Click``): a forged request could at most switch off the one message
the link is for, which its holder may do anyway.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, Response

from coop.access.models import AccessWhat
from coop.access.service import Read, record_apart
from coop.auth.policy import Permission
from coop.deps import DatabaseDep, Now, ReadSession, WriteSession
from coop.i18n import N_, Translate, translator
from coop.mail import queries, service, unsubscribe
from coop.mail.messages import SUBJECTS
from coop.mail.models import MailKind
from coop.mail.preferences import Digest, Preferences, Topic
from coop.members.models import member_number
from coop.portal import web
from coop.portal.deps import CSRF, AnyViewer, PageActor, PageMember, PageMemberId, Viewer, back_to, viewer_with

router = APIRouter(include_in_schema=False)
Token = Annotated[str, Path(max_length=200)]
PAGE_SIZE = 50
KINDS = frozenset(kind.value for kind in MailKind)
DIGESTS = {
    Digest.immediately: N_("messages_digest_immediately"),
    Digest.monthly: N_("messages_digest_monthly"),
    Digest.never: N_("messages_digest_never"),
}
TOPICS = {
    Topic.dividend: N_("topic_dividend"),
    Topic.data_use_digest: N_("topic_data_use_digest"),
    Topic.votes: N_("topic_votes"),
}


@router.get("/me/messages", response_class=HTMLResponse)
def messages_page(request: Request, viewer: AnyViewer, member: PageMember, session: ReadSession) -> Response:
    assert member.id is not None
    current = queries.preferences(session, member.id)
    return web.render(request, "messages.html", viewer.actor, viewer.lang, current=current, digests=DIGESTS)


@router.post("/me/messages", dependencies=[CSRF, back_to("/me/messages")])
def change_messages(
    who: PageActor,
    member_id: PageMemberId,
    session: WriteSession,
    now: Now,
    digest: Annotated[Digest, Form()],
    dividend: Annotated[str, Form(max_length=3)] = "",
    votes: Annotated[str, Form(max_length=3)] = "",
) -> Response:
    wanted = Preferences(dividend=dividend == "on", digest=digest, votes=votes == "on")
    service.change(session, who, member_id, wanted, now=now)
    return web.redirect("/me/messages?saved=1")


def _genuine(request: Request, token: str) -> tuple[int, Topic] | None:
    return unsubscribe.verify(unsubscribe.key_from(request.app.state.jwt_secret), token)


@router.get("/unsubscribe/{token}", response_class=HTMLResponse)
def unsubscribe_page(request: Request, token: Token) -> Response:
    """Only a question and a button: a mail scanner that follows links changes nothing."""
    found = _genuine(request, token)
    lang = web.language(request)
    status = 200 if found else 404
    topic = TOPICS[found[1]] if found else None
    return web.render(request, "unsubscribe.html", None, lang, status, token=token, topic=topic, done=False)


@router.post("/unsubscribe/{token}", response_class=HTMLResponse)
def unsubscribe_now(request: Request, token: Token, session: WriteSession, now: Now) -> Response:
    found = _genuine(request, token)
    lang = web.language(request)
    if found is None:
        return web.render(request, "unsubscribe.html", None, lang, 404, token=token, topic=None, done=False)
    member_id, topic = found
    service.unsubscribe(session, member_id, topic, now=now)
    return web.render(request, "unsubscribe.html", None, lang, token=token, topic=TOPICS[topic], done=True)


@router.get("/board/mail", response_class=HTMLResponse)
def undeliverable_page(
    request: Request,
    viewer: Annotated[Viewer, viewer_with(Permission.list_members)],
    session: ReadSession,
    db: DatabaseDep,
    now: Now,
    page: int = 1,
) -> Response:
    """Messages that could not be delivered, newest first: to whom, what, and what the mail
    server said, so that the board can follow them up (a read of those members' data, recorded)."""
    page = max(1, min(page, 100_000))
    rows, total = queries.undeliverable(session, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    shown = [r.member_id for r in rows if r.member_id is not None]
    record_apart(db, viewer.actor, Read(AccessWhat.undeliverable_mail, members=shown), now)
    t = translator(viewer.lang)
    messages = [
        {
            "when": row.failed_at,
            "kind": _kind(row.kind, t),
            "recipient": row.recipient,
            "member": member_number(row.member_id) if row.member_id is not None else None,
            "error": row.last_error or "",
        }
        for row in rows
    ]
    pages = max(1, -(-total // PAGE_SIZE))
    return web.render(
        request, "board_mail.html", viewer.actor, viewer.lang, messages=messages, total=total, page=page, pages=pages
    )


def _kind(kind: str, t: Translate) -> str:
    """A message's kind as the member saw it: its subject, in the board's language; the kind
    itself when its subject is made of the message's own values (not kept after failing)."""
    subject = SUBJECTS.get(MailKind(kind)) if kind in KINDS else None
    try:
        return t(subject) if subject else kind
    except (KeyError, IndexError):
        return kind
