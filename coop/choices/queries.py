"""Members' choices: versions written once, read as of any time.

The member and the board read every version in full. A proxy reads only what their
appointments valid now cover (:class:`Access`): the preferences for those purposes, from
the version in force when the appointment began onward. Opting out and excluded kinds of
data are shown too, since they decide those purposes before any preference does (rules 3
and 4), and so is the member's own yes to sensitive kinds of data, since it decides what
following the mandate means for them (rule 7) whoever follows it; whether the member
donates their dividend is not, and neither is who made a change unless it was the proxy.
Versions that differ only in what the proxy does not see are shown as one."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Row, or_, select
from sqlmodel import Session, col

from coop.auth.policy import Actor, can_read_choices
from coop.carers.models import Carer
from coop.choices import encoding
from coop.choices.models import ChoiceVersion
from coop.errors import NotFound
from coop.members.models import Member
from coop.proxies import queries as proxy_queries
from coop.vocabulary.terms import ALL_PURPOSES, Purpose, position


@dataclass(frozen=True, slots=True)
class Access:
    """What a reader may see of a member's choices: everything (the member, the board), or
    for a proxy the purposes and times of each of their appointments valid now."""

    windows: tuple[tuple[datetime, int], ...] = ()
    """A proxy's appointments: (accepted at, purposes mask). Empty: everything."""
    viewer: int | None = None
    """The proxy's member id."""
    viewer_carer: int | None = None
    """The proxy's carer id, when the proxy is a carer."""

    @property
    def full(self) -> bool:
        return not self.windows

    @property
    def scope(self) -> int:
        """The purposes a proxy decides (0 for the member and the board: they are not proxies)."""
        out = 0
        for _, purposes in self.windows:
            out |= purposes
        return out

    def purposes_for(self, valid_to: datetime | None) -> int:
        """The purposes whose preferences are visible in a version that ended at ``valid_to``
        (None: still in force): those of the appointments that had begun by then."""
        if self.full:
            return ALL_PURPOSES
        out = 0
        for start, purposes in self.windows:
            if valid_to is None or valid_to > start:
                out |= purposes
        return out

    def start_for(self, valid_to: datetime | None) -> datetime | None:
        """Since when a proxy sees a version (None: since it began)."""
        starts = [start for start, _ in self.windows if valid_to is None or valid_to > start]
        return min(starts) if starts else None

    def covers(self, purpose: Purpose | None, at: datetime) -> bool:
        """Whether a question about ``purpose`` (None: no purpose of the member's choices, such
        as a prohibited use) at ``at`` lies within what this reader may see."""
        if self.full:
            return True
        return any(
            at >= start and (purpose is None or purposes >> position(purpose) & 1) for start, purposes in self.windows
        )


@dataclass(frozen=True, slots=True)
class Seen:
    """A version of a member's choices as a reader sees it (see :class:`Access`)."""

    member_id: int
    version: int
    valid_from: datetime
    valid_to: datetime | None
    is_member: bool
    opt_out: bool
    excluded_mask: int
    preference_mask: int
    """Only the visible purposes' pairs; the others read as 0 (``mandate``)."""
    donate_dividend: bool | None
    recorded_by: str | None
    acting_proxy_id: int | None
    acting_carer_id: int | None = None
    """The carer (not a member) who made this version for the member, if any."""
    purposes: int = ALL_PURPOSES
    """The purposes whose preferences are shown."""
    sensitive_yes_mask: int = 0
    """The sensitive categories the member gave their own yes for (one bit each)."""


def _pairs_mask(purposes: int) -> int:
    """The bits of ``preference_mask`` that belong to ``purposes``."""
    out = 0
    for p, u in encoding.PAIRS:
        if purposes >> position(p) & 1:
            out |= 3 << encoding.shift(p, u)
    return out


def _seen(v: ChoiceVersion, access: Access) -> Seen:
    whole = Seen(
        member_id=v.member_id,
        version=v.version,
        valid_from=v.valid_from,
        valid_to=v.valid_to,
        is_member=v.is_member,
        opt_out=v.opt_out,
        excluded_mask=v.excluded_mask,
        preference_mask=v.preference_mask,
        donate_dividend=v.donate_dividend,
        recorded_by=v.recorded_by,
        acting_proxy_id=v.acting_proxy_id,
        acting_carer_id=v.acting_carer_id,
        sensitive_yes_mask=v.sensitive_yes_mask,
    )
    if access.full:
        return whole
    purposes = access.purposes_for(v.valid_to)
    start = access.start_for(v.valid_to)
    by_viewer = (v.acting_proxy_id is not None and v.acting_proxy_id == access.viewer) or (
        v.acting_carer_id is not None and v.acting_carer_id == access.viewer_carer
    )
    return replace(
        whole,
        valid_from=max(v.valid_from, start) if start else v.valid_from,
        preference_mask=v.preference_mask & _pairs_mask(purposes),
        donate_dividend=None,
        recorded_by=v.recorded_by if by_viewer else None,
        acting_proxy_id=v.acting_proxy_id if by_viewer else None,
        acting_carer_id=v.acting_carer_id if by_viewer else None,
        purposes=purposes,
    )


