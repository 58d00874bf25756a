"""Page: "who looked at my data": every read of the member's data by someone else (the board,
their proxy or carer, a permit's manifest), newest first, a page at a time, with what each
purpose means. The member's own reads are not in it. The board sees a member's log on the
same page, to answer a member who asks by letter or phone."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from coop.access import queries
from coop.access.models import AccessPurpose, AccessWhat, ReaderRole
from coop.access.service import Read, record_apart
from coop.auth.policy import Permission
from coop.deps import DatabaseDep, MemberId, Now, ReadSession
from coop.i18n import N_
from coop.members import queries as member_queries
from coop.members.models import Member
from coop.portal import web
from coop.portal.deps import AnyViewer, PageMember, Viewer, viewer_with

router = APIRouter(include_in_schema=False)
Board = Annotated[Viewer, viewer_with(Permission.read_any_member)]
PAGE_SIZE = 20

READERS = {
    ReaderRole.board.value: N_("access_reader_board"),
    ReaderRole.proxy.value: N_("access_reader_proxy"),
    ReaderRole.carer.value: N_("access_reader_carer"),
    ReaderRole.hdab.value: N_("access_reader_hdab"),
    ReaderRole.data_holder.value: N_("access_reader_data_holder"),
    ReaderRole.auditor.value: N_("access_reader_auditor"),
}
PURPOSES = {
    AccessPurpose.member_administration.value: N_("access_purpose_member_administration"),
    AccessPurpose.acting_as_proxy.value: N_("access_purpose_acting_as_proxy"),
    AccessPurpose.statement.value: N_("access_purpose_statement"),
    AccessPurpose.manifest_download.value: N_("access_purpose_manifest_download"),
}
EXPLAINED = {
    AccessPurpose.member_administration.value: N_("access_explain_member_administration"),
    AccessPurpose.acting_as_proxy.value: N_("access_explain_acting_as_proxy"),
    AccessPurpose.statement.value: N_("access_explain_statement"),
    AccessPurpose.manifest_download.value: N_("access_explain_manifest_download"),
}
WHAT = {
    AccessWhat.member_page.value: N_("access_what_member_page"),
    AccessWhat.member_details.value: N_("access_what_member_details"),
    AccessWhat.member_list.value: N_("access_what_member_list"),
    AccessWhat.undeliverable_mail.value: N_("access_what_undeliverable_mail"),
    AccessWhat.appointment.value: N_("access_what_appointment"),
    AccessWhat.choices.value: N_("access_what_choices"),
    AccessWhat.history.value: N_("access_what_history"),
    AccessWhat.fhir_consent.value: N_("access_what_fhir_consent"),
    AccessWhat.decision.value: N_("access_what_decision"),
    AccessWhat.data_use.value: N_("access_what_data_use"),
    AccessWhat.votes.value: N_("access_what_votes"),
    AccessWhat.statement.value: N_("access_what_statement"),
    AccessWhat.manifest.value: N_("access_what_manifest"),
    AccessWhat.access_log.value: N_("access_what_access_log"),
    AccessWhat.export.value: N_("access_what_export"),
}


def _log_page(
    request: Request, viewer: Viewer, session: ReadSession, member_id: int, page: int, subject: Member | None = None
) -> Response:
    """The access log of ``member_id``, a page at a time, with what each purpose means."""
    total = queries.count_seen(session, member_id)
    pages = max(1, -(-total // PAGE_SIZE))
    page = max(1, min(page, pages))
    views = queries.seen_by_others(session, member_id, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    rows = [
        {
            "at": v.at,
            "reader": READERS.get(v.role, "access_reader_board"),
            "organisation": v.organisation or "-",
            "permit": v.permit or "-",
            "purpose": PURPOSES.get(v.purpose, v.purpose),
            "what": WHAT.get(v.what, v.what),
        }
        for v in views
    ]
    explained = [(PURPOSES[p], EXPLAINED[p]) for p in PURPOSES]
    return web.render(
        request,
        "access.html",
        viewer.actor,
        viewer.lang,
        rows=rows,
        explained=explained,
        page=page,
        pages=pages,
        total=total,
        subject=subject,
    )


@router.get("/me/access", response_class=HTMLResponse)
def access_page(
    request: Request, viewer: AnyViewer, member: PageMember, session: ReadSession, page: int = 1
) -> Response:
    assert member.id is not None
    return _log_page(request, viewer, session, member.id, page)


@router.get("/board/members/{member_id}/access", response_class=HTMLResponse)
def board_access_page(
    request: Request,
    member_id: MemberId,
    viewer: Board,
    session: ReadSession,
    now: Now,
    db: DatabaseDep,
    page: int = 1,
) -> Response:
    """The member's access log as they see it, for the board answering a member who asks by
    letter or phone; this read is itself in the log."""
    member = member_queries.get_for(session, viewer.actor, member_id)
    record_apart(db, viewer.actor, Read(AccessWhat.access_log, member_id=member_id), now)
    return _log_page(request, viewer, session, member_id, page, subject=member)
