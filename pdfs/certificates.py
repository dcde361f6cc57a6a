"""Signing certificates per org unit.

Production: ``CUSTFLOW["SIGNING"]["ORG_UNITS"]`` maps an org-unit code to the PEM files of its
key and certificate (``{"key": path, "cert": path, "chain": [paths], "passphrase_env": NAME}``)
and ``TRUST_ROOTS`` lists the CA certificates a verifier trusts.

Demo mode (``ISSUE_DEMO_CERTIFICATES``): a self-made CA in ``CERT_DIR`` issues each org unit its
certificate on first use (``manage.py demo_certificates`` issues them ahead of time). Keys are
written with mode 0600 under ``var/`` and never committed.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.conf import settings

__all__ = [
    "SigningMaterial",
    "ca_certificate_path",
    "demo_certificate_issue",
    "signing_material",
    "trust_root_paths",
]

CA_KEY = "ca.key.pem"
CA_CERT = "ca.cert.pem"
_SAFE_CODE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


class CertificateMissing(LookupError):
    """No certificate is configured for an org unit and demo issuing is off."""


@dataclass(frozen=True)
class SigningMaterial:
    key_path: Path
    cert_path: Path
    chain: tuple[Path, ...]
    passphrase: bytes | None


def _config() -> dict:
    return settings.CUSTFLOW["SIGNING"]


def cert_dir() -> Path:
    return Path(_config()["CERT_DIR"])


def ca_certificate_path() -> Path:
    return cert_dir() / CA_CERT


def trust_root_paths() -> list[Path]:
    roots = [Path(p) for p in _config().get("TRUST_ROOTS") or []]
    if _config().get("ISSUE_DEMO_CERTIFICATES") and ca_certificate_path().exists():
        roots.append(ca_certificate_path())
    return roots


def signing_material(code: str, name: str) -> SigningMaterial:
    """The key and certificate an org unit signs with (issued on first use in demo mode)."""
    configured = (_config().get("ORG_UNITS") or {}).get(code)
    if configured:
        passphrase_env = configured.get("passphrase_env")
        return SigningMaterial(
            key_path=Path(configured["key"]),
            cert_path=Path(configured["cert"]),
            chain=tuple(Path(p) for p in configured.get("chain") or ()),
            passphrase=os.environ[passphrase_env].encode() if passphrase_env else None,
        )
    if not _config().get("ISSUE_DEMO_CERTIFICATES"):
        raise CertificateMissing(code)
    key_path, cert_path = demo_certificate_issue(code, name)
    return SigningMaterial(
        key_path=key_path, cert_path=cert_path, chain=(ca_certificate_path(),), passphrase=None
    )


def _write_private(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def _name(common_name: str, unit: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "custflow demo"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem_key(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _ensure_ca(folder: Path):
    key_file, cert_file = folder / CA_KEY, folder / CA_CERT
    if key_file.exists() and cert_file.exists():
        key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
        return key, x509.load_pem_x509_certificate(cert_file.read_bytes())
    key = _new_key()
    now = dt.datetime.now(dt.UTC)
    subject = _name("custflow demo CA", "CA")
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_private(key_file, _pem_key(key))
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key, cert


def demo_certificate_issue(code: str, name: str, *, force: bool = False) -> tuple[Path, Path]:
    """Issue (once) the demo certificate of one org unit, signed by the demo CA."""
    if not _SAFE_CODE.match(code):
        raise ValueError(f"org unit code not usable as a file name: {code!r}")
    folder = cert_dir()
    key_file, cert_file = folder / f"{code}.key.pem", folder / f"{code}.cert.pem"
    if not force and key_file.exists() and cert_file.exists():
        return key_file, cert_file
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as lock:  # web, workers and test processes share the folder
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not force and key_file.exists() and cert_file.exists():
            return key_file, cert_file
        ca_key, ca_cert = _ensure_ca(folder)
        key = _new_key()
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(f"{name} 电子签章", code))
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=825))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
            )
            .sign(ca_key, hashes.SHA256())
        )
        _write_private(key_file, _pem_key(key))
        cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_file, cert_file
