"""The member portal and the board's pages: server-rendered HTML over the same services and
policies as the API. A page never shows what the API would refuse: every read and write goes
through the service the API uses, as the logged-in actor."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Form, Path, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlmodel import Session, col

from coop.auth import service as auth_service
from coop.auth.policy import Actor, Permission, Role, has
from coop.auth.throttle import LoginThrottle, client_of
from coop.benefits import distributions
from coop.benefits.models import Distribution, DistributionPermit
from coop.choices import encoding
from coop.choices import service as choices_service
from coop.choices.encoding import Preference
from coop.choices.service import ChoicePatch
from coop.db import Database
from coop.decisions import ladder
from coop.deps import ID_MAX
from coop.errors import CoopError, Forbidden, Invalid, Unauthenticated
from coop.governance import service as governance
from coop.governance import voting
from coop.governance.documents import DocumentKind, Mandate
from coop.i18n import DEFAULT_LANGUAGE
from coop.members import service as members_service
from coop.members.models import Language, Member, member_number, parse_member_number
from coop.permits import rules, usage
from coop.permits.models import Permit
from coop.portal import web
from coop.proxies import queries as proxy_queries
from coop.proxies import service as proxies
from coop.reporting import service as reporting
from coop.types import CleanStr, Day, utcnow
from coop.vocabulary.terms import ALL_PURPOSES, Category, Purpose, UserType, from_mask
from ledger import books
from reports.texts import euros

router = APIRouter(include_in_schema=False)
Csrf = Annotated[str, Form(alias="csrf")]
RowId = Annotated[int, Path(ge=1, le=ID_MAX)]
Year = Annotated[int, Path(ge=2000, le=2100)]


def _db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def _member(request: Request, who: Actor) -> Member:
    """The logged-in member, read once per request (the language and the page both need it)."""
    cached: Member | None = getattr(request.state, "member", None)
    if cached is not None:
        return cached
    with _db(request).unit_of_work(write=False) as s:
        member = s.get(Member, who.member_id) if who.member_id else None
        if member is None:
            raise Forbidden("this page is for members", code="not-a-member")
        s.expunge(member)
    request.state.member = member
    return member


def _page(request: Request, name: str, who: Actor, lang: str, **context: Any) -> HTMLResponse:
    return web.render(request, name, who, lang, **context)


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is looking at a page, and in which language."""

    actor: Actor
    lang: str


class LoginRequired(Exception):
    """No valid login cookie: the page sends the visitor to log in (see :func:`install`)."""


def _viewer(request: Request) -> Viewer:
    who = web.actor(request)
    if who is None:
        raise LoginRequired
    lang = web.language(request)
    if who.member_id is not None and "lang" not in request.query_params and web.LANG_COOKIE not in request.cookies:
        lang = _member(request, who).language
    return Viewer(who, lang)


def _board_viewer(viewer: Annotated[Viewer, Depends(_viewer)]) -> Viewer:
    if viewer.actor.role is not Role.board:
        raise Forbidden("this page is for the board", code="forbidden")
    return viewer


AnyPage = Annotated[Viewer, Depends(_viewer)]
BoardPage = Annotated[Viewer, Depends(_board_viewer)]


def install(app: FastAPI) -> None:
    """Send visitors without a login to the login page."""

    async def to_login(request: Request, _exc: Exception) -> Response:
        return web.redirect("/login")

    app.add_exception_handler(LoginRequired, to_login)


def _write(request: Request, who: Actor, lang: str, back: str, work: Callable[[Session], Any]) -> Response:
    """Run a change in one transaction; on a refusal, show it on the page the form came from."""
    try:
        with _db(request).unit_of_work() as s:
            work(s)
    except CoopError as exc:
        return web.refused(back, exc.code)
    except books.WouldGoNegative:
        return web.refused(back, "insufficient-funds")
    except books.EntryConflict:
        return web.refused(back, "entry-differs")
    except books.BooksError:
        return web.refused(back, "invalid-entry")
    return web.redirect(f"{back}?saved=1")


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> Response:
    who = web.actor(request)
    if who is None:
        return web.redirect("/login")
    return web.redirect("/board/members" if who.role is Role.board else "/me")


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> Response:
    return web.render(request, "login.html", None, web.language(request), failed=False)


