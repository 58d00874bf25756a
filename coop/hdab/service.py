"""The HDAB consults the collective mandate about a permit application.

The answer is a position with reasons, each naming the EHDS article or mandate rule it
rests on, and the cohort: how many members would be eligible, and why the others are not,
with every count published through :func:`coop.privacy.publish`.

Position: ``object`` when the application asks for a prohibited use (Art. 54), a
public-sector-only purpose for another user type (Art. 53(2)), a purpose the mandate
denies for this user type, or longer than a permit may run (Art. 68: ten years; an
extension is a decision of its own); ``conditional`` when the mandate's conditions are not all met or
sensitive categories need the members' explicit allow; ``support`` otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlmodel import Session

from coop.auth.policy import Actor
from coop.choices import profiles
from coop.decisions import bulk
from coop.decisions.rules import Decision, Terms, deciding_user_type, is_prohibited, mandate_decision
from coop.governance import queries as governance_queries
from coop.governance.ballot import conditions_in_words
from coop.governance.documents import Conditions, Mandate, MandateDecision
from coop.hdab.models import Consultation
from coop.i18n import translator
from coop.permits.rules import MAX_YEARS
from coop.privacy import publish
from coop.vocabulary.terms import (
    PROHIBITED_USES,
    PURPOSES,
    SENSITIVE,
    Category,
    ProhibitedUse,
    Purpose,
    UserType,
    in_sentence,
)
from ledger import canonical, log


class Position(StrEnum):
    support = "support"
    conditional = "conditional"
    object = "object"


@dataclass(frozen=True, slots=True)
class Application:
    application_ref: str
    applicant: str
    user_type: UserType
    purposes: tuple[Purpose | ProhibitedUse, ...]
    categories: tuple[Category, ...]
    duration_months: int
    offered_benefit_share_pct: int
    open_results: bool
    processing_in_eu: bool
    ethics_review_approved: bool
    expected_benefit: str
    on_behalf_of_public_body: bool = False

    @property
    def deciding_user_type(self) -> UserType:
        return deciding_user_type(self.user_type, self.on_behalf_of_public_body)

    @property
    def terms(self) -> Terms:
        return Terms(
            benefit_share_pct=self.offered_benefit_share_pct,
            open_results=self.open_results,
            processing_in_eu=self.processing_in_eu,
            ethics_review=self.ethics_review_approved,
            duration_months=self.duration_months,
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "application_ref": self.application_ref,
            "applicant": self.applicant,
            "user_type": self.user_type.value,
            "purposes": [p.value for p in self.purposes],
            "categories": [c.value for c in self.categories],
            "duration_months": self.duration_months,
            "offered_benefit_share_pct": self.offered_benefit_share_pct,
            "open_results": self.open_results,
            "processing_in_eu": self.processing_in_eu,
            "ethics_review_approved": self.ethics_review_approved,
            "expected_benefit": self.expected_benefit,
        } | ({"on_behalf_of_public_body": True} if self.on_behalf_of_public_body else {})


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    message: str
    article: str
    about: str = ""
    """What the reason is about, as a code: the purpose or use, the sensitive categories
    (comma-separated), or the value a mandate condition asks; so it can be told in words."""


def unmet_in_words(name: str, value: object) -> str:
    """The mandate's condition ``name`` that an application does not meet, in the words the
    ballot gives the mandate's conditions (:func:`coop.governance.ballot.conditions_in_words`),
    in English, as the API speaks."""
    t = translator("en")
    return t("reason_condition_unmet", conditions=conditions_in_words(Conditions.model_validate({name: value}), t))


@dataclass
class Assessment:
    position: Position
    reasons: list[Reason] = field(default_factory=list)


def assess(application: Application, mandate: Mandate, version: int) -> Assessment:
    """The position and its reasons (pure)."""
    objections: list[Reason] = []
    conditions: list[Reason] = []
    support: list[Reason] = []
    rule_ref = f"mandate v{version}"
    sensitive = sorted(SENSITIVE & set(application.categories))
    if application.duration_months > MAX_YEARS * 12:
        objections.append(
            Reason(
                "too-long",
                f"a permit runs at most {MAX_YEARS} years ({MAX_YEARS * 12} months); "
                f"{application.duration_months} months were asked (an extension is decided separately)",
                "EHDS Art. 68",
                str(application.duration_months),
            )
        )
    who = application.deciding_user_type
    for purpose in application.purposes:
        if isinstance(purpose, ProhibitedUse):
            term = PROHIBITED_USES[purpose]
            objections.append(
                Reason("prohibited-use", f"{term.en} is never allowed", f"EHDS Art. {term.article}", purpose.value)
            )
            continue
        if is_prohibited(purpose, who):
            objections.append(
                Reason(
                    "public-sector-only",
                    f"{PURPOSES[purpose].en} is open to public-sector bodies, and to others on their behalf, only",
                    "EHDS Art. 53(2)",
                    purpose.value,
                )
            )
            continue
        rule = mandate.rule_for(purpose, who)
        where = f"{rule_ref}, rule {purpose.value}/{who.value}" if rule else f"{rule_ref}, default"
        answer = mandate_decision(mandate, purpose, who, (), application.terms)
        if answer.decision is Decision.deny and not answer.unmet:
            objections.append(
                Reason(
                    "mandate-deny",
                    f"the members' mandate does not allow {in_sentence(PURPOSES[purpose].en)} by this user type",
                    where,
                    purpose.value,
                )
            )
            continue
        for name in answer.unmet:
            value = getattr(answer.conditions, name)
            conditions.append(Reason(f"condition-unmet:{name}", unmet_in_words(name, value), where, str(value)))
        explicit = rule.sensitive_requires_explicit_allow if rule else True
        if sensitive and explicit and (rule is None or rule.decision is not MandateDecision.deny):
            conditions.append(
                Reason(
                    "sensitive-explicit-allow",
                    f"{', '.join(c.value for c in sensitive)}: only members who allowed this themselves are included",
                    f"EHDS Art. 51(4); {where}",
                    ",".join(c.value for c in sensitive),
                )
            )
        if not answer.unmet:
            support.append(
                Reason(
                    "mandate-allows",
                    f"the members' mandate allows {in_sentence(PURPOSES[purpose].en)}",
                    where,
                    purpose.value,
                )
            )
    if objections:
        return Assessment(Position.object, objections + conditions)
    if conditions:
        return Assessment(Position.conditional, conditions + support)
    return Assessment(Position.support, support)


def _published_cohort(cohort: bulk.Cohort, threshold: int) -> dict[str, Any]:
    excluded = cohort.by_reason(Decision.deny)
    return {
        "eligible": publish(cohort.eligible, threshold),
        "excluded": {reason: publish(n, threshold) for reason, n in excluded.items()},
    }


def consult(
    session: Session, actor: Actor, application: Application, threshold: int, max_depth: int, now: datetime
) -> Consultation:
    version, mandate = governance_queries.mandate_at(session, now)
    assessment = assess(application, mandate, version)
    profiles.refresh_expired(session, now)  # proxies' appointments that ran out: counted without them
    cohort = bulk.cohort_counts(
        session,
        application.purposes,
        application.deciding_user_type,
        application.categories,
        now,
        application.terms,
        max_depth,
    )
    answer = {
        "position": assessment.position.value,
        "reasons": [
            {"code": r.code, "message": r.message, "article": r.article, "about": r.about} for r in assessment.reasons
        ],
        "cohort": _published_cohort(cohort, threshold),
        "mandate_version": version,
    }
    request = application.as_json()
    consultation = Consultation(
        application_ref=application.application_ref,
        request=canonical.dumps(request),
        answer=canonical.dumps(answer),
        position=assessment.position.value,
        mandate_version=version,
        ledger_seq=log.next_seq(session),
        asked_by=actor.ledger_name,
        asked_at=now,
    )
    session.add(consultation)
    session.flush()
    event = log.append(
        session,
        "consultation.recorded",
        actor.ledger_name,
        f"application:{application.application_ref}",
        {"consultation_id": consultation.id, "request": request, "answer": answer},
        at=now,
    )
    assert event.seq == consultation.ledger_seq
    return consultation
