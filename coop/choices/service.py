"""Members' choices: versions written once, changed by the member or their proxy. Every
version is an event in the ledger of record; every change also tells the member by mail
(:mod:`coop.choices.notices`). Reading them, and what a proxy may see of
them, is in :mod:`coop.choices.queries`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, bindparam, insert, select
from sqlalchemy.orm import configure_mappers, instrumentation
from sqlmodel import Session

from coop.auth.policy import Actor, Denied, can_change_choices, can_give_sensitive_yes
from coop.choices import encoding, notices, profiles
from coop.choices.encoding import Preference
from coop.choices.models import ChoiceVersion
from coop.choices.queries import access, current, etag
from coop.db import Database
from coop.errors import Conflict, CoopError, Forbidden, Invalid, PreconditionFailed
from coop.mail.models import MailKind
from coop.members.models import Member
from coop.vocabulary.terms import (
    ALL_PURPOSES,
    SENSITIVE,
    Category,
    Purpose,
    UserType,
    from_mask,
    is_prohibited,
    mask,
    position,
)
from ledger import bulk, log


@dataclass(frozen=True, slots=True)
class ChoicePatch:
    """A requested change; ``None`` leaves a field as it is."""

    opt_out: bool | None = None
    preferences: tuple[tuple[Purpose, UserType, Preference], ...] = ()
    excluded_categories: frozenset[Category] | None = None
    donate_dividend: bool | None = None
    sensitive_yes: frozenset[Category] | None = None
    """The sensitive categories the member gives their own explicit yes for (Art. 51(4))."""

    def touches(self) -> int:
        """The purposes this change concerns (all, for member-wide settings)."""
        if (
            self.opt_out is not None
            or self.excluded_categories is not None
            or self.donate_dividend is not None
            or self.sensitive_yes is not None
        ):
            return ALL_PURPOSES
        return mask({p for p, _, _ in self.preferences})


def _payload(v: ChoiceVersion) -> dict[str, object]:
    """The event's payload. ``sensitive_yes`` only when the member gave one: versions without
    a yes read as they did before the yes existed, so their events stay as recorded."""
    payload: dict[str, object] = {
        "version": v.version,
        "is_member": v.is_member,
        "opt_out": v.opt_out,
        "excluded_categories": [c.value for c in from_mask(Category, v.excluded_mask)],
        "preferences": [[p.value, u.value, pref.value] for p, u, pref in encoding.explicit(v.preference_mask)],
        "donate_dividend": v.donate_dividend,
        "acting_proxy_id": v.acting_proxy_id,
        "acting_carer_id": v.acting_carer_id,
    }
    if v.sensitive_yes_mask:
        payload["sensitive_yes"] = [c.value for c in from_mask(Category, v.sensitive_yes_mask)]
    return payload


_VERSIONS = ChoiceVersion.__table__  # type: ignore[attr-defined]
VersionRow = Row[*tuple[Any, ...]]
"""A version as the row read (see :func:`_held`)."""
Open = ChoiceVersion | VersionRow
"""A member's open version, as a model object or as the row read."""
_COLUMNS = tuple(c.name for c in _VERSIONS.columns if c.name != "id")


def _append(session: Session, prev: Open | None, new: ChoiceVersion, event: str) -> ChoiceVersion:
    """Close ``prev`` and write ``new`` with its event (see :func:`_append_all`)."""
    _append_all(session, [(prev, new)], event)
    return new