@router.post("/login")
def login(
    request: Request,
    csrf: Csrf,
    email: Annotated[CleanStr, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1000)],
) -> Response:
    web.check_csrf(request, csrf)
    lang = web.language(request)
    settings = web.settings_of(request)
    throttle: LoginThrottle = request.app.state.login_throttle
    attempt = throttle.attempt(auth_service.normalise_email(email), client_of(request, settings.auth.trusted_proxies))
    if attempt.wait:
        return web.render(request, "login.html", None, lang, status_code=429, failed=False, wait=attempt.wait)
    try:
        with _db(request).unit_of_work(write=False) as s:
            user = auth_service.authenticate(s, settings.auth, email, password)
            role = auth_service.role_of(s, user)
    except Unauthenticated:
        throttle.failed(attempt)
        return web.render(request, "login.html", None, lang, status_code=401, failed=True)
    throttle.succeeded(attempt)
    assert user.id is not None
    response = web.redirect("/board/members" if role is Role.board else "/me")
    web.log_in(request, response, user.id, role.value, user.token_generation)
    return response


@router.post("/logout")
def logout(request: Request, csrf: Csrf) -> Response:
    web.check_csrf(request, csrf)
    response = web.redirect("/login")
    web.log_out(request, response)
    return response


@router.get("/me/password", response_class=HTMLResponse)
def password_page(request: Request, viewer: AnyPage) -> Response:
    return _page(request, "password.html", viewer.actor, viewer.lang)


@router.post("/me/password")
def change_password(
    request: Request,
    viewer: AnyPage,
    csrf: Csrf,
    current_password: Annotated[str, Form(max_length=1000)],
    new_password: Annotated[str, Form(max_length=1000)],
) -> Response:
    """A new password ends every other login; this browser gets a new one."""
    who = viewer.actor
    web.check_csrf(request, csrf)
    settings = web.settings_of(request)
    throttle: LoginThrottle = request.app.state.login_throttle

    with _db(request).unit_of_work(write=False) as s:
        email = auth_service.own_account(s, who).email
    attempt = throttle.attempt(email, client_of(request, settings.auth.trusted_proxies))
    if attempt.wait:
        return web.refused("/me/password", "too-many-requests")
    try:
        with _db(request).unit_of_work() as s:
            user = auth_service.change_password(s, settings.auth, who, current_password, new_password)
            user_id, generation = user.id, user.token_generation
    except CoopError as exc:
        if exc.code == "wrong-password":  # counted once the change has rolled back (SQLite: one writer)
            throttle.failed(attempt)
        too_short = exc.code == "invalid" and exc.extra.get("field") == "new_password"
        return web.refused("/me/password", "password-length" if too_short else exc.code)
    assert user_id is not None
    response = web.redirect("/me/password?saved=1")
    web.log_in(request, response, user_id, who.role.value, generation)
    return response


@router.get("/invitation", response_class=HTMLResponse)
def invitation_page(request: Request, token: str = "") -> Response:
    return web.render(request, "invitation.html", None, web.language(request), token=token[:200], done=False)


@router.post("/invitation")
def accept_invitation(
    request: Request,
    csrf: Csrf,
    token: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=1000)],
) -> Response:
    web.check_csrf(request, csrf)
    lang = web.language(request)
    try:
        with _db(request).unit_of_work() as s:
            members_service.accept_invitation(s, web.settings_of(request).auth, token, password)
    except CoopError as exc:
        code = "password-length" if exc.extra.get("field") == "password" else exc.code
        return web.render(
            request, "invitation.html", None, lang, status_code=exc.status, token=token, done=False, error=code
        )
    return web.render(request, "invitation.html", None, lang, token="", done=True)


# ---------------------------------------------------------------- member pages


@router.get("/me", response_class=HTMLResponse)
def overview(request: Request, viewer: AnyPage) -> Response:
    who, lang = viewer.actor, viewer.lang
    member = _member(request, who)
    assert member.id is not None
    with _db(request).unit_of_work(write=False) as s:
        current = choices_service.read(s, who, member.id)
        in_force = governance.in_force(s, DocumentKind.mandate)
        proxied = 0
        for appointment in proxy_queries.in_force_for(s, member.id):
            proxied |= appointment.purposes_mask
    # before the founding statutes are recorded, nothing is allowed under the mandate
    mandate = in_force.document if in_force and isinstance(in_force.document, Mandate) else Mandate()
    rows = []
    for step in ladder.ladder(mandate, current.opt_out, current.preference_mask, proxied):
        text, kind = ladder.in_words(step, lang)
        rows.append({"purpose": step.purpose.value, "user_type": step.user_type.value, "text": text, "kind": kind})
    return _page(
        request,
        "overview.html",
        who,
        lang,
        member=member,
        left_at=member.left_at,
        opted_out=current.opt_out,
        groups=[(purpose.value, [r for r in rows if r["purpose"] == purpose.value]) for purpose in Purpose],
        excluded=[c.value for c in from_mask(Category, current.excluded_mask)],
        donates=current.donate_dividend,
    )


