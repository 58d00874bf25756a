"""Typed builders for test data, one module per domain: ``from tests import factories as f``.
They build below HTTP, through the services the routes call (:mod:`services`), for tests that
are not about the API; ``*_over_http`` builders are for tests of the API itself.

- :mod:`members`: the board, members who accepted their invitation, API keys;
- :mod:`governance`: the example statutes, proposals and votes;
- :mod:`permits`: consultation requests and permits as the HDAB grants them;
- :mod:`money`: a cooperative with a permit and its money, and the periods it is distributed in;
- :mod:`portal`: forms with their CSRF token and the portal's login;
- :mod:`proxies`: proxy appointments asked and accepted over the API;
- :mod:`carers`: carers (proxies who are not members) asked, invited and signed in.
"""

from tests.factories.carers import (
    CARER_EMAIL,
    CARER_PASSWORD,
    ask_carer,
    carer_pages,
    invitation,
    set_password,
    signed_in_carer,
)
from tests.factories.governance import (
    NEW_POLICY,
    STATUTES,
    founded,
    propose,
    statutes,
    try_proposal,
    vote,
    with_members,
)
from tests.factories.members import (
    BOARD_EMAIL,
    PASSWORD,
    SECOND_BOARD_EMAIL,
    MemberHandle,
    admit,
    admit_over_http,
    api_key,
    bearer,
    board,
    login,
    member,
    members,
    second_board,
)
from tests.factories.money import (
    AFTER,
    BOOKED,
    NEXT,
    PERIOD,
    YEAR,
    Cooperative,
    balances,
    commit,
    cooperative,
    four_eyes_pages,
    money,
    publish,
)
from tests.factories.permits import CONSULTATIONS, PERMITS, application, granted, permit_body, registered, report_usage
from tests.factories.portal import BOARD_PAGES, MEMBER_PAGES, csrf, portal_login
from tests.factories.proxies import accept_proxy, acting_pages, appointed, ask_proxy

__all__ = [
    "AFTER",
    "BOARD_EMAIL",
    "BOARD_PAGES",
    "BOOKED",
    "CARER_EMAIL",
    "CARER_PASSWORD",
    "CONSULTATIONS",
    "MEMBER_PAGES",
    "NEW_POLICY",
    "NEXT",
    "PASSWORD",
    "PERIOD",
    "PERMITS",
    "SECOND_BOARD_EMAIL",
    "STATUTES",
    "YEAR",
    "Cooperative",
    "MemberHandle",
    "accept_proxy",
    "acting_pages",
    "admit",
    "admit_over_http",
    "api_key",
    "application",
    "appointed",
    "ask_carer",
    "ask_proxy",
    "balances",
    "bearer",
    "board",
    "carer_pages",
    "commit",
    "cooperative",
    "csrf",
    "founded",
    "four_eyes_pages",
    "granted",
    "invitation",
    "login",
    "member",
    "members",
    "money",
    "permit_body",
    "portal_login",
    "propose",
    "publish",
    "registered",
    "report_usage",
    "second_board",
    "set_password",
    "signed_in_carer",
    "statutes",
    "try_proposal",
    "vote",
    "with_members",
]
