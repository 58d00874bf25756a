"""HTTP: receipts members keep, one for each of their events (c2sp.org/tlog-proof), and the
list of their events to choose from. Only the member themselves and the board may have them;
the board's reads go into the member's access log like every read of a member's data."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, Field

from coop.access.models import AccessWhat
from coop.access.service import Read, record_apart
from coop.deps import SEQ_MAX, CurrentActor, DatabaseDep, MemberId, Now, ReadSession
from coop.openapi import problems
from coop.record import queries, receipts
from ledger.receipts import MEDIA_TYPE

router = APIRouter(prefix="/members", tags=["ledger of record"])

Seq = Annotated[int, Path(ge=1, le=SEQ_MAX, description="the event's number in the ledger of record")]


class OwnEventOut(BaseModel):
    seq: int = Field(description="the event's number in the ledger of record (its leaf index is seq - 1)")
    type: str = Field(description="what happened, e.g. choices.changed")
    time: str = Field(description="when it was recorded (UTC)")
    receipt_ready: bool = Field(description="whether a signed tree head covers it, so its receipt can be had now")
    receipt_url: str


@router.get(
    "/{member_id}/receipts",
    response_model=list[OwnEventOut],
    summary="The member's own events, each with the address of its receipt (the member, board)",
    responses=problems({404: "member-not-found (also for anyone who may not read the member)"}),
)
def list_receipts(
    member_id: MemberId, session: ReadSession, actor: CurrentActor, now: Now, db: DatabaseDep, response: Response
) -> list[OwnEventOut]:
    """Every event of the ledger of record about the member, oldest first. An event's receipt
    is ready once a signed tree head covers it (within ``COOP_LEDGER_HEAD_INTERVAL_SECONDS``).
    Like the receipts, the list is never kept by a cache (``Cache-Control: no-store``)."""
    events = queries.member_events(session, actor, member_id)
    record_apart(db, actor, Read(AccessWhat.history, member_id=member_id), now)
    response.headers["Cache-Control"] = "no-store"
    return [
        OwnEventOut(
            seq=e.seq,
            type=e.type,
            time=e.time,
            receipt_ready=e.ready,
            receipt_url=f"/api/v1/members/{member_id}/receipts/{e.seq}",
        )
        for e in events
    ]


@router.get(
    "/{member_id}/receipts/{seq}",
    summary="A receipt of one of the member's events, to keep and verify offline (the member, board)",
    response_class=Response,
    responses={
        200: {"content": {"text/plain": {}}, "description": "a c2sp.org/tlog-proof receipt (.tlog-proof)"},
        **problems(
            {
                404: "member-not-found, event-not-found (also for another member's event: it is never revealed)",
                503: "receipt-pending: no signed tree head covers the event yet; try again after Retry-After seconds",
            }
        ),
    },
)
def receipt(
    member_id: MemberId, seq: Seq, session: ReadSession, actor: CurrentActor, now: Now, db: DatabaseDep
) -> Response:
    """A c2sp.org/tlog-proof file: ``extra`` holds the event's canonical bytes (base64), then
    its index (seq - 1), its inclusion proof and the signed checkpoint of the newest tree head,
    with any witnesses' cosignatures. It verifies without the cooperative: ``coop receipt
    verify FILE``, the portal's page ``/receipt/verify`` (in the browser, sending nothing), or
    by hand (docs/RECEIPTS.md) with ``note_verifier_key`` of ``/ledger/public-key``."""
    made = receipts.receipt(session, db, actor, member_id, seq, now)
    record_apart(db, actor, Read(AccessWhat.history, member_id=member_id), now)
    return Response(
        made.text,
        media_type=MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{made.filename}"', "Cache-Control": "no-store"},
    )