@router.get("/me/choices", response_class=HTMLResponse)
def choices_page(request: Request, viewer: AnyPage) -> Response:
    who, lang = viewer.actor, viewer.lang
    member = _member(request, who)
    assert member.id is not None
    with _db(request).unit_of_work(write=False) as s:
        current = choices_service.read(s, who, member.id)
    return _page(
        request,
        "choices.html",
        who,
        lang,
        member=member,
        current=current,
        etag=choices_service.etag(current),
        purposes=[p.value for p in Purpose],
        user_types=[u.value for u in UserType],
        categories=[c.value for c in Category],
        preferences=[p.value for p in Preference],
        chosen={
            f"{p.value}:{u.value}": encoding.get(current.preference_mask, p, u).value for p in Purpose for u in UserType
        },
        excluded={c.value for c in from_mask(Category, current.excluded_mask)},
    )


@router.post("/me/choices")
async def change_choices(request: Request, viewer: AnyPage) -> Response:
    who, lang = viewer.actor, viewer.lang
    form = await request.form()
    web.check_csrf(request, str(form.get("csrf") or ""))
    member = _member(request, who)
    assert member.id is not None
    preferences = []
    for purpose in Purpose:
        for user_type in UserType:
            value = str(form.get(f"pref:{purpose.value}:{user_type.value}") or "mandate")
            if value not in {p.value for p in Preference}:
                raise Invalid(f"{value!r} is not a choice", code="invalid-choice")
            preferences.append((purpose, user_type, Preference(value)))
    excluded = frozenset(Category(v) for v in form.getlist("excluded") if v in {c.value for c in Category})
    patch = ChoicePatch(
        preferences=tuple(preferences), excluded_categories=excluded, donate_dividend=form.get("donate") == "on"
    )
    etag = str(form.get("etag") or "") or None
    member_id = member.id
    return _write(request, who, lang, "/me/choices", lambda s: choices_service.change(s, who, member_id, patch, etag))


@router.get("/me/opt-out", response_class=HTMLResponse)
def opt_out_page(request: Request, viewer: AnyPage) -> Response:
    who, lang = viewer.actor, viewer.lang
    member = _member(request, who)
    assert member.id is not None
    with _db(request).unit_of_work(write=False) as s:
        current = choices_service.read(s, who, member.id)
    return _page(request, "opt_out.html", who, lang, opted_out=current.opt_out)


@router.post("/me/opt-out")
def opt_out(
    request: Request, viewer: AnyPage, csrf: Csrf, choice: Annotated[str, Form(pattern="^(out|in)$")]
) -> Response:
    who, lang = viewer.actor, viewer.lang
    web.check_csrf(request, csrf)
    member_id = _member(request, who).id
    assert member_id is not None
    patch = ChoicePatch(opt_out=choice == "out")
    return _write(request, who, lang, "/me/opt-out", lambda s: choices_service.change(s, who, member_id, patch, None))


@router.get("/me/proxies", response_class=HTMLResponse)
def proxies_page(request: Request, viewer: AnyPage) -> Response:
    who, lang = viewer.actor, viewer.lang
    member = _member(request, who)
    assert member.id is not None
    with _db(request).unit_of_work(write=False) as s:
        appointments = [a for a in proxies.listing(s, who, member.id) if a.principal_id == member.id]
    return _page(
        request,
        "proxies.html",
        who,
        lang,
        appointments=[
            {
                "id": a.id,
                "number": member_number(a.proxy_member_id),
                "purposes": [p.value for p in from_mask(Purpose, a.purposes_mask)],
                "all": a.purposes_mask == ALL_PURPOSES,
                "voting": a.voting,
                "active": proxies.is_valid_now(a),
            }
            for a in appointments
        ],
        purposes=[p.value for p in Purpose],
    )


