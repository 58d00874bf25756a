"""Who may do what: roles map to permissions (data), and small pure policy functions
decide about a particular thing. Routes declare the permission or call a policy; no
handler carries its own role checks."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    member = "member"
    board = "board"
    hdab = "hdab"
    data_holder = "data_holder"
    auditor = "auditor"


USER_ROLES = frozenset({Role.member, Role.board})
"""Roles of people who log in with email and password."""

ORG_ROLES = frozenset({Role.hdab, Role.data_holder, Role.auditor})
"""Roles of organisations, which use API keys."""


class Permission(StrEnum):
    admit_members = "members:admit"
    list_members = "members:list"
    read_any_member = "members:read-any"
    manage_any_member = "members:manage-any"
    read_ledger_events = "ledger:read-events"
    run_votes = "governance:run-votes"
    consult_mandate = "hdab:consult"
    register_permits = "permits:register"
    manage_money = "money:manage"
    read_books = "money:read-books"
    read_all_permits = "permits:read-all"
    read_proposals = "governance:read-proposals"
    annual_reports = "reports:annual"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.member: frozenset({Permission.read_proposals}),
    Role.board: frozenset(
        {
            Permission.admit_members,
            Permission.list_members,
            Permission.read_any_member,
            Permission.manage_any_member,
            Permission.read_ledger_events,
            Permission.run_votes,
            Permission.read_proposals,
            Permission.consult_mandate,
            Permission.register_permits,
            Permission.read_all_permits,
            Permission.manage_money,
            Permission.read_books,
            Permission.annual_reports,
        }
    ),
    Role.hdab: frozenset({Permission.consult_mandate, Permission.register_permits, Permission.read_all_permits}),
    Role.data_holder: frozenset(),
    Role.auditor: frozenset({Permission.read_ledger_events, Permission.read_all_permits, Permission.read_books}),
}


@dataclass(frozen=True, slots=True)
class Actor:
    """Whoever makes a request: a logged-in person or an organisation's key."""

    kind: str  # "user" or "key"
    id: int
    role: Role
    member_id: int | None = None
    org: str | None = None

    @property
    def ledger_name(self) -> str:
        """How the ledger of record names this actor (never a personal name or email)."""
        return f"{self.kind}:{self.id}"


CLI_ACTOR_NAME = "cli"
"""The ledger's name for changes made from the command line by the operator."""


@dataclass(frozen=True, slots=True)
class Allowed:
    def __bool__(self) -> bool:
        return True


@dataclass(frozen=True, slots=True)
class Denied:
    reason: str

    def __bool__(self) -> bool:
        return False


Decision = Allowed | Denied


def has(actor: Actor, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[actor.role]


def can_read_member(actor: Actor, member_id: int) -> Decision:
    if actor.member_id == member_id or has(actor, Permission.read_any_member):
        return Allowed()
    return Denied("only the member themselves and the board may read a member")


def can_manage_member(actor: Actor, member_id: int) -> Decision:
    if actor.member_id == member_id or has(actor, Permission.manage_any_member):
        return Allowed()
    return Denied("only the member themselves and the board may change a membership")


def can_read_choices(actor: Actor, member_id: int, proxy_scope: int) -> Decision:
    """The member, a proxy of theirs (any scope), or the board."""
    if actor.member_id == member_id or proxy_scope or has(actor, Permission.read_any_member):
        return Allowed()
    return Denied("only the member, their proxy and the board may read a member's choices")


def can_change_choices(actor: Actor, member_id: int, proxy_scope: int, touches: int) -> Decision:
    """The member; or their proxy, when the purposes the change touches (all of them for
    opt-out, excluded categories and the dividend) lie within the proxy's scope."""
    if actor.member_id == member_id:
        return Allowed()
    if proxy_scope and touches & ~proxy_scope == 0:
        return Allowed()
    return Denied("this change is outside what you may decide for this member")


def can_vote(actor: Actor, member_id: int, proxy_may_vote: bool) -> Decision:
    """Members vote for themselves; a proxy votes for a principal only when the appointment says so."""
    if actor.member_id is None:
        return Denied("only members vote")
    if actor.member_id == member_id or proxy_may_vote:
        return Allowed()
    return Denied("you may not vote for this member: their proxy appointment does not include voting")


def can_read_permit(actor: Actor, data_holders: list[str]) -> Decision:
    """The HDAB, the board and auditors read every permit; a data holder only those it is party to."""
    if has(actor, Permission.read_all_permits) or (actor.role is Role.data_holder and actor.org in data_holders):
        return Allowed()
    return Denied("only the HDAB, the board, auditors and the permit's data holders read a permit")


def can_report_usage(actor: Actor, data_holders: list[str]) -> Decision:
    """The HDAB, and the data holders party to the permit."""
    if actor.role is Role.hdab or (actor.role is Role.data_holder and actor.org in data_holders):
        return Allowed()
    return Denied("only the HDAB and the permit's data holders report usage")
