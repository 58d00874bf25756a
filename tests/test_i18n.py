"""The cooperative's languages and its catalogue: Dutch and English are complete, the
template holds exactly what the code and templates ask for, every language's catalogue
holds exactly the template's keys, and a catalogue is read the same compiled or not."""

from __future__ import annotations

import ast
import os
import shutil
from pathlib import Path
from string import Formatter

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_keywords, parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from coop import i18n
from coop.vocabulary.terms import Term

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = i18n.LOCALE_DIR / f"{i18n.DOMAIN}.pot"
KEYWORDS = {**DEFAULT_KEYWORDS, **parse_keywords(["t"])}  # as `make messages`: pybabel extract -k t


def _read(path: Path, lang: str | None = None) -> Catalog:
    with path.open("rb") as f:
        return read_po(f, locale=lang)


def _keys(catalog: Catalog) -> set[str]:
    return {str(m.id) for m in catalog if m.id}


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(text) if name is not None}


def _extracted() -> set[str]:
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f, "babel.cfg")
    return {
        str(message)
        for _file, _line, message, _comments, _context in extract_from_dir(ROOT, method_map, options_map, KEYWORDS)
    }


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_dutch_and_english_are_complete(lang: str) -> None:
    catalog = _read(i18n.catalogue_path(lang), lang)
    assert not catalog.fuzzy, f"the {lang} catalogue's header is marked fuzzy"
    untranslated = sorted(str(m.id) for m in catalog if m.id and not m.string)
    fuzzy = sorted(str(m.id) for m in catalog if m.id and m.fuzzy)
    assert not untranslated, f"untranslated in {lang}: {untranslated}"
    assert not fuzzy, f"fuzzy in {lang} (check the wording, then drop the flag): {fuzzy}"
    assert not list(catalog.check()), f"Babel finds errors in the {lang} catalogue"


def test_the_template_holds_every_message_of_the_code_and_templates() -> None:
    in_sources, in_template = _extracted(), _keys(_read(TEMPLATE))
    assert len(in_sources) > 200
    new, unused = sorted(in_sources - in_template), sorted(in_template - in_sources)
    assert not new, f"not yet in coop.pot (run `make messages`): {new}"
    assert not unused, f"no longer used (run `make messages`): {unused}"


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_each_catalogue_holds_exactly_the_templates_keys(lang: str) -> None:
    catalog, expected = _read(i18n.catalogue_path(lang), lang), _keys(_read(TEMPLATE))
    missing, extra = sorted(expected - _keys(catalog)), sorted(_keys(catalog) - expected)
    assert not missing, f"missing from {lang} (run `make messages`): {missing}"
    assert not extra, f"not in coop.pot, in {lang}: {extra}"
    assert not catalog.obsolete, f"obsolete messages in {lang}: {sorted(catalog.obsolete)}"


def test_every_language_fills_in_the_same_values() -> None:
    dutch = _read(i18n.catalogue_path("nl"), "nl")
    for lang in i18n.LANGUAGES:
        catalog = _read(i18n.catalogue_path(lang), lang)
        for message in catalog:
            if message.id and message.string:
                reference = dutch.get(message.id)
                assert reference is not None
                assert _fields(str(message.string)) == _fields(str(reference.string)), (lang, message.id)


def test_every_language_has_a_catalogue_and_names_the_vocabulary() -> None:
    assert i18n.LANGUAGES[0] == i18n.DEFAULT_LANGUAGE == "nl"
    for lang in i18n.LANGUAGES:
        assert i18n.catalogue_path(lang).is_file(), lang
        assert lang in Term.__dataclass_fields__, f"the EHDS vocabulary has no {lang} names"
        assert i18n.autonym(lang)
    assert (i18n.autonym("nl"), i18n.autonym("en")) == ("Nederlands", "English")
    assert i18n.language_or_default("en") == "en" and i18n.language_or_default("xx") == "nl"
    assert i18n.language_or_default(None) == "nl"


def test_t_fills_in_values_and_a_missing_key_is_a_bug() -> None:
    assert i18n.translator("nl")("hello", name="Anna") == "Hallo Anna"
    assert i18n.translator("en")("hello", name="Anna") == "Hello Anna"
    with pytest.raises(KeyError):
        i18n.translator("nl")("no-such-key")
    with pytest.raises(ValueError):
        i18n.translator("xx")
    assert i18n.word("granted", "nl") == "verleend" and i18n.word("no-such-code", "nl") is None


def test_every_message_is_where_the_extractor_sees_it() -> None:
    """Babel reads no call inside an f-string (before Python 3.12): a key asked for only
    there would never reach the catalogue."""
    hidden = []
    for package in ("coop", "reports"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.JoinedStr):
                    hidden += [
                        f"{path.relative_to(ROOT)}:{call.lineno}"
                        for call in ast.walk(node)
                        if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id in KEYWORDS
                    ]
    assert not hidden, f"t() or N_() inside an f-string: {hidden}"


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_a_catalogue_reads_the_same_compiled_or_from_its_po(
    lang: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a .mo, or with one older than its .po, the .po is compiled in memory; a fresh
    .mo is read as it is."""
    po = _read(i18n.catalogue_path(lang), lang)
    expected = {str(m.id): str(m.string) for m in po if m.id}
    copy = tmp_path / "locale"
    shutil.copytree(i18n.LOCALE_DIR, copy, ignore=shutil.ignore_patterns("*.mo"))
    monkeypatch.setattr(i18n, "LOCALE_DIR", copy)
    mo = i18n.catalogue_path(lang, ".mo")
    try:
        for state in ("missing", "stale", "fresh"):
            i18n._catalogue.cache_clear()
            if state == "stale":
                mo.write_bytes(b"not a catalogue")  # were it read, reading would fail
                os.utime(mo, (1, 1))
            if state == "fresh":
                mo.write_bytes(i18n._compile(i18n.catalogue_path(lang), lang))
                with mo.open("rb") as f:
                    assert {str(m.id): str(m.string) for m in read_mo(f) if m.id} == expected
            t = i18n.translator(lang)
            assert all(t(key) == text.format() for key, text in expected.items() if not _fields(text)), state
    finally:
        i18n._catalogue.cache_clear()