@router.post("/me/proxies")
async def appoint_proxy(request: Request, viewer: AnyPage) -> Response:
    who, lang = viewer.actor, viewer.lang
    form = await request.form()
    web.check_csrf(request, str(form.get("csrf") or ""))
    member_id = _member(request, who).id
    assert member_id is not None
    proxy_id = parse_member_number(str(form.get("proxy") or ""))
    if proxy_id is None:
        return web.refused("/me/proxies", "not-a-member-number")
    purposes = [Purpose(v) for v in form.getlist("purposes") if v in {p.value for p in Purpose}] or None
    voting_too = form.get("voting") == "on"
    depth = web.settings_of(request).choices.proxy_max_depth
    return _write(
        request,
        who,
        lang,
        "/me/proxies",
        lambda s: proxies.appoint(s, who, member_id, proxy_id, purposes, None, voting_too, depth),
    )


@router.post("/me/proxies/{appointment_id}/revoke")
def revoke_proxy(request: Request, viewer: AnyPage, appointment_id: RowId, csrf: Csrf) -> Response:
    who, lang = viewer.actor, viewer.lang
    web.check_csrf(request, csrf)
    member_id = _member(request, who).id
    assert member_id is not None
    return _write(request, who, lang, "/me/proxies", lambda s: proxies.revoke(s, who, member_id, appointment_id))


@router.get("/me/history", response_class=HTMLResponse)
def history_page(request: Request, viewer: AnyPage) -> Response:
    who, lang = viewer.actor, viewer.lang
    member_id = _member(request, who).id
    assert member_id is not None
    with _db(request).unit_of_work(write=False) as s:
        versions = choices_service.history(s, who, member_id)
        rows = [
            {
                "version": v.version,
                "since": v.valid_from,
                "until": v.valid_to,
                "opt_out": v.opt_out,
                "choices": len(encoding.explicit(v.preference_mask)),
                "donate": v.donate_dividend,
            }
            for v in versions
        ]
    return _page(request, "history.html", who, lang, rows=rows)


@router.get("/me/votes", response_class=HTMLResponse)
def votes_page(request: Request, viewer: AnyPage) -> Response:
    who, lang = viewer.actor, viewer.lang
    now = utcnow()
    may_vote = has(who, Permission.vote)
    with _db(request).unit_of_work(write=False) as s:
        proposals = [
            {
                "id": p.id,
                "title": p.title,
                "closes_at": p.closes_at,
                "mine": voting.my_vote(s, p.id or 0, who.member_id),
            }
            for p in (voting.listing(s) if may_vote else [])
            if voting.status(p, now) is voting.Status.open
        ]
    return _page(
        request,
        "votes.html",
        who,
        lang,
        proposals=proposals,
        may_vote=may_vote,
    )


@router.post("/me/votes/{proposal_id}")
def cast_vote(
    request: Request,
    viewer: AnyPage,
    proposal_id: RowId,
    csrf: Csrf,
    vote: Annotated[str, Form(pattern="^(yes|no|abstain)$")],
) -> Response:
    who, lang = viewer.actor, viewer.lang
    web.check_csrf(request, csrf)

    def work(s: Session) -> None:
        already = voting.my_vote(s, proposal_id, who.member_id) is not None
        voting.cast(s, who, proposal_id, voting.Choice(vote), None, already, utcnow())

    return _write(request, who, lang, "/me/votes", work)


@router.get("/me/data-use", response_class=HTMLResponse)
def data_use_page(request: Request, viewer: AnyPage) -> Response:
    who, lang = viewer.actor, viewer.lang
    member_id = _member(request, who).id
    now = utcnow()
    with _db(request).unit_of_work(write=False) as s:
        rows = usage.permits_using(s, member_id or 0)
        results = usage.results_of(s, [p.id for p, _ in rows if p.id is not None])
        uses = [
            {
                "number": p.permit_number,
                "applicant": p.applicant,
                "user_type": p.user_type,
                "purposes": [x.value for x in from_mask(Purpose, p.purposes_mask)],
                "status": rules.status_of(p, now).value,
                "since": since,
                "results": results.get(p.id or 0, []),
            }
            for p, since in rows
        ]
    return _page(request, "data_use.html", who, lang, uses=uses)