def _append_all(session: Session, written: Sequence[tuple[Open | None, ChoiceVersion]], event: str) -> None:
    """Close each ``prev`` and write each ``new`` (one for each of distinct members) with its
    event, in one statement of each kind. Written as rows, not through the ORM's flush, which
    costs several times the statements on a path every member takes (the session reads a
    ``prev`` it holds again if asked); the members' profiles are counted at the end of the
    transaction (:func:`coop.choices.profiles.count_written`). Each ``new`` gets its id and
    stays outside the session."""
    if not written:
        return
    session.flush()  # what the session holds is written first, as the ORM would (an appointment)
    conn = session.connection()
    closes = [{"id": prev.id, "valid_to": new.valid_from} for prev, new in written if prev is not None]
    if closes:
        closed = bulk.update_all(conn, _VERSIONS, "id", closes, still_null="valid_to")
        assert closed in (len(closes), -1), "writers take turns: the versions read are still open"
        for prev, _ in written:
            held = _in_session(session, prev.id) if prev is not None and prev.id is not None else None
            if held is not None:  # read again if asked: closed, or open after a rollback
                session.expire(held, ["valid_to"])
    values = [{c: getattr(new, c) for c in _COLUMNS} for _, new in written]
    ids = {r.member_id: r.id for r in bulk.insert_all(conn, _VERSIONS, values, returning=("id", "member_id"))}
    assert len(ids) == len(written), "one new version for each of distinct members"
    events = []
    for _, new in written:
        new.id = ids[new.member_id]
        profiles.count_written(session, new)
        events.append(log.NewEvent(event, new.recorded_by, f"member:{new.member_id}", _payload(new), new.valid_from))
    log.append_many(session, events)


def start(session: Session, actor: Actor, member_ids: Sequence[int], at: datetime) -> None:
    """Version 1 for each member admitted at ``at``: a member, not opted out, following the
    mandate everywhere; a ``choices.started`` event each. Written in one statement, so that
    admitting thousands at once costs little more than one."""
    if not member_ids:
        return
    first = ChoiceVersion(
        member_id=0,
        version=1,
        valid_from=at,
        is_member=True,
        opt_out=False,
        excluded_mask=0,
        preference_mask=0,
        donate_dividend=False,
        recorded_by=actor.ledger_name,
    )
    row, payload = first.model_dump(exclude={"id"}), _payload(first)  # the same for everyone but the member
    session.connection().execute(insert(ChoiceVersion.__table__), [{**row, "member_id": m} for m in member_ids])  # type: ignore[attr-defined]
    profiles.refresh(session, member_ids)  # written around the ORM: counted here, not when flushed
    events = [log.NewEvent("choices.started", first.recorded_by, f"member:{m}", payload, at) for m in member_ids]
    log.append_many(session, events)


def _successor(actor: Actor, prev: Open, at: datetime) -> ChoiceVersion:
    """The next version by ``actor`` (a proxy, member or carer, when acting for someone else,
    is named on it)."""
    return ChoiceVersion(**_successor_values(actor, prev, at))


def _successor_values(actor: Actor, prev: Open, at: datetime) -> dict[str, Any]:
    acting = actor.member_id if actor.member_id != prev.member_id else None
    return {
        "member_id": prev.member_id,
        "version": prev.version + 1,
        "valid_from": max(at, prev.valid_from),
        "valid_to": None,
        "is_member": prev.is_member,
        "opt_out": prev.opt_out,
        "excluded_mask": prev.excluded_mask,
        "preference_mask": prev.preference_mask,
        "donate_dividend": prev.donate_dividend,
        "sensitive_yes_mask": prev.sensitive_yes_mask,
        "recorded_by": actor.ledger_name,
        "acting_proxy_id": acting,
        "acting_carer_id": actor.carer_id,
    }


def _made(values: dict[str, Any]) -> ChoiceVersion:
    """A version of ``values`` outside any session, made as the ORM makes the object of a row
    it reads: the model's constructor checks and records each field, which costs more than the
    rest of a change in a round."""
    configure_mappers()  # at once when done (a version's attributes need their mapper)
    version: ChoiceVersion = _MANAGER.new_instance()
    version.__dict__.update(values)
    object.__setattr__(version, "__pydantic_fields_set__", set(values))
    return version


_MANAGER = instrumentation.manager_of_class(ChoiceVersion)


def end_membership(session: Session, actor: Actor, member_id: int, at: datetime) -> ChoiceVersion:
    prev = current(session, member_id)
    assert prev is not None, "every member has choices from admission"
    new = _successor(actor, prev, at)
    new.is_member = False
    return _append(session, prev, new, "choices.membership-ended")


@dataclass(frozen=True, slots=True)
class Change:
    """A change asked for by ``actor`` of ``member_id``'s choices at ``now``, guarded by ``if_match``."""

    actor: Actor
    member_id: int
    patch: ChoicePatch
    if_match: str | None
    now: datetime


