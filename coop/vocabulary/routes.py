"""HTTP: the EHDS vocabulary with a label in each of the cooperative's languages (public)."""

from __future__ import annotations

from fastapi import APIRouter

from coop.i18n import LANGUAGES
from coop.vocabulary import terms
from coop.vocabulary.schemas import TermOut, VocabularyOut

router = APIRouter(tags=["vocabulary"])

DECISIONS = {
    "allow": terms.Term("71", "Ja, mijn gegevens mogen hiervoor gebruikt worden", "Yes, my data may be used for this"),
    "deny": terms.Term("71", "Nee, niet hiervoor", "No, not for this"),
    "mandate": terms.Term("-", "De coöperatie beslist voor mij", "The cooperative decides for me"),
    "proxy": terms.Term("-", "Mijn gemachtigde beslist voor mij", "My proxy decides for me"),
}


def _terms(table: dict, **flags: frozenset) -> list[TermOut]:  # type: ignore[type-arg]
    return [
        TermOut(
            code=str(code),
            article=t.article,
            label={lang: getattr(t, lang) for lang in LANGUAGES},
            **{name: code in members for name, members in flags.items()},
        )
        for code, t in table.items()
    ]


@router.get("/vocabulary", response_model=VocabularyOut, summary="EHDS purposes, uses, user types, categories (public)")
def vocabulary() -> VocabularyOut:
    return VocabularyOut(
        purposes=_terms(terms.PURPOSES, public_sector_only=terms.PUBLIC_SECTOR_ONLY),
        prohibited_uses=_terms(terms.PROHIBITED_USES),
        user_types=_terms(terms.USER_TYPES),
        categories=_terms(terms.CATEGORIES, sensitive=terms.SENSITIVE),
        decisions=_terms(DECISIONS),
    )
