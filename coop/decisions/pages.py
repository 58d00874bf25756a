"""Page: what happens with a member's data now, per purpose and kind of user: the decision
ladder (:mod:`coop.decisions.ladder`) in words."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from coop.choices import queries as choices_queries
from coop.decisions import ladder
from coop.deps import Now, ReadSession
from coop.governance import queries as governance_queries
from coop.governance.documents import DocumentKind, Mandate
from coop.portal import web
from coop.portal.deps import AnyViewer, PageMember
from coop.proxies import queries as proxy_queries
from coop.vocabulary.terms import Category, Purpose, from_mask

router = APIRouter(include_in_schema=False)


@router.get("/me", response_class=HTMLResponse)
def overview(request: Request, viewer: AnyViewer, member: PageMember, session: ReadSession, now: Now) -> Response:
    assert member.id is not None
    current = choices_queries.read(session, viewer.actor, member.id, now)
    in_force = governance_queries.in_force(session, DocumentKind.mandate, now)
    # before the founding statutes are recorded, nothing is allowed under the mandate
    mandate = in_force.document if in_force and isinstance(in_force.document, Mandate) else Mandate()
    proxied = 0
    for appointment in proxy_queries.in_force_for(session, member.id, now):
        proxied |= appointment.purposes_mask
    rows = []
    for step in ladder.ladder(mandate, current.opt_out, current.preference_mask, proxied):
        text, kind = ladder.in_words(step, viewer.lang)
        rows.append({"purpose": step.purpose.value, "user_type": step.user_type.value, "text": text, "kind": kind})
    return web.render(
        request,
        "overview.html",
        viewer.actor,
        viewer.lang,
        member=member,
        left_at=member.left_at,
        opted_out=current.opt_out,
        groups=[(purpose.value, [r for r in rows if r["purpose"] == purpose.value]) for purpose in Purpose],
        excluded=[c.value for c in from_mask(Category, current.excluded_mask)],
        donates=current.donate_dividend,
    )
