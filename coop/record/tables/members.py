"""The tables with a row per member: members, their choice versions, invitations, login
accounts and API keys (proxy appointments and carers: :mod:`coop.record.tables.proxies`)."""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import Connection

from coop.choices import encoding
from coop.record.rows import Table
from coop.record.tables.common import (
    Groups,
    Keyed,
    Rows,
    implied,
    int_sql,
    iso_sql,
    json_bool,
    json_int,
    pad6_sql,
    rule,
    time_sql,
)
from coop.vocabulary.terms import Category, from_mask
from ledger import canonical
from ledger.verify import Report, stream


class Members(Table):
    """A member's row: admitted, left, and (a former member) the request to erase and each
    erasure (:mod:`coop.members.erasure`), in that order. The erased values themselves are
    personal data (:data:`coop.record.verification.NOT_PROVEN`)."""

    name = "member"
    types = ("member.admitted", "member.left", "member.erasure-requested", "member.erased")
    at_once = True
    free = ("actor",)
    proves = (
        "id",
        "language",
        "status",
        "admitted_at",
        "left_at",
        "erasure_requested_at",
        "contact_erased_at",
        "name_erased_at",
    )

    def rows(self, conn: Connection, report: Report, ordered: bool = True) -> Rows:
        rule(
            conn,
            report,
            self.name,
            "SELECT 'id=' || id, status FROM member WHERE NOT ((status = 'active' AND left_at IS NULL) "
            "OR (status = 'left' AND left_at IS NOT NULL))",
            "status {} and left_at do not agree",
        )
        rule(
            conn,
            report,
            self.name,
            "SELECT 'id=' || id, status FROM member WHERE left_at IS NULL AND (erasure_requested_at IS NOT NULL "
            "OR contact_erased_at IS NOT NULL OR name_erased_at IS NOT NULL)",
            "a member ({}) who did not leave has an erasure",
        )
        number = pad6_sql(conn, "id")
        sql = (
            f"SELECT id, 'member:' || id, {time_sql(conn, 'admitted_at')}, "  # noqa: S608
            f"""'{{"language":"' || language || '","number":"M-' || {number} || '"}}', {time_sql(conn, "left_at")}, """
            f"{time_sql(conn, 'erasure_requested_at')}, {time_sql(conn, 'contact_erased_at')}, "
            f"{time_sql(conn, 'name_erased_at')} "
            "FROM member" + (" ORDER BY id" if ordered else "")
        )
        for batch in stream(conn, sql, "reconcile_member"):
            admitted = [
                (key, None, "member.admitted", subject, at, None, payload) for key, subject, at, payload, *_ in batch
            ]
            if any(row[4] is not None for row in batch):
                yield [
                    event
                    for row, first in zip(batch, admitted, strict=True)
                    for event in ([first] if row[4] is None else [first, *_after_leaving(row)])
                ]
            else:
                yield admitted


_CONTACT_ERASED = canonical.dumps({"fields": ["email", "email-changes", "login", "mail"]})
_NAME_ERASED = canonical.dumps({"fields": ["name"]})


