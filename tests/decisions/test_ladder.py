"""The decision ladder members are shown: the rules of coop.decisions.rules, in order, before
any application."""

from __future__ import annotations

from coop.choices import encoding
from coop.choices.encoding import Preference
from coop.decisions.ladder import ladder
from coop.decisions.rules import Decision, Reason
from coop.governance.documents import Conditions, Mandate, MandateRule
from coop.vocabulary.terms import Purpose, UserType, mask

MANDATE = Mandate(
    default="allow",
    rules=[
        MandateRule(
            purpose=Purpose.research,
            user_type=UserType.commercial,
            decision="conditional",
            conditions=Conditions(min_benefit_share_pct=5),
        )
    ],
)


def _step(steps: list, purpose: Purpose, user_type: UserType):  # type: ignore[no-untyped-def,type-arg]
    return next(s for s in steps if s.purpose is purpose and s.user_type is user_type)


def test_opting_out_denies_every_line_whatever_the_choices_and_mandate() -> None:
    own = encoding.put(0, Purpose.research, UserType.academic, Preference.allow)
    steps = ladder(MANDATE, True, own, mask(Purpose))
    assert {s.decision for s in steps} == {Decision.deny}
    assert {s.reason for s in steps} == {Reason.prohibited, Reason.opt_out}


def test_own_choice_then_proxy_then_mandate() -> None:
    own = encoding.put(0, Purpose.research, UserType.academic, Preference.deny)
    own = encoding.put(own, Purpose.education, UserType.academic, Preference.proxy)
    own = encoding.put(own, Purpose.innovation, UserType.academic, Preference.proxy)
    steps = ladder(MANDATE, False, own, mask([Purpose.education]))
    assert _step(steps, Purpose.research, UserType.academic).reason is Reason.own_choice
    assert _step(steps, Purpose.education, UserType.academic).reason is Reason.proxy
    without_proxy = _step(steps, Purpose.innovation, UserType.academic)
    assert without_proxy.reason is Reason.mandate and without_proxy.no_proxy_now
    conditional = _step(steps, Purpose.research, UserType.commercial)
    assert conditional.decision is Decision.conditional and conditional.conditions == Conditions(
        min_benefit_share_pct=5
    )
    assert _step(steps, Purpose.statistics, UserType.commercial).reason is Reason.prohibited