def change(
    session: Session, actor: Actor, member_id: int, patch: ChoicePatch, if_match: str | None, now: datetime
) -> ChoiceVersion:
    """Apply a change as a new version. Refused (412) when ``if_match`` names an older
    version; a change that changes nothing writes nothing. Returns the member's open version
    after it (the new one, or the one that stays)."""
    (outcome,) = change_all(session, [Change(actor, member_id, patch, if_match, now)])
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


def submit(db: Database, change: Change) -> ChoiceVersion:
    """:func:`change` in a unit of work shared with the changes other writers of this process
    ask for meanwhile (:mod:`coop.combining`); returns once the change is durable. Called
    outside any unit of work: the caller's own would hold the writers' turn the batch waits for."""
    combiner = db.combiner("choices.change", change_all, lambda c: c.member_id)
    result: ChoiceVersion = combiner.submit(change)
    return result


def change_all(session: Session, changes: Sequence[Change]) -> list[ChoiceVersion | CoopError]:
    """:func:`change` for each of ``changes`` (of distinct members), together: the members and
    their open versions read in one statement, the new versions, notices and events written in
    one of each kind. Each change gets the version it left open, or the error that refused it
    (and wrote nothing for it)."""
    session.flush()  # what the session holds is read as written (a member's new address), as the ORM would
    held = _held(session, [c.member_id for c in changes])
    outcomes: list[ChoiceVersion | CoopError] = []
    written: list[tuple[Open | None, ChoiceVersion]] = []
    told: list[tuple[notices.Addressee, dict[str, str | None], datetime]] = []
    for c in changes:
        try:
            addressee, prev, new = _decide(session, c, held.get(c.member_id))
        except CoopError as exc:
            outcomes.append(exc)
            continue
        if new is None:
            outcomes.append(_as_version(session, prev))
            continue
        outcomes.append(new)
        written.append((prev, new))
        opted = None if new.opt_out == prev.opt_out else ("out" if new.opt_out else "in")
        told.append((addressee, {**notices.by_whom(c.actor, c.member_id, session), "opted": opted}, c.now))
    notices.notify_all(session, MailKind.choices_changed, told)
    _append_all(session, written, "choices.changed")
    return outcomes


def _as_version(session: Session, row: VersionRow) -> ChoiceVersion:
    """The open version read as a row, as the session's object if it holds one."""
    return _in_session(session, row.id) or _made({name: getattr(row, name) for name in _VERSION_NAMES})


def _in_session(session: Session, version_id: int) -> ChoiceVersion | None:
    """The version's object if the session holds it (loaded earlier in its unit of work)."""
    held = session.identity_map.get(session.identity_key(ChoiceVersion, version_id))
    return held if isinstance(held, ChoiceVersion) else None


def _decide(
    session: Session, c: Change, held: tuple[notices.Addressee, VersionRow] | None
) -> tuple[notices.Addressee, VersionRow, ChoiceVersion | None]:
    """The member, their open version, and the version ``c`` makes of it (None: it changes
    nothing); or the error that refuses it."""
    scope = access(session, c.actor, c.member_id, c.now, known=held is not None).scope
    patch = c.patch
    decision = can_change_choices(c.actor, c.member_id, scope, patch.touches())
    if isinstance(decision, Denied):  # the actor may read (board, proxy), so saying no leaks nothing
        raise Forbidden(decision.reason, code=decision.code)
    if patch.sensitive_yes is not None:
        _check_sensitive_yes(c.actor, c.member_id, patch.sensitive_yes)
    assert held is not None, "access found the member; every member has choices from admission"
    addressee, prev = held
    if c.if_match is not None and c.if_match.strip() not in (etag(prev), f"W/{etag(prev)}", "*"):
        raise PreconditionFailed(
            "these choices were changed since you read them; read them again", code="version-mismatch", etag=etag(prev)
        )
    if not prev.is_member:
        raise Conflict("a member who left has no choices to change", code="not-a-member")
    forbidden = [(p, u) for p, u, choice in patch.preferences if choice is Preference.allow and is_prohibited(p, u)]
    if forbidden:
        purpose, user_type = forbidden[0]
        raise Invalid(
            f"{purpose.value} by {user_type.value} users is for public-sector bodies only (EHDS Art. 53(2)): "
            "the law decides it, not a member's yes",
            code="prohibited-use",
            field="preferences",
        )
    new = _successor_values(c.actor, prev, c.now)
    if patch.opt_out is not None:
        new["opt_out"] = patch.opt_out
    if patch.excluded_categories is not None:
        new["excluded_mask"] = mask(patch.excluded_categories)
    if patch.donate_dividend is not None:
        new["donate_dividend"] = patch.donate_dividend
    if patch.sensitive_yes is not None:
        new["sensitive_yes_mask"] = mask(patch.sensitive_yes)
    for purpose, user_type, preference in patch.preferences:
        new["preference_mask"] = encoding.put(new["preference_mask"], purpose, user_type, preference)
    version = _made(new)
    return addressee, prev, None if _same_choices(prev, version) else version


