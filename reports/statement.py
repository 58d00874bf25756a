"""A member's yearly statement as a PDF, in the member's language, in plain words."""

from __future__ import annotations

import io
from functools import partial
from typing import Any
from xml.sax.saxutils import escape

from reportlab import rl_config
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

from coop.i18n import language_or_default, local_time, translator
from reports.inputs import Statement
from reports.layout import WIDTH, page_footer, styles, table
from reports.texts import day, document_info, euros, word

rl_config.invariant = 1


def render(st: Statement) -> bytes:
    lang = language_or_default(st.language)
    t = translator(lang)
    s = styles()
    e = partial(euros, lang=lang)
    story: list[Any] = [
        Paragraph(t("statement_title", year=st.year), s["title"]),
        Paragraph(t("statement_intro", name=st.name, year=st.year), s["body"]),
        Paragraph(t("member_number") + f": {st.number}", s["body"]),
        Paragraph(t("your_choices"), s["h1"]),
    ]
    if st.opt_out:
        story.append(Paragraph(t("opted_out"), s["body"]))
    story.append(Paragraph(t("default_text"), s["body"]))
    if st.choices:
        story.append(
            table(
                [[t("purpose"), t("user_type"), t("choice")]]
                + [[word(p, lang), word(u, lang), word(pref, lang)] for p, u, pref in st.choices],
                [WIDTH * 0.4, WIDTH * 0.25, WIDTH * 0.35],
            )
        )
    if st.excluded:
        excluded = ", ".join(word(c, lang) for c in st.excluded)
        story.append(Paragraph(t("excluded") + f": {excluded}", s["body"]))
    if st.sensitive_yes:
        yes = ", ".join(word(c, lang) for c in st.sensitive_yes)
        story.append(Paragraph(t("statement_sensitive_yes", categories=yes), s["body"]))
    if st.donate_dividend:
        story.append(Paragraph(t("donates"), s["body"]))
    story.append(Paragraph(t("changes"), s["h1"]))
    if st.changes:
        story.append(
            table(
                [[t("version"), t("since"), t("opt_out"), t("what_changed")]]
                + [
                    [
                        str(c.version),
                        Paragraph(local_time(c.since, lang), s["small"]),
                        word("yes" if c.opt_out else "no", lang),
                        Paragraph("<br/>".join(escape(line) for line in c.changed), s["small"]),
                    ]
                    for c in st.changes
                ],
                [WIDTH * 0.1, WIDTH * 0.25, WIDTH * 0.12, WIDTH * 0.53],
            )
        )
    else:
        story.append(Paragraph(t("no_changes"), s["body"]))
    story.append(Paragraph(t("used_by"), s["h1"]))
    if st.uses:
        story.append(
            table(
                [[t("permit"), t("applicant"), t("purposes"), t("since"), t("results")]]
                + [
                    [
                        u.permit_number,
                        Paragraph(f"{u.applicant} ({word(u.user_type, lang)})", s["small"]),
                        Paragraph(", ".join(word(p, lang) for p in u.purposes), s["small"]),
                        day(u.since, lang),
                        Paragraph("<br/>".join(f"{r.title} ({r.url})" for r in u.results) or "-", s["small"]),
                    ]
                    for u in st.uses
                ],
                [WIDTH * 0.17, WIDTH * 0.23, WIDTH * 0.18, WIDTH * 0.17, WIDTH * 0.25],
            )
        )
    else:
        story.append(Paragraph(t("not_used"), s["body"]))
    story.append(Paragraph(t("your_dividend"), s["h1"]))
    if not st.dividends:
        story.append(Paragraph(t("no_dividend"), s["body"]))
    for d in st.dividends:
        period = f"{day(d.period_start, lang)} - {day(d.period_end, lang)}"
        story.append(Paragraph(t("dividend_text", period=period, total=e(d.cents)), s["body"]))
        for part in d.parts:
            story.append(
                Paragraph(
                    "• "
                    + t(
                        "dividend_part",
                        permit=part.permit_number,
                        pool=e(part.pool_cents),
                        members=part.members,
                        cents=e(part.cents),
                    ),
                    s["body"],
                )
            )
        if d.donated:
            story.append(Paragraph(t("dividend_donated"), s["body"]))
    story += [
        Spacer(1, 3 * mm),
        Paragraph(t("balance", balance=e(st.balance_cents), paid=e(st.paid_cents)), s["body"]),
        Spacer(1, 6 * mm),
        Paragraph(t("questions"), s["small"]),
    ]
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        **document_info(lang, t("statement_title", year=st.year), t("statement_subject")),
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
    )
    footer = page_footer(lang, t("statement_title", year=st.year) + f" - {st.number}")
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()
