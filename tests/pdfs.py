"""Reading PDFs back in tests: their text (pypdf), and their pages as PNG images for a person
to look at (pypdfium2), kept under test-artifacts/ (not committed)."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pypdfium2
from pypdf import PdfReader

ARTIFACTS = Path(os.environ.get("COOP_TEST_ARTIFACTS", Path(__file__).resolve().parent.parent / "test-artifacts"))


def text(pdf: bytes) -> str:
    """All text of the document, pages joined, white space collapsed."""
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def pages(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)


def render_png(pdf: bytes, name: str, scale: float = 1.2) -> list[Path]:
    """Render every page to ``test-artifacts/<name>-<page>.png``; returns the files."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    document = pypdfium2.PdfDocument(pdf)
    written = []
    try:
        for i in range(len(document)):
            path = ARTIFACTS / f"{name}-{i + 1}.png"
            document[i].render(scale=scale).to_pil().save(path)
            written.append(path)
    finally:
        document.close()
    return written


def page_lines(pdf: bytes) -> list[list[str]]:
    """Each page's lines of text, top to bottom, without empty ones."""
    reader = PdfReader(io.BytesIO(pdf))
    return [
        [line.strip() for line in (page.extract_text() or "").splitlines() if line.strip()] for page in reader.pages
    ]


def past_the_margin(pdf: bytes, margin: float) -> list[tuple[int, str]]:
    """Runs of text that end to the right of the page's right margin (``margin`` points
    from the edge): text that runs past its table or off the page. (page, text) each."""
    document = pypdfium2.PdfDocument(pdf)
    found = []
    try:
        for number in range(len(document)):
            page = document[number]
            limit = page.get_width() - margin + 0.5
            text = page.get_textpage()
            for i in range(text.count_rects()):
                left, bottom, right, top = text.get_rect(i)
                if right > limit:
                    found.append((number + 1, text.get_text_bounded(left, bottom, right, top)))
    finally:
        document.close()
    return found
