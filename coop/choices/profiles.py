"""Members counted per choice profile, kept up to date in the transaction of every change of
a member's choices or proxies, so that a consultation at *now* reads a few thousand profiles
instead of every member's version (:mod:`coop.decisions.profiled`).

Three derived tables, outside the record and recounted by ``coop ledger verify``
(:mod:`coop.choices.recount`): ``choice_member_profile`` (each member's state as counted),
``choice_profile`` (members per profile, per user type) and ``choice_profile_watermark``.

A member's state is counted as of ``counted_at``, no earlier than any moment in the member's
own rows (the open version's start, the acceptances and revocations of their appointments):
the state of their newest rows, which holds until their next change or until a proxy's
appointment ends (``expires_at``). Appointments end by time, without a write, so members
whose state expired are counted again before their counts are used (:func:`refresh_expired`).

Every write of versions or appointments through the ORM is counted when it is flushed (a
session hook, :func:`_count_flushed`); writes around the ORM call :func:`count_written` (a
change of choices, counted when its transaction ends, once for a whole group commit),
:func:`refresh` (admission) or :func:`coop.choices.recount.rebuild` (rows loaded straight
into the tables).
"""

from __future__ import annotations

import functools
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, event, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, UOWTransaction
from sqlmodel import col

from coop import deferred
from coop.choices import encoding
from coop.choices.models import ChoiceProfile, ChoiceVersion, MemberProfile, ProfileWatermark
from coop.proxies.models import ProxyAppointment
from coop.types import UTCDateTime
from coop.vocabulary.terms import Purpose, UserType, position
from ledger import bulk

ProfileKey = tuple[str, bool, bool, int, int, int, str]
"""user type, is member, opted out, excluded categories, codes, sensitive yes, proxies."""

CHUNK = 500


@dataclass(frozen=True, slots=True)
class State:
    """What a member's counts depend on."""

    is_member: bool
    opt_out: bool
    excluded_mask: int
    preference_mask: int
    sensitive_yes_mask: int
    proxies: str


def proxies_key(appointments: Iterable[tuple[int, int]]) -> str:
    """Per purpose, in the vocabulary's order, the proxy of the appointments in force
    (``(proxy_member_id, purposes_mask)``) that covers it: ``"research=12;innovation=12;"``.
    Appointments never overlap (the service refuses it); were they to, the highest id is kept."""
    held = list(appointments)
    if not held:
        return ""
    out = []
    for p in Purpose:
        ids = [proxy for proxy, purposes in held if purposes >> position(p) & 1]
        if ids:
            out.append(f"{p.value}={max(ids)};")
    return "".join(out)


@functools.lru_cache(maxsize=65_536)
def parse_proxies(key: str) -> dict[Purpose, int]:
    """The proxies of a key, by purpose (cached: a few thousand keys are read again and again;
    do not change the dict returned)."""
    return {Purpose(p): int(i) for p, i in (part.split("=") for part in key.split(";") if part)}


_PLACES = tuple(2 * position(p) for p in Purpose)
"""Each purpose's bits in a user type's codes."""
_CODE_PLACES = {u: tuple((encoding.shift(p, u), 2 * position(p)) for p in Purpose) for u in UserType}
"""For each user type, each purpose's bits in a preference mask and in the codes."""
_PROXY = encoding.CODES[encoding.Preference.proxy]


@functools.lru_cache(maxsize=65_536)
def codes_for(preference_mask: int, user_type: UserType) -> int:
    """The 2-bit codes of every purpose for ``user_type``: purpose position ``i`` at bits ``2i``."""
    return sum(((preference_mask >> shift) & 3) << to for shift, to in _CODE_PLACES[user_type])


@functools.lru_cache(maxsize=65_536)
def profile_key(state: State, user_type: UserType) -> ProfileKey:
    """The profile ``state`` counts under for ``user_type``: rules 2 and 3 decide alone, and
    proxies matter only when a code sends a purpose to one (cached: a change counts its member
    twice for each user type, and members share a few thousand states)."""
    if not state.is_member:
        return (user_type.value, False, False, 0, 0, 0, "")
    if state.opt_out:
        return (user_type.value, True, True, 0, 0, 0, "")
    codes = codes_for(state.preference_mask, user_type)
    delegated = any((codes >> to) & 3 == _PROXY for to in _PLACES)
    proxies = state.proxies if delegated else ""
    return (user_type.value, True, False, state.excluded_mask, codes, state.sensitive_yes_mask, proxies)


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    return (ids[i : i + CHUNK] for i in range(0, len(ids), CHUNK))


