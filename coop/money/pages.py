"""Pages: a member's dividends with how they were derived, and the board's money: balances,
bookings (a permit's payment, an expense, a solidarity grant, each confirmed before it is
booked) and distributions (draft, review, commit)."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from coop.auth.policy import Actor, Permission
from coop.deps import ID_MAX, Now, ReadSession, WriteSession
from coop.errors import Invalid
from coop.i18n import HOME_ZONE
from coop.money import distributions, periods, queries
from coop.money import service as money
from coop.money.schemas import PaymentKind
from coop.permits import queries as permit_queries
from coop.permits import service as permit_service
from coop.portal import web
from coop.portal.deps import CSRF, AnyViewer, PageMember, Viewer, back_to, page_require, viewer_with
from coop.portal.forms import positive_cents_of
from coop.types import Day
from reports.texts import day, euros

router = APIRouter(include_in_schema=False)
DistributionId = Annotated[int, Path(ge=1, le=ID_MAX)]
Treasurer = Annotated[Actor, Depends(page_require(Permission.manage_money))]
BoardViewer = Annotated[Viewer, viewer_with(Permission.manage_money)]


@router.get("/me/dividends", response_class=HTMLResponse)
def dividends_page(request: Request, viewer: AnyViewer, member: PageMember, session: ReadSession, now: Now) -> Response:
    assert member.id is not None
    balance, paid = distributions.member_account(session, member.id)
    numbers = permit_queries.numbers(session)
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
        for r in distributions.received_by(session, member.id)
    ]
    lang = viewer.lang
    return web.render(
        request,
        "dividends.html",
        viewer.actor,
        lang,
        rows=rows,
        balance=balance,
        paid=paid,
        member_id=member.id,
        year=now.year,
        euros=lambda cents: euros(cents, lang),
    )


@router.get("/board/distributions", response_class=HTMLResponse)
def distributions_page(request: Request, viewer: BoardViewer, session: ReadSession, now: Now) -> Response:
    lang = viewer.lang
    start, end = periods.suggested(session, now)
    return web.render(
        request,
        "board_distributions.html",
        viewer.actor,
        lang,
        rows=queries.listing(session),
        start=start,
        end=end,
        euros=lambda cents: euros(cents, lang),
    )


@router.get("/board/distributions/{distribution_id}", response_class=HTMLResponse)
def distribution_page(
    request: Request, viewer: BoardViewer, session: ReadSession, distribution_id: DistributionId
) -> Response:
    """A draft to review before committing: its totals and each permit's part."""
    d = distributions.get(session, distribution_id)
    numbers = permit_queries.numbers(session)
    permits = [
        {"number": numbers[p.permit_id], "revenue": p.revenue_cents, "pool": p.pool_cents, "members": p.members}
        for p in queries.permits_of(session, distribution_id)
    ]
    lang = viewer.lang
    return web.render(
        request,
        "board_distribution.html",
        viewer.actor,
        lang,
        d=d,
        permits=permits,
        euros=lambda cents: euros(cents, lang),
    )


@router.post("/board/distributions", dependencies=[CSRF, back_to("/board/distributions")])
def draft_distribution(
    who: Treasurer,
    session: WriteSession,
    period_start: Annotated[Day, Form()],
    period_end: Annotated[Day, Form()],
    now: Now,
) -> Response:
    distributions.draft(session, who, period_start, period_end, now=now)
    return web.redirect("/board/distributions?saved=1")


@router.post("/board/distributions/{distribution_id}/commit", dependencies=[CSRF, back_to("/board/distributions")])
def commit_distribution(who: Treasurer, session: WriteSession, distribution_id: DistributionId, now: Now) -> Response:
    distributions.commit(session, who, distribution_id, now=now)
    return web.redirect("/board/distributions?saved=1")


class Booking(StrEnum):
    payment = "payment"
    expense = "expense"
    grant = "grant"


Amount = Annotated[str, Form(max_length=30)]
Text = Annotated[str, Form(max_length=400)]


