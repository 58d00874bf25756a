"""HTTP: a member's choices, their history, and changes guarded by If-Match."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Response
from fastapi.responses import JSONResponse

from coop.access.models import AccessWhat
from coop.access.service import Read, record_apart
from coop.choices import fhir, service
from coop.choices import queries as choices_queries
from coop.choices.agreed import agreed_to
from coop.choices.schemas import AgreedOut, ChoicesOut, ChoicesPatch, DocumentRef
from coop.deps import CurrentActor, DatabaseDep, MemberId, Now, ReadSession
from coop.governance import queries as governance_queries
from coop.governance.documents import DocumentKind
from coop.governance.recorded import recorded
from coop.openapi import problems
from coop.proxies import queries as proxy_queries

router = APIRouter(prefix="/members", tags=["choices"])


@router.get(
    "/{member_id}/choices", response_model=ChoicesOut, summary="Current choices (the member, their proxy, board)"
)
def read(
    member_id: MemberId, session: ReadSession, actor: CurrentActor, response: Response, now: Now, db: DatabaseDep
) -> ChoicesOut:
    version = choices_queries.read(session, actor, member_id, now)
    record_apart(db, actor, Read(AccessWhat.choices, member_id=member_id), now)
    response.headers["ETag"] = choices_queries.etag(version)
    return ChoicesOut.of(version)


@router.patch(
    "/{member_id}/choices",
    response_model=ChoicesOut,
    summary="Change choices (the member, or their proxy within scope); send If-Match with the ETag",
    responses=problems(
        {
            403: "own-yes-only (the yes for sensitive data is the member's own), outside-proxy-scope",
            409: "not-a-member",
            412: "version-mismatch",
            422: "prohibited-use (a yes to a use the law reserves for public-sector bodies, EHDS Art. 53(2)); "
            "not-sensitive (a yes for a category that is not sensitive, EHDS Art. 51(4))",
        }
    ),
)
def change(
    member_id: MemberId,
    body: ChoicesPatch,
    session: ReadSession,
    db: DatabaseDep,
    actor: CurrentActor,
    response: Response,
    now: Now,
    if_match: Annotated[str | None, Header(max_length=100)] = None,
) -> ChoicesOut:
    patch = service.ChoicePatch(
        opt_out=body.opt_out,
        preferences=tuple((p.purpose, p.user_type, p.decision) for p in body.preferences or []),
        excluded_categories=frozenset(body.excluded_categories) if body.excluded_categories is not None else None,
        donate_dividend=body.donate_dividend,
        sensitive_yes=frozenset(body.sensitive_yes) if body.sensitive_yes is not None else None,
    )
    # Done with the changes other members ask for meanwhile; durable when it returns. The read
    # after it is a snapshot taken then (its first statement), so it sees the change.
    version = service.submit(db, service.Change(actor, member_id, patch, if_match, now))
    seen = choices_queries.read(session, actor, member_id, now, version)  # as this actor may see it
    response.headers["ETag"] = choices_queries.etag(seen)
    return ChoicesOut.of(seen)


@router.get(
    "/{member_id}/choices/fhir",
    summary="Current choices as an HL7 FHIR R5 Consent (the member, their proxy, board)",
    response_class=JSONResponse,
    responses={200: {"content": {"application/fhir+json": {}}}},
)
def fhir_consent(
    member_id: MemberId, session: ReadSession, actor: CurrentActor, now: Now, db: DatabaseDep
) -> JSONResponse:
    version = choices_queries.read(session, actor, member_id, now)
    proxies = proxy_queries.in_force_for(session, member_id, now)
    if not choices_queries.access(session, actor, member_id, now).full:  # a proxy sees their own appointments only
        proxies = [p for p in proxies if proxy_queries.holds(actor, p)]
    mandate = governance_queries.in_force(session, DocumentKind.mandate, now)
    body = fhir.consent(version, proxies, mandate.version if mandate else None)
    record_apart(db, actor, Read(AccessWhat.fhir_consent, member_id=member_id), now)
    return JSONResponse(body, media_type="application/fhir+json")


@router.get(
    "/{member_id}/choices/history", response_model=list[ChoicesOut], summary="Every version, oldest first (as read)"
)
def history(
    member_id: MemberId, session: ReadSession, actor: CurrentActor, now: Now, db: DatabaseDep
) -> list[ChoicesOut]:
    versions = choices_queries.history(session, actor, member_id, now)
    record_apart(db, actor, Read(AccessWhat.history, member_id=member_id), now)
    return [ChoicesOut.of(v) for v in versions]


@router.get(
    "/{member_id}/choices/agreed",
    response_model=list[AgreedOut],
    summary="What the member agreed to: the rules in force for each version of their choices (as read)",
)
def agreed(
    member_id: MemberId, session: ReadSession, actor: CurrentActor, now: Now, db: DatabaseDep
) -> list[AgreedOut]:
    agreed = agreed_to(session, actor, member_id, now)
    record_apart(db, actor, Read(AccessWhat.history, member_id=member_id), now)
    refs: dict[tuple[DocumentKind, int], DocumentRef] = {}

    def ref(kind: DocumentKind, version: int | None) -> DocumentRef | None:
        if version is None:
            return None
        if (kind, version) not in refs:
            r = recorded(session, kind, version)
            url = f"/api/v1/governance/documents/{kind.value}/{version}"
            refs[kind, version] = DocumentRef(version=version, sha256=r.sha256, ledger_seq=r.event_seq, url=url)
        return refs[kind, version]

    return [
        AgreedOut(
            choice_version=a.choice_version,
            since=a.since,
            until=a.until,
            mandate=ref(DocumentKind.mandate, a.mandate),
            benefit_policy=ref(DocumentKind.benefit_policy, a.benefit_policy),
        )
        for a in agreed
    ]
