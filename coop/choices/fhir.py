"""A member's current choices as an HL7 FHIR R5 ``Consent``.

R5 consent is a base ``decision`` with nested provisions as alternating exceptions:

* opted out (Art. 71): ``decision: deny`` and no exceptions;
* otherwise the base is ``deny`` and each (purpose, user type) the member allows, or leaves
  to the cooperative's mandate or a proxy, is a ``permit`` exception; the ones decided by
  others carry the extension ``urn:coop:fhir:decided-by`` (``mandate`` or ``proxy``) and
  the mandate version is the ``policyBasis``;
* excluded categories are ``deny`` exceptions nested in every permit;
* the member's own yes to sensitive categories (Art. 51(4)) is one more ``permit``
  exception for those categories (the ones not excluded), marked with the extension
  ``urn:coop:fhir:explicit-yes``: where the mandate decides and needs the member's explicit
  allow for sensitive data, it may use these; the regulatory basis then names Art. 51(4);
* proxies in force are ``grantee``s.

A proxy's view (see :class:`coop.choices.service.Seen`) has provisions for the purposes it
covers only.

Codes are those of ``GET /api/v1/vocabulary``; members are named by member number only.
"""

from __future__ import annotations

from typing import Any

from coop.carers.models import carer_label
from coop.choices import encoding
from coop.choices.encoding import Preference
from coop.choices.queries import Seen
from coop.members.models import member_number
from coop.proxies.models import ProxyAppointment
from coop.vocabulary.terms import CATEGORIES, PURPOSES, USER_TYPES, Category, Purpose, from_mask, position

MEMBER_SYSTEM = "urn:coop:member-number"
PURPOSE_SYSTEM = "urn:coop:ehds:purpose"
USER_TYPE_SYSTEM = "urn:coop:ehds:user-type"
CATEGORY_SYSTEM = "urn:coop:ehds:category"
DECIDED_BY = "urn:coop:fhir:decided-by"
EXPLICIT_YES = "urn:coop:fhir:explicit-yes"


def _categories(categories: list[Category]) -> list[dict[str, Any]]:
    return [{"coding": [{"system": CATEGORY_SYSTEM, "code": c.value, "display": CATEGORIES[c].en}]} for c in categories]


def _basis(article: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": "urn:coop:ehds:article", "code": article, "display": display}]}


def _member(member_id: int) -> dict[str, Any]:
    return {"identifier": {"system": MEMBER_SYSTEM, "value": member_number(member_id)}}


def _carer(carer_id: int) -> dict[str, Any]:
    """A proxy who is not a member, by the cooperative's number for them (never their name)."""
    return {"identifier": {"system": "urn:coop:carer-number", "value": carer_label(carer_id)}}


def consent(version: Seen, proxies: list[ProxyAppointment], mandate_version: int | None) -> dict[str, Any]:
    excluded = from_mask(Category, version.excluded_mask)
    nested_denials = [{"code": _categories(excluded)}] if excluded else []
    yes = [c for c in from_mask(Category, version.sensitive_yes_mask) if c not in excluded]
    provisions = []
    if not version.opt_out:
        for purpose, user_type in encoding.PAIRS:
            if not version.purposes >> position(purpose) & 1:
                continue
            preference = encoding.get(version.preference_mask, purpose, user_type)
            if preference is Preference.deny:
                continue
            provision: dict[str, Any] = {
                "purpose": [{"system": PURPOSE_SYSTEM, "code": purpose.value, "display": PURPOSES[purpose].en}],
                "actor": [
                    {
                        "role": {
                            "coding": [
                                {
                                    "system": USER_TYPE_SYSTEM,
                                    "code": user_type.value,
                                    "display": USER_TYPES[user_type].en,
                                }
                            ]
                        }
                    }
                ],
            }
            if preference is not Preference.allow:
                provision["extension"] = [{"url": DECIDED_BY, "valueCode": preference.value}]
            if nested_denials:
                provision["provision"] = nested_denials
            provisions.append(provision)
        if yes:
            provisions.append({"extension": [{"url": EXPLICIT_YES, "valueCode": "51(4)"}], "code": _categories(yes)})
    resource: dict[str, Any] = {
        "resourceType": "Consent",
        "id": f"member-{version.member_id}-v{version.version}",
        "status": "active" if version.is_member else "inactive",
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0", "display": "Patient Consent"}]}],
        "subject": _member(version.member_id),
        "date": version.valid_from.date().isoformat(),
        "period": {"start": version.valid_from.isoformat()},
        "grantor": [_member(version.member_id)],
        "grantee": [
            {
                **(_member(p.proxy_member_id) if p.proxy_member_id is not None else _carer(p.proxy_carer_id or 0)),
                "display": "proxy for " + ", ".join(PURPOSES[x].en for x in from_mask(Purpose, p.purposes_mask)),
            }
            for p in proxies
        ],
        "regulatoryBasis": [_basis("71", "Regulation (EU) 2025/327, Art. 71: right to opt out of secondary use")],
        "decision": "deny",
    }
    if yes and not version.opt_out:
        resource["regulatoryBasis"].append(
            _basis("51(4)", "Regulation (EU) 2025/327, Art. 51(4): stricter safeguards for sensitive data")
        )
    if mandate_version is not None:
        resource["policyBasis"] = {"url": f"urn:coop:mandate:{mandate_version}"}
    if provisions:
        resource["provision"] = provisions
    if not resource["grantee"]:
        del resource["grantee"]
    return resource
