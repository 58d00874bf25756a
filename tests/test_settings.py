"""Settings come from COOP_ variables, nested at the first underscore; production refuses
missing secrets."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from coop import pdfsigning
from coop.settings import Mode, Settings


def test_nested_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COOP_DATABASE_URL", "postgresql+psycopg://db/coop")
    monkeypatch.setenv("COOP_AUTH_TOKEN_MINUTES", "15")
    monkeypatch.setenv("COOP_PRIVACY_SMALL_COUNT_THRESHOLD", "11")
    s = Settings()
    assert s.database.url == "postgresql+psycopg://db/coop"
    assert s.auth.token_minutes == 15
    assert s.privacy.small_count_threshold == 11


def test_defaults() -> None:
    s = Settings()
    assert s.database.url.startswith("sqlite:///") and s.database.url.endswith("var/coop.db")
    assert s.privacy.small_count_threshold == 10
    assert s.mode is Mode.development


def test_development_generates_missing_keys(tmp_path: Path) -> None:
    s = Settings(
        auth={"secret_file": tmp_path / "jwt"},
        ledger={"signing_key_file": tmp_path / "k.pem"},
        privacy={"pseudonym_key_file": tmp_path / "pseudonym-key"},
    )
    s.ensure_keys()
    assert len((tmp_path / "pseudonym-key").read_text()) == 64
    assert len((tmp_path / "jwt").read_text()) >= 32
    assert b"PRIVATE KEY" in (tmp_path / "k.pem").read_bytes()
    assert (tmp_path / "k.pem").stat().st_mode & 0o077 == 0


def test_production_refuses_missing_or_weak_secrets(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="production mode refuses"):
        Settings(
            mode="production",
            auth={"secret_file": tmp_path / "none"},
            ledger={"signing_key_file": tmp_path / "none.pem"},
            privacy={"pseudonym_key_file": tmp_path / "none-key"},
        )
    keys = {
        "auth": {"secret_file": tmp_path / "jwt"},
        "ledger": {"signing_key_file": tmp_path / "k.pem"},
        "privacy": {"pseudonym_key_file": tmp_path / "pseudonym-key"},
        "mail": {"url": "smtp://mail.coop-test.nl:587"},
        "pdf": {"key_file": tmp_path / "pdf-key.pem", "certificate_file": tmp_path / "pdf-certificate.pem"},
    }
    Settings(**keys).ensure_keys()
    pdfsigning.generate(tmp_path / "pdf-key.pem", tmp_path / "pdf-certificate.pem", "Coop")
    weak = tmp_path / "weak"
    weak.write_text("changeme")
    with pytest.raises(ValidationError, match="fewer than 32 bytes"):
        Settings(mode="production", **{**keys, "auth": {"secret_file": weak}})
    ok = Settings(mode="production", **keys)
    assert ok.mode is Mode.production
    with pytest.raises(ValidationError, match="COOP_MAIL_URL"):
        Settings(mode="production", **{**keys, "mail": {"url": (tmp_path / "mail").as_uri()}})


def test_production_refuses_to_sign_pdfs_without_a_configured_certificate(tmp_path: Path) -> None:
    keys = {
        "auth": {"secret_file": tmp_path / "jwt"},
        "ledger": {"signing_key_file": tmp_path / "k.pem"},
        "privacy": {"pseudonym_key_file": tmp_path / "pseudonym-key"},
        "mail": {"url": "smtp://mail.coop-test.nl:587"},
    }
    Settings(**keys).ensure_keys()
    missing = {"key_file": tmp_path / "none.pem", "certificate_file": tmp_path / "none-cert.pem"}
    with pytest.raises(ValidationError, match="COOP_PDF_PKCS12_FILE, or COOP_PDF_KEY_FILE"):
        Settings(mode="production", **keys, pdf=missing)
    with pytest.raises(ValidationError, match=r"COOP_PDF_PKCS12_FILE .* does not exist"):
        Settings(mode="production", **keys, pdf={"pkcs12_file": tmp_path / "none.p12"})
    (tmp_path / "coop.p12").write_bytes(b"")
    assert Settings(mode="production", **keys, pdf={"pkcs12_file": tmp_path / "coop.p12"}).pdf.pkcs12_file


def test_mail_settings_come_from_their_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COOP_MAIL_URL", "smtps://u:p@mail.coop-test.nl:465")
    monkeypatch.setenv("COOP_MAIL_FROM", "Coop <hello@coop-test.nl>")
    monkeypatch.setenv("COOP_MAIL_PORTAL_URL", "https://portal.coop-test.nl")
    s = Settings()
    assert (s.mail.url, s.mail.sender, s.mail.portal_url) == (
        "smtps://u:p@mail.coop-test.nl:465",
        "Coop <hello@coop-test.nl>",
        "https://portal.coop-test.nl",
    )


def test_the_log_name_is_an_origin(monkeypatch: pytest.MonkeyPatch) -> None:
    """The checkpoints' origin line and their key's name: a domain and a path, as tlog-tiles
    spells a log's URL prefix without its scheme."""
    assert Settings().ledger.log_name == "demo-coop.nl/ledger"
    monkeypatch.setenv("COOP_LEDGER_LOG_NAME", "coop.example.org/ledger/2026")
    assert Settings().ledger.log_name == "coop.example.org/ledger/2026"
    for bad in ("https://coop.example.org/ledger", "coop.example.org/", "Coop.Example.org", "my coop", "a+b.nl", ""):
        monkeypatch.setenv("COOP_LEDGER_LOG_NAME", bad)
        with pytest.raises(ValidationError, match="log name"):
            Settings()
