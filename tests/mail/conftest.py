"""The SMTP server every mail test sends to, and the settings that point the delivery
worker (and the application's reset links) at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from coop.settings import MailSettings, Settings
from tests.factories.mail import SmtpServer, free_port, mail_settings


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer(free_port())
    server.start()
    yield server
    server.inbox.release.set()
    server.stop()


@pytest.fixture
def mail(smtp: SmtpServer) -> MailSettings:
    return mail_settings(smtp.port)


@pytest.fixture
def settings(settings: Settings, mail: MailSettings) -> Settings:
    """The application's settings, with the test server's mail settings (for reset links)."""
    return settings.model_copy(update={"mail": mail})
