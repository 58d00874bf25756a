"""Turning an outbox row into an email: plain text and HTML in the member's language.

Each kind has ``coop/templates/mail/<kind>.txt`` and ``<kind>.html`` (Jinja2, texts from the
gettext catalogue through ``t``; a dash in the kind is an underscore in the file name) and a
subject in :data:`SUBJECTS`. Templates get the
row's context, ``portal`` (the portal's public base URL, for links), ``t``, ``euros`` (integer
cents written in the message's language), ``day`` (an ISO date, written likewise) and
``unsubscribe`` (the one-click unsubscribe link of an optional message, else None).

An optional message (its kind in :data:`coop.mail.preferences.OPTIONAL`) carries
``List-Unsubscribe`` and ``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` (RFC 8058):
a mail program may unsubscribe the member with one POST to that link, without a login.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from coop.i18n import N_, local_time, translator
from coop.mail import unsubscribe
from coop.mail.models import MailKind
from coop.mail.preferences import OPTIONAL
from coop.settings import MailSettings
from reports.texts import day, euros

_templates = Environment(
    loader=PackageLoader("coop", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)


SUBJECTS: dict[MailKind, str] = {
    MailKind.invitation: N_("mail_invitation_subject"),
    MailKind.password_reset: N_("mail_password_reset_subject"),
    MailKind.dividend: N_("mail_dividend_subject"),
    MailKind.choices_changed: N_("mail_choices_changed_subject"),
    MailKind.proxy_appointed: N_("mail_proxy_appointed_subject"),
    MailKind.proxy_ended: N_("mail_proxy_ended_subject"),
    MailKind.proxy_accepted: N_("mail_proxy_accepted_subject"),
    MailKind.acting_for_started: N_("mail_acting_for_started_subject"),
    MailKind.acting_for_ended: N_("mail_acting_for_ended_subject"),
    MailKind.carer_invitation: N_("mail_carer_invitation_subject"),
    MailKind.vote_opened: N_("mail_vote_opened_subject"),
    MailKind.vote_result: N_("mail_vote_result_subject"),
    MailKind.vote_closing: N_("mail_vote_closing_subject"),
    MailKind.data_use_digest: N_("mail_data_use_digest_subject"),
    MailKind.incident: N_("mail_incident_subject"),
    MailKind.board_welcome: N_("mail_board_welcome_subject"),
    MailKind.email_change_confirm: N_("mail_email_change_confirm_subject"),
    MailKind.email_change_requested: N_("mail_email_change_requested_subject"),
    MailKind.email_changed: N_("mail_email_changed_subject"),
    MailKind.name_changed: N_("mail_name_changed_subject"),
    MailKind.approval_waiting: N_("mail_approval_waiting_subject"),
    MailKind.two_factor_changed: N_("mail_two_factor_changed_subject"),
}


@dataclass(frozen=True, slots=True)
class Letter:
    """What a worker claimed from the outbox: enough to send it, and to settle it after."""

    id: int
    message_id: str
    kind: str
    recipient: str
    language: str
    context: str
    attempts: int
    member_id: int | None = None
    shared: str = "{}"
    """Values shared with other messages of its pass, as JSON (its own context wins)."""


def message_id_header(message_id: str, sender: str) -> str:
    domain = parseaddr(sender)[1].rpartition("@")[2] or "coop.invalid"
    return f"<{message_id}@{domain}>"


def unsubscribe_link(letter: Letter, portal: str, key: bytes) -> str | None:
    """The one-click unsubscribe link of an optional message to a member; None for others."""
    topic = OPTIONAL.get(MailKind(letter.kind))
    if topic is None or letter.member_id is None:
        return None
    return f"{portal}/unsubscribe/{unsubscribe.token(key, letter.member_id, topic)}"


def compose(letter: Letter, mail: MailSettings, now: datetime, unsubscribe_key: bytes) -> EmailMessage:
    """The message ready to send; composing it again gives the same headers and parts."""
    t = translator(letter.language)
    portal = mail.portal_url.rstrip("/")
    link = unsubscribe_link(letter, portal, unsubscribe_key)
    values = {
        **json.loads(letter.shared),
        **json.loads(letter.context),
        "portal": portal,
        "t": t,
        "lang": letter.language,
        "unsubscribe": link,
        "euros": lambda cents: euros(cents, letter.language),
        "day": lambda iso: day(date.fromisoformat(iso), letter.language),
        "moment": lambda iso: local_time(datetime.fromisoformat(iso), letter.language),
    }
    name = letter.kind.replace("-", "_")
    message = EmailMessage()
    message["Subject"] = t(SUBJECTS[MailKind(letter.kind)])
    message["From"] = mail.sender
    message["To"] = letter.recipient
    message["Message-ID"] = message_id_header(letter.message_id, mail.sender)
    message["Date"] = format_datetime(now)
    message["Auto-Submitted"] = "auto-generated"
    if link is not None:
        message["List-Unsubscribe"] = f"<{link}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(_templates.get_template(f"mail/{name}.txt").render(values))
    message.add_alternative(_templates.get_template(f"mail/{name}.html").render(values), subtype="html")
    message["Content-Language"] = letter.language  # after the parts: setting content clears Content-* headers
    return message
