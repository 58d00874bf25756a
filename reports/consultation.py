"""The printable statement of a consultation, for the HDAB's file (ReportLab), in Dutch or
English, in words: reasons, fields and counts are named, never shown as codes.

Built in ReportLab's invariant mode, so the same consultation in the same language always
gives the same bytes. The statement carries an Ed25519 signature over the canonical JSON of
the consultation (context ``coop-consultation-statement-v1``; the same in every language),
the ledger sequence number of its event and the tree head it is included in.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from coop.i18n import N_, translator
from ledger import canonical
from ledger.signing import Signer
from reports.texts import day, document_info, word

CONTEXT = b"coop-consultation-statement-v1\n"
rl_config.invariant = 1

REASONS = {
    "too-long": N_("reason_too_long"),
    "prohibited-use": N_("reason_prohibited_use"),
    "public-sector-only": N_("reason_public_sector_only"),
    "mandate-deny": N_("reason_mandate_deny"),
    "mandate-allows": N_("reason_mandate_allows"),
    "sensitive-explicit-allow": N_("reason_sensitive_explicit_allow"),
    "condition-unmet:min_benefit_share_pct": N_("reason_condition_min_benefit_share_pct"),
    "condition-unmet:open_results": N_("reason_condition_open_results"),
    "condition-unmet:processing_in_eu": N_("reason_condition_processing_in_eu"),
    "condition-unmet:ethics_review": N_("reason_condition_ethics_review"),
    "condition-unmet:max_duration_months": N_("reason_condition_max_duration_months"),
}
"""Each reason's sentence; ``{about}`` is what it is about, in words."""

POSITIONS = {
    "support": N_("position_support"),
    "conditional": N_("position_conditional"),
    "object": N_("position_object"),
}

FIELDS = {
    "application_ref": N_("field_application_ref"),
    "applicant": N_("field_applicant"),
    "user_type": N_("field_user_type"),
    "purposes": N_("field_purposes"),
    "categories": N_("field_categories"),
    "duration_months": N_("field_duration_months"),
    "offered_benefit_share_pct": N_("field_offered_benefit_share_pct"),
    "open_results": N_("field_open_results"),
    "processing_in_eu": N_("field_processing_in_eu"),
    "ethics_review_approved": N_("field_ethics_review_approved"),
    "expected_benefit": N_("field_expected_benefit"),
}

EXCLUDED = {
    "prohibited": N_("excluded_prohibited"),
    "not-member": N_("excluded_not_member"),
    "opt-out": N_("excluded_opt_out"),
    "category-excluded": N_("excluded_category_excluded"),
    "own-choice": N_("excluded_own_choice"),
    "proxy": N_("excluded_proxy"),
    "mandate": N_("excluded_mandate"),
}


def statement_bytes(consultation: dict[str, Any]) -> bytes:
    return canonical.encode(consultation)


def _value(key: str, value: Any, lang: str, t: Callable[..., str]) -> str:
    if isinstance(value, bool):
        return t("word_yes") if value else t("word_no")
    if isinstance(value, list):
        return ", ".join(word(str(v), lang) for v in value)
    if key == "user_type":
        return word(str(value), lang)
    if key == "offered_benefit_share_pct":
        return f"{value}%"
    return str(value)


def _reason(reason: dict[str, Any], lang: str, t: Callable[..., str]) -> str:
    """The reason's sentence in ``lang``; a consultation recorded before reasons said what
    they are about keeps its recorded (English) sentence."""
    key, about = REASONS.get(reason["code"]), reason.get("about")
    if key is None or not about:
        return str(reason["message"])
    sentence = t(key, about=", ".join(word(part, lang) for part in about.split(",")))
    return sentence[:1].upper() + sentence[1:]


def render(consultation: dict[str, Any], root_hex: str, tree_size: int, signer: Signer, lang: str) -> bytes:
    t = translator(lang)
    styles = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=styles["BodyText"], fontSize=9, leading=11.5)
    cell = ParagraphStyle("cell", parent=body, fontSize=8.5, leading=10.5)
    heading = ParagraphStyle("heading", parent=styles["Heading2"], fontSize=12, spaceBefore=6, spaceAfter=3)
    small = ParagraphStyle("small", parent=styles["Code"], fontSize=7.5, leading=9)
    request = consultation["request"]
    signature = signer.sign_statement(CONTEXT, statement_bytes(consultation)).hex()
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        **document_info(lang, t("consultation_title", id=consultation["id"]), t("consultation_subject")),
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
    )
    grid = TableStyle(
        [
            ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
            ("FONT", (0, 0), (-1, -1), "Helvetica", 8.5),
            ("TOPPADDING", (0, 0), (-1, -1), 2),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ]
    )

    def p(text: str, style: ParagraphStyle = cell) -> Paragraph:
        return Paragraph(escape(text), style)

    asked = day(datetime.fromisoformat(consultation["asked_at"]).date(), lang)
    story: list[Any] = [
        Paragraph(escape(t("consultation_heading")), styles["Title"]),
        Paragraph(
            escape(
                t(
                    "consultation_intro",
                    id=consultation["id"],
                    date=asked,
                    reference=request["application_ref"],
                    applicant=request["applicant"],
                    user_type=word(request["user_type"], lang),
                )
            ),
            body,
        ),
        Paragraph(escape(t("consultation_position", position=t(POSITIONS[consultation["position"]]))), heading),
        Table(
            [[t("explanation"), t("basis")]]
            + [[p(_reason(r, lang, t)), p(r["article"])] for r in consultation["reasons"]],
            colWidths=[125 * mm, 45 * mm],
            style=grid,
        ),
        Paragraph(escape(t("members_concerned")), heading),
        Table(
            [[t("eligible"), str(consultation["cohort"]["eligible"])]]
            + [
                [t("not_included", reason=t(EXCLUDED[reason]) if reason in EXCLUDED else reason), str(n)]
                for reason, n in consultation["cohort"]["excluded"].items()
            ],
            colWidths=[120 * mm, 50 * mm],
            style=grid,
        ),
        Paragraph(escape(t("application_received")), heading),
        Table(
            [[t("field"), t("value")]]
            + [
                [p(t(FIELDS[k]) if k in FIELDS else k), p(_value(k, request[k], lang, t))]
                for k in sorted(request, key=lambda k: list(FIELDS).index(k) if k in FIELDS else len(FIELDS))
                if k != "application_ref"
            ],
            colWidths=[60 * mm, 110 * mm],
            style=grid,
        ),
        Paragraph(escape(t("integrity")), heading),
        Paragraph(
            escape(
                t(
                    "consultation_integrity",
                    seq=consultation["ledger_seq"],
                    version=consultation["mandate_version"],
                    size=tree_size,
                )
            ),
            body,
        ),
        Paragraph(root_hex, small),
        Paragraph(escape(t("consultation_signature", key=signer.key_id)), body),
        Paragraph(signature[:64] + "<br/>" + signature[64:], small),
        Spacer(1, 2 * mm),
        Paragraph(escape(t("consultation_verify")), body),
    ]
    doc.build(story)
    return out.getvalue()
