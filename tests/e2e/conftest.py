"""End-to-end tests drive Debian's Chromium (never a downloaded browser) with Playwright
against the app served by uvicorn on localhost. Without Chromium they are skipped, and the
run says so at the end; with COOP_E2E=require (CI) a missing Chromium is an error."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CHROMIUM
from tests.factories import PASSWORD

REQUIRED = os.environ.get("COOP_E2E") == "require"
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
AXE = ROOT / ".cache" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
"""axe-core, the accessibility rules engine, installed by `make test` and .ci/run with npm."""


@pytest.fixture
def chromium_path() -> str:
    if CHROMIUM is None:
        if REQUIRED:
            pytest.fail("COOP_E2E=require but no Chromium is installed")
        pytest.skip("no Chromium on this machine (apt-get install chromium)")
    return CHROMIUM


@pytest.fixture
def axe_script() -> Path:
    if not AXE.exists():
        if REQUIRED:
            pytest.fail(f"COOP_E2E=require but axe-core is missing at {AXE} (make axe)")
        pytest.skip("axe-core is not installed (make axe, which needs npm)")
    return AXE


@pytest.fixture
def browser(chromium_path: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=["--no-sandbox"])
        yield browser
        browser.close()


def shot(page: object, name: str, full_page: bool = True) -> None:
    """A picture of the page for the run's artifacts. Pages many screens long (the API
    documentation) are taken as the window shows them: a full picture of them took over
    30 s on a busy machine, for no check."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)  # type: ignore[attr-defined]


def log_in(page: Any, base: str, email: str, password: str = PASSWORD) -> None:
    """Log in through the portal's (Dutch) login form."""
    page.goto(f"{base}/login")
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord").fill(password)
    page.get_by_role("button", name="Inloggen").click()
