"""The printable statement of a consultation, for the HDAB's file (ReportLab).

Built in ReportLab's invariant mode, so the same consultation always gives the same bytes.
The statement carries an Ed25519 signature over the canonical JSON of the consultation
(context ``coop-consultation-statement-v1``), the ledger sequence number of its event and
the tree head it is included in.
"""

from __future__ import annotations

import io
from typing import Any

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from ledger import canonical
from ledger.signing import Signer

CONTEXT = b"coop-consultation-statement-v1\n"
rl_config.invariant = 1


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def statement_bytes(consultation: dict[str, Any]) -> bytes:
    return canonical.encode(consultation)


def render(consultation: dict[str, Any], root_hex: str, tree_size: int, signer: Signer) -> bytes:
    styles = getSampleStyleSheet()
    body, small = styles["BodyText"], styles["Code"]
    request = consultation["request"]
    signature = signer.sign_statement(CONTEXT, statement_bytes(consultation)).hex()
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        title=f"Consultation {consultation['id']}",
        author="Health-data cooperative",
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
    )
    grid = TableStyle(
        [
            ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
        ]
    )
    story: list[Any] = [
        Paragraph("Statement of the health-data cooperative on a data permit application", styles["Title"]),
        Paragraph(
            f"Consultation {consultation['id']} of {consultation['asked_at']}, about application "
            f"<b>{request['application_ref']}</b> by {request['applicant']} ({request['user_type']}).",
            body,
        ),
        Spacer(1, 4 * mm),
        Paragraph(f"Position of the cooperative: <b>{consultation['position'].upper()}</b>", styles["Heading2"]),
        Table(
            [["Reason", "Explanation", "Basis"]]
            + [
                [r["code"], Paragraph(r["message"], body), Paragraph(r["article"], body)]
                for r in consultation["reasons"]
            ],
            colWidths=[45 * mm, 80 * mm, 45 * mm],
            style=grid,
        ),
        Spacer(1, 4 * mm),
        Paragraph("Members concerned (counts below 10 are not shown; others are rounded to 10)", styles["Heading2"]),
        Table(
            [["Eligible", str(consultation["cohort"]["eligible"])]]
            + [[f"Not included: {reason}", str(n)] for reason, n in consultation["cohort"]["excluded"].items()],
            colWidths=[110 * mm, 60 * mm],
            style=grid,
        ),
        Spacer(1, 4 * mm),
        Paragraph("Application as received", styles["Heading2"]),
        Table(
            [["Field", "Value"]] + [[k, Paragraph(_plain(v), body)] for k, v in request.items()],
            colWidths=[55 * mm, 115 * mm],
            style=grid,
        ),
        Spacer(1, 4 * mm),
        Paragraph("Integrity", styles["Heading2"]),
        Paragraph(
            f"Recorded as event {consultation['ledger_seq']} of the cooperative's ledger of record "
            f"(mandate version {consultation['mandate_version']}), included in the tree of {tree_size} events with "
            f"root hash:",
            body,
        ),
        Paragraph(root_hex, small),
        Paragraph(
            f"Ed25519 signature by key {signer.key_id} over the canonical JSON of this consultation "
            "(prefixed with 'coop-consultation-statement-v1' and a newline):",
            body,
        ),
        Paragraph(signature[:64] + "<br/>" + signature[64:], small),
        Paragraph(
            "Verify the key at /api/v1/ledger/public-key and the event with /api/v1/ledger/proofs/inclusion.", body
        ),
    ]
    doc.build(story)
    return out.getvalue()
