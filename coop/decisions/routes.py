"""HTTP: the effective decision for one member."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from coop.access.models import AccessWhat
from coop.access.service import Read, record_apart
from coop.choices import queries as choices_queries
from coop.decisions import service
from coop.decisions.schemas import EffectiveOut
from coop.deps import CurrentActor, DatabaseDep, MemberId, Now, ReadSession, SettingsDep
from coop.errors import Forbidden, Invalid
from coop.types import Time
from coop.vocabulary.terms import Category, ProhibitedUse, Purpose, UserType

router = APIRouter(prefix="/members", tags=["decisions"])


def parse_purpose(code: str) -> Purpose | ProhibitedUse:
    for enum_type in (Purpose, ProhibitedUse):
        try:
            return enum_type(code)
        except ValueError:
            continue
    raise Invalid(f"unknown purpose {code!r}; see /api/v1/vocabulary", code="unknown-purpose", field="purpose")


def parse_categories(values: list[str]) -> list[Category]:
    codes = [c.strip() for v in values for c in v.split(",") if c.strip()]
    unknown = [c for c in codes if c not in Category._value2member_map_]
    if unknown:
        raise Invalid(
            f"unknown categories {unknown}; see /api/v1/vocabulary", code="unknown-category", field="categories"
        )
    return [Category(c) for c in dict.fromkeys(codes)]


@router.get(
    "/{member_id}/effective",
    response_model=EffectiveOut,
    summary="Whether this member's data may be used, and which rule decided (the member, their proxy, board)",
)
def effective(
    member_id: MemberId,
    session: ReadSession,
    now: Now,
    actor: CurrentActor,
    settings: SettingsDep,
    db: DatabaseDep,
    purpose: Annotated[str, Query(max_length=40, description="a purpose (Art. 53) or prohibited use (Art. 54)")],
    user_type: UserType,
    categories: Annotated[list[str], Query(max_length=40, description="comma-separated or repeated")] = [],  # noqa: B006
    at: Annotated[Time | None, Query(description="ISO 8601 with offset; default: now")] = None,
) -> EffectiveOut:
    asked, when = parse_purpose(purpose), at or now
    access = choices_queries.access(session, actor, member_id, now)  # the same access as reading the choices
    if not access.covers(asked if isinstance(asked, Purpose) else None, when):
        raise Forbidden(
            "a proxy asks only about the purposes they decide, from the start of their appointment",
            code="outside-proxy-scope",
        )
    result = service.effective(
        session,
        member_id,
        asked,
        user_type,
        parse_categories(categories),
        when,
        None,
        settings.choices.proxy_max_depth,
    )
    record_apart(db, actor, Read(AccessWhat.decision, member_id=member_id), now)
    return EffectiveOut.of(result)
