"""A readable summary of a member's data (their export) as a PDF, in the member's language,
in plain words: counts and the latest items of each part; the JSON file holds everything."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import Any
from xml.sax.saxutils import escape

from reportlab import rl_config
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

from coop.i18n import N_, language_or_default, local_time, translator
from reports.inputs import DataSummary, Line
from reports.layout import WIDTH, page_footer, styles, table
from reports.texts import document_info, euros, word

rl_config.invariant = 1

MAIL_STATUS = {
    "pending": N_("export_mail_pending"),
    "sent": N_("export_mail_sent"),
    "failed": N_("export_mail_failed"),
    "withdrawn": N_("export_mail_withdrawn"),
}
VOTE = {"yes": N_("vote_yes"), "no": N_("vote_no"), "abstain": N_("vote_abstain")}


def _rows(
    lines: list[Line],
    headers: list[str],
    fractions: list[float],
    lang: str,
    style: Any,
    cells_of: Callable[[tuple[str, ...]], Sequence[str]],
    mono: Any = None,
) -> Any:
    """A table of recent items: when, then the item's cells (``cells_of`` puts codes in words);
    with ``mono`` the last cell is set in it (a pseudonym, to compare character by character)."""
    rows: list[list[Any]] = [headers]
    for line in lines:
        cells = [Paragraph(escape(c), style) for c in cells_of(line.cells)]
        if mono is not None:
            cells[-1] = Paragraph(escape(line.cells[-1]), mono)
        rows.append([Paragraph(local_time(line.at, lang), style), *cells])
    return table(rows, [WIDTH * f for f in fractions])


def render(summary: DataSummary) -> bytes:
    lang = language_or_default(summary.language)
    t = translator(lang)
    s = styles()
    title = t("export_pdf_title")
    story: list[Any] = [
        Paragraph(title, s["title"]),
        Paragraph(
            t(
                "export_pdf_intro",
                name=escape(summary.name or summary.number),
                moment=local_time(summary.exported_at, lang),
            ),
            s["body"],
        ),
        Paragraph(t("export_pdf_json"), s["body"]),
        Paragraph(t("export_pdf_you"), s["h1"]),
        Paragraph(t("member_number") + f": {summary.number}", s["body"]),
        Paragraph(t("name") + ": " + escape(summary.name or t("erased")), s["body"]),
        Paragraph(t("email") + ": " + escape(summary.email or t("erased")), s["body"]),
        Paragraph(t("export_pdf_admitted", moment=local_time(summary.admitted_at, lang)), s["body"]),
    ]
    if summary.left_at is not None:
        story.append(Paragraph(t("export_pdf_left", moment=local_time(summary.left_at, lang)), s["body"]))
    story += [
        Paragraph(t("export_pdf_choices"), s["h1"]),
        Paragraph(t("export_pdf_choices_count", n=summary.choice_versions), s["body"]),
    ]
    if summary.recent_changes:
        story.append(
            table(
                [[t("version"), t("since"), t("what_changed")]]
                + [
                    [
                        str(c.version),
                        Paragraph(local_time(c.since, lang), s["small"]),
                        Paragraph("<br/>".join(escape(line) for line in c.changed), s["small"]),
                    ]
                    for c in summary.recent_changes
                ],
                [WIDTH * 0.1, WIDTH * 0.3, WIDTH * 0.6],
            )
        )
    story += [
        Paragraph(t("export_pdf_proxies"), s["h1"]),
        Paragraph(
            t("export_pdf_proxies_count", appointed=summary.proxies_appointed, acting=summary.acting_for), s["body"]
        ),
        Paragraph(t("export_pdf_votes"), s["h1"]),
        Paragraph(t("export_pdf_votes_count", n=summary.votes), s["body"]),
    ]
    if summary.recent_votes:
        story.append(
            _rows(
                summary.recent_votes,
                [t("export_pdf_when"), t("export_pdf_proposal"), t("export_pdf_vote"), t("export_pdf_by_proxy")],
                [0.28, 0.38, 0.12, 0.22],
                lang,
                s["small"],
                lambda cells: (cells[0], t(VOTE[cells[1]]), word(cells[2], lang)),
            )
        )
    story += [
        Paragraph(t("export_pdf_manifests"), s["h1"]),
        Paragraph(t("export_pdf_manifests_count", n=summary.manifests), s["body"]),
    ]
    if summary.recent_manifests:
        story += [
            Paragraph(t("export_pdf_pseudonym"), s["body"]),
            _rows(
                summary.recent_manifests,
                [t("export_pdf_when"), t("permit"), t("export_pdf_manifest"), t("export_pdf_your_pseudonym")],
                [0.22, 0.2, 0.1, 0.48],
                lang,
                s["small"],
                lambda cells: cells,
                mono=s["mono"],
            ),
        ]
    story += [
        Paragraph(t("your_dividend"), s["h1"]),
        Paragraph(
            t(
                "export_pdf_dividends",
                n=summary.distributions,
                received=euros(summary.received_cents, lang),
                paid=euros(summary.paid_out_cents, lang),
                balance=euros(summary.balance_cents, lang),
            ),
            s["body"],
        ),
        Paragraph(t("export_pdf_messages"), s["h1"]),
        Paragraph(t("export_pdf_messages_count", n=summary.messages), s["body"]),
    ]
    if summary.recent_messages:
        story.append(
            _rows(
                summary.recent_messages,
                [t("export_pdf_when"), t("export_pdf_message_subject"), t("export_pdf_status")],
                [0.3, 0.5, 0.2],
                lang,
                s["small"],
                lambda cells: (cells[0], t(MAIL_STATUS[cells[1]])),
            )
        )
    story += [
        Paragraph(t("export_pdf_access"), s["h1"]),
        Paragraph(t("export_pdf_access_count", n=summary.accesses), s["body"]),
    ]
    if summary.recent_accesses:
        story.append(
            _rows(
                summary.recent_accesses,
                [t("export_pdf_when"), t("export_pdf_reader"), t("export_pdf_read_what")],
                [0.3, 0.3, 0.4],
                lang,
                s["small"],
                lambda cells: cells,
            )
        )
    story += [Spacer(1, 6 * mm), Paragraph(t("questions"), s["small"])]
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        **document_info(lang, title, t("export_pdf_subject")),
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
    )
    footer = page_footer(lang, f"{title} - {summary.number}")
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()
