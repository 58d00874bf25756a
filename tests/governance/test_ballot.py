"""What a ballot says a proposed mandate would change: the rules that differ from the one in
force, the default included, and never the uses the law decides."""

from __future__ import annotations

from coop.governance.ballot import mandate_changes
from coop.governance.documents import Mandate, MandateDecision, MandateRule
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
