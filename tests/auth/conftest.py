"""Fixtures of the login tests: the app in production mode, beside the development one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from coop import pdfsigning
from coop.settings import Mode, Settings
from tests.conftest import Clock, shared_app


@pytest.fixture
def production(settings: Settings, clock: Clock) -> Iterator[TestClient]:
    """The same database and keys served in production mode (the mail address check of
    production settings is skipped: no message is delivered here)."""
    settings.ensure_keys()
    pdfsigning.load(settings)  # in development: makes the certificate production needs
    with TestClient(shared_app(settings.model_copy(update={"mode": Mode.production}), clock)) as client:
        yield client
