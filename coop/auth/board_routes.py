"""The board's own accounts, for the board: list them, add one (mailed a link to set a
password), remove one (never the last)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from coop.auth import board
from coop.auth.models import UserAccount
from coop.auth.policy import Actor, Permission
from coop.auth.schemas import BoardUserIn, BoardUserOut
from coop.deps import ID_MAX, Now, ReadSession, SettingsDep, WriteSession, require
from coop.i18n import Language
from coop.openapi import problems

router = APIRouter(prefix="/auth/board-users", tags=["auth"])
Board = Annotated[Actor, Depends(require(Permission.manage_board))]


def user_out(user: UserAccount) -> BoardUserOut:
    assert user.id is not None
    return BoardUserOut(id=user.id, email=user.email, created_at=user.created_at, disabled_at=user.disabled_at)


@router.get("", response_model=list[BoardUserOut], summary="The board's accounts, removed ones included (board)")
def list_board(session: ReadSession, _board: Board) -> list[BoardUserOut]:
    return [user_out(u) for u in board.members(session)]


@router.post(
    "",
    status_code=201,
    response_model=BoardUserOut,
    summary="Add a board user (board): they are mailed a link to set their password",
    responses=problems({409: "account-exists (an account with this email exists)"}),
)
def add_board_user(
    body: BoardUserIn, session: WriteSession, actor: Board, settings: SettingsDep, now: Now
) -> BoardUserOut:
    return user_out(board.add(session, actor, settings.auth, body.email, Language(body.language), now))


@router.post(
    "/{user_id}/remove",
    response_model=BoardUserOut,
    summary="Remove a board user (board): their login stops working; removing again changes nothing",
    responses=problems({404: "board-user-not-found", 409: "last-board-user"}),
)
def remove_board_user(
    user_id: Annotated[int, Path(ge=1, le=ID_MAX)], session: WriteSession, actor: Board, now: Now
) -> BoardUserOut:
    return user_out(board.remove(session, actor, user_id, now))