def refresh(session: Session, member_ids: Iterable[int], at: datetime | None = None) -> None:
    """Count the members again from their rows (as of ``at`` at the earliest). Callers hold
    the writers' lock, as every write does."""
    _refresh(session.connection(), sorted(set(member_ids)), at)


def _refresh(
    conn: Connection,
    ids: Sequence[int],
    at: datetime | None,
    opened: dict[int, ChoiceVersion] | None = None,
    untouched: frozenset[int] = frozenset(),
) -> None:
    """Count ``ids`` again. ``opened``: open versions just written (not read back again);
    ``untouched``: members none of whose appointments were just written."""
    if not ids:
        return
    opened = opened or {}
    delta: Counter[ProfileKey] = Counter()
    rows: list[dict[str, Any]] = []
    for chunk in _chunks(ids):
        table = MemberProfile.__table__  # type: ignore[attr-defined]
        counted = {r.member_id: r for r in conn.execute(select(table).where(_in(table.c.member_id, chunk)))}
        unread = [i for i in chunk if i not in opened]
        versions: dict[int, Any] = dict(opened)
        if unread:
            versions.update((r.member_id, r) for r in conn.execute(_versions(unread)))
        # A member counted without a proxy in force gains one only by a write of an appointment,
        # which would be in this flush; their older appointments' moments are in counted_at.
        asked = [i for i in chunk if not (i in untouched and _without_proxies(counted.get(i)))]
        appointments: dict[int, list[Any]] = defaultdict(list)
        if asked:
            for a in conn.execute(_appointments(asked)):
                appointments[a.principal_id].append(a)
        for member_id in chunk:
            version = versions.get(member_id)
            if version is None:
                continue
            row = _counted(version, appointments[member_id], counted.get(member_id), at)
            old = counted.get(member_id)
            if old is not None:
                if _same(old, row):
                    continue
                delta.subtract(_keys(_state(old)))
            delta.update(_keys(_state(row)))
            rows.append(row)
    _store(conn, rows, delta)


def _without_proxies(counted: Any) -> bool:
    return counted is not None and counted.proxies == "" and counted.expires_at is None


def _in(column: Any, ids: Sequence[int]) -> Any:
    return column.in_(list(ids))


def _versions(ids: Sequence[int]) -> Any:
    v = ChoiceVersion.__table__.c  # type: ignore[attr-defined]
    cols = (v.member_id, v.valid_from, v.is_member, v.opt_out, v.excluded_mask, v.preference_mask, v.sensitive_yes_mask)
    return select(*cols).where(v.valid_to.is_(None), _in(v.member_id, ids))


def _appointments(ids: Sequence[int]) -> Any:
    a = ProxyAppointment.__table__.c  # type: ignore[attr-defined]
    cols = (a.principal_id, a.proxy_member_id, a.purposes_mask, a.accepted_at, a.revoked_at, a.valid_until)
    return select(*cols).where(_in(a.principal_id, ids))


def _counted(version: Any, appointments: list[Any], old: Any, at: datetime | None) -> dict[str, Any]:
    """The member's row as counted: as of the latest of their own rows' moments, ``at`` and
    when they were last counted (a state never goes back in time)."""
    moments = [version.valid_from, *(m for a in appointments for m in (a.accepted_at, a.revoked_at) if m is not None)]
    if at is not None:
        moments.append(at)
    if old is not None:
        moments.append(old.counted_at)
    counted_at = max(moments)
    in_force = [
        a
        for a in appointments
        if a.proxy_member_id is not None  # a carer changes the member's own choices: no choice to follow
        and a.accepted_at is not None
        and a.revoked_at is None
        and (a.valid_until is None or a.valid_until > counted_at)
    ]
    return {
        "member_id": version.member_id,
        "is_member": version.is_member,
        "opt_out": version.opt_out,
        "excluded_mask": version.excluded_mask,
        "preference_mask": version.preference_mask,
        "sensitive_yes_mask": version.sensitive_yes_mask,
        "proxies": proxies_key((a.proxy_member_id, a.purposes_mask) for a in in_force),
        "counted_at": counted_at,
        "expires_at": min((a.valid_until for a in in_force if a.valid_until is not None), default=None),
    }


