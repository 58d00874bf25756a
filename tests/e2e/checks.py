"""What the browser tests check on a page as shown: axe-core's WCAG 2.1 A and AA rules, and
that the page fits the window without scrolling sideways."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
WIDTHS = {"desktop": 1280, "phone": 390}


@cache
def _axe_source(axe: Path) -> str:
    return axe.read_text()


def violations(page: Any, axe: Path) -> list[str]:
    """axe-core's violations on the page. axe is evaluated through the browser's developer
    protocol, which the page's Content-Security-Policy does not govern (as a script tag, the
    policy rightly refuses it): so the page is checked under its real policy."""
    page.evaluate(_axe_source(axe))
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", TAGS)
    assert len(result["passes"]) >= 10, "axe ran its rules"  # e.g. color-contrast, label, html-has-lang
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
    ]


def overflow(page: Any) -> list[str]:
    """How far the page is wider than the window, and the elements that stick out."""
    return list(
        page.evaluate(
            """() => {
                const width = document.documentElement.clientWidth;
                if (document.documentElement.scrollWidth <= width) return [];
                return [`page ${document.documentElement.scrollWidth}px in ${width}px`].concat(
                    [...document.querySelectorAll('body *')]
                        .filter(e => e.getBoundingClientRect().right > width + 1)
                        .slice(0, 5)
                        .map(e => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}` +
                                  `${e.className ? '.' + e.className : ''} ends at ` +
                                  `${Math.round(e.getBoundingClientRect().right)}px`));
            }"""
        )
    )
