"""What a ballot says a proposed mandate would change: the rules that differ from the one in
force, the default included, and never the uses the law decides."""

from __future__ import annotations

from datetime import UTC, datetime

from coop.governance.ballot import Ballot, in_words, mandate_changes
from coop.governance.documents import DocumentKind, Mandate, MandateDecision, MandateRule
from coop.vocabulary.terms import Purpose, UserType


def test_only_the_rules_that_would_decide_otherwise_are_changes() -> None:
    research = MandateRule(purpose=Purpose.research, user_type=UserType.public, decision=MandateDecision.allow)
    now = Mandate(rules=[research])
    assert mandate_changes(now, now) == ()
    stricter = research.model_copy(update={"sensitive_requires_explicit_allow": False})
    changes = mandate_changes(now, Mandate(rules=[stricter]))
    assert [(c.purpose, c.user_type) for c in changes] == [(Purpose.research, UserType.public)]
    everything = mandate_changes(now, Mandate(default="allow", rules=[research]))
    pairs = {(c.purpose, c.user_type) for c in everything}
    assert (Purpose.care_improvement, UserType.commercial) in pairs
    assert (Purpose.statistics, UserType.academic) not in pairs  # the law decides it, not a vote
    assert len(pairs) == len(Purpose) * len(UserType) - 6 - 1


def test_the_whole_text_says_which_rules_need_the_members_own_yes_for_sensitive_data() -> None:
    needs = MandateRule(purpose=Purpose.innovation, user_type=UserType.academic, decision=MandateDecision.allow)
    free = needs.model_copy(update={"user_type": UserType.public, "sensitive_requires_explicit_allow": False})
    moment = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
    proposed = Mandate(rules=[needs, free])
    b = Ballot(1, "t", DocumentKind.mandate, moment, moment, 10, 50, proposed, Mandate(), None, None)
    lines = in_words(b, "en").text
    own_yes = "by academic or non-profit: yes (sensitive data only with your own yes)."
    assert any(line.endswith(own_yes) for line in lines)
    assert any(line.endswith("by public sector: yes (sensitive data too).") for line in lines)
    assert any(line.endswith(": no.") for line in lines)  # the default denies: nothing to add about sensitive data