def _state(row: Any) -> State:
    get = row.get if isinstance(row, dict) else row._mapping.get
    values: list[Any] = [get(name) for name in State.__slots__]
    return State(*values)


_USER_TYPES = tuple(UserType)
_COUNTED = (*State.__slots__, "counted_at", "expires_at")


@functools.lru_cache(maxsize=65_536)
def _keys(state: State) -> tuple[ProfileKey, ...]:
    """The profiles a state counts under, one for each user type (cached as :func:`profile_key`)."""
    return tuple(profile_key(state, u) for u in _USER_TYPES)


def _same(old: Any, row: dict[str, Any]) -> bool:
    """Whether a member's row as counted before (read) is the row counted now."""
    return all(getattr(old, name) == row[name] for name in _COUNTED)


KEY_COLUMNS = ("user_type", "is_member", "opt_out", "excluded_mask", "codes", "sensitive_yes_mask", "proxies")


@dataclass(frozen=True)
class _Statements:
    """The watermark's writes, built once per dialect (building an upsert costs about a
    millisecond, more than running it; the counts' are built once in :mod:`ledger.bulk`)."""

    watermark: Any
    watermark_ids: Any


@functools.cache
def _statements(dialect: str) -> _Statements:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = ProfileWatermark.__table__  # type: ignore[attr-defined]
    version_id, appointment_id = (
        select(func.coalesce(func.max(t.__table__.c.id), 0)).scalar_subquery()  # type: ignore[union-attr]
        for t in (ChoiceVersion, ProxyAppointment)
    )
    mark = insert(table).values(
        id=1,
        counted_to=bindparam("counted_to", type_=UTCDateTime()),
        last_version_id=version_id,
        last_appointment_id=appointment_id,
    )
    later = func.greatest if dialect == "postgresql" else func.max  # SQLite: max(a, b) of the two
    watermark = mark.on_conflict_do_update(
        index_elements=["id"],
        set_={
            "counted_to": later(table.c.counted_to, mark.excluded.counted_to),
            "last_version_id": mark.excluded.last_version_id,
            "last_appointment_id": mark.excluded.last_appointment_id,
        },
    )
    ids = table.update().where(table.c.id == 1).values(last_version_id=version_id, last_appointment_id=appointment_id)
    return _Statements(watermark, ids)


def _store(conn: Connection, rows: list[dict[str, Any]], delta: Counter[ProfileKey]) -> None:
    statements = _statements(conn.dialect.name)
    if not rows:  # nothing counted changed (an appointment not yet accepted): the rows are seen all the same
        conn.execute(statements.watermark_ids)  # the watermark, if any, moves to the newest rows' ids
        return
    bulk.upsert_all(conn, MemberProfile.__table__, rows, key=("member_id",))  # type: ignore[attr-defined]
    changed = [dict(zip(KEY_COLUMNS, key, strict=True)) | {"members": n} for key, n in sorted(delta.items()) if n]
    bulk.upsert_all(conn, ChoiceProfile.__table__, changed, key=KEY_COLUMNS, add=("members",))  # type: ignore[attr-defined]
    # The watermark moves to the newest counted_at (never back) and to the newest rows' ids.
    conn.execute(statements.watermark, {"counted_to": max(r["counted_at"] for r in rows)})


def _watermark(conn: Connection) -> Any:
    table = ProfileWatermark.__table__  # type: ignore[attr-defined]
    return conn.execute(select(table).where(table.c.id == 1)).first()


def _newest_ids(conn: Connection) -> tuple[int, int]:
    """The highest ids of the versions and the appointments (index lookups)."""
    newest = (select(func.coalesce(func.max(t.__table__.c.id), 0)) for t in (ChoiceVersion, ProxyAppointment))  # type: ignore[union-attr]
    version_id, appointment_id = (int(conn.execute(q).scalar_one()) for q in newest)
    return version_id, appointment_id