@router.get("/me/dividends", response_class=HTMLResponse)
def dividends_page(request: Request, viewer: AnyPage) -> Response:
    who, lang = viewer.actor, viewer.lang
    member_id = _member(request, who).id
    assert member_id is not None
    with _db(request).unit_of_work(write=False) as s:
        received = distributions.received_by(s, member_id)
        balance, paid = distributions.member_account(s, member_id)
        numbers = {pid: n for pid, n in s.execute(select(col(Permit.id), col(Permit.permit_number)))}
        rows = [
            {
                "period": (r.distribution.period_start, r.distribution.period_end),
                "cents": r.cents,
                "donated": r.donated,
                "parts": [
                    {"permit": numbers[p.permit_id], "pool": p.pool_cents, "members": p.members, "cents": p.cents}
                    for p in r.parts
                ],
            }
            for r in received
        ]
    return _page(
        request,
        "dividends.html",
        who,
        lang,
        rows=rows,
        balance=balance,
        paid=paid,
        member_id=member_id,
        year=utcnow().year,
        euros=lambda cents: euros(cents, lang),
    )


# ---------------------------------------------------------------- board pages


@router.get("/board/members", response_class=HTMLResponse)
def members_page(request: Request, viewer: BoardPage, q: CleanStr = "", page: int = 1) -> Response:
    return _members(request, viewer, q, max(1, min(page, 100_000)))


PAGE_SIZE = 50


def _members(request: Request, viewer: BoardPage, q: str = "", page: int = 1, **admitted: str) -> HTMLResponse:
    who, lang = viewer.actor, viewer.lang
    with _db(request).unit_of_work(write=False) as s:
        found, total = members_service.search(s, q[:200] or None, None, PAGE_SIZE, (page - 1) * PAGE_SIZE)
        for m in found:
            s.expunge(m)
    return _page(
        request,
        "board_members.html",
        who,
        lang,
        members=found,
        total=total,
        q=q[:200],
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        admitted=admitted.get("number"),
        link=admitted.get("link"),
    )


@router.post("/board/members")
def admit_member(
    request: Request,
    viewer: BoardPage,
    csrf: Csrf,
    name: Annotated[CleanStr, Form(min_length=1, max_length=200)],
    email: Annotated[CleanStr, Form(min_length=3, max_length=320)],
    language: Annotated[Language, Form()] = DEFAULT_LANGUAGE,
) -> Response:
    who = viewer.actor
    web.check_csrf(request, csrf)
    try:
        with _db(request).unit_of_work() as s:
            member, issued = members_service.admit(
                s, web.settings_of(request).auth, who, name, email, Language(language)
            )
            number = member.number
    except CoopError as exc:
        return web.refused("/board/members", exc.code)
    # shown once, in this response: the one-time token never goes into a URL the browser keeps
    return _members(request, viewer, number=number, link=f"{request.base_url}invitation?token={issued.token}")


@router.get("/board/proposals", response_class=HTMLResponse)
def proposals_page(request: Request, viewer: BoardPage) -> Response:
    who, lang = viewer.actor, viewer.lang
    now = utcnow()
    with _db(request).unit_of_work(write=False) as s:
        proposals = [
            {
                "id": p.id,
                "title": p.title,
                "closes_at": p.closes_at,
                "status": voting.status(p, now).value,
                "tally": (p.yes, p.no, p.abstain, p.electorate) if p.closed_at else None,
            }
            for p in voting.listing(s)
        ]
    return _page(request, "board_proposals.html", who, lang, proposals=proposals)


@router.post("/board/proposals/{proposal_id}/close")
def close_proposal(request: Request, viewer: BoardPage, proposal_id: RowId, csrf: Csrf) -> Response:
    who, lang = viewer.actor, viewer.lang
    web.check_csrf(request, csrf)
    return _write(request, who, lang, "/board/proposals", lambda s: voting.close(s, who, proposal_id, utcnow()))


@router.get("/board/permits", response_class=HTMLResponse)
def permits_page(request: Request, viewer: BoardPage) -> Response:
    who, lang = viewer.actor, viewer.lang
    now = utcnow()
    settings = web.settings_of(request)
    with _db(request).unit_of_work(write=False) as s:
        permits = [
            {
                "number": p.permit_number,
                "applicant": p.applicant,
                "user_type": p.user_type,
                "status": rules.status_of(p, now).value,
                "flags": [f"{f.rule} ({f.article})" for f in usage.compliance(s, p, settings, now)],
            }
            for p in s.execute(select(Permit).order_by(col(Permit.id))).scalars()
        ]
    return _page(request, "board_permits.html", who, lang, permits=permits)


