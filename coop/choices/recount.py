"""The choice profiles (:mod:`coop.choices.profiles`) counted from scratch in SQL, the same
on SQLite and PostgreSQL: to fill them (``rebuild``) and to check them (:func:`check`, part
of ``coop ledger verify``), so that a count that drifted from the versions and appointments
is caught."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text

from coop.choices import encoding
from coop.choices.profiles import KEY_COLUMNS, ProfileKey
from coop.vocabulary.terms import Purpose, UserType, position


def _in_force(a: str, at: str) -> str:
    """Appointment ``a`` in force at ``at``, given that ``at`` is no earlier than its acceptance
    and revocation (see :mod:`coop.choices.profiles`)."""
    return (
        f"{a}.proxy_member_id IS NOT NULL AND {a}.accepted_at IS NOT NULL AND {a}.revoked_at IS NULL "
        f"AND ({a}.valid_until IS NULL OR {a}.valid_until > {at})"
    )


def _proxies(a: str) -> str:
    """:func:`coop.choices.profiles.proxies_key` over a group of appointments."""
    return " || ".join(
        f"coalesce('{p.value}=' || max(CASE WHEN ({a}.purposes_mask & {1 << position(p)}) <> 0 "
        f"THEN {a}.proxy_member_id END) || ';', '')"
        for p in Purpose
    )


def members_sql(dialect: str) -> str:
    """Every member's row, counted as of the latest moment in their own rows."""
    greatest = "GREATEST" if dialect == "postgresql" else "MAX"
    return (
        "WITH touched AS (SELECT a.principal_id AS member_id, "
        f"{greatest}(max(v.valid_from), coalesce(max(a.accepted_at), max(v.valid_from)), "
        "coalesce(max(a.revoked_at), max(v.valid_from))) AS counted "
        "FROM proxy_appointment a JOIN choice_version v ON v.member_id = a.principal_id AND v.valid_to IS NULL "
        "GROUP BY a.principal_id), "
        f"held AS (SELECT t.member_id, {_proxies('a')} AS proxies, min(a.valid_until) AS expires_at "
        f"FROM touched t JOIN proxy_appointment a ON a.principal_id = t.member_id AND {_in_force('a', 't.counted')} "
        "GROUP BY t.member_id) "
        "INSERT INTO choice_member_profile (member_id, is_member, opt_out, excluded_mask, preference_mask, "
        "sensitive_yes_mask, proxies, counted_at, expires_at) "
        "SELECT v.member_id, v.is_member, v.opt_out, v.excluded_mask, v.preference_mask, v.sensitive_yes_mask, "
        "coalesce(h.proxies, ''), coalesce(t.counted, v.valid_from), h.expires_at FROM choice_version v "
        "LEFT JOIN touched t ON t.member_id = v.member_id LEFT JOIN held h ON h.member_id = v.member_id "
        "WHERE v.valid_to IS NULL"
    )


_STATES = ("is_member", "opt_out", "excluded_mask", "preference_mask", "sensitive_yes_mask", "proxies")
"""The columns of a member's row that decide their profiles."""


def profiles_sql() -> str:
    """The profiles of every user type counted from the members' rows
    (:func:`coop.choices.profiles.profile_key` in SQL). The members are read once, grouped by
    the columns that decide their profiles (some thousands of groups); each user type's
    profiles are counted from the groups."""
    states = ", ".join(_STATES)
    return (
        f"WITH states AS MATERIALIZED (SELECT {states}, count(*) AS members "
        f"FROM choice_member_profile GROUP BY {states}) " + " UNION ALL ".join(_profiles(u) for u in UserType)
    )


def _profiles(user_type: UserType) -> str:
    m = "m.preference_mask"
    codes = " + ".join(f"(((({m} >> {encoding.shift(p, user_type)}) & 3)) << {2 * position(p)})" for p in Purpose)
    delegated = " OR ".join(f"(({m} >> {encoding.shift(p, user_type)}) & 3) = 3" for p in Purpose)
    open_ = "(m.is_member AND NOT m.opt_out)"
    columns = ", ".join(KEY_COLUMNS)
    return (
        f"SELECT {columns}, CAST(sum(members) AS BIGINT) FROM (SELECT '{user_type.value}' AS user_type, "
        "m.is_member AS is_member, (m.is_member AND m.opt_out) AS opt_out, "
        f"CASE WHEN {open_} THEN m.excluded_mask ELSE 0 END AS excluded_mask, "
        f"CASE WHEN {open_} THEN {codes} ELSE 0 END AS codes, "
        f"CASE WHEN {open_} THEN m.sensitive_yes_mask ELSE 0 END AS sensitive_yes_mask, "
        f"CASE WHEN {open_} AND ({delegated}) THEN m.proxies ELSE '' END AS proxies, m.members "
        f"FROM states m) k GROUP BY {columns}"
    )


