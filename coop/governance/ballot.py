"""What a member reads before voting: the proposal, what it would change in the document in
force (for a mandate, the rules that would differ), when voting opens and closes, what makes
it adopted (quorum and majority), and their own vote, also when their proxy cast it.

Pages take the words from :func:`in_words`; nothing here writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from babel.numbers import format_currency
from sqlalchemy import select
from sqlmodel import Session, col

from coop.governance import queries as documents_queries
from coop.governance import service as documents
from coop.governance.documents import (
    BenefitPolicy,
    Conditions,
    Document,
    DocumentKind,
    Mandate,
    MandateDecision,
    MandateRule,
)
from coop.governance.models import Proposal, Vote
from coop.i18n import N_, Translate, local_time, translator
from coop.members.models import member_number
from coop.vocabulary.terms import PURPOSES, USER_TYPES, Purpose, UserType, in_sentence, law_decides
from ledger import canonical


@dataclass(frozen=True, slots=True)
class RuleChange:
    """A (purpose, user type) whose mandate rule the proposal would change."""

    purpose: Purpose
    user_type: UserType
    now: MandateRule
    proposed: MandateRule


@dataclass(frozen=True, slots=True)
class Ballot:
    """A proposal as one member sees it while voting is open."""

    id: int
    title: str
    kind: DocumentKind
    opens_at: datetime
    closes_at: datetime
    quorum_pct: int
    majority_pct: int
    proposed: Document
    in_force: Document | None
    """The document of the same kind in force now (None: none was ever recorded)."""
    vote: str | None
    voted_by_proxy: int | None
    """The member number's id of the proxy who cast this member's vote, if a proxy did."""

    @property
    def rule_changes(self) -> tuple[RuleChange, ...]:
        if not isinstance(self.proposed, Mandate):
            return ()
        now = self.in_force if isinstance(self.in_force, Mandate) else Mandate()
        return mandate_changes(now, self.proposed)


def rule_of(mandate: Mandate, purpose: Purpose, user_type: UserType) -> MandateRule:
    """The rule that decides (purpose, user type): its own, or the mandate's default."""
    return mandate.rule_for(purpose, user_type) or MandateRule(
        purpose=purpose, user_type=user_type, decision=MandateDecision(mandate.default)
    )


def mandate_changes(now: Mandate, proposed: Mandate) -> tuple[RuleChange, ...]:
    """The rules that would differ, in vocabulary order; uses the law decides are left out,
    since no mandate changes them."""
    out = []
    for purpose in Purpose:
        for user_type in UserType:
            if (purpose, user_type) in law_decides():
                continue
            before, after = rule_of(now, purpose, user_type), rule_of(proposed, purpose, user_type)
            if before != after:
                out.append(RuleChange(purpose, user_type, before, after))
    return tuple(out)


def open_for(session: Session, member_id: int, now: datetime) -> list[Ballot]:
    """The proposals open for voting at ``now``, newest first, as ``member_id`` sees them."""
    proposals = session.execute(
        select(Proposal)
        .where(col(Proposal.closed_at).is_(None), col(Proposal.opens_at) <= now, col(Proposal.closes_at) > now)
        .order_by(col(Proposal.id).desc())
    ).scalars()
    return [ballot(session, p, member_id, now) for p in proposals]


def ballot(session: Session, proposal: Proposal, member_id: int, now: datetime) -> Ballot:
    """What ``proposal`` would change in the document in force at ``now``, and the member's vote."""
    assert proposal.id is not None
    kind = DocumentKind(proposal.kind)
    in_force = documents_queries.in_force(session, kind, now)
    vote = session.execute(
        select(Vote).where(col(Vote.proposal_id) == proposal.id, col(Vote.member_id) == member_id)
    ).scalar_one_or_none()
    return Ballot(
        id=proposal.id,
        title=proposal.title,
        kind=kind,
        opens_at=proposal.opens_at,
        closes_at=proposal.closes_at,
        quorum_pct=proposal.quorum_pct,
        majority_pct=proposal.majority_pct,
        proposed=documents.validated(kind, canonical.loads(proposal.body)),
        in_force=in_force.document if in_force else None,
        vote=vote.vote if vote else None,
        voted_by_proxy=vote.proxy_member_id if vote else None,
    )


