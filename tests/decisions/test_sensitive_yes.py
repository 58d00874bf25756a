"""The member's own yes per sensitive category (EHDS Art. 51(4)): where the mandate needs
the member's explicit allow, it may use a sensitive category of the members who said yes to
it, and only theirs; an exclusion still wins, an own allow or deny still decides first, and
along a proxy's chain the yes is the principal's."""

from __future__ import annotations

from fastapi.testclient import TestClient

from coop.db import Database
from coop.decisions import bulk
from coop.decisions.rules import Decision, Reason, mandate_decision
from coop.governance.documents import Mandate, MandateDecision, MandateRule
from coop.settings import Settings
from coop.types import utcnow
from coop.vocabulary.terms import Category, Purpose, UserType, mask
from tests import factories as f

GENETIC, BIOBANKS = Category.genetic, Category.biobanks
INNOVATION, ACADEMIC = Purpose.innovation, UserType.academic
"""The example statutes allow innovation by academic users, with the member's explicit allow for sensitive data."""


def _mandate(explicit: bool, decision: MandateDecision = MandateDecision.allow) -> Mandate:
    rule = MandateRule(
        purpose=INNOVATION, user_type=ACADEMIC, decision=decision, sensitive_requires_explicit_allow=explicit
    )
    return Mandate(default="deny", rules=[rule])


def test_the_yes_for_every_sensitive_category_asked_lets_the_mandate_decide() -> None:
    needs = _mandate(explicit=True)
    asked = [Category.ehr, GENETIC]
    without = mandate_decision(needs, INNOVATION, ACADEMIC, asked, None)
    assert without.decision is Decision.deny and without.sensitive_needs_explicit_allow
    given = mandate_decision(needs, INNOVATION, ACADEMIC, asked, None, mask([GENETIC]))
    assert given.decision is Decision.allow and not given.sensitive_needs_explicit_allow
    partly = mandate_decision(needs, INNOVATION, ACADEMIC, [GENETIC, BIOBANKS], None, mask([GENETIC]))
    assert partly.decision is Decision.deny and partly.sensitive_needs_explicit_allow  # every one needs its yes
    other = mandate_decision(needs, INNOVATION, ACADEMIC, asked, None, mask([BIOBANKS]))
    assert other.decision is Decision.deny
    assert mandate_decision(needs, INNOVATION, ACADEMIC, [Category.ehr], None).decision is Decision.allow


def test_the_yes_changes_nothing_where_the_mandate_asks_no_explicit_allow_or_says_no() -> None:
    assert mandate_decision(_mandate(explicit=False), INNOVATION, ACADEMIC, [GENETIC], None).decision is Decision.allow
    no = mandate_decision(_mandate(True, MandateDecision.deny), INNOVATION, ACADEMIC, [GENETIC], None, mask([GENETIC]))
    assert no.decision is Decision.deny and not no.sensitive_needs_explicit_allow
    # a pair without a rule takes the default, and then always needs the explicit allow
    unruled = mandate_decision(Mandate(default="allow", rules=[]), Purpose.research, ACADEMIC, [GENETIC], None)
    assert unruled.decision is Decision.deny and unruled.sensitive_needs_explicit_allow
    unruled_yes = mandate_decision(
        Mandate(default="allow", rules=[]), Purpose.research, ACADEMIC, [GENETIC], None, mask([GENETIC])
    )
    assert unruled_yes.decision is Decision.allow


def _effective(client: TestClient, who: f.MemberHandle, member_id: int, categories: str) -> dict:
    params = {"purpose": "innovation", "user_type": "academic", "categories": categories}
    r = client.get(f"/api/v1/members/{member_id}/effective", params=params, headers=who.headers)
    assert r.status_code == 200, r.text
    return r.json()


def _choose(client: TestClient, who: f.MemberHandle, **body: object) -> None:
    r = client.patch(f"/api/v1/members/{who.id}/choices", json=body, headers=who.headers)
    assert r.status_code == 200, r.text


