"""Deciding a group of members alike, as the single evaluator decides one member: the
mandate's answers per purpose, the outcome from 2-bit preference codes, and proxies'
chains followed in memory. Shared by the counts from the versions (:mod:`coop.decisions.bulk`)
and from the choice profiles (:mod:`coop.decisions.profiled`); pure, given the proxies'
states and their own appointments, which the callers load.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from coop.choices import encoding
from coop.decisions.rules import Decision, MandateAnswer, Reason, Terms, combine, mandate_decision
from coop.governance.documents import Mandate
from coop.vocabulary.terms import SENSITIVE, Category, Purpose, UserType, mask

_Pref = encoding.Preference
MANDATE, ALLOW, DENY, PROXY = (encoding.CODES[p] for p in (_Pref.mandate, _Pref.allow, _Pref.deny, _Pref.proxy))

Outcome = tuple[Decision, Reason]


@dataclass(frozen=True)
class Answers:
    """The mandate's answer per purpose for members without, and with, their own yes to every
    sensitive category asked for (the same when the mandate needs no explicit allow)."""

    without: dict[Purpose, MandateAnswer]
    with_yes: dict[Purpose, MandateAnswer]

    @classmethod
    def of(
        cls,
        mandate: Mandate,
        purposes: list[Purpose],
        user_type: UserType,
        categories: Sequence[Category],
        terms: Terms | None,
    ) -> Answers:
        yes = mask(SENSITIVE & set(categories))
        return cls(
            {p: mandate_decision(mandate, p, user_type, categories, terms) for p in purposes},
            {p: mandate_decision(mandate, p, user_type, categories, terms, yes) for p in purposes},
        )

    @property
    def split(self) -> bool:
        """Whether the yes changes any answer (then the queries group by it)."""
        return self.without != self.with_yes

    def __call__(self, yes: bool) -> dict[Purpose, MandateAnswer]:
        return self.with_yes if yes else self.without


def plain(code: int, answer: MandateAnswer) -> Outcome:
    if code == ALLOW:
        return Decision.allow, Reason.own_choice
    if code == DENY:
        return Decision.deny, Reason.own_choice
    return answer.decision, Reason.mandate


def assumed(purposes: list[Purpose], codes: Sequence[int], answers: dict[Purpose, MandateAnswer]) -> Outcome:
    """The outcome when no proxy is valid ('proxy' counts as the mandate)."""
    return combine(plain(code, answers[p]) for p, code in zip(purposes, codes, strict=True))


ProxyState = tuple[int, Sequence[int]]
"""A proxy's state at the time asked: which of rules 2-4 applies (0: none; else the reason's
value), and their codes for the purposes asked."""


class ProxyResolver:
    """Decides for members who left purposes to a proxy, following chains in memory, from
    ``states`` (by proxy) and ``appointments`` (``(principal, purpose) -> proxy``: the links
    further along the chains) valid at the time asked."""

    def __init__(
        self,
        purposes: list[Purpose],
        answers: Answers,
        max_depth: int,
        appointments: dict[tuple[int, Purpose], int],
        states: dict[int, ProxyState],
    ) -> None:
        self.purposes, self.answers, self.max_depth = purposes, answers, max_depth
        self.appointments, self.states = appointments, states
        self.memo: dict[tuple[int, Purpose, int, bool], Outcome] = {}

    def _proxy_decides(self, proxy: int, p: Purpose, depth: int, yes: bool) -> Outcome:
        """The decision of ``proxy`` on ``p`` (the chain so far has ``depth`` proxies) for a
        principal with (``yes``) or without their own yes to the sensitive categories."""
        key = (proxy, p, depth, yes)
        if key not in self.memo:
            state = self.states.get(proxy)
            if state is None:
                self.memo[key] = (Decision.deny, Reason.not_member)
            elif state[0]:
                self.memo[key] = (Decision.deny, Reason(state[0]))
            else:
                code = state[1][self.purposes.index(p)]
                nxt = self.appointments.get((proxy, p)) if code == PROXY else None
                if nxt is None:
                    self.memo[key] = plain(code if code != PROXY else MANDATE, self.answers(yes)[p])
                elif depth >= self.max_depth:
                    self.memo[key] = (Decision.deny, Reason.proxy)
                else:
                    self.memo[key] = (self._proxy_decides(nxt, p, depth + 1, yes)[0], Reason.proxy)
        return self.memo[key]

    def outcome(self, member_codes: Sequence[int], proxies: Sequence[int | None], yes: bool) -> Outcome:
        """The member's outcome given their codes, per purpose the proxy valid at the time
        asked, and whether they gave their own yes to the sensitive categories asked for."""
        return combine(
            (self._proxy_decides(proxy, p, 1, yes)[0], Reason.proxy)
            if code == PROXY and proxy is not None
            else plain(code if code != PROXY else MANDATE, self.answers(yes)[p])
            for p, code, proxy in zip(self.purposes, member_codes, proxies, strict=True)
        )
