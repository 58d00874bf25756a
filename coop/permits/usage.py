"""Usage reported under permits, results registered for them, and the compliance view
computed from both: flags are never set by hand; each names its rule and the events."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlmodel import Session, col

from coop.auth.policy import Actor, Denied, can_report_usage
from coop.errors import Forbidden, Invalid
from coop.idempotency import require_same
from coop.permits import digest, manifests, rules
from coop.permits.models import Manifest, ManifestCheck, ManifestEntry, ManifestMember, Permit, Result, UsageEvent
from coop.settings import Settings
from ledger import canonical, log


class UsageKind(StrEnum):
    extraction = "extraction"
    access = "access"
    output = "output"
    deletion = "deletion"
    incident = "incident"


class ResultKind(StrEnum):
    publication = "publication"
    dataset = "dataset"
    software = "software"
    policy_output = "policy-output"


USING = {UsageKind.extraction, UsageKind.access, UsageKind.output}
CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class NewUsage:
    kind: UsageKind
    occurred_at: datetime
    manifest_id: int | None
    records: int | None
    description: str
    client_ref: str | None


def _usage_fields(u: UsageEvent) -> dict[str, Any]:
    return {
        "kind": u.kind,
        "occurred_at": u.occurred_at.isoformat(),
        "manifest_id": u.manifest_id,
        "records": u.records,
        "description": u.description,
    }


def usage_payload(u: UsageEvent, check: ManifestCheck | None) -> dict[str, Any]:
    """The event of a report: the usage, its reference, and the manifest check it made."""
    return {
        "usage_id": u.id,
        **_usage_fields(u),
        "client_ref": u.client_ref,
        "manifest_check": None if check is None else {"manifest_id": check.manifest_id, "ineligible": check.ineligible},
    }


def report(
    session: Session, actor: Actor, permit: Permit, new: NewUsage, settings: Settings, now: datetime
) -> tuple[UsageEvent, bool]:
    if isinstance(can_report_usage(actor, canonical.loads(permit.data_holders)), Denied):
        raise Forbidden("only the HDAB and this permit's data holders report usage", code="not-party")
    assert permit.id is not None
    if new.occurred_at > now + CLOCK_SKEW:
        raise Invalid("occurred_at lies in the future", code="future-usage", field="occurred_at")
    if new.kind is UsageKind.extraction and (new.manifest_id is None or new.records is None):
        raise Invalid("an extraction names its manifest_id and its number of records", code="extraction-incomplete")
    if new.manifest_id is not None and session.get(Manifest, new.manifest_id) is None:
        raise Invalid(f"no manifest {new.manifest_id}", code="manifest-not-found", field="manifest_id")
    event = UsageEvent(
        permit_id=permit.id,
        kind=new.kind.value,
        occurred_at=new.occurred_at,
        manifest_id=new.manifest_id,
        records=new.records,
        description=new.description,
        client_ref=new.client_ref,
        reported_by=actor.ledger_name,
        reported_at=now,
    )
    if new.client_ref is not None:
        existing = session.execute(
            select(UsageEvent).where(
                col(UsageEvent.permit_id) == permit.id, col(UsageEvent.client_ref) == new.client_ref
            )
        ).scalar_one_or_none()
        if existing is not None:
            require_same(_usage_fields(event), _usage_fields(existing), f"usage {new.client_ref}", "usage-differs")
            return existing, False
    session.add(event)
    session.flush()
    check = None
    if new.kind is UsageKind.extraction and new.manifest_id is not None:
        check = _check_once(session, new.manifest_id, settings, now)
    log.append(
        session,
        f"usage.{new.kind.value}",
        actor.ledger_name,
        f"permit:{permit.id}",
        usage_payload(event, check),
        at=now,
    )
    if new.kind is UsageKind.incident:
        digest.tell_incident(session, permit, event, now)
    return event, True


def register_result(
    session: Session,
    actor: Actor,
    permit: Permit,
    kind: ResultKind,
    title: str,
    url: str,
    published_at: datetime,
    open_access: bool,
    now: datetime,
) -> Result:
    assert permit.id is not None
    if published_at < permit.approved_at:
        raise Invalid(
            f"published_at {published_at.isoformat()} is before the permit was approved "
            f"({permit.approved_at.isoformat()}): a result of this permit comes after it",
            code="result-before-permit",
            field="published_at",
        )
    result = Result(
        permit_id=permit.id,
        kind=kind.value,
        title=title,
        url=url,
        published_at=published_at,
        open_access=open_access,
        registered_by=actor.ledger_name,
        registered_at=now,
    )
    session.add(result)
    session.flush()
    log.append(
        session,
        "result.registered",
        actor.ledger_name,
        f"permit:{permit.id}",
        {
            "result_id": result.id,
            "kind": kind.value,
            "title": title,
            "url": url,
            "published_at": published_at.isoformat(),
            "open_access": open_access,
        },
        at=result.registered_at,
    )
    return result


def results_of(session: Session, permit_ids: list[int]) -> dict[int, list[Result]]:
    out: dict[int, list[Result]] = {p: [] for p in permit_ids}
    if permit_ids:
        for r in session.execute(
            select(Result).where(col(Result.permit_id).in_(permit_ids)).order_by(col(Result.published_at))
        ).scalars():
            out[r.permit_id].append(r)
    return out


def permits_using(session: Session, member_id: int) -> list[tuple[Permit, datetime]]:
    """The permits whose manifests include the member, with when the first such manifest was made."""
    rows = session.execute(
        select(Permit, func.min(col(Manifest.created_at)))
        .join(Manifest, col(Manifest.permit_id) == col(Permit.id))
        .join(ManifestMember, col(ManifestMember.manifest_id) == col(Manifest.id))
        .where(col(ManifestMember.member_id) == member_id)
        .group_by(col(Permit.id))
        .order_by(col(Permit.id))
    ).all()
    return [(permit, since) for permit, since in rows]


def usage_of(session: Session, permit_id: int) -> list[UsageEvent]:
    return list(
        session.execute(
            select(UsageEvent)
            .where(col(UsageEvent.permit_id) == permit_id)
            .order_by(col(UsageEvent.occurred_at), col(UsageEvent.id))
        ).scalars()
    )


@dataclass(frozen=True, slots=True)
class Flag:
    rule: str
    article: str
    message: str
    events: list[int] = field(default_factory=list)


def _ids(events: list[UsageEvent]) -> list[int]:
    return [e.id for e in events if e.id is not None]


def ineligible_in(session: Session, manifest_id: int, settings: Settings) -> int:
    """How many members of the manifest were not eligible at its permit's approval."""
    manifest = session.get(Manifest, manifest_id)
    assert manifest is not None
    permit = session.get(Permit, manifest.permit_id)
    assert permit is not None
    listed = np.array(  # the entries themselves: what was handed out under pseudonyms
        session.execute(select(col(ManifestEntry.member_id)).where(col(ManifestEntry.manifest_id) == manifest_id))
        .scalars()
        .all(),
        dtype=np.int64,
    )
    eligible = np.fromiter(manifests.eligible_at_approval(session, permit, settings), dtype=np.int64)
    return int(np.setdiff1d(listed, eligible, assume_unique=True).size)


