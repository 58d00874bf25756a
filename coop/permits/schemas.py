"""API shapes for permits."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from coop.permits import rules
from coop.permits.models import Manifest, Permit, Result, UsageEvent
from coop.permits.service import NewPermit
from coop.permits.usage import ResultKind, UsageKind
from coop.types import CleanStr, Time, web_url
from coop.vocabulary.terms import Category, Purpose, UserType, from_mask
from ledger import canonical


class PermitIn(BaseModel):
    """The contents of the permit (Art. 68) as the HDAB granted it."""

    model_config = ConfigDict(extra="forbid")

    permit_number: str = Field(pattern=r"^[A-Za-z0-9._/-]{1,80}$")
    applicant: CleanStr = Field(min_length=1, max_length=200)
    user_type: UserType
    purposes: list[Purpose] = Field(min_length=1, max_length=len(Purpose))
    categories: list[Category] = Field(min_length=1, max_length=len(Category))
    authorised_persons: list[CleanStr] = Field(default_factory=list, max_length=200)
    conditions: CleanStr = Field(default="", max_length=4000)
    data_holders: list[CleanStr] = Field(
        default_factory=list, max_length=50, description="organisations (as on their API keys) that may report usage"
    )
    approved_at: Time
    valid_from: Time
    valid_until: Time
    fee_cents: int = Field(ge=0, le=10**12)
    benefit_share_pct: int = Field(ge=0, le=100)
    consultation_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    on_behalf_of_public_body: bool = Field(
        default=False,
        description="true when the applicant processes the data on behalf of a public-sector body "
        "(EHDS Art. 53(2)): the use is then decided as that body's, also for the purposes reserved to it",
    )

    def new(self) -> NewPermit:
        """The permit to register, each purpose and kind of data named once."""
        return NewPermit(
            permit_number=self.permit_number,
            applicant=self.applicant,
            user_type=self.user_type,
            purposes=tuple(dict.fromkeys(self.purposes)),
            categories=tuple(dict.fromkeys(self.categories)),
            authorised_persons=tuple(self.authorised_persons),
            conditions=self.conditions,
            data_holders=tuple(self.data_holders),
            approved_at=self.approved_at,
            valid_from=self.valid_from,
            valid_until=self.valid_until,
            fee_cents=self.fee_cents,
            benefit_share_pct=self.benefit_share_pct,
            consultation_id=self.consultation_id,
            on_behalf_of_public_body=self.on_behalf_of_public_body,
        )


class ExtendIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    valid_until: Time


class RevokeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: CleanStr = Field(min_length=1, max_length=2000)


class PermitOut(BaseModel):
    id: int
    permit_number: str
    applicant: str
    user_type: UserType
    purposes: list[Purpose]
    categories: list[Category]
    authorised_persons: list[str]
    conditions: str
    data_holders: list[str]
    approved_at: datetime
    valid_from: datetime
    valid_until: datetime
    extended_until: datetime | None
    revoked_at: datetime | None
    revocation_reason: str | None
    fee_cents: int
    benefit_share_pct: int
    consultation_id: int | None
    on_behalf_of_public_body: bool = Field(description="the applicant processes on behalf of a public-sector body")
    status: rules.Status
    processing_ends: datetime
    results_due: datetime | None = Field(
        description="Art. 61(4): 18 months after processing ends; null when processing never started "
        "(revoked before its validity began)"
    )
    deletion_due: datetime = Field(description="Art. 68(12): 6 months after expiry or revocation")

    @classmethod
    def of(cls, p: Permit, now: datetime) -> PermitOut:
        assert p.id is not None
        end = rules.processing_ends(p.valid_until, p.extended_until, p.revoked_at)
        return cls(
            id=p.id,
            permit_number=p.permit_number,
            applicant=p.applicant,
            user_type=UserType(p.user_type),
            purposes=from_mask(Purpose, p.purposes_mask),
            categories=from_mask(Category, p.categories_mask),
            authorised_persons=canonical.loads(p.authorised_persons),
            conditions=p.conditions,
            data_holders=canonical.loads(p.data_holders),
            approved_at=p.approved_at,
            valid_from=p.valid_from,
            valid_until=p.valid_until,
            extended_until=p.extended_until,
            revoked_at=p.revoked_at,
            revocation_reason=p.revocation_reason,
            fee_cents=p.fee_cents,
            benefit_share_pct=p.benefit_share_pct,
            consultation_id=p.consultation_id,
            on_behalf_of_public_body=p.on_behalf_of_public_body,
            status=rules.status_of(p, now),
            processing_ends=end,
            results_due=rules.results_duty(p.valid_from, end),
            deletion_due=rules.deletion_due(end),
        )


class ManifestOut(BaseModel):
    id: int
    permit_id: int
    as_of: datetime = Field(description="the permit's approval time: choices in force then decide (Art. 71(3))")
    size: int
    root_hash: str = Field(description="RFC 9162 root over the sorted pseudonyms (leaf: the 32 pseudonym bytes)")
    ledger_seq: int
    created_at: datetime

    @classmethod
    def of(cls, m: Manifest) -> ManifestOut:
        assert m.id is not None
        return cls(
            id=m.id,
            permit_id=m.permit_id,
            as_of=m.as_of,
            size=m.size,
            root_hash=m.root_hash.hex(),
            ledger_seq=m.ledger_seq,
            created_at=m.created_at,
        )


class DataUseOut(BaseModel):
    """A permit that included the member, as the member sees it."""

    permit_id: int
    permit_number: str
    applicant: str
    user_type: UserType
    purposes: list[Purpose]
    categories: list[Category]
    status: rules.Status
    approved_at: datetime
    included_since: datetime
    results: list[ResultOut] = Field(default_factory=list, description="what came of it")


class UsageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: UsageKind
    occurred_at: Time
    manifest_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    records: int | None = Field(default=None, ge=0, le=10**12)
    description: CleanStr = Field(default="", max_length=4000)
    id: str | None = Field(
        default=None, pattern=r"^[A-Za-z0-9._:-]{1,80}$", description="your reference: makes retries safe"
    )


class UsageOut(BaseModel):
    id: int
    permit_id: int
    kind: UsageKind
    occurred_at: datetime
    manifest_id: int | None
    records: int | None
    description: str
    client_ref: str | None
    reported_at: datetime

    @classmethod
    def of(cls, u: UsageEvent) -> UsageOut:
        assert u.id is not None
        return cls(
            id=u.id,
            permit_id=u.permit_id,
            kind=UsageKind(u.kind),
            occurred_at=u.occurred_at,
            manifest_id=u.manifest_id,
            records=u.records,
            description=u.description,
            client_ref=u.client_ref,
            reported_at=u.reported_at,
        )


_DOI = re.compile(r"doi:10\.\d{4,9}(\.\d+)*/\S+", re.ASCII)


def _url_or_doi(value: str) -> str:
    if value.startswith("doi:"):
        if not _DOI.fullmatch(value):
            raise ValueError("a DOI reads doi:10.<registrant>/<suffix>")
        return value
    return web_url(value)


ResultLink = Annotated[CleanStr, AfterValidator(_url_or_doi)]
"""Where a result can be found: a web page, or a DOI that resolves to one."""


class ResultIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: ResultKind
    title: CleanStr = Field(min_length=1, max_length=500)
    url: ResultLink = Field(
        pattern=r"^(https?://|doi:)\S+$", max_length=2000, description="an http(s) URL or a DOI as doi:10.NNNN/..."
    )
    published_at: Time
    open_access: bool


class ResultOut(BaseModel):
    id: int
    permit_id: int
    kind: ResultKind
    title: str
    url: str
    published_at: datetime
    open_access: bool

    @classmethod
    def of(cls, r: Result) -> ResultOut:
        assert r.id is not None
        return cls(
            id=r.id,
            permit_id=r.permit_id,
            kind=ResultKind(r.kind),
            title=r.title,
            url=r.url,
            published_at=r.published_at,
            open_access=r.open_access,
        )


class FlagOut(BaseModel):
    rule: str
    article: str
    message: str
    events: list[int] = Field(description="the usage events involved")


class ComplianceOut(BaseModel):
    permit_id: int
    status: rules.Status
    compliant: bool
    flags: list[FlagOut]
    usage: list[UsageOut]
    results: list[ResultOut]


DataUseOut.model_rebuild()
