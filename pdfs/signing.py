"""PAdES signatures (pyHanko) on printed forms, and their verification.

A form is rendered by WeasyPrint with its seal (the issuing org unit's Chinese name, see
``templates/pdfs/_seal.html``) at a fixed place on page 1; the signature widget sits on that
seal, so the visible stamp is the seal itself plus the signing time. The signature covers the
whole file; any later byte change breaks it.
"""

from __future__ import annotations

import io
import logging
import threading
from dataclasses import dataclass
from functools import lru_cache

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.layout import AxisAlignment, Margins, SimpleBoxLayoutRule
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.sign import fields, signers
from pyhanko.sign.general import get_pyca_cryptography_hash
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.stamp import TextStampStyle
from pyhanko_certvalidator import ValidationContext

from pdfs.certificates import signing_material, trust_root_paths

__all__ = ["FIELD_PREFIX", "SEAL_BOX", "SignatureCheck", "sign_pdf", "signature_check"]

logger = logging.getLogger(__name__)

FIELD_PREFIX = "custflow-"
_MM = 72 / 25.4
# The seal's place on page 1 in PDF points (A4, origin bottom-left); it must match
# .doc-seal in forms.css: 16 mm from the right edge, 20 mm from the top, 38 × 18 mm.
SEAL_BOX = (
    round((210 - 16 - 38) * _MM, 2),
    round((297 - 20 - 18) * _MM, 2),
    round((210 - 16) * _MM, 2),
    round((297 - 20) * _MM, 2),
)
SIGNATURE_BYTES = 16384
# The signing time in small type along the seal's bottom edge (the seal above it is HTML).
_STAMP = TextStampStyle(
    stamp_text="%(ts)s",
    border_width=0,
    timestamp_format="%Y-%m-%d %H:%M:%S %Z",
    text_box_style=TextBoxStyle(font_size=6),
    inner_content_layout=SimpleBoxLayoutRule(
        x_align=AxisAlignment.ALIGN_MID, y_align=AxisAlignment.ALIGN_MIN, margins=Margins(bottom=2)
    ),
)
_lock = threading.Lock()


class _KeptKeySigner(signers.SimpleSigner):
    """SimpleSigner re-parses its private key for every signature (cryptography validates an
    RSA key on load: ~100 ms, more than the rest of the signature); this one parses it once."""

    _pyca_key = None

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
        try:
            algo = mechanism.signature_algo
        except ValueError:
            algo = mechanism["algorithm"].native
        if algo != "rsassa_pkcs1v15":
            return super().sign_raw(data, digest_algorithm)
        if self._pyca_key is None:
            self._pyca_key = serialization.load_der_private_key(self.signing_key.dump(), password=None)
        return self._pyca_key.sign(data, PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm))


@lru_cache(maxsize=64)
def _signer(code: str, name: str) -> signers.SimpleSigner:
    material = signing_material(code, name)
    signer = signers.SimpleSigner.load(
        str(material.key_path),
        str(material.cert_path),
        ca_chain_files=tuple(str(p) for p in material.chain),
        key_passphrase=material.passphrase,
    )
    if signer is None:
        raise RuntimeError(f"could not load the signing key of org unit {code}")
    signer.__class__ = _KeptKeySigner  # load() builds a plain SimpleSigner; same fields
    return signer


def sign_pdf(pdf: bytes, *, document_id: str, org_code: str, org_name: str, reason: str) -> bytes:
    """Sign ``pdf`` as org unit ``org_code`` (PAdES baseline B, SHA-256, visible on the seal)."""
    signer = _signer(org_code, org_name)
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    field_name = f"{FIELD_PREFIX}{document_id}"
    meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason=reason,
        location=org_name,
        name=org_name,
    )
    pdf_signer = signers.PdfSigner(
        meta,
        signer=signer,
        stamp_style=_STAMP,
        new_field_spec=fields.SigFieldSpec(sig_field_name=field_name, on_page=0, box=SEAL_BOX),
    )
    out = io.BytesIO()
    with _lock:  # pyHanko's signer objects are shared between threads of one process
        # A fixed reservation skips pyHanko's dry-run signature that measures the CMS size
        # (RSA-2048 + two certificates: ~3.5 KB).
        pdf_signer.sign_pdf(writer, output=out, bytes_reserved=SIGNATURE_BYTES)
    return out.getvalue()


@dataclass(frozen=True)
class SignatureCheck:
    """What the bytes of an uploaded PDF say about themselves."""

    state: str  # "valid" | "tampered" | "unsigned" | "unreadable"
    document_id: str = ""
    signer: str = ""
    signed_at: str = ""
    trusted: bool = False


def signature_check(pdf: bytes) -> SignatureCheck:
    """Validate the first custflow signature in ``pdf``: intact (the signed bytes hash to the
    signed digest), the signature checks against the certificate, and the signature covers the
    whole file (nothing appended after signing)."""
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        embedded = [s for s in reader.embedded_signatures if s.field_name.startswith(FIELD_PREFIX)]
    except (PdfError, ValueError, KeyError, TypeError, IndexError, AttributeError, OSError) as exc:
        logger.info("unreadable PDF uploaded for verification: %s", exc)
        return SignatureCheck(state="unreadable")
    if not embedded:
        return SignatureCheck(state="unsigned")
    sig = embedded[0]
    document_id = sig.field_name[len(FIELD_PREFIX) :]
    roots = [_load_cert(str(p)) for p in trust_root_paths()]
    context = ValidationContext(trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail")
    try:
        status = validate_pdf_signature(sig, context)
    except Exception as exc:  # noqa: BLE001 — any failure to validate means "not genuine"
        logger.info("signature validation failed: %s", exc)
        return SignatureCheck(state="tampered", document_id=document_id)
    whole_file = status.coverage is not None and status.coverage.name == "ENTIRE_FILE"
    ok = status.intact and status.valid and whole_file
    signer = status.signing_cert.subject.native.get("common_name", "") if status.signing_cert else ""
    return SignatureCheck(
        state="valid" if ok else "tampered",
        document_id=document_id,
        signer=signer,
        signed_at=status.signer_reported_dt.isoformat() if status.signer_reported_dt else "",
        trusted=bool(status.trusted),
    )


@lru_cache(maxsize=16)
def _load_cert(path: str):
    return load_cert_from_pemder(path)