def _after_leaving(row: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """The events of a member's row from their leaving on (``coop.members.erasure``'s order)."""
    key, subject, _, _, left, requested, contact, name = row
    events = [(key, None, "member.left", subject, left, None, "{}")]
    if requested is not None:
        events.append((key, None, "member.erasure-requested", subject, requested, None, "{}"))
    if contact is not None:
        events.append((key, None, "member.erased", subject, contact, None, _CONTACT_ERASED))
    if name is not None:
        events.append((key, None, "member.erased", subject, name, None, _NAME_ERASED))
    return events


class ChoiceVersions(Table):
    name = "choice_version"
    types = ("choices.started", "choices.changed", "choices.membership-ended")
    at_once = True
    proves = (
        "member_id",
        "version",
        "valid_from",
        "valid_to",
        "is_member",
        "opt_out",
        "excluded_mask",
        "preference_mask",
        "donate_dividend",
        "sensitive_yes_mask",
        "recorded_by",
        "acting_proxy_id",
        "acting_carer_id",
    )
    left_out_when_empty = frozenset({"sensitive_yes"})
    new_fields = frozenset({"acting_carer_id"})

    def label(self, key: int) -> str:
        return f"member_id={key}"

    def rows(self, conn: Connection, report: Report, ordered: bool = True) -> Rows:
        # a version ends when the next begins, and versions count from 1 without gaps (one pass)
        sql = (
            "SELECT 'member_id=' || member_id || ' version=' || version, version, before, valid_to, next_from "
            "FROM (SELECT member_id, version, valid_to, LAG(version, 1, 0) OVER w AS before, "
            "LEAD(valid_from) OVER w AS next_from FROM choice_version "
            "WINDOW w AS (PARTITION BY member_id ORDER BY version)) v "
            "WHERE version <> before + 1 OR (next_from IS NULL AND valid_to IS NOT NULL) "
            "OR (next_from IS NOT NULL AND (valid_to IS NULL OR valid_to <> next_from))"
        )
        for batch in stream(conn, sql, "reconcile_rule"):
            for row, version, before, valid_to, next_from in batch:
                if version != before + 1:
                    report.disagree(self.name, row, None, f"version {version - 1} is missing before it")
                if (next_from is None) != (valid_to is None) or (next_from is not None and valid_to != next_from):
                    report.disagree(self.name, row, None, f"valid_to {valid_to} is not when the next version began")
        sql = (
            f"SELECT member_id, version, {time_sql(conn, 'valid_from')}, recorded_by, "  # noqa: S608
            "acting_proxy_id, acting_carer_id, "
            "donate_dividend, excluded_mask, is_member, opt_out, preference_mask, sensitive_yes_mask "
            "FROM choice_version" + (" ORDER BY member_id, version" if ordered else "")
        )
        payloads, build = self._payloads, self._payload
        for batch in stream(conn, sql, "reconcile_choices"):
            events = []
            for member, version, time, actor, proxy, carer, donate, excluded, is_member, opt_out, prefs, yes in batch:
                said = (version, proxy, carer, bool(donate), excluded, bool(is_member), bool(opt_out), prefs, yes)
                typ = "choices.started" if version == 1 else "choices.changed" if is_member else _ENDED
                row = f"member_id={member} version={version}" if ordered else None  # the walk names rows
                events.append((member, row, typ, f"member:{member}", time, actor, payloads.get(said) or build(said)))
            yield events

    def _payload(self, said: tuple[Any, ...]) -> str:
        """A choices event's payload, as coop.choices.service records it (kept for the next):
        ``sensitive_yes`` only when the member gave one."""
        version, proxy, carer, donate, excluded, is_member, opt_out, preferences, yes = said
        e, y = self._categories(excluded), f',"sensitive_yes":{self._categories(yes)}' if yes else ""
        payload = (
            f'{{"acting_carer_id":{json_int(carer)},"acting_proxy_id":{json_int(proxy)},'
            f'"donate_dividend":{json_bool(donate)},"excluded_categories":{e},'
            f'"is_member":{json_bool(is_member)},"opt_out":{json_bool(opt_out)},"preferences":{_preferences(preferences)}'
            f'{y},"version":{version}}}'
        )
        if len(self._payloads) >= PAYLOADS_KEPT:  # start over: unbounded, it would keep one a version
            self._payloads.clear()
        self._payloads[said] = payload
        return payload

    def _categories(self, categories: int) -> str:
        """A mask of categories as the canonical JSON list of their codes (kept for the next)."""
        out = self._masks.get(categories)
        if out is None:
            out = self._masks[categories] = canonical.dumps([c.value for c in from_mask(Category, categories)])
        return out

    def __init__(self) -> None:
        self._masks: dict[int, str] = {}
        self._payloads: dict[tuple[Any, ...], str] = {}


_ENDED = "choices.membership-ended"
PAYLOADS_KEPT = 100_000
"""Distinct choices events' payloads kept for the next row alike (about 60 MiB): members share
a few common sets of choices, and the memory must not grow with the log."""


_PAIRS = [
    [""] + [canonical.dumps([p.value, u.value, encoding.BY_CODE[code].value]) for code in (1, 2, 3)]
    for p, u in encoding.PAIRS
]


def _listed(first: int, bits: int) -> str:
    """The pairs from ``first`` that 8 bits of a mask list, each followed by a comma."""
    codes = [(bits >> 2 * i) & 3 for i in range(min(4, len(_PAIRS) - first))]
    return "".join(_PAIRS[first + i][code] + "," for i, code in enumerate(codes) if code)


_BYTES = [([_listed(first, bits) for bits in range(256)], 2 * first) for first in range(0, len(_PAIRS), 4)]
"""For each 8 bits of a mask (four pairs) and their shift: the listed pairs, for every value."""


def _preferences(preference_mask: int) -> str:
    """``encoding.explicit`` as the canonical JSON of a choices event, one pair per 2 bits,
    looked up four pairs at a time."""
    if preference_mask >> (2 * len(_PAIRS)):  # bits beyond the pairs (or a negative mask)
        return "[mask out of range]"
    listed = "".join([table[(preference_mask >> shift) & 255] for table, shift in _BYTES])
    return "[" + listed[:-1] + "]"


class Invitations(Table):
    name = "member_invitation"
    types = ("member.invited",)
    at_once = True
    free = ("actor",)
    proves = ("id", "member_id", "created_at", "expires_at", "used_at", "withdrawn_at")
    new_fields = frozenset({"invitation_id"})

    def label(self, key: int) -> str:
        return f"member_id={key}"

    def rows(self, conn: Connection, report: Report, ordered: bool = True) -> Rows:
        # an invitation is withdrawn when the member's next one is issued, or (the newest)
        # when the member leaves, and only then (the members who left are few: only they are
        # joined); it is used when the member's login is made
        # (which the login's event proves)
        rule(
            conn,
            report,
            self.name,
            "SELECT 'id=' || i.id, i.withdrawn_at FROM (SELECT id, member_id, withdrawn_at, "
            "LEAD(created_at) OVER (PARTITION BY member_id ORDER BY id) AS next_issued FROM member_invitation) i "
            "LEFT JOIN (SELECT id, left_at FROM member WHERE left_at IS NOT NULL) m ON m.id = i.member_id "
            "WHERE (next_issued IS NULL AND withdrawn_at IS NOT NULL "
            "AND (m.left_at IS NULL OR withdrawn_at <> m.left_at)) "
            "OR (next_issued IS NOT NULL AND (withdrawn_at IS NULL OR withdrawn_at <> next_issued))",
            "withdrawn_at {} is neither when the member's next invitation was issued nor when they left",
        )
        rule(
            conn,
            report,
            self.name,
            "SELECT 'id=' || i.id, i.used_at FROM member_invitation i LEFT JOIN user_account u "
            "ON u.member_id = i.member_id WHERE i.used_at IS NOT NULL AND u.id IS NULL",
            "used_at {}, but the member has no login",
        )
        # the events as they are, built by the database: each row is only fetched and hashed
        row = "'id=' || id" if ordered else "NULL"  # only the walk names rows
        sql = (
            f"SELECT member_id, {row}, 'member.invited', 'member:' || member_id, "  # noqa: S608
            f"""{time_sql(conn, "created_at")}, NULL, '{{"expires_at":"' || {iso_sql(conn, "expires_at")} """
            """|| '","invitation_id":' || id || '}' """
            "FROM member_invitation" + (" ORDER BY member_id, id" if ordered else "")
        )
        yield from stream(conn, sql, "reconcile_invitations")


class UserAccounts(Table):
    name = "user_account"
    types = ("account.created", "account.disabled")
    at_once = True
    free = ("actor",)
    proves = ("id", "role", "member_id", "carer_id", "created_at", "disabled_at")
    parts: ClassVar[dict[str, str]] = {"invitation_id": "member_invitation"}
    new_fields = frozenset({"invitation_id", "carer_id"})

    def rows(self, conn: Connection, report: Report, ordered: bool = True) -> Rows:
        used = (
            "(SELECT member_id, min(id) AS first, min(used_at) AS used_at, count(*) AS used FROM member_invitation "
            "WHERE used_at IS NOT NULL GROUP BY member_id) i"
        )
        # the login's event names the invitation it used, whose used_at is the login's creation;
        # a used_at at another time makes the invitation differ from what the event says
        invitation = (
            "CASE WHEN i.first IS NULL THEN 'null' WHEN i.used_at = u.created_at THEN CAST(i.first AS TEXT) "
            f"""ELSE '"invitation ' || i.first || ' used at ' || {time_sql(conn, "i.used_at")} || '"' END"""
        )
        rule(
            conn,
            report,
            self.name,
            f"SELECT 'id=' || u.id, i.used FROM user_account u JOIN {used} ON i.member_id = u.member_id "  # noqa: S608
            "WHERE i.used > 1",
            "{} of the member's invitations count as used",
        )
        created = (
            f"SELECT u.id AS id, 0 AS step, NULL AS row_name, 'account.created' AS type, 'user:' || u.id AS subject, "  # noqa: S608
            f"{time_sql(conn, 'u.created_at')} AS at, NULL AS actor, "
            f"""'{{"carer_id":' || {int_sql(conn, "u.carer_id")} || ',"invitation_id":' || {invitation} """
            """|| ',"member_id":' || """
            f"""{int_sql(conn, "u.member_id")} || ',"role":"' || u.role || '"}}' AS payload """
            f"FROM user_account u LEFT JOIN {used} ON i.member_id = u.member_id"
        )
        # a removed login (a board user) is disabled once, after it was made
        disabled = (
            "SELECT id, 1, NULL, 'account.disabled', 'user:' || id, "  # noqa: S608
            f"{time_sql(conn, 'disabled_at')}, NULL, '{{}}' FROM user_account WHERE disabled_at IS NOT NULL"
        )
        sql = (
            f"SELECT id, row_name, type, subject, at, actor, payload FROM ({created} UNION ALL {disabled}) e"  # noqa: S608
            + (" ORDER BY id, step" if ordered else "")
        )
        yield from stream(conn, sql, "reconcile_accounts")


class ApiKeys(Keyed):
    name = "api_key"
    types = ("api-key.created", "api-key.revoked")
    proves = ("id", "org", "role", "prefix", "created_at", "revoked_at")
    new_fields = frozenset({"org", "prefix"})

    def groups(self, conn: Connection, report: Report) -> Groups:
        sql = (
            f"SELECT id, org, role, prefix, {time_sql(conn, 'created_at')}, {time_sql(conn, 'revoked_at')} "  # noqa: S608
            "FROM api_key ORDER BY id"
        )
        for batch in stream(conn, sql, "reconcile_keys"):
            for key_id, org, role, prefix, created_at, revoked_at in batch:
                row, subject = f"id={key_id}", f"key:{key_id}"
                payload = canonical.dumps({"org": org, "prefix": prefix, "role": role})
                expected = [implied(row, "api-key.created", subject, created_at, None, payload)]
                if revoked_at is not None:
                    expected.append(implied(row, "api-key.revoked", subject, revoked_at, None, "{}"))
                yield key_id, expected