def _check_once(session: Session, manifest_id: int, settings: Settings, now: datetime) -> ManifestCheck | None:
    """The check this report makes (at ``now``, the report's time), or None when it was made before."""
    if session.get(ManifestCheck, manifest_id) is not None:
        return None
    check = ManifestCheck(
        manifest_id=manifest_id, ineligible=ineligible_in(session, manifest_id, settings), checked_at=now
    )
    session.add(check)
    session.flush()
    return check


def compliance(session: Session, permit: Permit, settings: Settings, now: datetime) -> list[Flag]:
    """Every breach the reported usage and the register show, as of ``now``."""
    assert permit.id is not None
    events = usage_of(session, permit.id)
    end = rules.ends_at(permit.valid_until, permit.extended_until)
    processing_end = rules.processing_ends(permit.valid_until, permit.extended_until, permit.revoked_at)
    using = [e for e in events if UsageKind(e.kind) in USING]
    flags: list[Flag] = []

    def flag_if(rule: str, article: str, message: str, involved: list[UsageEvent]) -> None:
        if involved:
            flags.append(Flag(rule, article, message, _ids(involved)))

    flag_if(
        "use-before-validity",
        "EHDS Art. 68",
        "data used before the permit was valid",
        [e for e in using if e.occurred_at < permit.valid_from],
    )
    if permit.revoked_at is not None and permit.revoked_at < end:
        flag_if(
            "use-after-revocation",
            "EHDS Art. 68",
            "data used after the permit was revoked",
            [e for e in using if e.occurred_at >= permit.revoked_at],
        )
    flag_if(
        "use-after-expiry",
        "EHDS Art. 68",
        "data used after the permit expired",
        [e for e in using if e.occurred_at >= end],
    )
    extractions = [e for e in events if e.kind == UsageKind.extraction.value and e.manifest_id is not None]
    used = {
        m.id: m
        for m in session.execute(
            select(Manifest).where(col(Manifest.id).in_({e.manifest_id for e in extractions}))
        ).scalars()
    }
    flag_if(
        "foreign-manifest",
        "EHDS Art. 71(3)",
        "extraction with the manifest of another permit",
        [e for e in extractions if used[e.manifest_id].permit_id != permit.id],
    )
    if used:
        checked = {
            c.manifest_id: c.ineligible
            for c in session.execute(
                select(ManifestCheck).where(col(ManifestCheck.manifest_id).in_(list(used)))
            ).scalars()
        }
        bad = {
            manifest_id
            for manifest_id in used
            if (checked[manifest_id] if manifest_id in checked else ineligible_in(session, manifest_id, settings))
        }
        flag_if(
            "ineligible-members",
            "EHDS Art. 71",
            "extraction with a manifest that includes members not eligible at approval",
            [e for e in extractions if e.manifest_id in bad],
        )
    deletion_due = rules.deletion_due(processing_end)
    deleted_in_time = any(e.kind == UsageKind.deletion.value and e.occurred_at <= deletion_due for e in events)
    if now > deletion_due and not deleted_in_time:
        flags.append(
            Flag(
                "deletion-overdue", "EHDS Art. 68(12)", "no deletion reported within 6 months of the end of the permit"
            )
        )
    due = rules.results_duty(permit.valid_from, processing_end)
    if due is not None and now > due and not results_of(session, [permit.id])[permit.id]:
        flags.append(
            Flag(
                "results-overdue", "EHDS Art. 61(4)", "no results made public within 18 months of the end of processing"
            )
        )
    for e in events:
        if e.kind == UsageKind.incident.value:
            flags.append(Flag("incident", "EHDS Art. 61", f"incident reported: {e.description}", _ids([e])))
    return flags
