"""The one Settings object: environment variables prefixed ``COOP_``, and ``.env``.

Groups nest at the first underscore: ``COOP_DATABASE_URL`` is ``database.url``,
``COOP_AUTH_TOKEN_MINUTES`` is ``auth.token_minutes``. Key files live under ``var/``
and are generated on first use in development; production mode refuses to start with a
missing key file or a weak secret.
"""

from __future__ import annotations

import secrets
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, IPvAnyNetwork, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"


class Mode(StrEnum):
    development = "development"
    production = "production"


class DatabaseSettings(BaseModel):
    url: str = Field(
        default=f"sqlite:///{VAR / 'coop.db'}",
        description="SQLAlchemy URL: sqlite:///path or postgresql+psycopg://user@host/db",
    )
    busy_timeout_ms: int = Field(
        default=10_000,
        ge=0,
        description="how long a writer waits for the writers' lock (SQLite's busy timeout, PostgreSQL's lock_timeout)",
    )
    group_commit: bool = Field(
        default=True,
        description="PostgreSQL: the writers of a process commit together (one transaction, one COMMIT for many)",
    )
    group_max_writers: int = Field(default=100, ge=1, description="the most writers one group commit holds")
    group_gather_ms: float = Field(
        default=2,
        ge=0,
        le=50,
        description="a round of changes waits at most this long for the writers of the round before to ask again",
    )
    group_max_age_ms: float = Field(
        default=250, ge=0, description="a group commits once this old, even with writers still waiting to join it"
    )
    echo: bool = False


class AuthSettings(BaseModel):
    secret_file: Path = Field(default=VAR / "jwt-secret", description="HMAC secret for bearer tokens")
    token_minutes: int = Field(default=60, ge=1, le=24 * 60)
    invitation_hours: int = Field(default=72, ge=1, le=24 * 30)
    login_max_failures: int = Field(
        default=5, ge=1, description="failed logins on one account from one client address before that address waits"
    )
    login_account_max_failures: int = Field(
        default=20, ge=1, description="failed logins on one account from all addresses before every attempt waits"
    )
    login_client_max_failures: int = Field(
        default=50, ge=1, description="failed logins from one client address, on any accounts, before it waits"
    )
    login_first_delay_seconds: int = Field(
        default=1, ge=1, le=3600, description="the first wait; each further failure doubles it"
    )
    login_max_delay_seconds: int = Field(
        default=900, ge=1, description="the longest wait for an address (per account, and for the address itself)"
    )
    login_account_max_delay_seconds: int = Field(
        default=60,
        ge=1,
        description="the longest wait for an account from all addresses: short, so a stranger cannot shut a member out",
    )
    login_window_seconds: int = Field(default=86_400, ge=1, description="failures are forgotten after this quiet time")
    trusted_proxies: list[IPvAnyNetwork] = Field(
        default_factory=list,
        description="addresses or networks of reverse proxies whose X-Forwarded-For is believed (default: none)",
    )
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    max_import_bytes: int = Field(
        default=67_108_864, ge=1024, description="the largest member file the board may import (about 1,000,000 rows)"
    )
    argon2_time_cost: int = Field(default=3, ge=1, description="Argon2id passes")
    argon2_memory_kib: int = Field(default=65_536, ge=19_456, description="Argon2id memory (OWASP floor 19 MiB)")


