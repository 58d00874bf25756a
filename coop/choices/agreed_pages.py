"""Pages: what the member agreed to. For each version of their choices, the versions of the
collective mandate and the benefit policy in force when it began, and each version in words,
as exact text, and with the SHA-256 and ledger event that let anyone check it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response

from coop.choices.agreed import agreed_to
from coop.deps import ID_MAX, Now, ReadSession
from coop.governance.ballot import whole_text
from coop.governance.documents import DocumentKind
from coop.governance.recorded import recorded
from coop.i18n import N_, translator
from coop.portal import web
from coop.portal.deps import AnyViewer, PageMember

router = APIRouter(include_in_schema=False)


@router.get("/me/agreed", response_class=HTMLResponse)
def agreed_page(request: Request, viewer: AnyViewer, member: PageMember, session: ReadSession, now: Now) -> Response:
    assert member.id is not None
    rows = agreed_to(session, viewer.actor, member.id, now)
    return web.render(request, "agreed.html", viewer.actor, viewer.lang, rows=rows)


@router.get("/me/agreed/{kind}/{version}", response_class=HTMLResponse)
def document_page(
    request: Request,
    viewer: AnyViewer,
    member: PageMember,
    session: ReadSession,
    kind: DocumentKind,
    version: Annotated[int, Path(ge=1, le=ID_MAX)],
) -> Response:
    r = recorded(session, kind, version)
    t = translator(viewer.lang)
    title = N_("agreed_mandate_title") if kind is DocumentKind.mandate else N_("agreed_policy_title")
    heading = t(title, version=version)
    proposal = int(r.source.removeprefix("proposal:")) if r.source.startswith("proposal:") else None
    return web.render(
        request,
        "agreed_document.html",
        viewer.actor,
        viewer.lang,
        doc=r,
        heading=heading,
        proposal=proposal,
        words=whole_text(r.document, viewer.lang),
    )