def usable_at(conn: Connection, at: datetime) -> bool:
    """Whether the counts are the members' states at ``at``: everything counted is no newer
    than ``at``, no row was added around the counting, and no counted state expired by ``at``."""
    mark = _watermark(conn)
    if mark is None or at < mark.counted_to:
        return False
    if _newest_ids(conn) != (mark.last_version_id, mark.last_appointment_id):
        return False
    return not expired(conn, at, limit=1)


def codes_counted(conn: Connection, at: datetime) -> tuple[int, dict[str, dict[int, int]]] | None:
    """How many members had opted out at ``at`` and, per user type, how many of the others
    hold each set of codes (``codes``: purpose position ``i`` at bits ``2i``), read from the
    profiles: a few thousand rows, not one per member (None: the counts are not the members'
    states at ``at``, see :func:`usable_at`). Members who left are not counted."""
    if not usable_at(conn, at):
        return None
    p = ChoiceProfile.__table__.c  # type: ignore[attr-defined]
    rows = conn.execute(
        select(p.user_type, p.opt_out, p.codes, func.sum(p.members))
        .where(p.is_member, p.members != 0)
        .group_by(p.user_type, p.opt_out, p.codes)
    )
    opted_out = 0
    held: dict[str, dict[int, int]] = {u.value: {} for u in UserType}
    for user_type, out, codes, members in rows:
        if out:
            opted_out += int(members) if user_type == UserType.public.value else 0  # once per user type
        else:
            held[user_type][int(codes)] = int(members)
    return opted_out, held


def expired(conn: Connection, at: datetime, limit: int | None = None) -> list[int]:
    """The members whose counted state ended by ``at`` (a proxy's appointment ran out)."""
    q = select(col(MemberProfile.member_id)).where(col(MemberProfile.expires_at) <= at)  # by its index, unsorted
    return sorted(conn.execute(q.limit(limit) if limit else q).scalars())


def refresh_expired(session: Session, at: datetime) -> int:
    """Count again, as of ``at``, the members whose state ended by then; how many."""
    ids = expired(session.connection(), at)
    refresh(session, ids, at)
    return len(ids)


@event.listens_for(Session, "after_flush")
def _count_flushed(session: Session, _flush: UOWTransaction) -> None:
    """Every version or appointment written through the ORM changes its member's counts in
    the same transaction (the states the session held before the flush name them)."""
    opened = {o.member_id: o for o in session.new if isinstance(o, ChoiceVersion) and _whole_and_open(o)}
    members = {o.member_id for o in session.new if isinstance(o, ChoiceVersion)}
    appointed = {o.principal_id for o in (*session.new, *session.dirty) if isinstance(o, ProxyAppointment)}
    members |= appointed
    if members:
        ids = sorted(members)
        _refresh(session.connection(), ids, None, opened, frozenset(ids) - appointed)


def count_written(session: Session, version: ChoiceVersion) -> None:
    """Count the member of a version just written around the ORM (whole and open), at the end
    of the transaction, once for all the versions of the transaction or of its group commit
    (:mod:`coop.deferred`): four statements for a group instead of four for each change. Until
    then the watermark says the counts are behind, so a consultation in the same transaction
    reads the versions."""
    deferred.later(session, _count_versions, version)


def _count_versions(conn: Connection, versions: list[ChoiceVersion]) -> None:
    """Count the members of versions written around the ORM, each as of their newest (with
    none of their appointments written since: those were counted when flushed)."""
    newest = {v.member_id: v for v in versions}
    _refresh(conn, sorted(newest), None, newest, frozenset(newest))


_VERSION_FIELDS = ("member_id", "valid_from", "valid_to", *State.__slots__[:-1])


def _whole_and_open(version: ChoiceVersion) -> bool:
    """Whether a version just written is its member's open one and holds every field counted
    (else it is read back)."""
    loaded = vars(version)
    return all(name in loaded for name in _VERSION_FIELDS) and version.valid_to is None