@dataclass(frozen=True, slots=True)
class BallotWords:
    kind: str
    window: str
    decides: str
    changes: list[str]
    """What would change, one sentence each."""
    text: list[str]
    """The whole proposed document, one sentence each."""
    by_proxy: str | None


def in_words(b: Ballot, lang: str) -> BallotWords:
    t = translator(lang)
    text = whole_text(b.proposed, lang)
    if isinstance(b.proposed, Mandate):
        changes = [_rule_change(c, t, lang) for c in b.rule_changes] or [t("ballot_no_change")]
        kind = t("ballot_kind_mandate")
    else:
        now = b.in_force if isinstance(b.in_force, BenefitPolicy) else None
        changes = _policy_changes(now, b.proposed, t, lang) or [t("ballot_no_change")]
        kind = t("ballot_kind_policy")
    return BallotWords(
        kind=kind,
        window=t("ballot_window", opens=local_time(b.opens_at, lang), closes=local_time(b.closes_at, lang)),
        decides=t("ballot_decides", quorum=b.quorum_pct, majority=b.majority_pct),
        changes=changes,
        text=text,
        by_proxy=(
            t("ballot_proxy_voted", number=member_number(b.voted_by_proxy), vote=t(f"vote_{b.vote}"))
            if b.voted_by_proxy is not None and b.vote
            else None
        ),
    )


def whole_text(document: Document, lang: str) -> list[str]:
    """The whole document in words, one sentence each: for a mandate, every rule a mandate
    may set (what the law decides left out); for a benefit policy, each of its parts."""
    t = translator(lang)
    if isinstance(document, Mandate):
        return [_rule_line(r, t, lang) for r in _lawful_rules(document)]
    return _policy_lines(document, t, lang)


def conditions_in_words(conditions: Conditions, t: Translate) -> str:
    """A conditional rule's terms as one phrase ("with open results and after an ethics review")."""
    parts = []
    if conditions.min_benefit_share_pct is not None:
        parts.append(t("cond_share", pct=conditions.min_benefit_share_pct))
    if conditions.open_results:
        parts.append(t("cond_open"))
    if conditions.processing_in_eu:
        parts.append(t("cond_eu"))
    if conditions.ethics_review:
        parts.append(t("cond_ethics"))
    if conditions.max_duration_months is not None:
        parts.append(t("cond_duration", months=conditions.max_duration_months))
    return t("and").join(parts)


def _decision(rule: MandateRule, t: Translate, sensitive: bool) -> str:
    if rule.decision is MandateDecision.conditional and rule.conditions:
        said = t("ballot_only", conditions=conditions_in_words(rule.conditions, t))
    else:
        said = t("ballot_yes") if rule.decision is MandateDecision.allow else t("ballot_no")
    if sensitive and rule.decision is not MandateDecision.deny:
        said += t("ballot_sensitive_own_yes") if rule.sensitive_requires_explicit_allow else t("ballot_sensitive_too")
    return said


def _pair(purpose: Purpose, user_type: UserType, lang: str) -> dict[str, str]:
    return {
        "purpose": in_sentence(str(getattr(PURPOSES[purpose], lang))),
        "user_type": in_sentence(str(getattr(USER_TYPES[user_type], lang))),
    }


def _rule_change(c: RuleChange, t: Translate, lang: str) -> str:
    sensitive = c.now.sensitive_requires_explicit_allow != c.proposed.sensitive_requires_explicit_allow
    now, proposed = _decision(c.now, t, sensitive), _decision(c.proposed, t, sensitive)
    return t("ballot_rule_change", **_pair(c.purpose, c.user_type, lang), now=now, proposed=proposed)


def _rule_line(rule: MandateRule, t: Translate, lang: str) -> str:
    """One rule of the whole text, with whether it needs the member's own yes for sensitive data."""
    return t("ballot_rule", **_pair(rule.purpose, rule.user_type, lang), decision=_decision(rule, t, True))


def _lawful_rules(mandate: Mandate) -> list[MandateRule]:
    return [rule_of(mandate, p, u) for p in Purpose for u in UserType if (p, u) not in law_decides()]


