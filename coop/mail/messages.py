"""Turning an outbox row into an email: plain text and HTML in the member's language.

Each kind has ``coop/templates/mail/<kind>.txt`` and ``<kind>.html`` (Jinja2, texts from the
gettext catalogue through ``t``; a dash in the kind is an underscore in the file name) and a
subject in :data:`SUBJECTS`. Templates get the
row's context, ``portal`` (the portal's public base URL, for links) and ``t``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from coop.i18n import N_, translator
from coop.mail.models import MailKind
from coop.settings import MailSettings

_templates = Environment(
    loader=PackageLoader("coop", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)


SUBJECTS: dict[MailKind, str] = {
    MailKind.invitation: N_("mail_invitation_subject"),
    MailKind.password_reset: N_("mail_password_reset_subject"),
    MailKind.choices_changed: N_("mail_choices_changed_subject"),
    MailKind.proxy_appointed: N_("mail_proxy_appointed_subject"),
    MailKind.proxy_ended: N_("mail_proxy_ended_subject"),
    MailKind.acting_for_started: N_("mail_acting_for_started_subject"),
    MailKind.acting_for_ended: N_("mail_acting_for_ended_subject"),
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


def message_id_header(message_id: str, sender: str) -> str:
    domain = parseaddr(sender)[1].rpartition("@")[2] or "coop.invalid"
    return f"<{message_id}@{domain}>"


def compose(letter: Letter, mail: MailSettings, now: datetime) -> EmailMessage:
    """The message ready to send; composing it again gives the same headers and parts."""
    t = translator(letter.language)
    values = {**json.loads(letter.context), "portal": mail.portal_url.rstrip("/"), "t": t, "lang": letter.language}
    name = letter.kind.replace("-", "_")
    message = EmailMessage()
    message["Subject"] = t(SUBJECTS[MailKind(letter.kind)])
    message["From"] = mail.sender
    message["To"] = letter.recipient
    message["Message-ID"] = message_id_header(letter.message_id, mail.sender)
    message["Date"] = format_datetime(now)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(_templates.get_template(f"mail/{name}.txt").render(values))
    message.add_alternative(_templates.get_template(f"mail/{name}.html").render(values), subtype="html")
    message["Content-Language"] = letter.language  # after the parts: setting content clears Content-* headers
    return message
