"""A member's data as a file to download, for the API and the pages alike."""

from __future__ import annotations

from datetime import datetime

from fastapi import Response
from sqlmodel import Session

from coop.access.models import AccessWhat
from coop.access.service import Read, record_apart
from coop.auth.policy import Actor
from coop.db import Database
from coop.portability import export
from coop.settings import Settings


def download(
    session: Session, db: Database, actor: Actor, member_id: int, settings: Settings, now: datetime, form: str
) -> Response:
    """The export of ``member_id`` for ``actor`` as an attachment in ``form`` (``json`` or ``pdf``,
    see :data:`coop.portability.export.FORMS`). A read by someone else (the board, on the member's
    request) is in the member's access log before the file is served."""
    member, data = export.for_reader(session, actor, member_id, settings, now)
    record_apart(db, actor, Read(AccessWhat.export, member_id=member_id), now)
    render, media_type = export.FORMS[form]
    name = export.file_name(member, now, form)
    return Response(
        render(data), media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