def _euros(cents: int, lang: str) -> str:
    return format_currency(Decimal(cents).scaleb(-2), "EUR", locale=lang).replace("\N{NO-BREAK SPACE}", " ")


def _policy_values(policy: BenefitPolicy, lang: str) -> dict[str, str]:
    """Each part of the policy, by the catalogue key of its name."""
    return {
        N_("policy_reserve"): f"{policy.reserve_pct}%",
        N_("policy_solidarity"): f"{policy.solidarity_pct}%",
        N_("policy_members"): f"{policy.members_pct}%",
        N_("policy_minimum_payout"): _euros(policy.minimum_payout_cents, lang),
    }


def _policy_changes(now: BenefitPolicy | None, proposed: BenefitPolicy, t: Translate, lang: str) -> list[str]:
    before = _policy_values(now, lang) if now else {}
    after = _policy_values(proposed, lang)
    return [
        t("ballot_policy_change", part=t(key), now=before.get(key, "-"), proposed=value)
        for key, value in after.items()
        if before.get(key) != value
    ]


def _policy_lines(policy: BenefitPolicy, t: Translate, lang: str) -> list[str]:
    return [t("ballot_policy_line", part=t(key), value=value) for key, value in _policy_values(policy, lang).items()]


@dataclass(frozen=True, slots=True)
class Closed:
    """A closed proposal as one member sees it afterwards: what was decided, how many voted,
    and how their own vote was cast."""

    id: int
    title: str
    kind: DocumentKind
    closed_at: datetime
    adopted: bool
    yes: int
    no: int
    abstain: int
    electorate: int
    quorum_pct: int
    majority_pct: int
    vote: str | None
    voted_by_proxy: int | None


def closed_for(session: Session, member_id: int, limit: int = 10) -> list[Closed]:
    """The ``limit`` proposals closed last, newest first, with the member's vote on each."""
    rows = session.execute(
        select(Proposal, Vote)
        .outerjoin(Vote, (col(Vote.proposal_id) == col(Proposal.id)) & (col(Vote.member_id) == member_id))
        .where(col(Proposal.closed_at).is_not(None))
        .order_by(col(Proposal.closed_at).desc(), col(Proposal.id).desc())
        .limit(limit)
    ).all()
    out = []
    for proposal, vote in rows:
        assert proposal.id is not None and proposal.closed_at is not None
        out.append(
            Closed(
                id=proposal.id,
                title=proposal.title,
                kind=DocumentKind(proposal.kind),
                closed_at=proposal.closed_at,
                adopted=proposal.outcome == "adopted",
                yes=proposal.yes or 0,
                no=proposal.no or 0,
                abstain=proposal.abstain or 0,
                electorate=proposal.electorate or 0,
                quorum_pct=proposal.quorum_pct,
                majority_pct=proposal.majority_pct,
                vote=vote.vote if vote else None,
                voted_by_proxy=vote.proxy_member_id if vote else None,
            )
        )
    return out


def closed_in_words(c: Closed, lang: str) -> list[str]:
    """The outcome, the turnout against the quorum, the count, and the member's own vote."""
    t = translator(lang)
    cast = c.yes + c.no + c.abstain
    share = 0 if c.electorate == 0 else round(cast * 100 / c.electorate)
    quorum_met = cast * 100 >= c.quorum_pct * c.electorate
    if c.vote is None:
        mine = t("ballot_you_did_not_vote")
    elif c.voted_by_proxy is not None:
        mine = t("ballot_proxy_cast", number=member_number(c.voted_by_proxy), vote=t(f"vote_{c.vote}"))
    else:
        mine = t("your_vote", vote=t(f"vote_{c.vote}"))
    closed = local_time(c.closed_at, lang)
    return [
        t("ballot_closed_adopted", closed=closed) if c.adopted else t("ballot_closed_rejected", closed=closed),
        t("ballot_turnout", cast=cast, electorate=c.electorate, share=share),
        t("ballot_quorum_met", quorum=c.quorum_pct) if quorum_met else t("ballot_quorum_not_met", quorum=c.quorum_pct),
        t("ballot_count", yes=c.yes, no=c.no, abstain=c.abstain, majority=c.majority_pct),
        mine,
    ]
