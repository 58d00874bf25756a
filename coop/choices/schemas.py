"""API shapes for choices."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from coop.choices import encoding
from coop.choices.encoding import Preference
from coop.choices.queries import Seen
from coop.vocabulary.terms import SENSITIVE, Category, Purpose, UserType, from_mask, position

_SENSITIVE_YES = (
    "the sensitive kinds of data (EHDS Art. 51(4): "
    + ", ".join(sorted(c.value for c in SENSITIVE))
    + ") the member gave their own explicit yes for: where the mandate needs the member's explicit "
    "allow for sensitive data, it may then use these. A category the member excluded stays excluded"
)


class PreferenceItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    purpose: Purpose
    user_type: UserType
    decision: Preference


class ChoicesPatch(BaseModel):
    """Only the fields given change. ``excluded_categories`` replaces the whole set."""

    model_config = ConfigDict(extra="forbid")

    opt_out: bool | None = Field(default=None, description="Art. 71: binds permits approved after it")
    preferences: list[PreferenceItem] | None = Field(default=None, max_length=len(encoding.PAIRS))
    excluded_categories: list[Category] | None = Field(default=None, max_length=len(Category))
    donate_dividend: bool | None = None
    sensitive_yes: list[Category] | None = Field(
        default=None,
        max_length=len(SENSITIVE),
        description=_SENSITIVE_YES + ". Replaces the whole set; only the member themselves may change it "
        "(403 own-yes-only), and only with sensitive categories (422 not-sensitive)",
    )


class ChoicesOut(BaseModel):
    """A version of a member's choices. A proxy sees only the purposes and the time their
    appointments cover: other purposes' preferences are left out, versions they cannot tell
    apart are one (under the latest number), and what they may not see is null."""

    member_id: int
    version: int
    valid_from: datetime
    valid_to: datetime | None
    is_member: bool
    opt_out: bool
    excluded_categories: list[Category]
    sensitive_yes: list[Category] = Field(description=_SENSITIVE_YES)
    donate_dividend: bool | None = Field(description="null for a proxy: not theirs to see")
    preferences: list[PreferenceItem] = Field(
        description="every (purpose, user type) pair; for a proxy, those of the purposes they decide"
    )
    recorded_by: str | None = Field(description="who made this version; for a proxy, only their own changes")
    acting_proxy_id: int | None = Field(description="the proxy who made this change for the member, if any")
    acting_carer_id: int | None = Field(
        default=None, description="the carer (not a member) who made this change for the member as proxy, if any"
    )

    @classmethod
    def of(cls, v: Seen) -> ChoicesOut:
        return cls(
            member_id=v.member_id,
            version=v.version,
            valid_from=v.valid_from,
            valid_to=v.valid_to,
            is_member=v.is_member,
            opt_out=v.opt_out,
            excluded_categories=from_mask(Category, v.excluded_mask),
            sensitive_yes=from_mask(Category, v.sensitive_yes_mask),
            donate_dividend=v.donate_dividend,
            preferences=[
                PreferenceItem(purpose=p, user_type=u, decision=encoding.get(v.preference_mask, p, u))
                for p, u in encoding.PAIRS
                if v.purposes >> position(p) & 1
            ],
            recorded_by=v.recorded_by,
            acting_proxy_id=v.acting_proxy_id,
            acting_carer_id=v.acting_carer_id,
        )


class DocumentRef(BaseModel):
    version: int
    sha256: str = Field(description="SHA-256 of the version's text as the ledger of record holds it")
    ledger_seq: int = Field(description="the ledger event that recorded the version")
    url: str = Field(description="the whole version, public")


class AgreedOut(BaseModel):
    """A version of the member's choices and the rules in force when it began: the collective
    mandate and the benefit policy (version 1 of each is the founding statutes)."""

    choice_version: int
    since: datetime
    until: datetime | None
    mandate: DocumentRef | None = Field(description="null before the statutes were recorded")
    benefit_policy: DocumentRef | None
