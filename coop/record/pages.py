"""Page: the board's view of the witnesses of the ledger of record (see
:mod:`coop.record.witnesses`): which checkpoint each cosigned last, and what went wrong."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from coop.auth.policy import Permission
from coop.deps import DatabaseDep, ReadSession
from coop.portal import web
from coop.portal.deps import Viewer, viewer_with
from coop.record import witnesses
from ledger import log

router = APIRouter(include_in_schema=False)


@router.get("/board/witnesses", response_class=HTMLResponse)
def witnesses_page(
    request: Request,
    viewer: Annotated[Viewer, viewer_with(Permission.read_ledger_events)],
    session: ReadSession,
    db: DatabaseDep,
) -> Response:
    """Each witness: the size of the last checkpoint it cosigned and when, how many newer
    events wait for its cosignature, and the last error (a serious one first and marked)."""
    head = log.latest_head(session)
    size = head.tree_size if head is not None else 0
    rows = [
        {
            "name": witness.name,
            "url": witness.url,
            "cosigned_size": state.cosigned_size if state else 0,
            "cosigned_at": state.cosigned_at if state else None,
            "attempted_at": state.attempted_at if state else None,
            "behind": max(0, size - (state.cosigned_size if state else 0)),
            "error": state.error if state else None,
            "error_at": state.error_at if state else None,
            "serious": bool(state and state.serious),
        }
        for witness, state in witnesses.states(session, db)
    ]
    rows.sort(key=lambda row: not row["serious"])
    return web.render(request, "board_witnesses.html", viewer.actor, viewer.lang, witnesses=rows, tree_size=size)