def _same_view(a: Seen, b: Seen) -> bool:
    return (a.is_member, a.opt_out, a.excluded_mask, a.preference_mask, a.purposes, a.sensitive_yes_mask) == (
        b.is_member,
        b.opt_out,
        b.excluded_mask,
        b.preference_mask,
        b.purposes,
        b.sensitive_yes_mask,
    )


def _join(earlier: Seen, later: Seen) -> Seen:
    """Two consecutive versions a proxy cannot tell apart, as one: since the earlier began
    and made by whoever made it, under the later's number (the one If-Match must name)."""
    return replace(
        later,
        valid_from=earlier.valid_from,
        recorded_by=earlier.recorded_by,
        acting_proxy_id=earlier.acting_proxy_id,
        acting_carer_id=earlier.acting_carer_id,
    )


def etag(version: ChoiceVersion | Seen | Row[*tuple[Any, ...]]) -> str:
    return f'"{version.member_id}.{version.version}"'


def current(session: Session, member_id: int) -> ChoiceVersion | None:
    """The open version. Writers take turns (the writers' lock, see :mod:`coop.db`), so
    each sees the version the previous one left open."""
    stmt = select(ChoiceVersion).where(col(ChoiceVersion.member_id) == member_id, col(ChoiceVersion.valid_to).is_(None))
    return session.execute(stmt).scalar_one_or_none()


def as_of(session: Session, member_id: int, at: datetime) -> ChoiceVersion | None:
    """The version in force at ``at``; None before admission."""
    return session.execute(
        select(ChoiceVersion)
        .where(
            col(ChoiceVersion.member_id) == member_id,
            col(ChoiceVersion.valid_from) <= at,
        )
        .order_by(col(ChoiceVersion.valid_from).desc(), col(ChoiceVersion.version).desc())
        .limit(1)
    ).scalar_one_or_none()


def access(session: Session, actor: Actor, member_id: int, now: datetime, known: bool = False) -> Access:
    """What the actor may see of the member's choices at ``now``; NotFound when nothing
    (``known``: the caller holds the member's rows, so the member is not looked up again)."""
    proxy = (actor.member_id or actor.carer_id) and actor.member_id != member_id  # nobody is their own proxy
    held = proxy_queries.held_at(session, member_id, actor.member_id, now, actor.carer_id) if proxy else []
    windows = tuple((a.accepted_at or a.valid_from, a.purposes_mask) for a in held)  # held: accepted
    scope = Access(windows).scope
    if not can_read_choices(actor, member_id, scope) or (not known and session.get(Member, member_id) is None):
        raise NotFound(f"no member {member_id}", code="member-not-found")
    if actor.member_id == member_id or not windows:
        return Access()
    return Access(windows, actor.member_id, actor.carer_id)


def read(
    session: Session, actor: Actor, member_id: int, now: datetime, open_version: ChoiceVersion | None = None
) -> Seen:
    """The choices in force, as the actor may see them at ``now`` (``open_version``: the
    member's open version when the caller holds it, as after a change, so as not to read it again)."""
    seen = access(session, actor, member_id, now, known=open_version is not None)
    if seen.full:
        version = open_version or current(session, member_id)
        assert version is not None
        return _seen(version, seen)
    return _history(session, seen, member_id)[-1]


def history(session: Session, actor: Actor, member_id: int, now: datetime) -> list[Seen]:
    """Every version, oldest first, as the actor may see them: for a proxy, from the
    version in force when their appointment began, joining versions they cannot tell apart."""
    return _history(session, access(session, actor, member_id, now), member_id)


def _history(session: Session, seen: Access, member_id: int) -> list[Seen]:
    stmt = select(ChoiceVersion).where(col(ChoiceVersion.member_id) == member_id)
    if not seen.full:
        first = min(start for start, _ in seen.windows)
        stmt = stmt.where(or_(col(ChoiceVersion.valid_to).is_(None), col(ChoiceVersion.valid_to) > first))
    out: list[Seen] = []
    for v in session.execute(stmt.order_by(col(ChoiceVersion.version))).scalars():
        shown = _seen(v, seen)
        if out and not seen.full and _same_view(out[-1], shown):
            out[-1] = _join(out[-1], shown)
        else:
            out.append(shown)
    return out


def carer_names(session: Session, versions: list[Seen]) -> dict[int, str]:
    """The names of the carers who made any of ``versions``, for the member who appointed
    them (and nobody else: a proxy's view of the versions names no one but themselves)."""
    ids = {v.acting_carer_id for v in versions if v.acting_carer_id is not None}
    if not ids:
        return {}
    rows = session.execute(select(col(Carer.id), col(Carer.name)).where(col(Carer.id).in_(ids))).all()
    return {i: name for i, name in rows}
