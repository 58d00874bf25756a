"""The languages the cooperative speaks, its texts in them, and how it writes a time.

* :class:`Language` is the one list of languages: everything that offers, accepts or checks
  a language (portal pages, forms, the API's ``lang`` and ``language`` fields, the command
  line, the PDFs) takes it from here.
* Every text a member, the board or the public reads is a message in one gettext catalogue
  per language, ``coop/locale/<lang>/LC_MESSAGES/coop.po``, whose msgids are keys
  (``"hello"``, ``"refusal_proxy_self"``): see README, "Languages". ``translator(lang)``
  gives ``t``, and ``t("hello", name="Anna")`` is that message in ``lang`` with the values
  filled in by ``str.format``. A key missing from a catalogue is a bug and raises
  ``KeyError``; the tests keep every catalogue complete.
* ``make`` compiles each ``coop.po`` into the ``coop.mo`` read here. A catalogue whose
  ``.mo`` is missing or older than its ``.po`` (a fresh checkout, an edited translation,
  a package built without compiling) is compiled in memory from the ``.po`` instead, so a
  stale ``.mo`` never hides a change.
"""

from __future__ import annotations

import gettext
import io
from datetime import UTC, datetime
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo


class Language(StrEnum):
    """A language of the cooperative, by its ISO 639-1 code. Dutch comes first: it is the
    default."""

    nl = "nl"
    en = "en"


LANGUAGES: tuple[str, ...] = tuple(Language)
DEFAULT_LANGUAGE = Language.nl
DOMAIN = "coop"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"


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


class Translate(Protocol):
    def __call__(self, key: str, /, **values: object) -> str: ...


def N_(key: str) -> str:
    """Marks a key that the code picks at run time, from a code in the data, so that
    extraction finds it; returns the key unchanged."""
    return key


def translator(lang: str) -> Translate:
    """``t`` for ``lang``: the catalogue's message for a key, with ``values`` filled in."""
    catalogue = _catalogue(Language(lang))

    def t(key: str, /, **values: object) -> str:
        return catalogue.gettext(key).format(**values)

    return t


class _Missing(gettext.NullTranslations):
    """The last fallback of every catalogue: a key it lacks is a bug, not a text to show."""

    def gettext(self, message: str) -> str:
        raise KeyError(f"the catalogue has no message {message!r}")


def catalogue_path(lang: str, suffix: str = ".po") -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}{suffix}"


@cache
def _catalogue(lang: Language) -> gettext.GNUTranslations:
    po, mo = catalogue_path(lang, ".po"), catalogue_path(lang, ".mo")
    if mo.is_file() and (not po.is_file() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as compiled:
            translations = gettext.GNUTranslations(compiled)
    else:
        translations = gettext.GNUTranslations(io.BytesIO(_compile(po, lang)))
    translations.add_fallback(_Missing())
    return translations


def _compile(po: Path, lang: str) -> bytes:
    """The ``.mo`` of a ``.po``, as ``pybabel compile`` writes it (fuzzy messages left out)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as source:
        catalog = read_po(source, locale=lang, domain=DOMAIN)
    out = io.BytesIO()
    write_mo(out, catalog)
    return out.getvalue()


HOME_ZONE = ZoneInfo("Europe/Amsterdam")
"""The cooperative's clock: times are stored in UTC, and members read them in Dutch time."""


def local_time(moment: datetime, lang: str) -> str:
    """A moment as the members' clock shows it, labelled with that clock ("27 november 2026,
    14:05 Nederlandse tijd (CET)"): CET in winter, CEST in summer. The one way pages and PDFs
    write a time."""
    from babel.dates import format_date

    local = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(HOME_ZONE)
    day = format_date(local, "d MMMM y", locale=lang)
    t = translator(lang)
    return t("local_time", date=day, time=local.strftime("%H:%M"), zone=local.tzname())


WORDS: dict[str, str] = {
    # kinds of user and purposes, in short (table cells, chart labels)
    "public": N_("word_public"),
    "academic": N_("word_academic"),
    "commercial": N_("word_commercial"),
    "public-health": N_("word_public_health"),
    "policy": N_("word_policy"),
    "statistics": N_("word_statistics"),
    "education": N_("word_education"),
    "research": N_("word_research"),
    "innovation": N_("word_innovation"),
    "ai-training": N_("word_ai_training"),
    "care-improvement": N_("word_care_improvement"),
    # members and permits
    "active": N_("word_active"),
    "left": N_("word_left"),
    "granted": N_("word_granted"),
    "expired": N_("word_expired"),
    "revoked": N_("word_revoked"),
    # proposals
    "scheduled": N_("word_scheduled"),
    "open": N_("word_open"),
    "awaiting-close": N_("word_awaiting_close"),
    "adopted": N_("word_adopted"),
    "rejected": N_("word_rejected"),
    # a member's preference for a purpose and kind of user
    "allow": N_("word_allow"),
    "deny": N_("word_deny"),
    "mandate": N_("word_mandate"),
    "proxy": N_("word_proxy"),
    # compliance flags of a permit (coop.permits.usage)
    "use-before-validity": N_("word_use_before_validity"),
    "use-after-revocation": N_("word_use_after_revocation"),
    "use-after-expiry": N_("word_use_after_expiry"),
    "foreign-manifest": N_("word_foreign_manifest"),
    "ineligible-members": N_("word_ineligible_members"),
    "deletion-overdue": N_("word_deletion_overdue"),
    "results-overdue": N_("word_results_overdue"),
    "incident": N_("word_incident"),
    # yes and no, as answers (a vote's yes and no are other words: vote_yes, vote_no)
    "yes": N_("word_yes"),
    "no": N_("word_no"),
}
"""The short word for each code the pages and reports show (a status, an outcome, a
preference ...), as a catalogue key."""


def word(code: str, lang: str) -> str | None:
    """The short word for ``code`` in ``lang``, or None when the code has none."""
    key = WORDS.get(code)
    return translator(lang)(key) if key else None
