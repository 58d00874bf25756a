"""The cooperative's signature on its PDFs: the consultation statement and the annual report
are PAdES signed, their signatures validate with pyHanko's validator against the configured
(or, in development, generated) certificate, a changed byte breaks them, and the published
report's digest in the ledger is that of the signed bytes served."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from fastapi.testclient import TestClient
from pydantic import SecretStr
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import PdfSignatureStatus, SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from reportlab.pdfgen import canvas
from typer.testing import CliRunner

from coop import pdfsigning
from coop.cli import app
from coop.db import Database
from coop.i18n import translator
from coop.settings import Mode, PdfSettings, Settings
from tests import factories as f
from tests import pdfs
from tests.conftest import Clock

URL = "/api/v1/hdab/consultations"
runner = CliRunner()


def _asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _validated(pdf: bytes, trusted: x509.Certificate) -> tuple[PdfSignatureStatus, dict]:
    """The status of the document's one signature, validated trusting ``trusted`` only."""
    (signature,) = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    status = validate_pdf_signature(signature, ValidationContext(trust_roots=[_asn1(trusted)]))
    return status, signature.sig_object


def _assert_signed_by(pdf: bytes, trusted: x509.Certificate, signer: x509.Certificate) -> dict:
    status, sig = _validated(pdf, trusted)
    assert status.intact and status.valid and status.trusted and status.bottom_line, status.pretty_print_details()
    assert status.coverage is SignatureCoverageLevel.ENTIRE_FILE
    assert status.signing_cert.dump() == _asn1(signer).dump()
    assert sig["/SubFilter"] == "/ETSI.CAdES.detached"  # PAdES baseline
    return sig


def _tampered(pdf: bytes) -> bytes:
    """``pdf`` with one byte of its signed range changed: a letter of its title."""
    at = pdf.index(b"/Title (") + len(b"/Title (")
    changed = bytearray(pdf)
    changed[at] = ord("X") if changed[at] != ord("X") else ord("Y")
    return bytes(changed)


def _development_certificate(settings: Settings) -> x509.Certificate:
    return pdfsigning.load(settings).certificate


def test_the_consultation_statement_is_signed_in_its_language(client: TestClient, database: Database) -> None:
    f.with_members(client, database, 1)
    hdab = f.api_key(database, "hdab")
    answer = client.post(URL, json=f.application(), headers=hdab).json()
    for lang in ("nl", "en"):
        pdf = client.get(f"{URL}/{answer['id']}.pdf", params={"lang": lang}, headers=hdab).content
        mine = _development_certificate(database.settings)
        sig = _assert_signed_by(pdf, mine, mine)
        assert sig["/Reason"] == translator(lang)("pdf_signature_reason_consultation")
        assert "HDAB-2026-0042" in pdfs.text(pdf)  # the statement's content is unchanged
        broken, _ = _validated(_tampered(pdf), mine)
        assert not broken.intact and not broken.bottom_line
    subject = mine.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert subject == translator("nl")("site")  # the cooperative's name


def test_the_published_annual_report_is_signed_and_its_digest_is_the_served_bytes(
    client: TestClient, database: Database, clock: Clock
) -> None:
    board, _, permit_id = f.cooperative(client, database)
    f.money(client, board, permit_id, income=100_000, expense=10_000)
    client.get("/api/v1/ledger/tree-head")
    published = f.publish(client, database, board, f.YEAR, ["nl"])
    assert published.status_code == 200, published.text
    (record,) = published.json()["published"]
    params = {"lang": "nl", "tree_size": record["tree_size"]}
    served = client.get(f"/api/v1/reports/annual/{f.YEAR}.pdf", params=params, headers=board).content
    assert hashlib.sha256(served).hexdigest() == record["sha256"]
    mine = _development_certificate(database.settings)
    sig = _assert_signed_by(served, mine, mine)
    assert sig["/Reason"] == translator("nl")("pdf_signature_reason_annual")
    broken, _ = _validated(_tampered(served), mine)
    assert not broken.intact and not broken.bottom_line
    assert hashlib.sha256(_tampered(served)).hexdigest() != record["sha256"]


def test_the_command_line_writes_the_signed_report(
    client: TestClient, database: Database, cli_env: Settings, tmp_path: Path, clock: Clock
) -> None:
    board, _, permit_id = f.cooperative(client, database)
    f.money(client, board, permit_id, income=50_000, expense=0)
    client.get("/api/v1/ledger/tree-head")
    target = tmp_path / "report.pdf"
    r = runner.invoke(app, ["report", "annual", str(f.YEAR), "-o", str(target), "--lang", "en"])
    assert r.exit_code == 0, r.output
    mine = _development_certificate(cli_env)
    _assert_signed_by(target.read_bytes(), mine, mine)


