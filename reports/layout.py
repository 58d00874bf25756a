"""What the reports share on the page: colours, margins, paragraph styles, tables that wrap
their headers, and the footer with the page number."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Table, TableStyle

from coop.i18n import translator

INK = colors.HexColor("#1b3a4b")
ACCENT = [colors.HexColor(c) for c in ("#1b3a4b", "#3c8d93", "#f2a541", "#c8553d", "#7a9e7e", "#8e7dbe", "#5c5c5c")]
MARGIN = 20 * mm
"""Left and right, around the text."""
WIDTH = A4[0] - 2 * MARGIN


def styles() -> dict[str, ParagraphStyle]:
    """The paragraph styles by name: title, subtitle, h1, body, small, mono."""
    base = getSampleStyleSheet()
    return {
        "title": ParagraphStyle("title", parent=base["Title"], textColor=INK, fontSize=24, leading=30),
        "subtitle": ParagraphStyle("subtitle", parent=base["BodyText"], fontSize=12, leading=16),
        # a heading never ends a page: it moves to the next with what it heads
        "h1": ParagraphStyle("h1", parent=base["Heading1"], textColor=INK, fontSize=15, spaceBefore=10, keepWithNext=1),
        "body": base["BodyText"],
        "small": ParagraphStyle("small", parent=base["BodyText"], fontSize=8, leading=10),
        "mono": ParagraphStyle("mono", parent=base["Code"], fontSize=7, leading=9, wordWrap="CJK", leftIndent=0),
    }


HEADER = ParagraphStyle("header", fontName="Helvetica-Bold", fontSize=8, leading=10)
HEADER_RIGHT = ParagraphStyle("header-right", parent=HEADER, alignment=TA_RIGHT)


def table(rows: Sequence[Sequence[Any]], widths: Sequence[float], numeric_from: int | None = None) -> Table:
    """A table whose header cells wrap within their columns."""
    rows = [list(r) for r in rows]
    rows[0] = [
        Paragraph(escape(c), HEADER_RIGHT if numeric_from is not None and i >= numeric_from else HEADER)
        if isinstance(c, str) and c
        else c
        for i, c in enumerate(rows[0])
    ]
    style = [
        ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 8),
        ("FONT", (0, 1), (-1, -1), "Helvetica", 8),
        ("LINEBELOW", (0, 0), (-1, 0), 0.6, INK),
        ("LINEBELOW", (0, 1), (-1, -1), 0.2, colors.lightgrey),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
    if numeric_from is not None:
        style.append(("ALIGN", (numeric_from, 0), (-1, -1), "RIGHT"))
    grid = Table(rows, colWidths=list(widths), repeatRows=1)
    grid.setStyle(TableStyle(style))
    return grid


def page_footer(lang: str, title: str) -> Any:
    """Draws ``title`` and the page number in ``lang`` at the foot of every page."""
    t = translator(lang)

    def draw(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 7)
        canvas.setFillColor(colors.grey)
        canvas.drawString(MARGIN, 10 * mm, title)
        canvas.drawRightString(A4[0] - MARGIN, 10 * mm, t("page", n=doc.page))
        canvas.restoreState()

    return draw
