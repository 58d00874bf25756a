"""API shape of the vocabulary."""

from __future__ import annotations

from pydantic import BaseModel


class TermOut(BaseModel):
    code: str
    article: str
    label: dict[str, str]
    public_sector_only: bool = False
    sensitive: bool = False


class VocabularyOut(BaseModel):
    regulation: str = "Regulation (EU) 2025/327 (European Health Data Space)"
    purposes: list[TermOut]
    prohibited_uses: list[TermOut]
    user_types: list[TermOut]
    categories: list[TermOut]
    decisions: list[TermOut]
