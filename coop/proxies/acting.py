"""Pages: a proxy acting for a member who appointed them. Every page says whom they act for
(the name, when the member agreed to show it, else the member number) and offers what the
appointment covers: the member's choices for its purposes, and their votes when it includes
voting. Each page calls the services the member's own pages call, with the proxy as actor
and the member as subject, so the ledger of record names both; and each page is recorded in
the member's access log before it is shown (:mod:`coop.access`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from coop.access.models import AccessWhat
from coop.access.service import Read, record_apart
from coop.auth.policy import Actor
from coop.choices import encoding, queries
from coop.choices.encoding import Preference
from coop.choices.service import ChoicePatch
from coop.choices.service import change as change_choices
from coop.deps import ID_MAX, DatabaseDep, Now, ReadSession, WriteSession
from coop.errors import Invalid, NotFound
from coop.governance import ballot, voting
from coop.members.models import member_number
from coop.portal import web
from coop.portal.deps import CSRF, AnyViewer, PageActor, PageForm
from coop.proxies import queries as queries_of_proxies
from coop.proxies.models import ProxyAppointment
from coop.proxies.service import is_valid_at
from coop.vocabulary.terms import ALL_PURPOSES, Purpose, UserType, from_mask, law_decides

router = APIRouter(include_in_schema=False)
AppointmentId = Annotated[int, Path(ge=1, le=ID_MAX)]
PREFERENCES = {p.value for p in Preference}


@dataclass(frozen=True, slots=True)
class Acting:
    """The appointment a proxy acts under, as the pages show it."""

    appointment: ProxyAppointment
    who: str
    """The member's name if they agreed to show it, with their number; else the number."""
    purposes: list[str]
    all: bool

    @property
    def id(self) -> int:
        assert self.appointment.id is not None
        return self.appointment.id

    @property
    def principal_id(self) -> int:
        return self.appointment.principal_id

    @property
    def voting(self) -> bool:
        return self.appointment.voting


def acting(session: Session, actor: Actor, appointment_id: int, now: datetime) -> Acting:
    """The actor's appointment ``appointment_id``, in force now; to anyone else, and once it
    ended, there is no such page."""
    a = session.get(ProxyAppointment, appointment_id)
    if a is None or not queries_of_proxies.holds(actor, a) or not is_valid_at(a, now):
        raise NotFound(f"no proxy appointment {appointment_id}", code="proxy-not-found")
    who = queries_of_proxies.shown_names(session, [a]).get(a.principal_id) or member_number(a.principal_id)
    return Acting(a, who, [p.value for p in from_mask(Purpose, a.purposes_mask)], a.purposes_mask == ALL_PURPOSES)


def _render(request: Request, name: str, viewer: Any, act: Acting, **context: Any) -> HTMLResponse:
    return web.render(request, name, viewer.actor, viewer.lang, acting=act, **context)


def seen(db: DatabaseDep, viewer: Any, act: Acting, what: AccessWhat, now: datetime) -> None:
    """The proxy's read of the member's ``what``, recorded before the page is shown."""
    record_apart(db, viewer.actor, Read(what, member_id=act.principal_id), now)


def _back_here(request: Request) -> None:
    """A refused form goes back to the page it came from (``/acting-for/{id}/...``)."""
    parts = request.url.path.split("/")
    request.state.back = "/".join(parts[:4])


BACK_HERE = Depends(_back_here)


@router.get("/acting-for/{appointment_id}", response_class=HTMLResponse)
def acting_page(
    request: Request, viewer: AnyViewer, session: ReadSession, now: Now, appointment_id: AppointmentId, db: DatabaseDep
) -> Response:
    act = acting(session, viewer.actor, appointment_id, now)
    seen(db, viewer, act, AccessWhat.appointment, now)
    return _render(request, "acting.html", viewer, act)


@router.get("/acting-for/{appointment_id}/choices", response_class=HTMLResponse)
def choices_page(
    request: Request, viewer: AnyViewer, session: ReadSession, now: Now, appointment_id: AppointmentId, db: DatabaseDep
) -> Response:
    act = acting(session, viewer.actor, appointment_id, now)
    current = queries.read(session, viewer.actor, act.principal_id, now)
    seen(db, viewer, act, AccessWhat.choices, now)
    mine = from_mask(Purpose, act.appointment.purposes_mask)
    return _render(
        request,
        "choices.html",
        viewer,
        act,
        current=current,
        etag=queries.etag(current),
        purposes=[p.value for p in mine],
        user_types=[u.value for u in UserType],
        categories=[],
        preferences=[p.value for p in Preference],
        chosen={
            f"{p.value}:{u.value}": encoding.get(current.preference_mask, p, u).value for p in mine for u in UserType
        },
        excluded=set(),
        law_decides=law_decides(),
        action=f"/acting-for/{act.id}/choices",
    )


@router.post("/acting-for/{appointment_id}/choices", dependencies=[CSRF, BACK_HERE])
def change_principal_choices(
    form: PageForm, who: PageActor, session: WriteSession, now: Now, appointment_id: AppointmentId
) -> Response:
    """The member's preferences for the appointment's purposes, as the proxy sets them."""
    act = acting(session, who, appointment_id, now)
    preferences = []
    for purpose in from_mask(Purpose, act.appointment.purposes_mask):
        for user_type in [u for u in UserType if (purpose, u) not in law_decides()]:
            value = str(form.get(f"pref:{purpose.value}:{user_type.value}") or "mandate")
            if value not in PREFERENCES:
                raise Invalid(f"{value!r} is not a choice", code="invalid-choice")
            preferences.append((purpose, user_type, Preference(value)))
    patch = ChoicePatch(preferences=tuple(preferences))
    change_choices(session, who, act.principal_id, patch, str(form.get("etag") or "") or None, now)
    return web.redirect(f"/acting-for/{act.id}/choices?saved=1")


@router.get("/acting-for/{appointment_id}/votes", response_class=HTMLResponse)
def votes_page(
    request: Request, viewer: AnyViewer, session: ReadSession, now: Now, appointment_id: AppointmentId, db: DatabaseDep
) -> Response:
    act = acting(session, viewer.actor, appointment_id, now)
    ballots = ballot.open_for(session, act.principal_id, now) if act.voting else []
    seen(db, viewer, act, AccessWhat.votes, now)
    proposals = [(b, ballot.in_words(b, viewer.lang)) for b in ballots]
    return _render(
        request,
        "votes.html",
        viewer,
        act,
        proposals=proposals,
        may_vote=act.voting,
        closed=[],
        action=f"/acting-for/{act.id}/votes",
    )


@router.post("/acting-for/{appointment_id}/votes/{proposal_id}", dependencies=[CSRF, BACK_HERE])
def cast_vote(
    who: PageActor,
    session: WriteSession,
    now: Now,
    appointment_id: AppointmentId,
    proposal_id: Annotated[int, Path(ge=1, le=ID_MAX)],
    vote: Annotated[str, Form(pattern="^(yes|no|abstain)$")],
) -> Response:
    """A vote for the member, under an appointment that includes voting."""
    act = acting(session, who, appointment_id, now)
    already = voting.my_vote(session, proposal_id, act.principal_id) is not None
    voting.cast(session, who, proposal_id, voting.Choice(vote), act.principal_id, already, now)
    return web.redirect(f"/acting-for/{act.id}/votes?saved=1")
