"""What the application offers, domain by domain: its API routers (under ``/api/v1``), the
portal's pages, and the mail worker's scheduled passes. :mod:`coop.app` serves the first two;
``coop worker`` and the server's background delivery make the passes."""

from __future__ import annotations

from fastapi import APIRouter

from coop.access.pages import router as access_pages
from coop.access.routes import router as access_router
from coop.approvals.pages import router as approval_pages
from coop.approvals.routes import router as approval_router
from coop.auth.board_pages import router as board_user_pages
from coop.auth.board_routes import router as board_user_router
from coop.auth.key_pages import router as key_pages
from coop.auth.key_routes import router as key_router
from coop.auth.pages import router as auth_pages
from coop.auth.reset_pages import router as reset_pages
from coop.auth.routes import router as auth_router
from coop.auth.two_factor_pages import router as two_factor_pages
from coop.auth.two_factor_routes import router as two_factor_router
from coop.carers.routes import router as carers_router
from coop.choices.agreed_pages import router as agreed_pages
from coop.choices.pages import router as choices_pages
from coop.choices.routes import router as choices_router
from coop.decisions.pages import router as decisions_pages
from coop.decisions.routes import router as decisions_router
from coop.governance.pages import router as governance_pages
from coop.governance.routes import router as governance_router
from coop.governance.vote_mail import PASSES as VOTE_PASSES
from coop.hdab.routes import router as hdab_router
from coop.mail.pages import router as mail_pages
from coop.mail.routes import members_router as message_settings_router
from coop.mail.routes import router as mail_router
from coop.mail.schedule import MailPass
from coop.members.board_pages import router as board_member_pages
from coop.members.pages import router as members_pages
from coop.members.routes import router as members_router
from coop.money.dividend_mail import PASSES as DIVIDEND_PASSES
from coop.money.pages import router as money_pages
from coop.money.routes import router as money_router
from coop.permits.digest import PASSES as DATA_USE_PASSES
from coop.permits.pages import router as permits_pages
from coop.permits.routes import members_router as data_use_router
from coop.permits.routes import router as permits_router
from coop.portability.pages import router as portability_pages
from coop.portability.routes import router as portability_router
from coop.proxies.acting import router as acting_pages
from coop.proxies.expiry import PASSES as PROXY_PASSES
from coop.proxies.pages import router as proxies_pages
from coop.proxies.routes import router as proxies_router
from coop.record.pages import router as record_pages
from coop.record.receipt_pages import router as receipt_pages
from coop.record.receipt_routes import router as receipt_router
from coop.record.routes import router as record_router
from coop.reporting.pages import router as reports_pages
from coop.reporting.routes import router as reports_router
from coop.vocabulary.routes import router as vocabulary_router

API_ROUTERS: tuple[APIRouter, ...] = (
    auth_router,
    two_factor_router,
    key_router,
    board_user_router,
    members_router,
    choices_router,
    decisions_router,
    proxies_router,
    carers_router,
    record_router,
    receipt_router,
    vocabulary_router,
    governance_router,
    hdab_router,
    permits_router,
    data_use_router,
    money_router,
    reports_router,
    portability_router,
    approval_router,
    mail_router,
    message_settings_router,
    access_router,
)

PAGES: tuple[APIRouter, ...] = (
    auth_pages,
    two_factor_pages,
    reset_pages,
    members_pages,
    decisions_pages,
    choices_pages,
    agreed_pages,
    proxies_pages,
    acting_pages,
    governance_pages,
    permits_pages,
    money_pages,
    reports_pages,
    portability_pages,
    approval_pages,
    mail_pages,
    key_pages,
    board_user_pages,
    board_member_pages,
    access_pages,
    record_pages,
    receipt_pages,
)

MAIL_PASSES: tuple[MailPass, ...] = (*DATA_USE_PASSES, *VOTE_PASSES, *PROXY_PASSES, *DIVIDEND_PASSES)
"""The mail worker's scheduled passes, of every domain (see :mod:`coop.mail.schedule`)."""