@router.get("/board/distributions", response_class=HTMLResponse)
def distributions_page(request: Request, viewer: BoardPage) -> Response:
    who, lang = viewer.actor, viewer.lang
    with _db(request).unit_of_work(write=False) as s:
        rows = list(s.execute(select(Distribution).order_by(col(Distribution.id).desc())).scalars())
        for d in rows:
            s.expunge(d)
    today = utcnow().date()
    return _page(
        request,
        "board_distributions.html",
        who,
        lang,
        rows=rows,
        start=date(today.year, 1, 1),
        end=today,
        euros=lambda cents: euros(cents, lang),
    )


@router.get("/board/distributions/{distribution_id}", response_class=HTMLResponse)
def distribution_page(request: Request, viewer: BoardPage, distribution_id: RowId) -> Response:
    """A draft to review before committing: its totals and each permit's part."""
    who, lang = viewer.actor, viewer.lang
    with _db(request).unit_of_work(write=False) as s:
        d = distributions.get(s, distribution_id)
        s.expunge(d)
        numbers = {pid: n for pid, n in s.execute(select(col(Permit.id), col(Permit.permit_number)))}
        permits = [
            {"number": numbers[p.permit_id], "revenue": p.revenue_cents, "pool": p.pool_cents, "members": p.members}
            for p in s.execute(
                select(DistributionPermit)
                .where(col(DistributionPermit.distribution_id) == distribution_id)
                .order_by(col(DistributionPermit.permit_id))
            ).scalars()
        ]
    return _page(
        request, "board_distribution.html", who, lang, d=d, permits=permits, euros=lambda cents: euros(cents, lang)
    )


@router.post("/board/distributions")
def draft_distribution(
    request: Request,
    viewer: BoardPage,
    csrf: Csrf,
    period_start: Annotated[Day, Form()],
    period_end: Annotated[Day, Form()],
) -> Response:
    who, lang = viewer.actor, viewer.lang
    web.check_csrf(request, csrf)
    return _write(
        request,
        who,
        lang,
        "/board/distributions",
        lambda s: distributions.draft(s, who.ledger_name, period_start, period_end),
    )


@router.post("/board/distributions/{distribution_id}/commit")
def commit_distribution(request: Request, viewer: BoardPage, distribution_id: RowId, csrf: Csrf) -> Response:
    who, lang = viewer.actor, viewer.lang
    web.check_csrf(request, csrf)
    return _write(
        request, who, lang, "/board/distributions", lambda s: distributions.commit(s, who.ledger_name, distribution_id)
    )


@router.get("/board/reports", response_class=HTMLResponse)
def reports_page(request: Request, viewer: BoardPage) -> Response:
    who, lang = viewer.actor, viewer.lang
    year = utcnow().year
    return _page(
        request,
        "board_reports.html",
        who,
        lang,
        years=list(range(year, year - 3, -1)),
        published=_sha256(request.query_params.get("sha256")),
    )


def _sha256(text: str | None) -> str | None:
    """A published report's hash, back from the redirect; a link cannot make the page show other text."""
    return text if text and re.fullmatch(r"[0-9a-f]{64}", text) else None


@router.post("/board/reports/{year}/publish")
def publish_report(
    request: Request,
    viewer: BoardPage,
    year: Year,
    csrf: Csrf,
    language: Annotated[Language, Form()] = DEFAULT_LANGUAGE,
) -> Response:
    who = viewer.actor
    web.check_csrf(request, csrf)
    try:
        with _db(request).unit_of_work() as s:
            record = reporting.publish_annual(s, web.settings_of(request), who.ledger_name, year, language)
    except CoopError as exc:
        return web.refused("/board/reports", exc.code)
    return web.redirect(f"/board/reports?sha256={record['sha256']}")


@router.get("/board/reports/{year}.pdf")
def report_pdf(request: Request, _viewer: BoardPage, year: Year, language: str = DEFAULT_LANGUAGE) -> Response:
    if language not in web.LANGUAGES:
        raise Invalid("unknown language", code="invalid-report")
    with _db(request).unit_of_work(write=False) as s:
        pdf = reporting.annual_pdf(s, web.settings_of(request), year, language, None)
    return Response(pdf, media_type="application/pdf")


@router.get("/me/statement/{year}.pdf")
def statement_pdf(request: Request, viewer: AnyPage, year: Year) -> Response:
    who = viewer.actor
    member = _member(request, who)
    from coop.reporting import statement
    from reports.statement import render

    with _db(request).unit_of_work(write=False) as s:
        pdf = render(statement.statement(s, s.merge(member), year))
    return Response(pdf, media_type="application/pdf")