def rebuild(conn: Connection) -> int:
    """Count every member again from the versions and appointments (after rows were loaded
    straight into the tables, or to repair drift that ``coop ledger verify`` found); how many."""
    for table in ("choice_profile", "choice_member_profile", "choice_profile_watermark"):
        conn.execute(text(f"DELETE FROM {table}"))
    conn.execute(text(members_sql(conn.dialect.name)))
    conn.execute(text(f"INSERT INTO choice_profile ({', '.join(KEY_COLUMNS)}, members) {profiles_sql()}"))
    conn.execute(
        text(
            "INSERT INTO choice_profile_watermark (id, counted_to, last_version_id, last_appointment_id) "
            "SELECT 1, max(counted_at), (SELECT coalesce(max(id), 0) FROM choice_version), "
            "(SELECT coalesce(max(id), 0) FROM proxy_appointment) FROM choice_member_profile HAVING count(*) > 0"
        )
    )
    counted: int = conn.execute(text("SELECT count(*) FROM choice_member_profile")).scalar_one()
    return counted


def _members_disagreeing() -> str:
    return (
        "WITH touched AS (SELECT principal_id AS member_id, max(accepted_at) AS accepted, max(revoked_at) AS revoked "
        "FROM proxy_appointment GROUP BY principal_id), "
        f"held AS (SELECT m.member_id, {_proxies('a')} AS proxies, min(a.valid_until) AS expires_at "
        "FROM choice_member_profile m JOIN proxy_appointment a ON a.principal_id = m.member_id "
        f"AND {_in_force('a', 'm.counted_at')} GROUP BY m.member_id) "
        "SELECT count(*), count(m.member_id), coalesce(sum(CASE WHEN "
        "v.is_member <> m.is_member OR v.opt_out <> m.opt_out OR v.excluded_mask <> m.excluded_mask "
        "OR v.preference_mask <> m.preference_mask OR v.sensitive_yes_mask <> m.sensitive_yes_mask "
        "OR m.proxies <> coalesce(h.proxies, '') OR m.counted_at < v.valid_from OR m.counted_at < t.accepted "
        "OR m.counted_at < t.revoked OR (m.expires_at IS NULL) <> (h.expires_at IS NULL) "
        "OR m.expires_at <> h.expires_at THEN 1 ELSE 0 END), 0) "
        "FROM choice_version v LEFT JOIN choice_member_profile m ON m.member_id = v.member_id "
        "LEFT JOIN touched t ON t.member_id = v.member_id LEFT JOIN held h ON h.member_id = v.member_id "
        "WHERE v.valid_to IS NULL"
    )


def check(conn: Connection) -> list[str]:
    """What disagrees between the profiles and the versions and appointments (nothing: [])."""
    problems = []
    members, counted, disagreeing = conn.execute(text(_members_disagreeing())).one()
    rows = conn.execute(text("SELECT count(*) FROM choice_member_profile")).scalar_one()
    if counted != members or rows != members:
        problems.append(f"choice profiles: {members} members have choices, {rows} are counted")
    if disagreeing:
        problems.append(f"choice profiles: {disagreeing} members are counted with other choices or proxies")
    expected = {_key(row): row[-1] for row in conn.execute(text(profiles_sql()))}
    stored = f"SELECT {', '.join(KEY_COLUMNS)}, members FROM choice_profile WHERE members <> 0"
    found = {_key(row): row[-1] for row in conn.execute(text(stored))}
    wrong = sum(1 for key in expected.keys() | found.keys() if expected.get(key) != found.get(key))
    if wrong:
        problems.append(f"choice profiles: {wrong} profiles have a count that differs from their members")
    mark = conn.execute(
        text(
            "SELECT (SELECT coalesce(max(id), 0) FROM choice_version) = last_version_id "
            "AND (SELECT coalesce(max(id), 0) FROM proxy_appointment) = last_appointment_id "
            "AND counted_to >= (SELECT max(counted_at) FROM choice_member_profile) FROM choice_profile_watermark"
        )
    ).all()
    if members and (len(mark) != 1 or not mark[0][0]):
        problems.append("choice profiles: rows were added without counting them (run `coop ledger recount-profiles`)")
    return problems


def _key(row: Any) -> ProfileKey:
    user_type, is_member, opt_out, excluded, codes, yes, proxies = tuple(row)[:7]
    return (str(user_type), bool(is_member), bool(opt_out), int(excluded), int(codes), int(yes), str(proxies))
