"""Registering, extending and revoking permits. Registration is idempotent on the permit
number: the same permit again returns the original; a different one under the same
number is a conflict naming the fields that differ."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from coop.auth.policy import Actor, Denied, can_read_permit, readable_permits
from coop.decisions.rules import deciding_user_type, is_prohibited
from coop.errors import Conflict, Invalid, NotFound
from coop.hdab.models import Consultation
from coop.idempotency import require_same
from coop.permits import rules
from coop.permits.models import Permit
from coop.vocabulary.terms import Category, Purpose, UserType, from_mask, mask
from ledger import canonical, log


@dataclass(frozen=True, slots=True)
class NewPermit:
    permit_number: str
    applicant: str
    user_type: UserType
    purposes: tuple[Purpose, ...]
    categories: tuple[Category, ...]
    authorised_persons: tuple[str, ...]
    conditions: str
    data_holders: tuple[str, ...]
    approved_at: datetime
    valid_from: datetime
    valid_until: datetime
    fee_cents: int
    benefit_share_pct: int
    consultation_id: int | None
    on_behalf_of_public_body: bool = False

    @property
    def deciding_user_type(self) -> UserType:
        return deciding_user_type(self.user_type, self.on_behalf_of_public_body)


def permit_fields(p: Permit) -> dict[str, Any]:
    """The registered permit as its event records it; ``on_behalf_of_public_body`` only when
    true, so permits registered before it existed keep their events."""
    return {
        "permit_number": p.permit_number,
        "applicant": p.applicant,
        "user_type": p.user_type,
        "purposes": [x.value for x in from_mask(Purpose, p.purposes_mask)],
        "categories": [x.value for x in from_mask(Category, p.categories_mask)],
        "authorised_persons": canonical.loads(p.authorised_persons),
        "conditions": p.conditions,
        "data_holders": canonical.loads(p.data_holders),
        "approved_at": p.approved_at.isoformat(),
        "valid_from": p.valid_from.isoformat(),
        "valid_until": p.valid_until.isoformat(),
        "fee_cents": p.fee_cents,
        "benefit_share_pct": p.benefit_share_pct,
        "consultation_id": p.consultation_id,
    } | ({"on_behalf_of_public_body": True} if p.on_behalf_of_public_body else {})


def _check(session: Session, new: NewPermit, now: datetime) -> None:
    bad = [p.value for p in new.purposes if is_prohibited(p, new.deciding_user_type)]
    if bad:
        raise Invalid(
            f"{', '.join(bad)} is for public-sector bodies, and others on their behalf, only (Art. 53(2))",
            code="public-sector-only",
            field="purposes",
        )
    if not new.valid_from < new.valid_until:
        raise Invalid("valid_until must come after valid_from", code="invalid-validity", field="valid_until")
    if not rules.within_years(new.valid_from, new.valid_until, rules.MAX_YEARS):
        raise Invalid("a permit is valid for at most 10 years (Art. 68)", code="too-long", field="valid_until")
    if new.approved_at > new.valid_until:
        raise Invalid("approved_at must not come after valid_until", code="invalid-validity", field="approved_at")
    if new.approved_at > now:
        # the manifest counts members as they are at approval: a time to come would count
        # members who opt out before then (Art. 71(3))
        raise Invalid("approved_at must not be in the future", code="approved-in-future", field="approved_at")
    if new.consultation_id is not None and session.get(Consultation, new.consultation_id) is None:
        raise Invalid(f"no consultation {new.consultation_id}", code="consultation-not-found", field="consultation_id")


def register(session: Session, actor: Actor, new: NewPermit, now: datetime) -> tuple[Permit, bool]:
    """The permit, and whether it was written now (False: the same permit was registered before)."""
    _check(session, new, now)
    permit = Permit(
        permit_number=new.permit_number,
        applicant=new.applicant,
        user_type=new.user_type.value,
        purposes_mask=mask(new.purposes),
        categories_mask=mask(new.categories),
        authorised_persons=canonical.dumps(list(new.authorised_persons)),
        conditions=new.conditions,
        data_holders=canonical.dumps(sorted(set(new.data_holders))),
        approved_at=new.approved_at,
        valid_from=new.valid_from,
        valid_until=new.valid_until,
        fee_cents=new.fee_cents,
        benefit_share_pct=new.benefit_share_pct,
        consultation_id=new.consultation_id,
        on_behalf_of_public_body=new.on_behalf_of_public_body,
        registered_by=actor.ledger_name,
        registered_at=now,
    )
    existing = session.execute(
        select(Permit).where(col(Permit.permit_number) == new.permit_number)
    ).scalar_one_or_none()
    if existing is not None:
        require_same(_compared(permit), _compared(existing), f"permit {new.permit_number}", "permit-differs")
        return existing, False
    session.add(permit)
    session.flush()
    log.append(
        session,
        "permit.registered",
        actor.ledger_name,
        f"permit:{permit.id}",
        permit_fields(permit),
        at=permit.registered_at,
    )
    return permit, True


MOMENTS = ("approved_at", "valid_from", "valid_until")


def _compared(p: Permit) -> dict[str, Any]:
    """What makes two registrations the same permit: its fields, moments compared as instants
    (a permit sent with +01:00 is the one stored in UTC)."""
    moments = {
        name: getattr(p, name).astimezone(UTC).isoformat() for name in ("approved_at", "valid_from", "valid_until")
    }
    return permit_fields(p) | moments | {"on_behalf_of_public_body": p.on_behalf_of_public_body}


def get(session: Session, actor: Actor, permit_id: int) -> Permit:
    permit = session.get(Permit, permit_id)
    if permit is None or isinstance(can_read_permit(actor, canonical.loads(permit.data_holders)), Denied):
        raise NotFound(f"no permit {permit_id}", code="permit-not-found")
    return permit


def listing(session: Session, actor: Actor) -> list[Permit]:
    """The permits ``actor`` may read, filtered in the database: a data holder's
    organisation is found as a whole JSON string in the permit's canonical list of data
    holders (the policy is checked again on each row)."""
    readable = readable_permits(actor)
    if readable is False:
        return []
    stmt = select(Permit).order_by(col(Permit.id))
    if isinstance(readable, str):
        stmt = stmt.where(col(Permit.data_holders).contains(canonical.dumps(readable), autoescape=True))
    permits = session.execute(stmt).scalars()
    return [p for p in permits if not isinstance(can_read_permit(actor, canonical.loads(p.data_holders)), Denied)]


def extend(session: Session, actor: Actor, permit_id: int, new_end: datetime, now: datetime) -> Permit:
    """Extend once, by at most 10 years, while the permit is still running. Asking for the
    same extension again returns the permit as it is."""
    permit = session.get(Permit, permit_id)
    if permit is None:
        raise NotFound(f"no permit {permit_id}", code="permit-not-found")
    if permit.extended_until is not None:
        if permit.extended_until == new_end:
            return permit
        raise Conflict("a permit can be extended once only (Art. 68)", code="already-extended")
    state = rules.status_of(permit, now)
    if state in (rules.Status.revoked, rules.Status.expired):
        raise Conflict(f"a {state.value} permit cannot be extended", code=f"permit-{state.value}")
    if new_end <= permit.valid_until:
        raise Invalid("the new end must come after the current one", code="invalid-extension", field="valid_until")
    if not rules.within_years(permit.valid_until, new_end, rules.MAX_YEARS):
        raise Invalid("an extension adds at most 10 years (Art. 68)", code="too-long", field="valid_until")
    permit.extended_until = new_end
    session.flush()
    log.append(
        session,
        "permit.extended",
        actor.ledger_name,
        f"permit:{permit.id}",
        {"extended_until": new_end.isoformat()},
        at=now,
    )
    return permit


def revoke(session: Session, actor: Actor, permit_id: int, reason: str, now: datetime) -> Permit:
    """Revoke now. Revoking again returns the permit as it is."""
    permit = session.get(Permit, permit_id)
    if permit is None:
        raise NotFound(f"no permit {permit_id}", code="permit-not-found")
    if permit.revoked_at is None:
        permit.revoked_at, permit.revocation_reason = now, reason
        session.flush()
        log.append(
            session,
            "permit.revoked",
            actor.ledger_name,
            f"permit:{permit.id}",
            {"reason": reason},
            at=permit.revoked_at,
        )
    return permit