_DOCUMENT_SIGNING = x509.KeyUsage(
    digital_signature=True,
    content_commitment=True,  # non-repudiation, which a PDF signature's validation asks for
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=False,
    crl_sign=False,
    encipher_only=False,
    decipher_only=False,
)


def _authority() -> tuple[rsa.RSAPrivateKey, x509.Certificate, rsa.RSAPrivateKey, x509.Certificate]:
    """A certificate authority and a certificate it issued to the cooperative."""
    now = datetime.now(UTC)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test Trust Services CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(1)
        .not_valid_before(now - timedelta(days=30))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Coöperatie Gezondheidsdata U.A.")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(2)
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_DOCUMENT_SIGNING, critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    return ca_key, ca, key, leaf


def _pdf() -> bytes:
    out = io.BytesIO()
    page = canvas.Canvas(out, invariant=1)
    page.setTitle("A statement")
    page.drawString(100, 700, "A statement of the cooperative")
    page.save()
    return out.getvalue()


def test_a_configured_pem_key_and_chain_sign(tmp_path: Path) -> None:
    _, ca, key, leaf = _authority()
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret"),
        )
    )
    (tmp_path / "chain.pem").write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (leaf, ca)))
    pdf = PdfSettings(
        key_file=tmp_path / "key.pem",
        certificate_file=tmp_path / "chain.pem",
        password=SecretStr("secret"),
        location="Utrecht",
    )
    settings = Settings(pdf=pdf)
    moment = datetime.now(UTC)
    signed = pdfsigning.sign(_pdf(), settings, reason="test", moment=moment)
    sig = _assert_signed_by(signed, ca, leaf)
    assert sig["/Location"] == "Utrecht" and sig["/Reason"] == "test"
    assert pdfsigning.sign(_pdf(), settings, reason="test", moment=moment) == signed  # reproducible
    assert not (tmp_path / "pdf-signing-key.pem").exists()  # nothing generated beside it


def test_a_configured_pkcs12_file_signs(tmp_path: Path) -> None:
    _, ca, key, leaf = _authority()
    bundle = pkcs12.serialize_key_and_certificates(
        b"coop", key, leaf, [ca], serialization.BestAvailableEncryption(b"secret")
    )
    (tmp_path / "coop.p12").write_bytes(bundle)
    settings = Settings(
        pdf=PdfSettings(
            pkcs12_file=tmp_path / "coop.p12",
            key_file=tmp_path / "unused.pem",
            certificate_file=tmp_path / "unused-cert.pem",
            password=SecretStr("secret"),
        )
    )
    signed = pdfsigning.sign(_pdf(), settings, reason="test", moment=datetime.now(UTC))
    _assert_signed_by(signed, ca, leaf)
    assert not (tmp_path / "unused.pem").exists()
    wrong = settings.model_copy(update={"pdf": settings.pdf.model_copy(update={"password": SecretStr("nope")})})
    with pytest.raises(pdfsigning.SigningNotConfigured, match="cannot be read"):
        pdfsigning.sign(_pdf(), wrong, reason="test", moment=datetime.now(UTC))


def test_a_signing_time_before_the_certificate_is_moved_to_its_start(tmp_path: Path) -> None:
    settings = Settings(pdf=PdfSettings(key_file=tmp_path / "k.pem", certificate_file=tmp_path / "c.pem"))
    signed = pdfsigning.sign(_pdf(), settings, reason="test", moment=datetime(2001, 1, 1, tzinfo=UTC))
    mine = _development_certificate(settings)
    status, _ = _validated(signed, mine)
    assert status.bottom_line and status.signer_reported_dt == mine.not_valid_before_utc


def test_an_ecdsa_key_is_refused(tmp_path: Path) -> None:
    """An ECDSA signature differs each time: the published report's digest would not hold."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Coop")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(3)
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "ec.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    (tmp_path / "ec-cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    settings = Settings(pdf=PdfSettings(key_file=tmp_path / "ec.pem", certificate_file=tmp_path / "ec-cert.pem"))
    with pytest.raises(pdfsigning.SigningNotConfigured, match="RSA"):
        pdfsigning.sign(_pdf(), settings, reason="test", moment=now)


def test_production_does_not_start_with_a_certificate_it_cannot_read(tmp_path: Path, settings: Settings) -> None:
    _, _, key, leaf = _authority()
    bundle = pkcs12.serialize_key_and_certificates(b"coop", key, leaf, [], serialization.BestAvailableEncryption(b"ok"))
    (tmp_path / "coop.p12").write_bytes(bundle)
    settings.ensure_keys()
    wrong = PdfSettings(pkcs12_file=tmp_path / "coop.p12", password=SecretStr("wrong"))
    production = settings.model_copy(update={"mode": Mode.production, "pdf": wrong})
    with pytest.raises(pdfsigning.SigningNotConfigured, match="cannot be read"):
        Database(production)
