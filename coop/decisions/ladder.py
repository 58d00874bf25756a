"""What decides each purpose and kind of user for a member now, before any application: the
decision ladder of :mod:`coop.decisions.rules` as members are shown it, and the mandate's
conditions in words. Pure functions: the portal and the statement tell these steps, they do
not decide them again.

Without an application there are no categories and no terms, so the ladder stops at the
rules that can apply: prohibited, opt-out, own choice, proxy, mandate (a conditional rule
stays conditional and names its conditions).
"""

from __future__ import annotations

from dataclasses import dataclass

from coop.choices import encoding
from coop.choices.encoding import Preference
from coop.decisions.rules import Decision, Reason, is_prohibited, mandate_decision
from coop.governance.ballot import conditions_in_words
from coop.governance.documents import Conditions, Mandate
from coop.i18n import translator
from coop.vocabulary.terms import Purpose, UserType, position


@dataclass(frozen=True, slots=True)
class Step:
    """The rule that decides one (purpose, user type) for a member now, and what it decides."""

    purpose: Purpose
    user_type: UserType
    reason: Reason
    decision: Decision
    conditions: Conditions | None = None
    """The mandate's conditions, when it decides conditionally."""
    no_proxy_now: bool = False
    """The member left this to a proxy, but no proxy holds the purpose now: the mandate decides."""


def ladder(mandate: Mandate, opted_out: bool, preference_mask: int, proxied: int) -> list[Step]:
    """One step per (purpose, user type), in vocabulary order. ``proxied``: the purposes a
    proxy holds now, as a mask."""
    return [_step(mandate, opted_out, preference_mask, proxied, p, u) for p in Purpose for u in UserType]


def _step(mandate: Mandate, opted_out: bool, mask: int, proxied: int, purpose: Purpose, user_type: UserType) -> Step:
    if is_prohibited(purpose, user_type):
        return Step(purpose, user_type, Reason.prohibited, Decision.deny)
    if opted_out:
        return Step(purpose, user_type, Reason.opt_out, Decision.deny)
    preference = encoding.get(mask, purpose, user_type)
    if preference in (Preference.allow, Preference.deny):
        return Step(purpose, user_type, Reason.own_choice, Decision(preference.value))
    has_proxy = bool(proxied >> position(purpose) & 1)
    if preference is Preference.proxy and has_proxy:
        return Step(purpose, user_type, Reason.proxy, Decision.conditional)
    answer = mandate_decision(mandate, purpose, user_type, (), None)
    return Step(
        purpose,
        user_type,
        Reason.mandate,
        answer.decision,
        answer.conditions,
        no_proxy_now=preference is Preference.proxy,
    )


def in_words(step: Step, lang: str) -> tuple[str, str]:
    """What a member reads for one step, and its kind (allow, deny, proxy, mandate)."""
    t = translator(lang)
    if step.reason is Reason.prohibited:
        return t("never"), "deny"
    if step.reason is Reason.opt_out:
        return t("opted_out_no"), "deny"
    if step.reason is Reason.own_choice:
        return (t("you_allow"), "allow") if step.decision is Decision.allow else (t("you_deny"), "deny")
    if step.reason is Reason.proxy:
        return t("your_proxy"), "proxy"
    if step.decision is Decision.conditional and step.conditions:
        now = t("currently_only", conditions=conditions_in_words(step.conditions, t))
    else:
        now = t("currently_yes") if step.decision is Decision.allow else t("currently_no")
    text = t("coop_decides") + f" - {now}"
    return (f"{text}. " + t("no_proxy_now") if step.no_proxy_now else text), "mandate"
