"""The annual report: its figures as of a signed tree head, its PDF, and its publication
(the PDF's SHA-256 recorded in the ledger of record)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import datetime
from typing import Any

from sqlmodel import Session

from coop import pdfsigning
from coop.auth.policy import Actor, require_statement_reader
from coop.errors import NotFound
from coop.members.models import Member
from coop.reporting import figures, statement
from coop.settings import Settings
from ledger import canonical, log
from reports.inputs import Annual


def annual(session: Session, settings: Settings, year: int, tree_size: int | None, now: datetime) -> Annual:
    """The figures of ``year`` as of its end, or ``now`` for the year under way."""
    if tree_size is not None and log.head_at(session, tree_size) is None:
        raise NotFound(f"no signed tree head of size {tree_size}", code="tree-head-not-found")
    return figures.annual(session, settings, year, now, tree_size)


def annual_pdf(
    session: Session, settings: Settings, year: int, lang: str, tree_size: int | None, now: datetime
) -> bytes:
    return signed_annual(annual(session, settings, year, tree_size, now), settings, lang)


def signed_annual(figures: Annual, settings: Settings, lang: str) -> bytes:
    """The report of ``figures`` in ``lang``, signed by the cooperative: the same figures give
    the same bytes, so the digest a publication records is that of what is served."""
    from reports.annual import render

    signed_head_at = figures.integrity.signed_at if figures.integrity is not None else None
    return pdfsigning.sign_annual(render(figures, lang), settings, lang, signed_head_at, figures.as_of)


def figures_sha256(session: Session, settings: Settings, year: int, now: datetime) -> str:
    """SHA-256 of the report's figures (JSON, keys sorted), without the moment they were taken
    and the tree head: what a request to publish pins, so that it is approved only for the
    figures the asker saw."""
    values = dataclasses.asdict(figures.annual(session, settings, year, now))
    values.pop("as_of")
    values.pop("integrity")
    text = json.dumps(values, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def publish_annual(
    session: Session,
    actor: Actor,
    settings: Settings,
    year: int,
    lang: str,
    now: datetime,
    approval: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Record the report's SHA-256 in the ledger of record, as ``actor`` (the board user who
    approved the request ``approval``: {approval, requested_by, approved_by}, named in the event).
    When an earlier publication, rebuilt against its own tree head, still gives the same bytes,
    the figures have not changed and that publication is returned; otherwise the report is
    built against the newest signed head and published anew."""
    subject = f"report:annual:{year}:{lang}"
    for event in reversed(log.events_of(session, subject)):
        earlier = canonical.loads(event.payload)
        pdf = annual_pdf(session, settings, year, lang, earlier["tree_size"], now)
        if hashlib.sha256(pdf).hexdigest() == earlier["sha256"]:
            return {**earlier, "ledger_seq": event.seq}
    head = log.latest_head(session)
    if head is None:
        raise NotFound("the ledger has no signed tree head yet", code="tree-head-not-found")
    digest = hashlib.sha256(annual_pdf(session, settings, year, lang, head.tree_size, now)).hexdigest()
    body = {"year": year, "lang": lang, "sha256": digest, "tree_size": head.tree_size, **(approval or {})}
    event = log.append(session, "report.published", actor.ledger_name, subject, body, at=now)
    return {**body, "ledger_seq": event.seq}


def statement_pdf(session: Session, actor: Actor, member_id: int, year: int, now: datetime) -> tuple[Member, bytes]:
    """A member's statement for ``year`` as of ``now``, for the member themselves or the board
    (else 404: no existence leak): the one assembly the API and the portal share. The caller
    records the board's read (:mod:`coop.access`) before serving it."""
    from reports.statement import render

    require_statement_reader(actor, member_id)
    member = session.get(Member, member_id)
    if member is None:
        raise NotFound(f"no member {member_id}", code="member-not-found")
    return member, render(statement.statement(session, member, year, now))
