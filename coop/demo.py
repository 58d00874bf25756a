"""A small demo cooperative for a first look: the example statutes, a board user, a few
members who can log in, and keys for an HDAB and an auditor. Development mode only; the credentials are public."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select
from sqlmodel import Session

from coop.auth import service as auth_service
from coop.auth.models import UserAccount
from coop.auth.policy import Actor, Role
from coop.governance import service as governance_service
from coop.members import service as members_service
from coop.members.models import Language
from coop.settings import AuthSettings

BOARD_EMAIL = "board@demo-coop.nl"
BOARD_PASSWORD = "demo-board-password"  # noqa: S105 (public demo login)
MEMBER_PASSWORD = "demo-member-password"  # noqa: S105 (public demo login)
MEMBERS = [
    ("Anna de Vries", "anna@demo-coop.nl", Language.nl),
    ("Bram Jansen", "bram@demo-coop.nl", Language.nl),
    ("Chloé Martin", "chloe@demo-coop.nl", Language.en),
]


@dataclass
class DemoLogins:
    board: tuple[str, str]
    members: list[tuple[str, str]] = field(default_factory=list)
    keys: dict[str, str] = field(default_factory=dict)


def is_empty(session: Session) -> bool:
    return int(session.execute(select(func.count()).select_from(UserAccount)).scalar_one()) == 0


STATUTES = Path(__file__).with_name("statutes.example.toml")


def seed(session: Session, auth: AuthSettings) -> DemoLogins:
    governance_service.init_statutes(session, STATUTES, "cli")
    board = auth_service.bootstrap_board(session, auth, BOARD_EMAIL, BOARD_PASSWORD)
    assert board.id is not None
    actor = Actor("user", board.id, Role.board)
    logins = DemoLogins(board=(BOARD_EMAIL, BOARD_PASSWORD))
    for name, email, language in MEMBERS:
        _member, issued = members_service.admit(session, auth, actor, name, email, language)
        members_service.accept_invitation(session, auth, issued.token, MEMBER_PASSWORD)
        logins.members.append((email, MEMBER_PASSWORD))
    for org, role in (("Health Data Access Body NL (demo)", "hdab"), ("Audit & Co (demo)", "auditor")):
        logins.keys[role] = auth_service.create_api_key(session, org, role).token
    return logins
