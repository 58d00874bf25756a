"""Pages: a member's dividends with how they were derived, and the board's money: balances,
bookings (a permit's payment, an expense, a solidarity grant, each confirmed before it is
booked) and distributions (draft and review; committing takes two board members, see
:mod:`coop.approvals.pages`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from coop.approvals import queries as approval_queries
from coop.approvals.models import Action
from coop.auth.policy import Actor, Permission
from coop.deps import ID_MAX, Now, ReadSession, WriteSession
from coop.errors import Invalid
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
        waiting={r.distribution_id for r in approval_queries.waiting(session, Action.commit_distribution)},
        start=start,
        end=end,
        euros=lambda cents: euros(cents, lang),
    )


@router.get("/board/distributions/{distribution_id}", response_class=HTMLResponse)
def distribution_page(
    request: Request, viewer: BoardViewer, session: ReadSession, distribution_id: DistributionId
) -> Response:
    """A draft to review before committing: its totals and each permit's part, and the request
    to commit it that waits for a second board member (or who asked and approved)."""
    d = distributions.get(session, distribution_id)
    target = approval_queries.distribution_target(distribution_id)
    waiting = approval_queries.open_for(session, target)
    decided = approval_queries.last_decided(session, target)
    asked = [r for r in (waiting, decided) if r is not None]
    names = approval_queries.board_names(session, [n for r in asked for n in (r.requested_by, r.decided_by)])
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
        waiting=waiting,
        decided=decided,
        names=names,
        me=viewer.actor.ledger_name,
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
        today=periods.today(
            now
        ).isoformat(),  # the day the books check against (UTC), or late at night the form offers a day they refuse
        key=uuid.uuid4().hex,  # one booking per form shown: sending it twice books it once
        euros=lambda cents: euros(cents, viewer.lang),
    )


@dataclass(frozen=True, slots=True)
class BookingForm:
    """A booking as the money page's forms send it, read and checked: the same fields go to
    the confirmation and, from there, to the booking."""

    what: Booking
    key: str
    on: date
    amount: str
    cents: int
    permit_id: int | None
    kind: PaymentKind | None
    description: str
    recipient: str

    def fields(self) -> dict[str, str]:
        """The fields again, for the confirmation's form."""
        sent = {"key": self.key, "on": self.on.isoformat(), "amount": self.amount}
        sent |= {"description": self.description, "recipient": self.recipient}
        if self.permit_id is not None and self.kind is not None:
            sent |= {"permit_id": str(self.permit_id), "kind": self.kind.value}
        return sent


def _booking(
    what: Annotated[Booking, Query()],
    key: Annotated[str, Form(pattern=r"^[0-9a-f]{32}$")],
    on: Annotated[Day, Form()],
    amount: Amount,
    permit_id: Annotated[int | None, Form(ge=1, le=ID_MAX)] = None,
    kind: Annotated[PaymentKind | None, Form()] = None,
    description: Text = "",
    recipient: Text = "",
) -> BookingForm:
    cents = positive_cents_of(amount)
    description, recipient = " ".join(description.split()), " ".join(recipient.split())
    if what is Booking.payment and (permit_id is None or kind is None):
        raise Invalid("choose the permit and the kind of payment", code="invalid-entry")
    if what is not Booking.payment and (not description or (what is Booking.grant and not recipient)):
        raise Invalid("describe the booking", code="invalid-entry")
    return BookingForm(what, key, on, amount, cents, permit_id, kind, description, recipient)


BookingIn = Annotated[BookingForm, Depends(_booking)]


@router.post("/board/money/confirm", response_class=HTMLResponse, dependencies=[CSRF, back_to("/board/money")])
def confirm_booking(request: Request, viewer: BoardViewer, session: ReadSession, booking: BookingIn) -> Response:
    """What would be booked, in words, with the button that books it."""
    permit = None
    if booking.permit_id is not None and booking.what is Booking.payment:
        permit = permit_service.get(session, viewer.actor, booking.permit_id)
    return web.render(
        request,
        "board_money_confirm.html",
        viewer.actor,
        viewer.lang,
        what=booking.what.value,
        amount=euros(booking.cents, viewer.lang),
        on=day(booking.on, viewer.lang),
        permit=permit,
        kind=booking.kind.value if booking.kind else None,
        description=booking.description,
        recipient=booking.recipient,
        fields=booking.fields(),
    )


@router.post("/board/money/book", dependencies=[CSRF, back_to("/board/money")])
def book(who: Treasurer, session: WriteSession, now: Now, booking: BookingIn) -> Response:
    """Book it, once: the key came with the form, so sending the confirmation again books nothing more."""
    key, on, cents = f"portal-{booking.key}", booking.on, booking.cents
    if booking.what is Booking.payment:
        assert booking.permit_id is not None and booking.kind is not None
        permit_service.get(session, who, booking.permit_id)
        money.payment(session, who, key, booking.permit_id, on, cents, booking.kind.value, now=now)
    elif booking.what is Booking.expense:
        money.expense(session, who, key, on, cents, booking.description, now=now)
    else:
        money.grant(session, who, key, on, cents, booking.recipient, booking.description, now=now)
    return web.redirect("/board/money?saved=1")