def test_the_effective_decision_follows_the_members_yes(client: TestClient, database: Database) -> None:
    board = f.founded(client, database)
    m = f.member(client, board)
    assert _effective(client, m, m.id, "ehr,genetic")["decision"] == "deny"
    _choose(client, m, sensitive_yes=["genetic"])
    allowed = _effective(client, m, m.id, "ehr,genetic")
    assert (allowed["decision"], allowed["reason"]) == ("allow", "mandate")
    assert not allowed["mandate"]["sensitive_needs_explicit_allow"]
    assert _effective(client, m, m.id, "genetic,biobanks")["decision"] == "deny"
    _choose(client, m, excluded_categories=["genetic"])
    assert _effective(client, m, m.id, "genetic")["reason"] == "category-excluded"  # rule 4 wins over the yes
    _choose(client, m, excluded_categories=[])
    _choose(client, m, preferences=[{"purpose": "innovation", "user_type": "academic", "decision": "deny"}])
    assert _effective(client, m, m.id, "genetic")["reason"] == "own-choice"  # rule 5 before the mandate


def test_along_a_proxys_chain_the_yes_is_the_principals(client: TestClient, database: Database) -> None:
    board = f.founded(client, database)
    principal, proxy = f.member(client, board), f.member(client, board)
    f.appointed(client, principal, proxy, purposes=["innovation"])
    _choose(client, proxy, sensitive_yes=["genetic"])  # about the proxy's own data only
    refused = _effective(client, principal, principal.id, "genetic")
    assert (refused["decision"], refused["reason"], refused["deciding_reason"]) == ("deny", "proxy", "mandate")
    _choose(client, principal, sensitive_yes=["genetic"])
    _choose(client, proxy, sensitive_yes=[])
    allowed = _effective(client, principal, principal.id, "genetic")
    assert (allowed["decision"], allowed["reason"], allowed["chain"]) == ("allow", "proxy", [principal.id, proxy.id])


def test_a_consultation_counts_the_members_who_said_yes(
    client: TestClient, database: Database, settings: Settings
) -> None:
    board = f.founded(client, database)
    yes, _, excluded, own, delegated, proxy = (f.member(client, board) for _ in range(6))
    for m in (yes, excluded, delegated):
        _choose(client, m, sensitive_yes=["genetic"])
    _choose(client, excluded, excluded_categories=["genetic"])
    _choose(client, own, preferences=[{"purpose": "innovation", "user_type": "academic", "decision": "allow"}])
    f.appointed(client, delegated, proxy, purposes=["innovation"])
    with database.unit_of_work(write=False) as s:
        cohort = bulk.cohort_counts(s, [INNOVATION], ACADEMIC, [Category.ehr, GENETIC], utcnow())
        eligible = set(bulk.eligible_members(s, [INNOVATION], ACADEMIC, [Category.ehr, GENETIC], utcnow()))
        plain = bulk.cohort_counts(s, [INNOVATION], ACADEMIC, [Category.ehr], utcnow())
    assert cohort.outcomes == {
        (Decision.allow, Reason.mandate): 1,  # yes
        (Decision.deny, Reason.mandate): 2,  # no, proxy
        (Decision.deny, Reason.category_excluded): 1,
        (Decision.allow, Reason.own_choice): 1,
        (Decision.allow, Reason.proxy): 1,  # the proxy follows the mandate; the principal said yes
    }
    assert eligible == {yes.id, own.id, delegated.id}
    assert plain.eligible == 6  # without sensitive data the yes plays no part
    settings.privacy.small_count_threshold = 1
    hdab = f.api_key(database, "hdab")
    body = f.application(purposes=["innovation"], categories=["ehr", "genetic"])
    answer = client.post("/api/v1/hdab/consultations", json=body, headers=hdab).json()
    assert answer["cohort"]["eligible"] == 3
    assert answer["cohort"]["excluded"] == {"category-excluded": 1, "mandate": 2}


def test_only_the_member_gives_the_yes(client: TestClient, database: Database) -> None:
    board = f.founded(client, database)
    principal, proxy = f.member(client, board), f.member(client, board)
    f.appointed(client, principal, proxy)  # every purpose: the proxy may change everything else
    url = f"/api/v1/members/{principal.id}/choices"
    assert client.patch(url, json={"excluded_categories": ["claims"]}, headers=proxy.headers).status_code == 200
    refused = client.patch(url, json={"sensitive_yes": ["genetic"]}, headers=proxy.headers)
    assert refused.status_code == 403 and refused.json()["code"] == "own-yes-only"
    assert client.get(url, headers=principal.headers).json()["sensitive_yes"] == []
    # the principal's yes is shown to the proxy, since it decides what following the mandate means
    _choose(client, principal, sensitive_yes=["biobanks"])
    assert client.get(url, headers=proxy.headers).json()["sensitive_yes"] == ["biobanks"]
