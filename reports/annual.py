"""The board's annual benefit report (ReportLab platypus, charts from reportlab.graphics).

Built in ReportLab's invariant mode and from :class:`reports.inputs.Annual` alone,
so the same figures always give the same bytes: the board can publish a report by hashing
it into the ledger of record, and anyone can rebuild it and compare.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from functools import partial
from typing import Any

from reportlab import rl_config
from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.piecharts import Pie
from reportlab.graphics.shapes import Drawing, Rect, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, PageBreak, Paragraph, SimpleDocTemplate, Spacer

from coop.i18n import translator
from ledger.allocation import largest_remainder
from reports.inputs import Annual
from reports.layout import ACCENT, INK, MARGIN, WIDTH, page_footer, styles, table
from reports.texts import day, document_info, euros, number, word

rl_config.invariant = 1


def _bars(labels: list[str], values: list[int], caption: str, lang: str, in_euros: bool = True) -> Drawing:
    drawing = Drawing(WIDTH, 170)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 45, 40, WIDTH - 60, 110
    chart.data = [[v / 100 if in_euros else v for v in values] or [0]]
    chart.categoryAxis.categoryNames = labels or [""]
    chart.categoryAxis.labels.fontSize = 7
    chart.categoryAxis.labels.angle = 20 if len(labels) > 4 else 0
    chart.categoryAxis.labels.boxAnchor = "ne" if len(labels) > 4 else "n"
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.labelTextFormat = partial(number, lang=lang)
    chart.valueAxis.valueMin = 0
    chart.bars[0].fillColor = ACCENT[1]
    chart.bars[0].strokeColor = None
    drawing.add(chart)
    drawing.add(String(0, 160, caption, fontSize=9, fillColor=INK))
    return drawing


def _pie(parts: list[tuple[str, int]], percentages: Sequence[int] | None) -> Drawing:
    """The split in a pie; the legend gives the policy's percentages when known, else each
    part's share rounded so that the shares add up to 100."""
    drawing = Drawing(WIDTH, 160)
    if percentages is None:
        weights = {i: max(cents, 0) for i, (_, cents) in enumerate(parts)}
        shares = largest_remainder(100, weights, "split") if any(weights.values()) else dict.fromkeys(weights, 0)
        percentages = [shares[i] for i in range(len(parts))]
    shown = [(f"{label}: {pct}%", cents) for (label, cents), pct in zip(parts, percentages, strict=True) if cents > 0]
    if not shown:
        return drawing
    pie = Pie()
    pie.x, pie.y, pie.width, pie.height = 30, 15, 130, 130
    pie.data = [cents for _, cents in shown]
    pie.labels = None
    pie.slices.strokeColor = colors.white
    for i in range(len(shown)):
        pie.slices[i].fillColor = ACCENT[i % len(ACCENT)]
    drawing.add(pie)
    for i, (label, _cents) in enumerate(shown):
        y = 120 - 22 * i
        drawing.add(Rect(200, y, 10, 10, fillColor=ACCENT[i % len(ACCENT)], strokeColor=None))
        drawing.add(String(216, y + 1, label, fontSize=9))
    return drawing


def _heat(annual: Annual, lang: str) -> Drawing:
    forbidden = translator(lang)("forbidden_by_law")
    purposes = list(annual.choices)
    user_types = list(next(iter(annual.choices.values()))) if annual.choices else []
    cell_w, cell_h, left, top = 80, 16, 120, 20
    drawing = Drawing(WIDTH, top + cell_h * (len(purposes) + 1) + 10)
    height = drawing.height
    for j, user_type in enumerate(user_types):
        drawing.add(
            String(
                left + j * cell_w + cell_w / 2, height - top + 4, word(user_type, lang), fontSize=8, textAnchor="middle"
            )
        )
    for i, purpose in enumerate(purposes):
        y = height - top - cell_h * (i + 1)
        drawing.add(String(left - 6, y + 5, word(purpose, lang), fontSize=8, textAnchor="end"))
        for j, user_type in enumerate(user_types):
            cell = annual.choices[purpose][user_type]
            pct = cell.allow_pct
            fill = colors.whitesmoke if pct is None else colors.Color(0.24, 0.55, 0.58, alpha=0.15 + 0.85 * pct / 100)
            drawing.add(Rect(left + j * cell_w, y, cell_w - 2, cell_h - 2, fillColor=fill, strokeColor=None))
            drawing.add(
                String(
                    left + j * cell_w + cell_w / 2,
                    y + 4,
                    forbidden if cell.forbidden else "-" if pct is None else f"{pct}%",
                    fontSize=8,
                    textAnchor="middle",
                )
            )
    return drawing


