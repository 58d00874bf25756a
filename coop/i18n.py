"""The languages the cooperative speaks: the one list of them, and the default.

Everything that offers, accepts or checks a language (portal pages, forms, the API's
``lang`` and ``language`` fields, the command line, the PDFs) takes it from here, so a
language is added in one place (and in ``coop/locale/``, see README, "Languages").
"""

from __future__ import annotations

from enum import StrEnum
from functools import cache


class Language(StrEnum):
    """A language of the cooperative, by its ISO 639-1 code. Dutch comes first: it is the
    default."""

    nl = "nl"
    en = "en"


LANGUAGES: tuple[str, ...] = tuple(Language)
DEFAULT_LANGUAGE = Language.nl


def language_or_default(value: str | None) -> Language:
    """``value`` when the cooperative speaks it, else the default."""
    return Language(value) if value in LANGUAGES else DEFAULT_LANGUAGE


@cache
def autonym(lang: str) -> str:
    """The language's name in itself ("Nederlands", "English"), from CLDR: how a link or an
    option that switches to it is labelled."""
    from babel import Locale

    name: str = Locale.parse(lang).get_display_name(lang) or lang
    return name[:1].upper() + name[1:]
