"""The cooperative's signature on its PDFs: PAdES baseline B-B (pyHanko), with the
certificate the settings name (a PKCS#12 file, or a key and a PEM certificate chain), or in
development a self-signed one generated on first use beside the other keys.

A PDF reader shows the document as signed by the cooperative, and anyone can check that not a
byte changed. The signed bytes are reproducible: an RSA signature (PKCS#1 v1.5) of the same
bytes is always the same, the signing time is the document's own moment (never before the
certificate's validity begins), and the file identifier is derived from the content. So the
annual report, rebuilt from the same figures, gives the same signed bytes, and its SHA-256 in
the ledger of record stays the digest of what is served.
"""

from __future__ import annotations

import hashlib
import io
import os
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed448, ed25519, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko_certvalidator.registry import SimpleCertificateStore

from coop.settings import Mode, PdfSettings, Settings

KEY_BITS = 3072
DEVELOPMENT_YEARS = 10
SIGNATURE_FIELD = "Signature"


@dataclass(frozen=True)
class Certificate:
    """The key that signs, its certificate, and the chain up to the root (root included when
    the file has it)."""

    key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]


class SigningNotConfigured(RuntimeError):
    """The settings name no usable certificate for signing PDFs."""


def _password(pdf: PdfSettings) -> bytes | None:
    return pdf.password.get_secret_value().encode() if pdf.password is not None else None


def _checked(key: object, where: Path) -> rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey:
    # ECDSA draws a fresh random number for every signature: the published report would then
    # give other bytes each time it is built, and its digest in the ledger would not match
    if not isinstance(key, rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey):
        raise SigningNotConfigured(
            f"{where} holds a {type(key).__name__}: PDFs are signed with an RSA (or EdDSA) key, whose "
            "signature of the same document is always the same"
        )
    return key


def load(settings: Settings) -> Certificate:
    """The certificate the settings name; in development, generated when missing."""
    pdf = settings.pdf
    try:
        if pdf.pkcs12_file is not None:
            key, cert, more = pkcs12.load_key_and_certificates(pdf.pkcs12_file.read_bytes(), _password(pdf))
            if key is None or cert is None:
                raise SigningNotConfigured(f"{pdf.pkcs12_file} holds no private key with its certificate")
            return Certificate(_checked(key, pdf.pkcs12_file), cert, tuple(more))
        if settings.mode is not Mode.production and not pdf.certificate_file.exists():
            generate(pdf.key_file, pdf.certificate_file, _site_name())
        key = serialization.load_pem_private_key(pdf.key_file.read_bytes(), _password(pdf))
        cert, *more = x509.load_pem_x509_certificates(pdf.certificate_file.read_bytes())
    except (OSError, ValueError) as exc:
        raise SigningNotConfigured(f"the PDF signing certificate cannot be read: {exc}") from exc
    return Certificate(_checked(key, pdf.key_file), cert, tuple(more))


def _site_name() -> str:
    from coop.i18n import DEFAULT_LANGUAGE, translator

    return translator(DEFAULT_LANGUAGE.value)("site")


def generate(key_file: Path, certificate_file: Path, name: str) -> None:
    """A new RSA key (PKCS#8 PEM, readable by the owner only) and a self-signed certificate
    for it, with the cooperative's ``name`` as subject: for development and tests only."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    subject = x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, name), x509.NameAttribute(NameOID.ORGANIZATION_NAME, name)]
    )
    now = datetime.now(UTC).replace(microsecond=0)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365 * DEVELOPMENT_YEARS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_file.parent.mkdir(parents=True, exist_ok=True)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    partial = key_file.with_name(key_file.name + ".new")
    partial.unlink(missing_ok=True)
    partial.touch(mode=0o600)
    partial.write_bytes(pem)
    os.replace(partial, key_file)
    # the certificate last: its presence says the pair is complete
    certificate_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


class _Reproducible(IncrementalPdfFileWriter):
    """The signed revision of ``pdf`` with what pyHanko would take from the clock or chance
    taken from the content and ``moment``: its modification date, and its file identifier."""

    def __init__(self, pdf: bytes, moment: datetime) -> None:
        super().__init__(io.BytesIO(pdf), strict=False)
        self._moment = moment
        first, _ = self.document_id
        self._document_id = generic.ArrayObject(
            [generic.ByteStringObject(first), generic.ByteStringObject(hashlib.sha256(pdf).digest()[:16])]
        )

    def _update_meta(self) -> None:
        super()._update_meta()  # type: ignore[no-untyped-call]
        info = self._info.get_object() if self._info is not None else None  # type: ignore[no-untyped-call]
        if info is not None and "/ModDate" in info:
            info["/ModDate"] = generic.pdf_date(self._moment)


class _AtMoment(signers.PdfSigner):
    """A signer whose signing time is the one given, not the clock's."""

    def __init__(self, *args: object, moment: datetime, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._moment = moment

    def init_signing_session(self, pdf_out, existing_fields_only=False):  # type: ignore[no-untyped-def]
        session = super().init_signing_session(pdf_out, existing_fields_only)
        session.system_time = self._moment
        return session


def sign(pdf: bytes, settings: Settings, *, reason: str, moment: datetime) -> bytes:
    """``pdf`` signed by the cooperative (PAdES B-B, invisible signature field), as of
    ``moment`` (the document's own time; moved to the start of the certificate's validity
    when earlier); the same input gives the same bytes."""
    found = load(settings)
    key = found.key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    signer = signers.SimpleSigner(
        signing_cert=_asn1(found.certificate),
        signing_key=asn1_keys.PrivateKeyInfo.load(key),
        cert_registry=SimpleCertificateStore.from_certs([_asn1(c) for c in found.chain]),  # type: ignore[no-untyped-call]
    )
    meta = signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD,
        reason=reason,
        location=settings.pdf.location or None,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
    )
    valid_from = found.certificate.not_valid_before_utc
    at = max(moment.astimezone(UTC), valid_from).replace(microsecond=0)
    writer = _Reproducible(pdf, at)
    out = io.BytesIO()
    _AtMoment(meta, signer, moment=at).sign_pdf(writer, output=out)
    return out.getvalue()


def sign_annual(pdf: bytes, settings: Settings, lang: str, signed_head_at: str | None, as_of: datetime) -> bytes:
    """The annual report signed as of the signed tree head it shows (else the day of its
    figures), with the reason in the report's language."""
    from coop.i18n import translator

    t = translator(lang)
    moment = datetime.fromisoformat(signed_head_at) if signed_head_at else datetime.combine(as_of.date(), time(), UTC)
    return sign(pdf, settings, reason=t("pdf_signature_reason_annual"), moment=moment)


def sign_consultation(pdf: bytes, settings: Settings, lang: str, asked_at: str) -> bytes:
    """A consultation statement signed as of the consultation, with the reason in its language."""
    from coop.i18n import translator

    t = translator(lang)
    return sign(pdf, settings, reason=t("pdf_signature_reason_consultation"), moment=datetime.fromisoformat(asked_at))
