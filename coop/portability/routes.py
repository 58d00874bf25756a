"""HTTP: a member's data as one JSON file and as a readable PDF (the member themselves, also
after leaving, or the board on the member's request), and the JSON file's published schema."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from coop.deps import CurrentActor, DatabaseDep, MemberId, Now, ReadSession, SettingsDep
from coop.openapi import problems
from coop.portability import export, files
from coop.portability.schemas import SCHEMA_FILE, SCHEMA_PATH, published_schema

router = APIRouter(tags=["data portability"])


WHO = (
    " The member themselves (also after leaving) or the board on the member's request; anyone else, "
    "a proxy or carer too, is told 404 `member-not-found`."
)


@router.get(
    "/members/{member_id}/export",
    summary="Download my data: everything the cooperative keeps about the member, as one JSON file",
    description="GDPR Art. 15 and 20. One JSON document (a download: `Content-Disposition: attachment`) "
    f"valid against the JSON Schema at `/api/v1{SCHEMA_PATH}`, which it names in `schema`, with "
    '`schema_version` "1": the member, every version of their choices, proxies both ways, votes, every '
    "cohort manifest that included them with their pseudonym in it, dividends and payouts, messages sent "
    "to them, and who else read their data." + WHO,
    response_class=Response,
    responses={200: {"content": {"application/json": {}}}, **problems({404: "member-not-found"})},
)
def export_json(
    member_id: MemberId, session: ReadSession, actor: CurrentActor, settings: SettingsDep, now: Now, db: DatabaseDep
) -> Response:
    return files.download(session, db, actor, member_id, settings, now, "json")


@router.get(
    "/members/{member_id}/export.pdf",
    summary="A readable summary of my data, as PDF in the member's language",
    description="The same parts as the JSON file, with how many items each holds and the latest of them; "
    "the JSON file holds everything." + WHO,
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}, **problems({404: "member-not-found"})},
)
def export_pdf(
    member_id: MemberId, session: ReadSession, actor: CurrentActor, settings: SettingsDep, now: Now, db: DatabaseDep
) -> Response:
    return files.download(session, db, actor, member_id, settings, now, "pdf")


@router.get(
    SCHEMA_PATH,
    summary="The JSON Schema (draft 2020-12) of a member's data export, version 1 (public)",
    response_class=JSONResponse,
    responses={200: {"content": {"application/schema+json": {}}}},
)
def export_schema(settings: SettingsDep) -> JSONResponse:
    body: dict[str, Any] = {**published_schema()}
    body = {"$schema": body.pop("$schema"), "$id": export.schema_url(settings), **body}
    return JSONResponse(
        body,
        media_type="application/schema+json",
        headers={"Content-Disposition": f'inline; filename="{SCHEMA_FILE}"'},
    )