@router.get("/board/money", response_class=HTMLResponse)
def money_page(request: Request, viewer: BoardViewer, session: ReadSession, now: Now) -> Response:
    """Balances, and forms to book a permit's payment, an expense or a grant from the solidarity
    fund; each goes through a confirmation before the money is booked."""
    return web.render(
        request,
        "board_money.html",
        viewer.actor,
        viewer.lang,
        balances=queries.balances_summary(session),
        permits=permit_service.listing(session, viewer.actor),
        today=now.astimezone(HOME_ZONE).date().isoformat(),
        key=uuid.uuid4().hex,  # one booking per form shown: sending it twice books it once
        euros=lambda cents: euros(cents, viewer.lang),
    )


@router.post("/board/money/confirm", response_class=HTMLResponse, dependencies=[CSRF, back_to("/board/money")])
def confirm_booking(
    request: Request,
    viewer: BoardViewer,
    session: ReadSession,
    what: Annotated[Booking, Query()],
    key: Annotated[str, Form(pattern=r"^[0-9a-f]{32}$")],
    on: Annotated[Day, Form()],
    amount: Amount,
    permit_id: Annotated[int | None, Form(ge=1, le=ID_MAX)] = None,
    kind: Annotated[PaymentKind | None, Form()] = None,
    description: Text = "",
    recipient: Text = "",
) -> Response:
    """What would be booked, in words, with the button that books it."""
    cents = positive_cents_of(amount)
    permit = None
    if what is Booking.payment:
        if permit_id is None or kind is None:
            raise Invalid("choose the permit and the kind of payment", code="invalid-entry")
        permit = permit_service.get(session, viewer.actor, permit_id)
    elif not " ".join(description.split()) or (what is Booking.grant and not " ".join(recipient.split())):
        raise Invalid("describe the booking", code="invalid-entry")
    fields = {"key": key, "on": on.isoformat(), "amount": amount, "description": description, "recipient": recipient}
    if permit is not None and kind is not None:
        fields |= {"permit_id": str(permit_id), "kind": kind.value}
    return web.render(
        request,
        "board_money_confirm.html",
        viewer.actor,
        viewer.lang,
        what=what.value,
        amount=euros(cents, viewer.lang),
        on=day(on, viewer.lang),
        permit=permit,
        kind=kind.value if kind else None,
        description=" ".join(description.split()),
        recipient=" ".join(recipient.split()),
        fields=fields,
    )


@router.post("/board/money/book", dependencies=[CSRF, back_to("/board/money")])
def book(
    who: Treasurer,
    session: WriteSession,
    now: Now,
    what: Annotated[Booking, Query()],
    key: Annotated[str, Form(pattern=r"^[0-9a-f]{32}$")],
    on: Annotated[Day, Form()],
    amount: Amount,
    permit_id: Annotated[int | None, Form(ge=1, le=ID_MAX)] = None,
    kind: Annotated[PaymentKind | None, Form()] = None,
    description: Text = "",
    recipient: Text = "",
) -> Response:
    """Book it, once: the key came with the form, so sending the confirmation again books nothing more."""
    cents = positive_cents_of(amount)
    if what is Booking.payment:
        if permit_id is None or kind is None:
            raise Invalid("choose the permit and the kind of payment", code="invalid-entry")
        permit_service.get(session, who, permit_id)
        money.payment(session, who, f"portal-{key}", permit_id, on, cents, kind.value, now=now)
    elif what is Booking.expense:
        money.expense(session, who, f"portal-{key}", on, cents, _clean(description), now=now)
    else:
        money.grant(session, who, f"portal-{key}", on, cents, _clean(recipient), _clean(description), now=now)
    return web.redirect("/board/money?saved=1")


def _clean(text: str) -> str:
    cleaned = " ".join(text.split())
    if not cleaned:
        raise Invalid("describe the booking", code="invalid-entry")
    return cleaned
