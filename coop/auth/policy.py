"""Who may do what: roles map to permissions (data), and small pure policy functions
decide about a particular thing. Routes declare the permission or call a policy; no
handler carries its own role checks.

A member who left acts as a former member (derived from their membership when their login
is checked): they keep :data:`FORMER_MEMBERSHIP`, and every refusal because they left
carries the code ``membership-ended``."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from coop.errors import NotFound


class Role(StrEnum):
    member = "member"
    former_member = "former_member"
    """A member who left: never stored on an account, derived when the login is checked."""
    board = "board"
    carer = "carer"
    """A proxy who is not a member (a parent, guardian or carer): acts for the members who
    appointed them, with no membership rights of their own."""
    hdab = "hdab"
    data_holder = "data_holder"
    auditor = "auditor"


USER_ROLES = frozenset({Role.member, Role.board, Role.carer})
"""Roles an account is created with: people who log in with email and password."""

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
    manage_own_login = "self:login"
    """Log out, change one's own password."""
    read_own_record = "self:read"
    """One's own membership, choices and their history, decisions, proxies, data use,
    dividends and statements."""
    leave = "self:leave"
    rectify_own = "self:rectify"
    """Correct one's own name and email (GDPR Art. 16): also after leaving, while the data are kept."""
    change_own_choices = "self:choices"
    manage_own_proxies = "self:proxies"
    act_as_proxy = "proxies:act"
    """Read and change a principal's choices within the appointment's scope, vote for them."""
    vote = "governance:vote"
    manage_api_keys = "auth:api-keys"
    """Make, list and revoke the keys of the HDAB, data holders and auditors."""
    manage_board = "auth:board"
    """Add and remove board users."""
    read_access_summary = "access:summary"
    """How often members' data were read by others, per month, role, purpose and what: counts only."""


MEMBERSHIP = frozenset(
    {  # what a member may do for themselves, and for a principal as their proxy
        Permission.manage_own_login,
        Permission.read_own_record,
        Permission.leave,
        Permission.rectify_own,
        Permission.change_own_choices,
        Permission.manage_own_proxies,
        Permission.act_as_proxy,
        Permission.vote,
        Permission.read_proposals,
    }
)

FORMER_MEMBERSHIP = frozenset(
    {Permission.manage_own_login, Permission.read_own_record, Permission.leave, Permission.rectify_own}
)
"""What stays after leaving: the login, reading one's own record (statements, dividends,
data use, choices and their history), correcting one's name and email (the cooperative still
keeps them) and leaving again (which changes nothing). Payouts
already earned are paid by the distribution, which needs no action of theirs."""

CARING = frozenset({Permission.manage_own_login, Permission.act_as_proxy})
"""What a carer may do: their own login, and acting for the members who appointed them. No
vote, record, choices or dividend of their own: those are membership."""

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.member: MEMBERSHIP,
    Role.carer: CARING,
    Role.former_member: FORMER_MEMBERSHIP,
    Role.board: frozenset(
        {
            Permission.manage_own_login,
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
            Permission.manage_api_keys,
            Permission.manage_board,
            Permission.read_access_summary,
        }
    ),
    Role.hdab: frozenset({Permission.consult_mandate, Permission.register_permits, Permission.read_all_permits}),
    Role.data_holder: frozenset(),
    Role.auditor: frozenset(
        {
            Permission.read_ledger_events,
            Permission.read_all_permits,
            Permission.read_books,
            Permission.read_access_summary,
        }
    ),
}


@dataclass(frozen=True, slots=True)
class Actor:
    """Whoever makes a request: a logged-in person or an organisation's key."""

    kind: str  # "user", "key", or "cli" for the operator at the command line
    id: int
    role: Role
    member_id: int | None = None
    org: str | None = None
    second_factor: bool = False
    """A person whose account has two-factor sign-in on (a login token of theirs was issued
    only after a code of their app, see :mod:`coop.auth.two_factor`)."""
    carer_id: int | None = None
    """A carer's login: the carer it belongs to (``member_id`` is then None)."""

    @property
    def ledger_name(self) -> str:
        """How the ledger of record names this actor (never a personal name or email)."""
        return CLI_ACTOR_NAME if self.kind == "cli" else f"{self.kind}:{self.id}"


CLI_ACTOR_NAME = "cli"
"""The ledger's name for changes made from the command line by the operator."""

CLI_ACTOR = Actor(kind="cli", id=0, role=Role.board)
"""The operator at the command line (and the demo's builder): acts with the board's permissions
and is named ``cli`` in the ledger of record. Every service takes its acting party as an
``Actor`` in second place, so the command line passes this one."""


@dataclass(frozen=True, slots=True)
class Allowed:
    def __bool__(self) -> bool:
        return True


