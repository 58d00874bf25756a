"""Pages: a member's receipt download, and the public page that checks a receipt in the
browser.

The check page needs no login, because it sends nothing: its script (``/static/receipt-check.js``)
reads the chosen file and verifies it with the browser's own Web Crypto (SHA-256, Ed25519)
against the log's verifier key written into the page, and shows which of the configured
witnesses (``COOP_LEDGER_WITNESSES``, their cosigner keys also written into the page) cosigned
the receipt's checkpoint. Its Content-Security-Policy allows
scripts from this site only and no connections at all (``connect-src 'none'``, see
:data:`coop.app.RECEIPT_CHECK_POLICY`)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from coop.deps import DatabaseDep, Now, ReadSession
from coop.portal import web
from coop.portal.deps import AnyViewer, MaybeActor, PageMember
from coop.record import receipts
from coop.record.receipt_routes import Seq
from ledger.receipts import MEDIA_TYPE
from ledger.signing import note_verifier_key

router = APIRouter(include_in_schema=False)

CHECK_PATH = "/receipt/verify"


@router.get("/me/receipts/{seq}")
def download(
    viewer: AnyViewer, member: PageMember, seq: Seq, session: ReadSession, db: DatabaseDep, now: Now
) -> Response:
    """The member's own receipt, as a file to keep."""
    assert member.id is not None
    made = receipts.receipt(session, db, viewer.actor, member.id, seq, now)
    return Response(
        made.text,
        media_type=MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{made.filename}"', "Cache-Control": "no-store"},
    )


@router.get(CHECK_PATH, response_class=HTMLResponse)
def check_page(request: Request, who: MaybeActor, db: DatabaseDep) -> Response:
    """A file picker and the result of the check, made in the browser."""
    name = db.settings.ledger.log_name
    return web.render(
        request,
        "receipt_check.html",
        who,
        web.language(request),
        log_key=note_verifier_key(name, db.signer.public_key),
        log_name=name,
        witnesses=db.settings.ledger.witnesses,
    )
