"""The EHDS vocabulary (Regulation (EU) 2025/327) as typed enums, each with its article
and its Dutch and English labels. Clients read it from ``GET /api/v1/vocabulary`` and
never hard-code it.

The order of each enum is fixed: positions give the bit a purpose, user type or category
takes in the compact encodings of :mod:`coop.choices` (appending is fine, reordering is not).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import TypeVar

E = TypeVar("E", bound=StrEnum)


@dataclass(frozen=True, slots=True)
class Term:
    article: str
    nl: str
    en: str


class Purpose(StrEnum):
    """Purposes of secondary use, Art. 53(1): a closed list."""

    public_health = "public-health"
    """Art. 53(1)(a): public interest in public or occupational health. Public sector only (53(2))."""
    policy = "policy"
    """Art. 53(1)(b): policy-making and regulatory activities. Public sector only (53(2))."""
    statistics = "statistics"
    """Art. 53(1)(c): statistics. Public sector only (53(2))."""
    education = "education"
    """Art. 53(1)(d): education or teaching activities."""
    research = "research"
    """Art. 53(1)(e): scientific research related to health or care sectors."""
    innovation = "innovation"
    """Art. 53(1)(e)(i): development and innovation of products or services."""
    ai_training = "ai-training"
    """Art. 53(1)(e)(ii): training, testing and evaluating algorithms and AI systems."""
    care_improvement = "care-improvement"
    """Art. 53(1)(f): improving care delivery, treatment optimisation and provision of care."""


PUBLIC_SECTOR_ONLY = frozenset({Purpose.public_health, Purpose.policy, Purpose.statistics})
"""Art. 53(2): purposes (a) to (c) are open to public-sector bodies only, and to third parties
processing on their behalf (decided as the body's use)."""


class ProhibitedUse(StrEnum):
    """Uses that are never allowed, Art. 54, whatever any choice or mandate says."""

    detrimental_decisions = "detrimental-decisions"
    """Art. 54(a): decisions detrimental to a person or group based on their health data."""
    discriminating_decisions = "discriminating-decisions"
    """Art. 54(b): decisions on jobs, insurance, credit, premiums or other terms that discriminate."""
    advertising = "advertising"
    """Art. 54(c): advertising or marketing."""
    harmful_products = "harmful-products"
    """Art. 54(d): products or services that harm (drugs, alcohol, tobacco, weapons, addictive design)."""
    against_ethics_law = "against-ethics-law"
    """Art. 54(e): activities in conflict with ethical provisions of national law."""


class UserType(StrEnum):
    """Who applies for a permit: the cooperative's mandate and members distinguish these."""

    public = "public"
    """A public-sector body (Art. 53(2))."""
    academic = "academic"
    """An academic or other non-profit research organisation."""
    commercial = "commercial"
    """A commercial company."""


def is_prohibited(purpose: Purpose | ProhibitedUse, user_type: UserType) -> bool:
    """Never allowed, whatever any choice or mandate says: a prohibited use (Art. 54), or a
    public-sector-only purpose (Art. 53(2)) for a user type that is not public. Rule 1 of
    :mod:`coop.decisions.rules`."""
    return isinstance(purpose, ProhibitedUse) or (purpose in PUBLIC_SECTOR_ONLY and user_type is not UserType.public)


def law_decides() -> frozenset[tuple[Purpose, UserType]]:
    """The purposes and user types for which rule 1 answers, so a member's choice cannot: a
    form offers no yes for them (Art. 53(2) reserves them to public-sector bodies)."""
    return frozenset((p, u) for p in Purpose for u in UserType if is_prohibited(p, u))


class Category(StrEnum):
    """Categories of electronic health data for secondary use, Art. 51(1)(a)-(q)."""

    ehr = "ehr"
    """Art. 51(1)(a): electronic health data from electronic health records."""
    determinants = "determinants"
    """Art. 51(1)(b): data on factors impacting health (socio-economic, environmental, behavioural)."""
    aggregated = "aggregated"
    """Art. 51(1)(c): aggregated data on health-care needs, resources, access and expenditure."""
    pathogens = "pathogens"
    """Art. 51(1)(d): data on pathogens that impact human health."""
    claims = "claims"
    """Art. 51(1)(e): health-care administrative data, including claims and reimbursement."""
    genetic = "genetic"
    """Art. 51(1)(f): human genetic, epigenomic and genomic data. Sensitive (51(4))."""
    omics = "omics"
    """Art. 51(1)(g): other human molecular data (proteomic, transcriptomic, metabolomic ...). Sensitive (51(4))."""
    medical_devices = "medical-devices"
    """Art. 51(1)(h): personal health data automatically generated through medical devices."""
    wellness_apps = "wellness-apps"
    """Art. 51(1)(i): data from wellness applications. Sensitive (51(4))."""
    professionals = "professionals"
    """Art. 51(1)(j): data on the status, specialisation and institution of health professionals."""
    population_registries = "population-registries"
    """Art. 51(1)(k): population-based health data registries."""
    medical_registries = "medical-registries"
    """Art. 51(1)(l): data from medical registries and mortality registries."""
    clinical_trials = "clinical-trials"
    """Art. 51(1)(m): data from clinical trials, studies, investigations and performance studies."""
    other_devices = "other-devices"
    """Art. 51(1)(n): health data from other devices."""
    product_registries = "product-registries"
    """Art. 51(1)(o): data from registries for medicinal products and medical devices."""
    research_cohorts = "research-cohorts"
    """Art. 51(1)(p): data from research cohorts, questionnaires and surveys related to health."""
    biobanks = "biobanks"
    """Art. 51(1)(q): health data from biobanks and associated databases. Sensitive (51(4))."""


SENSITIVE = frozenset({Category.genetic, Category.omics, Category.wellness_apps, Category.biobanks})
"""Art. 51(4): categories for which stricter safeguards may apply."""


PURPOSES: dict[Purpose, Term] = {
    Purpose.public_health: Term(
        "53(1)(a)", "Volksgezondheid en gezondheid op het werk", "Public and occupational health"
    ),
    Purpose.policy: Term("53(1)(b)", "Beleid en regelgeving", "Policy-making and regulation"),
    Purpose.statistics: Term("53(1)(c)", "Statistiek", "Statistics"),
    Purpose.education: Term("53(1)(d)", "Onderwijs", "Education and teaching"),
    Purpose.research: Term("53(1)(e)", "Wetenschappelijk onderzoek", "Scientific research"),
    Purpose.innovation: Term(
        "53(1)(e)(i)", "Ontwikkeling van producten en diensten", "Development of products and services"
    ),
    Purpose.ai_training: Term("53(1)(e)(ii)", "Training en toetsing van AI", "Training and testing of AI"),
    Purpose.care_improvement: Term("53(1)(f)", "Betere zorg", "Improving care"),
}

PROHIBITED_USES: dict[ProhibitedUse, Term] = {
    ProhibitedUse.detrimental_decisions: Term("54(a)", "Besluiten die mensen schaden", "Decisions that harm people"),
    ProhibitedUse.discriminating_decisions: Term(
        "54(b)", "Besluiten over werk, verzekering of krediet", "Decisions on jobs, insurance or credit"
    ),
    ProhibitedUse.advertising: Term("54(c)", "Reclame en marketing", "Advertising and marketing"),
    ProhibitedUse.harmful_products: Term(
        "54(d)",
        "Schadelijke producten (drugs, alcohol, tabak, wapens, verslaving)",
        "Harmful products (drugs, alcohol, tobacco, weapons, addiction)",
    ),
    ProhibitedUse.against_ethics_law: Term(
        "54(e)", "Strijdig met nationale ethische regels", "Against national ethics law"
    ),
}

USER_TYPES: dict[UserType, Term] = {
    UserType.public: Term("53(2)", "Overheid", "Public sector"),
    UserType.academic: Term("53(1)", "Universiteit of non-profit", "Academic or non-profit"),
    UserType.commercial: Term("53(1)", "Bedrijf", "Commercial company"),
}

CATEGORIES: dict[Category, Term] = {
    Category.ehr: Term("51(1)(a)", "Medisch dossier", "Electronic health records"),
    Category.determinants: Term("51(1)(b)", "Leefstijl en omgeving", "Determinants of health"),
    Category.aggregated: Term(
        "51(1)(c)", "Zorggebruik en -kosten (samengevat)", "Care needs and spending (aggregated)"
    ),
    Category.pathogens: Term("51(1)(d)", "Ziekteverwekkers", "Pathogens"),
    Category.claims: Term("51(1)(e)", "Declaraties en administratie", "Claims and administrative data"),
    Category.genetic: Term("51(1)(f)", "Erfelijk materiaal (DNA)", "Genetic and genomic data"),
    Category.omics: Term("51(1)(g)", "Andere moleculaire gegevens", "Other -omics data"),
    Category.medical_devices: Term("51(1)(h)", "Gegevens uit medische hulpmiddelen", "Medical-device data"),
    Category.wellness_apps: Term("51(1)(i)", "Gezondheidsapps", "Wellness apps"),
    Category.professionals: Term("51(1)(j)", "Gegevens over zorgverleners", "Health-professional data"),
    Category.population_registries: Term("51(1)(k)", "Bevolkingsregisters", "Population registries"),
    Category.medical_registries: Term("51(1)(l)", "Medische en sterfteregisters", "Medical and mortality registries"),
    Category.clinical_trials: Term("51(1)(m)", "Klinische studies", "Clinical trials"),
    Category.other_devices: Term("51(1)(n)", "Gegevens uit andere apparaten", "Other device data"),
    Category.product_registries: Term("51(1)(o)", "Registers van geneesmiddelen en hulpmiddelen", "Product registries"),
    Category.research_cohorts: Term("51(1)(p)", "Onderzoeksgroepen en vragenlijsten", "Research cohorts and surveys"),
    Category.biobanks: Term("51(1)(q)", "Biobanken", "Biobanks"),
}


@cache
def _positions(enum_type: type[StrEnum]) -> dict[StrEnum, int]:
    return {m: i for i, m in enumerate(enum_type)}


def position(member: StrEnum) -> int:
    """A term's fixed position in its enum (its bit in the compact masks)."""
    return _positions(type(member))[member]


def mask(members: Iterable[StrEnum]) -> int:
    """The OR of the bits of a collection of purposes or categories."""
    out = 0
    for m in members:
        out |= 1 << position(m)
    return out


ALL_PURPOSES = mask(Purpose)
"""Every purpose: a proxy appointed for all of them, or a change that concerns them all."""


def from_mask(enum_type: type[E], value: int) -> list[E]:
    return [m for m in enum_type if value >> position(m) & 1]


def in_sentence(name: str) -> str:
    """A name as it reads inside a sentence: 'Scientific research' -> 'scientific research',
    but 'AI training' stays as it is."""
    return name if len(name) > 1 and name[1].isupper() else name[:1].lower() + name[1:]