def render(annual: Annual, lang: str) -> bytes:
    t = translator(lang)
    s = styles()
    e = partial(euros, lang=lang)
    story: list[Any] = [
        Spacer(1, 30 * mm),
        Paragraph(t("annual_title", year=annual.year), s["title"]),
        Paragraph(t("annual_subtitle"), s["subtitle"]),
        Spacer(1, 4 * mm),
        Paragraph(t("as_of", date=day(annual.as_of.date(), lang)), s["small"]),
        Spacer(1, 10 * mm),
        Paragraph(t("summary"), s["h1"]),
        table(
            [
                ["", ""],
                [t("members"), str(annual.members)],
                [t("joined"), str(annual.joined)],
                [t("left"), str(annual.left)],
                [t("members_opted_out"), str(annual.opted_out)],
                [t("income"), e(annual.income_cents)],
                [t("expenses"), e(annual.expenses_cents)],
                [t("net_income"), e(annual.net_income_cents)],
                [t("undistributed"), e(annual.undistributed_cents)],
                [t("distributed_net_income"), e(annual.split.net_income_cents)],
                [t("reserve"), e(annual.split.reserve_cents)],
                [t("solidarity"), e(annual.split.solidarity_cents)],
                [t("members_pool"), e(annual.split.members_pool_cents)],
                [t("grants_total"), e(annual.grants_cents)],
            ],
            [WIDTH * 0.6, WIDTH * 0.4],
            numeric_from=1,
        ),
        PageBreak(),
        Paragraph(t("revenue_by_permit"), s["h1"]),
    ]
    revenue = [line for line in annual.permits if line.revenue_cents]
    story.append(
        table(
            [[t("permit"), t("applicant"), t("user_type"), t("purposes"), t("amount")]]
            + [
                [
                    p.number,
                    Paragraph(p.applicant, s["small"]),
                    word(p.user_type, lang),
                    Paragraph(", ".join(word(x, lang) for x in p.purposes), s["small"]),
                    e(p.revenue_cents),
                ]
                for p in revenue
            ],
            [WIDTH * 0.2, WIDTH * 0.3, WIDTH * 0.13, WIDTH * 0.2, WIDTH * 0.17],
            numeric_from=4,
        )
    )
    by_type = annual.revenue_by_user_type
    by_purpose = annual.revenue_by_purpose
    story += [
        Spacer(1, 4 * mm),
        _bars([word(k, lang) for k in by_type], list(by_type.values()), t("by_user_type") + " (EUR)", lang),
        _bars([word(k, lang) for k in by_purpose], list(by_purpose.values()), t("by_purpose") + " (EUR)", lang),
        Paragraph(t("split"), s["h1"]),
    ]
    split = annual.split
    if split.distributions:
        spans = ", ".join(f"{day(a, lang)} \u2013 {day(b, lang)}" for a, b in split.periods)
        story.append(Paragraph(t("distributed_periods", periods=spans), s["body"]))
        story.append(
            KeepTogether(
                [
                    _pie(
                        [
                            (t("reserve"), split.reserve_cents),
                            (t("solidarity"), split.solidarity_cents),
                            (t("members_pool"), split.members_pool_cents),
                        ],
                        split.percentages,
                    ),
                    table(
                        [
                            ["", t("amount")],
                            [t("net_income"), e(split.net_income_cents)],
                            [t("reserve"), e(split.reserve_cents)],
                            [t("solidarity"), e(split.solidarity_cents)],
                            [t("members_pool"), e(split.members_pool_cents)],
                            ["  " + t("donated"), e(split.donated_cents)],
                            ["  " + t("unclaimed"), e(split.unclaimed_cents)],
                        ],
                        [WIDTH * 0.6, WIDTH * 0.4],
                        numeric_from=1,
                    ),
                ]
            )
        )
    else:
        story.append(Paragraph(t("no_distribution"), s["body"]))
    labels = [
        f"{e(low)} - {e(high - 1)}" if high is not None and low else (e(0) if high else f"{e(low)}+")
        for low, high, _ in annual.dividend_bins
    ]
    counts = [n if isinstance(n, int) else 0 for _, _, n in annual.dividend_bins]
    story += [
        PageBreak(),
        Paragraph(t("dividends"), s["h1"]),
        Paragraph(t("dividends_text", credited=annual.members_credited, threshold=annual.threshold), s["body"]),
        _bars(labels, counts, t("member_count"), lang, in_euros=False),
        table(
            [[t("bin"), t("member_count")]]
            + [[label, str(n)] for label, (_, _, n) in zip(labels, annual.dividend_bins, strict=True)],
            [WIDTH * 0.6, WIDTH * 0.4],
            numeric_from=1,
        ),
        Paragraph(t("grants"), s["h1"]),
    ]
    if annual.grants:
        story.append(
            table(
                [[t("date"), t("recipient"), t("purpose"), t("amount")]]
                + [
                    [
                        day(g.paid_on, lang),
                        Paragraph(g.recipient, s["small"]),
                        Paragraph(g.purpose, s["small"]),
                        e(g.cents),
                    ]
                    for g in annual.grants
                ],
                [WIDTH * 0.18, WIDTH * 0.3, WIDTH * 0.35, WIDTH * 0.17],
                numeric_from=3,
            )
        )
    else:
        story.append(Paragraph(t("none"), s["body"]))
    story += [
        PageBreak(),
        Paragraph(t("register"), s["h1"]),
        table(
            [
                [
                    t("permit"),
                    t("applicant"),
                    t("user_type"),
                    t("status"),
                    t("flags"),
                    t("results"),
                ]
            ]
            + [
                [
                    p.number,
                    Paragraph(p.applicant, s["small"]),
                    word(p.user_type, lang),
                    word(p.status, lang),
                    Paragraph(", ".join(word(f, lang) for f in p.flags) or "-", s["small"]),
                    str(p.results),
                ]
                for p in annual.permits
            ],
            [WIDTH * 0.2, WIDTH * 0.25, WIDTH * 0.12, WIDTH * 0.11, WIDTH * 0.22, WIDTH * 0.1],
            numeric_from=5,
        ),
        Paragraph(t("returned"), s["h1"]),
    ]
    if annual.results:
        story.append(
            table(
                [[t("date"), t("permit"), t("title"), t("open_access")]]
                + [
                    [
                        day(r.published_on, lang),
                        r.permit_number,
                        Paragraph(f"{r.title}<br/>{r.url}", s["small"]),
                        word("yes" if r.open_access else "no", lang),
                    ]
                    for r in annual.results
                ],
                [WIDTH * 0.18, WIDTH * 0.2, WIDTH * 0.5, WIDTH * 0.12],
            )
        )
    else:
        story.append(Paragraph(t("none"), s["body"]))
    story += [
        Paragraph(t("overdue"), s["h1"]),
        Paragraph(", ".join(annual.overdue_results) or t("none"), s["body"]),
        PageBreak(),
        Paragraph(t("choices"), s["h1"]),
        Paragraph(t("choices_text"), s["body"]),
        Spacer(1, 3 * mm),
        _heat(annual, lang),
        Paragraph(t("decisions"), s["h1"]),
    ]
    if annual.decisions:
        story.append(
            table(
                [[t("date"), t("title"), t("outcome"), t("votes")]]
                + [
                    [
                        day(d.closed_on, lang),
                        Paragraph(d.title, s["small"]),
                        word(d.outcome, lang),
                        f"{d.yes}/{d.no}/{d.abstain} ({d.electorate})",
                    ]
                    for d in annual.decisions
                ],
                [WIDTH * 0.2, WIDTH * 0.4, WIDTH * 0.15, WIDTH * 0.25],
            )
        )
    else:
        story.append(Paragraph(t("none"), s["body"]))
    integrity: list[Any] = [Paragraph(t("integrity"), s["h1"]), Paragraph(t("integrity_text"), s["body"])]
    head = annual.integrity
    if head is None:
        integrity.append(Paragraph(t("no_head"), s["body"]))
    else:
        integrity.append(
            table(
                [
                    ["", ""],
                    [t("tree_size"), str(head.tree_size)],
                    [t("root_hash"), Paragraph(head.root_hash, s["mono"])],
                    [t("signed_at"), head.signed_at],
                    [t("key_id"), Paragraph(head.key_id, s["mono"])],
                    [t("signature"), Paragraph(head.signature, s["mono"])],
                ],
                [WIDTH * 0.25, WIDTH * 0.75],
            )
        )
    story.append(KeepTogether(integrity))
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        **document_info(lang, t("annual_title", year=annual.year), t("annual_subtitle")),
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
    )
    footer = page_footer(lang, t("annual_title", year=annual.year))
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()
