"""HTTP: who read a member's data (the member, or the board, whose read is recorded too), and
the counts an auditor reads."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from coop.access import queries
from coop.access.models import AccessWhat
from coop.access.schemas import AccessOut, AccessPage, SummaryOut, SummaryPage
from coop.access.service import Read, record_apart
from coop.auth.policy import Actor, Permission, can_read_access_log
from coop.db import Database
from coop.deps import ID_MAX, CurrentActor, MemberId, Now, ReadSession, SettingsDep, get_database, require
from coop.errors import NotFound
from coop.members.models import Member
from coop.openapi import problems

router = APIRouter(tags=["access log"])


@router.get(
    "/members/{member_id}/access-log",
    response_model=AccessPage,
    summary="Who read the member's data, newest first (the member themselves, or the board)",
    description="Every read of the member's data by someone other than the member: the board opening their "
    "page or a list that showed them, a proxy or carer reading their choices, the board producing their "
    "statement, and each download of a permit's manifest that includes their pseudonym. Another member, a "
    "proxy, the HDAB, a data holder or an auditor is told 404 `member-not-found`. The board's read of "
    "this log is itself recorded.",
    responses=problems({404: "member-not-found"}),
)
def access_log(
    member_id: MemberId,
    session: ReadSession,
    actor: CurrentActor,
    db: Annotated[Database, Depends(get_database)],
    now: Now,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=ID_MAX)] = 0,
) -> AccessPage:
    if not can_read_access_log(actor, member_id) or session.get(Member, member_id) is None:
        raise NotFound(f"no member {member_id}", code="member-not-found")
    items = queries.seen_by_others(session, member_id, limit, offset)
    total = queries.count_seen(session, member_id)
    record_apart(db, actor, Read(AccessWhat.access_log, member_id=member_id), now)
    return AccessPage(
        member_id=member_id, items=[AccessOut.of(v) for v in items], total=total, limit=limit, offset=offset
    )


@router.get(
    "/access-log/summary",
    response_model=SummaryPage,
    summary="Reads of members' data by others, counted per month, role, purpose and what (auditor, board)",
    description="No member and no reader is named; counts of 1 to threshold-1 are shown as '<threshold' "
    "and larger ones rounded, as every count about members that leaves the cooperative.",
)
def summary(
    session: ReadSession,
    settings: SettingsDep,
    _actor: Annotated[Actor, Depends(require(Permission.read_access_summary))],
) -> SummaryPage:
    threshold = settings.privacy.small_count_threshold
    return SummaryPage(threshold=threshold, rows=[SummaryOut.of(r) for r in queries.summary(session, threshold)])
