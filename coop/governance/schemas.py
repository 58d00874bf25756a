"""API shapes for the governing documents."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from coop.governance import voting
from coop.governance.documents import BenefitPolicy, DocumentKind, Mandate
from coop.governance.models import Proposal
from coop.governance.queries import Version
from coop.governance.recorded import Recorded
from coop.governance.voting import Choice
from coop.types import CleanStr, Time
from ledger import canonical


class MandateOut(BaseModel):
    version: int
    effective_from: datetime
    source: str
    mandate: Mandate


class BenefitPolicyOut(BaseModel):
    version: int
    effective_from: datetime
    source: str
    benefit_policy: BenefitPolicy


class RecordedOut(BaseModel):
    """A version of the mandate or the benefit policy exactly as the ledger of record holds it."""

    kind: DocumentKind
    version: int
    effective_from: datetime
    source: str = Field(description="statutes (the founding statutes) or proposal:N (adopted by the members' vote)")
    text: str = Field(description="the document as canonical JSON, byte for byte as in the ledger event")
    sha256: str = Field(description="SHA-256 of text (UTF-8), hex")
    ledger_seq: int = Field(
        description="the {kind}.adopted event that recorded it; its inclusion proof is at "
        "/api/v1/ledger/proofs/inclusion"
    )
    ledger_leaf_hash: str = Field(description="that event's leaf hash in the RFC 9162 tree, hex")

    @classmethod
    def of(cls, r: Recorded) -> RecordedOut:
        return cls(
            kind=r.kind,
            version=r.version,
            effective_from=r.effective_from,
            source=r.source,
            text=r.text,
            sha256=r.sha256,
            ledger_seq=r.event_seq,
            ledger_leaf_hash=r.event_leaf_hash,
        )


def mandate_out(v: Version) -> MandateOut:
    assert v.kind is DocumentKind.mandate and isinstance(v.document, Mandate)
    return MandateOut(version=v.version, effective_from=v.effective_from, source=v.source, mandate=v.document)


def benefit_policy_out(v: Version) -> BenefitPolicyOut:
    assert v.kind is DocumentKind.benefit_policy and isinstance(v.document, BenefitPolicy)
    return BenefitPolicyOut(
        version=v.version, effective_from=v.effective_from, source=v.source, benefit_policy=v.document
    )


class ProposalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: CleanStr = Field(min_length=1, max_length=200)
    kind: DocumentKind
    body: dict[str, Any] = Field(description="the complete new mandate or benefit policy")
    opens_at: Time
    closes_at: Time
    quorum_pct: int = Field(ge=0, le=100, description="votes cast, abstentions included, as % of the electorate")
    majority_pct: int = Field(ge=50, le=99, description="adopted when more than this % of yes+no votes are yes")


class TallyOut(BaseModel):
    electorate: int
    yes: int
    no: int
    abstain: int
    turnout_pct: int = Field(description="votes cast as % of the electorate, rounded down")


class ProposalOut(BaseModel):
    id: int
    title: str
    kind: DocumentKind
    body: dict[str, Any]
    opens_at: datetime
    closes_at: datetime
    quorum_pct: int
    majority_pct: int
    status: str = Field(description="scheduled, open, awaiting-close, adopted or rejected")
    tally: TallyOut | None = Field(description="after closing only")
    adopted_version: int | None
    closed_at: datetime | None
    my_vote: str | None = Field(default=None, description="the caller's own vote, if any")

    @classmethod
    def of(cls, p: Proposal, now: datetime, my_vote: str | None = None) -> ProposalOut:
        assert p.id is not None
        status = voting.status(p, now).value
        tally = None
        if p.closed_at is not None and p.electorate is not None:
            cast = (p.yes or 0) + (p.no or 0) + (p.abstain or 0)
            tally = TallyOut(
                electorate=p.electorate,
                yes=p.yes or 0,
                no=p.no or 0,
                abstain=p.abstain or 0,
                turnout_pct=cast * 100 // p.electorate if p.electorate else 0,
            )
        return cls(
            id=p.id,
            title=p.title,
            kind=DocumentKind(p.kind),
            body=canonical.loads(p.body),
            opens_at=p.opens_at,
            closes_at=p.closes_at,
            quorum_pct=p.quorum_pct,
            majority_pct=p.majority_pct,
            status=status,
            tally=tally,
            adopted_version=p.adopted_version,
            closed_at=p.closed_at,
            my_vote=my_vote,
        )


class VoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    vote: Choice
    on_behalf_of: int | None = Field(default=None, ge=1, le=2**31 - 1, description="vote as proxy for this member")


class VoteOut(BaseModel):
    proposal_id: int
    member_id: int
    vote: Choice
    cast_at: datetime
    proxy_member_id: int | None