class WitnessSettings(BaseModel):
    """One witness of the log (c2sp.org/tlog-witness), as ``COOP_LEDGER_WITNESSES`` lists it."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,79}$", description="what the board calls it (unique, up to 80)"
    )
    url: str = Field(description="its URL prefix: the client POSTs to <url>/add-checkpoint (http or https)")
    vkey: str = Field(description="its cosigner verifier key, <name>+<key id hex>+base64(0x04 || Ed25519 key)")

    @field_validator("url")
    @classmethod
    def _url_is_http(cls, value: str) -> str:
        from urllib.parse import urlsplit

        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ValueError("a witness URL is http(s)://host[:port][/prefix], without a query")
        return value.rstrip("/")

    @field_validator("vkey")
    @classmethod
    def _vkey_is_a_cosigner(cls, value: str) -> str:
        from ledger.notes import COSIGNATURE_V1, NoteError, parse_verifier_key

        try:
            parse_verifier_key(value, (COSIGNATURE_V1,))
        except NoteError as exc:
            raise ValueError(f"not a cosignature/v1 verifier key: {exc}") from exc
        return value


class LedgerSettings(BaseModel):
    signing_key_file: Path = Field(default=VAR / "ledger-signing-key.pem", description="Ed25519 private key (PEM)")
    trusted_public_keys: list[Path] = Field(
        default_factory=list, description="earlier public keys whose signed heads remain valid"
    )
    head_interval_seconds: float = Field(
        default=60.0,
        ge=0,
        description="sign a new tree head at commit when the last is older than this; the server signs waiting "
        "events every half interval",
    )
    log_name: str = Field(
        default="demo-coop.nl/ledger",
        description="the log's name: the origin line of its checkpoints and the name of their signing key, the "
        "cooperative's domain and a path without a scheme (tlog-checkpoint)",
    )
    public_entries: bool = Field(
        default=True,
        description="serve the tiles' entry bundles (the events' bytes: members' choices by member id and number) "
        "to anyone; false: only to the board and auditors, while hash tiles and checkpoints stay public",
    )

    witnesses: list[WitnessSettings] = Field(
        default_factory=list,
        description="the witnesses each new checkpoint is sent to, as JSON: "
        '[{"name": ..., "url": ..., "vkey": ...}] (default: none)',
    )
    witness_interval_seconds: float = Field(
        default=60.0, gt=0, description="how often the server offers the newest checkpoint to the witnesses"
    )
    witness_timeout_seconds: float = Field(
        default=5.0, gt=0, le=60, description="how long the client waits for a witness to connect and to answer"
    )

    @field_validator("witnesses")
    @classmethod
    def _witness_names_differ(cls, value: list[WitnessSettings]) -> list[WitnessSettings]:
        names = [w.name for w in value]
        if len(set(names)) != len(names):
            raise ValueError("each witness has a name of its own")
        keys = [w.vkey.split("+")[:2] for w in value]
        if any(keys.count(k) > 1 for k in keys):  # two lines of one key would make the checkpoint unreadable
            raise ValueError("each witness has a cosigner key of its own")
        return value

    @field_validator("log_name")
    @classmethod
    def _log_name_is_an_origin(cls, value: str) -> str:
        from ledger.signing import LOG_NAME

        if not LOG_NAME.fullmatch(value):
            raise ValueError("a log name is a lower-case domain name and an optional path, like demo-coop.nl/ledger")
        return value


class ChoicesSettings(BaseModel):
    proxy_max_depth: int = Field(default=3, ge=1, le=10, description="longest chain of proxies followed")
    honour_later_withdrawals: bool = Field(
        default=False,
        description="stricter than Art. 71(3): a new manifest also leaves out members who withdrew after approval",
    )


class PrivacySettings(BaseModel):
    small_count_threshold: int = Field(default=10, ge=1, description="counts 1..threshold-1 are shown as '<N'")
    pseudonym_key_file: Path = Field(
        default=VAR / "pseudonym-key", description="HMAC key for per-permit pseudonyms in cohort manifests"
    )
    retention_years: int = Field(
        default=7,
        ge=0,
        le=100,
        description="years the books are kept after a member left (the Dutch fiscal retention period); then "
        "their name, email and login are erased by `coop members erase-due`",
    )


class MailSettings(BaseModel):
    """Where and how messages to members are delivered (see :mod:`coop.mail`)."""

    model_config = ConfigDict(populate_by_name=True)

    url: str = Field(
        default=(VAR / "mail").as_uri(),
        description="smtp://[user:pass@]host:port (STARTTLS when offered), smtps://... (implicit TLS), "
        "or file:///path (each message an .eml file; development only)",
    )
    sender: str = Field(default="Cooperative <noreply@coop.invalid>", alias="from", description="the From address")
    portal_url: str = Field(
        default="http://127.0.0.1:8000", description="the portal's public base URL, used in links in messages"
    )
    reset_minutes: int = Field(default=30, ge=5, le=24 * 60, description="how long a password reset link works")
    reset_max_per_hour: int = Field(
        default=3, ge=1, le=100, description="password reset messages to one account per hour; more are not sent"
    )
    email_change_minutes: int = Field(
        default=60, ge=5, le=24 * 60, description="how long the link that confirms a new email address works"
    )
    email_change_max_per_hour: int = Field(
        default=3, ge=1, le=100, description="links to confirm a new email address for one member per hour"
    )
    max_attempts: int = Field(default=10, ge=1, le=100, description="delivery attempts before a message is failed")
    first_retry_seconds: int = Field(default=60, ge=1, description="the first wait after a temporary failure")
    max_retry_seconds: int = Field(default=3600, ge=1, description="the longest wait between attempts")
    lease_seconds: int = Field(
        default=300,
        ge=1,
        description="a worker that claimed a message and did not finish leaves it to others after this",
    )
    digest_minutes: int = Field(
        default=60,
        ge=1,
        le=24 * 60,
        description="how often members who want data-use news 'immediately' may get a digest at most",
    )
    poll_seconds: float = Field(default=5.0, gt=0, le=3600, description="how often a waiting worker looks again")
    background: bool = Field(default=False, description="the server also delivers (`coop serve` in development)")
    timeout_seconds: float = Field(default=30.0, gt=0, description="the SMTP connection timeout")


class PdfSettings(BaseModel):
    """The certificate that signs the cooperative's PDFs (see :mod:`coop.pdfsigning`)."""

    pkcs12_file: Path | None = Field(
        default=None, description="a PKCS#12 file with the signing key, its certificate and chain; used when set"
    )
    key_file: Path = Field(
        default=VAR / "pdf-signing-key.pem",
        description="the signing key (PEM, RSA); in development generated on first use with a self-signed certificate",
    )
    certificate_file: Path = Field(
        default=VAR / "pdf-signing-certificate.pem",
        description="the signing certificate, then the certificates of its chain (PEM)",
    )
    password: SecretStr | None = Field(default=None, description="the passphrase of the PKCS#12 file or of the key")
    location: str = Field(default="", description="the signature's location, e.g. the town of the registered office")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="COOP_",
        env_nested_delimiter="_",
        env_nested_max_split=1,
        env_file=".env",
        extra="ignore",
    )

    mode: Mode = Mode.development
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    ledger: LedgerSettings = Field(default_factory=LedgerSettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    choices: ChoicesSettings = Field(default_factory=ChoicesSettings)
    mail: MailSettings = Field(default_factory=MailSettings)
    pdf: PdfSettings = Field(default_factory=PdfSettings)

    @model_validator(mode="after")
    def _production_has_its_secrets(self) -> Settings:
        if self.mode is Mode.production:
            problems = [
                f"{name} {path} does not exist"
                for name, path in (
                    ("COOP_AUTH_SECRET_FILE", self.auth.secret_file),
                    ("COOP_LEDGER_SIGNING_KEY_FILE", self.ledger.signing_key_file),
                    ("COOP_PRIVACY_PSEUDONYM_KEY_FILE", self.privacy.pseudonym_key_file),
                )
                if not path.is_file()
            ]
            if not problems and len(self.auth.secret_file.read_bytes().strip()) < 32:
                problems.append("COOP_AUTH_SECRET_FILE holds fewer than 32 bytes")
            if self.pdf.pkcs12_file is not None:
                if not self.pdf.pkcs12_file.is_file():
                    problems.append(f"COOP_PDF_PKCS12_FILE {self.pdf.pkcs12_file} does not exist")
            elif not (self.pdf.key_file.is_file() and self.pdf.certificate_file.is_file()):
                problems.append(
                    "the PDFs need a signing certificate: set COOP_PDF_PKCS12_FILE, or COOP_PDF_KEY_FILE and "
                    f"COOP_PDF_CERTIFICATE_FILE ({self.pdf.key_file}, {self.pdf.certificate_file} do not both exist)"
                )
            if not self.mail.url.startswith(("smtp://", "smtps://")):
                problems.append("COOP_MAIL_URL must be an smtp:// or smtps:// address (file:// is for development)")
            if problems:
                raise ValueError("production mode refuses to start: " + "; ".join(problems))
        return self

    def ensure_keys(self) -> None:
        """Development convenience: create missing key files under var/."""
        from ledger.signing import generate_key_file

        if self.mode is Mode.production:
            return
        if not self.auth.secret_file.exists():
            self.auth.secret_file.parent.mkdir(parents=True, exist_ok=True)
            self.auth.secret_file.touch(mode=0o600)
            self.auth.secret_file.write_text(secrets.token_urlsafe(48))
        if not self.ledger.signing_key_file.exists():
            generate_key_file(self.ledger.signing_key_file)
        if not self.privacy.pseudonym_key_file.exists():
            self.privacy.pseudonym_key_file.parent.mkdir(parents=True, exist_ok=True)
            self.privacy.pseudonym_key_file.touch(mode=0o600)
            self.privacy.pseudonym_key_file.write_text(secrets.token_hex(32))


@lru_cache
def get_settings() -> Settings:
    return Settings()
