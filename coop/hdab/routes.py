"""HTTP: the HDAB consults the collective mandate; consultations are kept and can be
fetched again, as JSON or as a printable PDF statement."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response

from coop import pdfsigning
from coop.auth.policy import Actor, Permission
from coop.db import Database
from coop.decisions.routes import parse_purpose
from coop.deps import ID_MAX, Now, ReadSession, SettingsDep, WriteSession, get_database, require
from coop.hdab import queries, service
from coop.hdab.schemas import ConsultationIn, ConsultationOut
from coop.i18n import DEFAULT_LANGUAGE, Language
from coop.openapi import problems
from ledger import log

router = APIRouter(prefix="/hdab", tags=["HDAB"])
Consulting = Annotated[Actor, Depends(require(Permission.consult_mandate))]
ConsultationId = Annotated[int, Path(ge=1, le=ID_MAX)]


@router.post(
    "/consultations",
    response_model=ConsultationOut,
    status_code=201,
    summary="Consult the collective mandate (HDAB)",
    responses=problems({404: "no-mandate"}),
)
def consult(
    body: ConsultationIn, session: WriteSession, actor: Consulting, settings: SettingsDep, now: Now
) -> ConsultationOut:
    application = service.Application(
        application_ref=body.application_ref,
        applicant=body.applicant,
        user_type=body.user_type,
        purposes=tuple(dict.fromkeys(parse_purpose(p) for p in body.purposes)),
        categories=tuple(dict.fromkeys(body.categories)),
        duration_months=body.duration_months,
        offered_benefit_share_pct=body.offered_benefit_share_pct,
        open_results=body.open_results,
        processing_in_eu=body.processing_in_eu,
        ethics_review_approved=body.ethics_review_approved,
        expected_benefit=body.expected_benefit,
        on_behalf_of_public_body=body.on_behalf_of_public_body,
    )
    consultation = service.consult(
        session, actor, application, settings.privacy.small_count_threshold, settings.choices.proxy_max_depth, now
    )
    return ConsultationOut.of(consultation)


@router.get(
    "/consultations/{consultation_id}.pdf",  # before the plain route, which would take "5.pdf" as an id
    summary="A consultation as a printable, signed statement in Dutch or English (HDAB)",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def read_pdf(
    consultation_id: ConsultationId,
    session: ReadSession,
    _actor: Consulting,
    db: Annotated[Database, Depends(get_database)],
    lang: Annotated[Language, Query(description="the statement's language")] = DEFAULT_LANGUAGE,
) -> Response:
    from reports.consultation import render

    consultation = queries.get(session, consultation_id)
    proof = log.inclusion_proof(session, consultation.ledger_seq, log.tree_size(session))
    statement = ConsultationOut.of(consultation).model_dump(mode="json")
    pdf = render(statement, proof.root_hash.hex(), proof.tree_size, db.signer, lang.value)
    pdf = pdfsigning.sign_consultation(pdf, db.settings, lang.value, statement["asked_at"])
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="consultation-{consultation_id}.pdf"'},
    )


@router.get("/consultations/{consultation_id}", response_model=ConsultationOut, summary="A consultation (HDAB)")
def read(consultation_id: ConsultationId, session: ReadSession, _actor: Consulting) -> ConsultationOut:
    return ConsultationOut.of(queries.get(session, consultation_id))
