"""Pages: a member's choices per purpose and kind of user, their own yes per sensitive kind
of data (EHDS Art. 51(4)), opting out and back in, and the history of their choices."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from coop.choices import encoding, history, queries, service
from coop.choices.encoding import Preference
from coop.choices.service import ChoicePatch
from coop.deps import Now, ReadSession, WriteSession
from coop.errors import Invalid
from coop.portal import web
from coop.portal.deps import CSRF, AnyViewer, PageActor, PageForm, PageMember, PageMemberId, back_to
from coop.record import queries as record_queries
from coop.vocabulary.terms import SENSITIVE, Category, Purpose, UserType, from_mask, law_decides
from ledger import log

router = APIRouter(include_in_schema=False)
PREFERENCES = {p.value for p in Preference}
CATEGORIES = {c.value for c in Category}


@router.get("/me/choices", response_class=HTMLResponse)
def choices_page(request: Request, viewer: AnyViewer, member: PageMember, session: ReadSession, now: Now) -> Response:
    assert member.id is not None
    current = queries.read(session, viewer.actor, member.id, now)
    return web.render(
        request,
        "choices.html",
        viewer.actor,
        viewer.lang,
        member=member,
        current=current,
        etag=queries.etag(current),
        purposes=[p.value for p in Purpose],
        user_types=[u.value for u in UserType],
        categories=[c.value for c in Category],
        preferences=[p.value for p in Preference],
        chosen={
            f"{p.value}:{u.value}": encoding.get(current.preference_mask, p, u).value for p in Purpose for u in UserType
        },
        excluded={c.value for c in from_mask(Category, current.excluded_mask)},
        sensitive=[c.value for c in Category if c in SENSITIVE],
        sensitive_yes={c.value for c in from_mask(Category, current.sensitive_yes_mask)},
        law_decides=law_decides(),
        action="/me/choices",
        receipt=record_queries.offered(session, member.id, request.query_params.get("receipt")),
    )


@router.post("/me/choices", dependencies=[CSRF, back_to("/me/choices")])
def change_choices(
    form: PageForm, who: PageActor, member_id: PageMemberId, session: WriteSession, now: Now
) -> Response:
    preferences = []
    for purpose in Purpose:
        for user_type in [u for u in UserType if (purpose, u) not in law_decides()]:  # not the member's to change
            value = str(form.get(f"pref:{purpose.value}:{user_type.value}") or "mandate")
            if value not in PREFERENCES:
                raise Invalid(f"{value!r} is not a choice", code="invalid-choice")
            preferences.append((purpose, user_type, Preference(value)))
    patch = ChoicePatch(
        preferences=tuple(preferences),
        excluded_categories=frozenset(Category(v) for v in form.getlist("excluded") if v in CATEGORIES),
        donate_dividend=form.get("donate") == "on",
        sensitive_yes=frozenset(c for c in SENSITIVE if _yes(form.get(f"yes:{c.value}"))),
    )
    service.change(session, who, member_id, patch, str(form.get("etag") or "") or None, now)
    return web.redirect(_saved("/me/choices", session, member_id))


def _saved(page: str, session: Session, member_id: int) -> str:
    """The page again, saying it saved; with the change's event, whose receipt it offers."""
    if log.pending_root(session) is None:  # nothing changed, nothing recorded
        return f"{page}?saved=1"
    return f"{page}?saved=1&receipt={record_queries.newest_event(session, member_id, 'choices.changed')}"


def _yes(value: object) -> bool:
    """A sensitive kind of data's yes or no on the form (no when not given)."""
    if value not in (None, "yes", "no"):
        raise Invalid(f"{value!r} is not yes or no", code="invalid-choice")
    return value == "yes"


@router.get("/me/opt-out", response_class=HTMLResponse)
def opt_out_page(request: Request, viewer: AnyViewer, member: PageMember, session: ReadSession, now: Now) -> Response:
    assert member.id is not None
    current = queries.read(session, viewer.actor, member.id, now)
    return web.render(
        request,
        "opt_out.html",
        viewer.actor,
        viewer.lang,
        opted_out=current.opt_out,
        receipt=record_queries.offered(session, member.id, request.query_params.get("receipt")),
    )


@router.post("/me/opt-out", dependencies=[CSRF, back_to("/me/opt-out")])
def opt_out(
    who: PageActor,
    member_id: PageMemberId,
    session: WriteSession,
    now: Now,
    choice: Annotated[str, Form(pattern="^(out|in)$")],
) -> Response:
    service.change(session, who, member_id, ChoicePatch(opt_out=choice == "out"), None, now)
    return web.redirect(_saved("/me/opt-out", session, member_id))


@router.get("/me/history", response_class=HTMLResponse)
def history_page(request: Request, viewer: AnyViewer, member: PageMember, session: ReadSession, now: Now) -> Response:
    assert member.id is not None
    versions = queries.history(session, viewer.actor, member.id, now)
    carers = queries.carer_names(session, versions)  # the member's own page: they chose these carers
    rows = [
        {
            "version": v.version,
            "since": v.valid_from,
            "until": v.valid_to,
            "opt_out": v.opt_out,
            "changed": history.in_words(change, viewer.lang, carers),
            "donate": v.donate_dividend,
        }
        for v, change in zip(versions, history.differences(versions), strict=True)
    ]
    events = record_queries.member_events(session, viewer.actor, member.id)
    return web.render(
        request, "history.html", viewer.actor, viewer.lang, rows=rows, events=events, words=record_queries.EVENT_WORDS
    )