_MEMBERS = Member.__table__  # type: ignore[attr-defined]
_HELD = (
    select(
        _MEMBERS.c.name.label("member_name"),
        _MEMBERS.c.email.label("member_email"),
        _MEMBERS.c.language.label("member_language"),
        _MEMBERS.c.status.label("member_status"),
        _VERSIONS,
    )
    .join(_VERSIONS, and_(_VERSIONS.c.member_id == _MEMBERS.c.id, _VERSIONS.c.valid_to.is_(None)))
    .where(_MEMBERS.c.id.in_(bindparam("ids", expanding=True)))
)
_VERSION_NAMES = tuple(c.name for c in _VERSIONS.columns)


def _held(session: Session, member_ids: Sequence[int]) -> dict[int, tuple[notices.Addressee, VersionRow]]:
    """The members and their open versions (as rows: a model object costs more than the rest
    of a change), read in one statement."""
    if not member_ids:
        return {}
    assert len(set(member_ids)) == len(member_ids), "one change of a member at a time"
    out: dict[int, tuple[notices.Addressee, VersionRow]] = {}
    for row in session.connection().execute(_HELD, {"ids": list(member_ids)}):
        addressee = notices.Addressee(
            row.member_id, row.member_name, row.member_email, row.member_language, row.member_status
        )
        out[row.member_id] = (addressee, row)
    return out


def _check_sensitive_yes(actor: Actor, member_id: int, categories: frozenset[Category]) -> None:
    """Only the member themselves says yes for their sensitive data, and only for the
    sensitive categories (a yes is not needed, and so not asked, for the others)."""
    decision = can_give_sensitive_yes(actor, member_id)
    if isinstance(decision, Denied):
        raise Forbidden(decision.reason, code=decision.code)
    others = sorted(c.value for c in categories - SENSITIVE)
    if others:
        raise Invalid(
            f"{', '.join(others)}: not a sensitive category (EHDS Art. 51(4)); a yes is given only for "
            + ", ".join(sorted(c.value for c in SENSITIVE)),
            code="not-sensitive",
            field="sensitive_yes",
        )


def _same_choices(a: Open, b: ChoiceVersion) -> bool:
    return (a.is_member, a.opt_out, a.excluded_mask, a.preference_mask, a.donate_dividend, a.sensitive_yes_mask) == (
        b.is_member,
        b.opt_out,
        b.excluded_mask,
        b.preference_mask,
        b.donate_dividend,
        b.sensitive_yes_mask,
    )


def delegate(session: Session, actor: Actor, principal_id: int, purposes: int, at: datetime) -> ChoiceVersion | None:
    """After a proxy is appointed (at ``at``): preferences still on ``mandate`` for its
    purposes become ``proxy``, so the appointment takes effect. Own allow/deny stay as they are."""
    prev = current(session, principal_id)
    assert prev is not None
    new = _successor(actor, prev, at)
    for p in Purpose:
        if purposes >> position(p) & 1:
            for u in UserType:
                if encoding.get(new.preference_mask, p, u) is Preference.mandate:
                    new.preference_mask = encoding.put(new.preference_mask, p, u, Preference.proxy)
    return None if _same_choices(prev, new) else _append(session, prev, new, "choices.changed")