@dataclass(frozen=True, slots=True)
class Denied:
    reason: str
    code: str = "forbidden"
    """The stable code of the refusal, for problem+json."""

    def __bool__(self) -> bool:
        return False


Decision = Allowed | Denied


def has(actor: Actor, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[actor.role]


def account_role(stored: str, member_left: bool) -> Role:
    """The role a login acts in: a member's account acts as a former member once they left."""
    role = Role(stored)
    return Role.former_member if role is Role.member and member_left else role


MEMBERSHIP_ENDED = "membership-ended"
"""The code of every refusal that exists because the actor left the cooperative."""


def _own(actor: Actor, member_id: int) -> bool:
    return actor.member_id is not None and actor.member_id == member_id


def _ended(actor: Actor, what: str) -> Denied:
    return Denied(f"you left the cooperative: you no longer {what}", MEMBERSHIP_ENDED)


def can_manage_login(actor: Actor) -> Decision:
    """Logging out and changing a password: people with a login (members, also after
    leaving, and the board), not organisations' keys."""
    if actor.kind == "user" and has(actor, Permission.manage_own_login):
        return Allowed()
    return Denied("only people who log in with a password have a login to manage", "not-a-login")


def can_use_two_factor(actor: Actor) -> Decision:
    """Two-factor sign-in (an authenticator app and recovery codes): board users, who hold the
    cooperative's keys. Members sign in with their password."""
    if actor.kind == "user" and actor.role is Role.board:
        return Allowed()
    return Denied("two-factor sign-in is for board users", "not-a-board-user")


TWO_FACTOR_REQUIRED = "two-factor-required"
"""The code of every refusal because a board user must first switch on two-factor sign-in."""


def may_act_without_second_factor(actor: Actor, production: bool) -> Decision:
    """In production mode a board user without two-factor sign-in may do nothing but set it up
    (and log out); development and the demo stay usable without it."""
    if production and actor.kind == "user" and actor.role is Role.board and not actor.second_factor:
        return Denied(
            "switch on two-factor sign-in first: production mode requires it for the board", TWO_FACTOR_REQUIRED
        )
    return Allowed()


def can_read_member(actor: Actor, member_id: int) -> Decision:
    if (_own(actor, member_id) and has(actor, Permission.read_own_record)) or has(actor, Permission.read_any_member):
        return Allowed()
    return Denied("only the member themselves and the board may read a member")


def can_read_own_record(actor: Actor, member_id: int) -> Decision:
    """Data use, dividends and statements: the member's own, also after leaving."""
    if _own(actor, member_id) and has(actor, Permission.read_own_record):
        return Allowed()
    return Denied("only the member themselves may read this")


def require_own_record(actor: Actor, member_id: int) -> None:
    """The one rule for what only the member themselves may read (data use, dividends,
    statements, their proxies): anyone else is told there is no such member (404
    ``member-not-found``), so whether a member exists stays unknown to them."""
    if not can_read_own_record(actor, member_id):
        raise NotFound(f"no member {member_id}", code="member-not-found")


def can_read_access_log(actor: Actor, member_id: int) -> Decision:
    """Who read a member's data: the member themselves (also after leaving), or the board
    (whose read of it is itself recorded). Not a proxy: the log is about the member."""
    if (_own(actor, member_id) and has(actor, Permission.read_own_record)) or has(actor, Permission.read_any_member):
        return Allowed()
    return Denied("only the member themselves and the board may read who read a member's data")


def require_statement_reader(actor: Actor, member_id: int) -> None:
    """A member's yearly statement: the member themselves (also after leaving), or the board
    producing it for them (to send on paper, say: a read of their data that is recorded).
    Anyone else is told there is no such member (404 ``member-not-found``)."""
    if not (can_read_own_record(actor, member_id) or has(actor, Permission.read_any_member)):
        raise NotFound(f"no member {member_id}", code="member-not-found")


def can_manage_member(actor: Actor, member_id: int) -> Decision:
    if (_own(actor, member_id) and has(actor, Permission.leave)) or has(actor, Permission.manage_any_member):
        return Allowed()
    return Denied("only the member themselves and the board may change a membership")


def can_rectify(actor: Actor, member_id: int) -> Decision:
    """Changing a member's name or email: the member themselves (also after leaving), or the
    board on the member's request. Not a proxy: an appointment covers choices and votes, never
    the member's identity or the address their login and notices go to."""
    if (_own(actor, member_id) and has(actor, Permission.rectify_own)) or has(actor, Permission.manage_any_member):
        return Allowed()
    return Denied("only the member themselves and the board may change a member's name or email")


def can_read_choices(actor: Actor, member_id: int, proxy_scope: int) -> Decision:
    """The member, a proxy of theirs (any scope: they see only that scope), or the board."""
    if _own(actor, member_id) and has(actor, Permission.read_own_record):
        return Allowed()
    if proxy_scope and has(actor, Permission.act_as_proxy):
        return Allowed()
    if has(actor, Permission.read_any_member):
        return Allowed()
    return Denied("only the member, their proxy and the board may read a member's choices")


def can_change_choices(actor: Actor, member_id: int, proxy_scope: int, touches: int) -> Decision:
    """The member; or their proxy, when the purposes the change touches (all of them for
    opt-out, excluded categories and the dividend) lie within the proxy's scope."""
    if _own(actor, member_id):
        return Allowed() if has(actor, Permission.change_own_choices) else _ended(actor, "change choices")
    if proxy_scope and has(actor, Permission.act_as_proxy) and touches & ~proxy_scope == 0:
        return Allowed()
    return Denied("this change is outside what you may decide for this member", "outside-proxy-scope")


def can_give_sensitive_yes(actor: Actor, member_id: int) -> Decision:
    """The own yes for sensitive categories (EHDS Art. 51(4)): the member themselves, never a
    proxy, even one who decides every purpose for them."""
    if not _own(actor, member_id):
        return Denied("only the member themselves gives or withdraws their yes for sensitive data", "own-yes-only")
    if not has(actor, Permission.change_own_choices):
        return _ended(actor, "change choices")
    return Allowed()


def can_manage_proxies(actor: Actor, principal_id: int) -> Decision:
    """Appointing and revoking proxies: the member themselves, while a member."""
    if not _own(actor, principal_id):
        return Denied("only the member themselves appoints and revokes their proxies", "member-not-found")
    if not has(actor, Permission.manage_own_proxies):
        return _ended(actor, "appoint or revoke proxies")
    return Allowed()


def can_vote(actor: Actor, member_id: int, proxy_may_vote: bool) -> Decision:
    """Members vote for themselves; a proxy (a member or a carer) votes for a principal only
    when the appointment says so. A carer never votes for themselves: they are no member."""
    if actor.carer_id is not None and has(actor, Permission.act_as_proxy):
        if proxy_may_vote:
            return Allowed()
        return Denied(
            "you may not vote for this member: their proxy appointment does not include voting", "not-a-voter"
        )
    if actor.member_id is None:
        return Denied("only members vote", "not-a-voter")
    if not has(actor, Permission.vote):
        return _ended(actor, "vote")
    if actor.member_id == member_id:
        return Allowed()
    if proxy_may_vote and has(actor, Permission.act_as_proxy):
        return Allowed()
    return Denied("you may not vote for this member: their proxy appointment does not include voting", "not-a-voter")


def can_read_permit(actor: Actor, data_holders: list[str]) -> Decision:
    """The HDAB, the board and auditors read every permit; a data holder only those it is party to."""
    if has(actor, Permission.read_all_permits) or (actor.role is Role.data_holder and actor.org in data_holders):
        return Allowed()
    return Denied("only the HDAB, the board, auditors and the permit's data holders read a permit")


def readable_permits(actor: Actor) -> bool | str:
    """:func:`can_read_permit` for a listing, so the database does the filtering: True for
    every permit, a data holder's organisation for the permits naming it, False for none."""
    if has(actor, Permission.read_all_permits):
        return True
    if actor.role is Role.data_holder and actor.org:
        return actor.org
    return False


def can_report_usage(actor: Actor, data_holders: list[str]) -> Decision:
    """The HDAB, and the data holders party to the permit."""
    if actor.role is Role.hdab or (actor.role is Role.data_holder and actor.org in data_holders):
        return Allowed()
    return Denied("only the HDAB and the permit's data holders report usage")


def can_ask_second_approval(actor: Actor) -> Decision:
    """Asking for four eyes (a distribution's commit, an annual report's publication): a board
    user who logs in, so that the ledger of record names the person who asked."""
    if actor.kind == "user" and actor.role is Role.board:
        return Allowed()
    return Denied("only a board user who logs in may ask for this or decide on it", "named-board-user-needed")


def can_decide_request(actor: Actor, requested_by: str) -> Decision:
    """Approving or declining a request for four eyes: any board user who logs in, except the
    one who asked."""
    if not (named := can_ask_second_approval(actor)):
        return named
    if actor.ledger_name == requested_by:
        return Denied("you asked for this yourself: a second board member must approve it", "own-request")
    return Allowed()


def can_withdraw_request(actor: Actor, requested_by: str) -> Decision:
    """Withdrawing a request for four eyes: only the board user who asked."""
    if actor.ledger_name == requested_by:
        return Allowed()
    return Denied("only the board member who asked may withdraw this request", "not-your-request")
