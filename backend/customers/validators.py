"""Domain validators for customer data: id numbers, phones, e-mail addresses and scans.

Pure functions, no database. Every rule failure raises
:class:`backend.common.exceptions.InvalidValue` with a stable ``code`` and a Chinese message;
services attach it to the right field.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import warnings
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from struct import error as struct_error
from typing import IO

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from PIL import Image, UnidentifiedImageError
from stdnum import numdb
from stdnum.cn import ric, uscc
from stdnum.exceptions import InvalidChecksum
from stdnum.exceptions import ValidationError as StdnumValidationError

from backend.common.exceptions import InvalidValue
from backend.common.isolation import run_isolated

__all__ = [
    "ID_TYPES",
    "MAX_SCAN_PIXELS",
    "IdInfo",
    "ScanInfo",
    "inspect_scan",
    "is_known_region",
    "is_mobile",
    "normalize_phone",
    "validate_email_address",
    "validate_id_number",
    "validate_id_valid_until",
    "validate_org_code",
    "validate_uscc",
]

RESIDENT_ID = "resident_id"
PASSPORT = "passport"
HK_MACAU_PERMIT = "hk_macau_permit"
TAIWAN_PERMIT = "taiwan_permit"
FOREIGN_PERMANENT_RESIDENT = "foreign_permanent_resident"
USCC = "uscc"
ORG_CODE = "org_code"
INDIVIDUAL_ID_TYPES = (RESIDENT_ID, PASSPORT, HK_MACAU_PERMIT, TAIWAN_PERMIT, FOREIGN_PERMANENT_RESIDENT)
CORPORATE_ID_TYPES = (USCC, ORG_CODE)
ID_TYPES = INDIVIDUAL_ID_TYPES + CORPORATE_ID_TYPES

EARLIEST_BIRTH_DATE = date(1900, 1, 1)

_RESIDENT_RE = re.compile(r"[0-9]{17}[0-9X]")
_LEGACY_15_RE = re.compile(r"[0-9]{15}")
_PASSPORT_RE = re.compile(r"[A-Z0-9]{5,17}")
_HK_MACAU_RE = re.compile(r"[HM](?:[0-9]{8}|[0-9]{10})")
_TAIWAN_RE = re.compile(r"[0-9]{8}|[0-9]{10}")
_FPR_OLD_RE = re.compile(r"[A-Z]{3}[0-9]{12}")
_FPR_NEW_RE = re.compile(r"9[0-9]{16}[0-9X]")


@dataclass(frozen=True)
class IdInfo:
    normalized: str
    birth_date: date | None = None
    gender: str | None = None  # "M" / "F" where the number encodes it


def _squash(raw: str | None) -> str:
    """NFKC (full-width letters/digits/spaces → ASCII), drop all whitespace, upper-case."""
    text = unicodedata.normalize("NFKC", raw or "")
    return re.sub(r"\s+", "", text).upper()


@lru_cache(maxsize=4096)
def is_known_region(code: str) -> bool:
    """True if ``code`` (6 digits) is an administrative division code of ANY period.

    python-stdnum's ``cn/loc.dat`` lists each county with the years it existed
    (``[1997-]通州区``); ``ric.validate`` rejects a code that did not exist in the birth year,
    but an id carries the place where it was issued, so any period is accepted here.
    """
    if not re.fullmatch(r"[0-9]{6}", code):
        return False
    merged: dict[str, str] = {}
    for _part, props in numdb.get("cn/loc").info(code):
        merged.update(props)
    return bool(merged.get("province")) and bool(merged.get("county"))


def _today() -> date:
    return timezone.localdate() if settings.USE_TZ else date.today()


def _birth_date(year: str, month: str, day: str) -> date | None:
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def _validate_resident_id(value: str, today: date) -> IdInfo:
    if _LEGACY_15_RE.fullmatch(value):
        raise InvalidValue(_("15位旧身份证号码已停用,请使用18位身份证号码"), "legacy_15_digit")
    if not _RESIDENT_RE.fullmatch(value):
        raise InvalidValue(_("居民身份证号码应为18位:前17位为数字,最后一位为数字或字母X"), "invalid_format")
    value = ric.compact(value)
    if value[-1] != ric.calc_check_digit(value):
        raise InvalidValue(_("居民身份证号码校验位不正确,请核对号码"), "bad_check_digit")
    born = _birth_date(value[6:10], value[10:12], value[12:14])
    if born is None:
        raise InvalidValue(_("居民身份证号码中的出生日期不是有效日期"), "invalid_birth_date")
    if born > today:
        raise InvalidValue(_("居民身份证号码中的出生日期晚于今天"), "future_birth_date")
    if born < EARLIEST_BIRTH_DATE:
        raise InvalidValue(_("居民身份证号码中的出生日期早于1900年1月1日"), "birth_date_too_early")
    if not is_known_region(value[:6]):
        raise InvalidValue(_("居民身份证号码前6位不是已知的行政区划代码"), "unknown_region")
    return IdInfo(normalized=value, birth_date=born, gender="M" if int(value[16]) % 2 else "F")


def _validate_passport(value: str) -> IdInfo:
    if not _PASSPORT_RE.fullmatch(value) or not any(c.isdigit() for c in value):
        raise InvalidValue(
            _("护照号码应为5至17位字母或数字,且至少包含一位数字,不能含标点符号"), "invalid_format"
        )
    return IdInfo(normalized=value)


def _validate_hk_macau(value: str) -> IdInfo:
    if not _HK_MACAU_RE.fullmatch(value):
        raise InvalidValue(_("港澳居民来往内地通行证号码应为字母H或M加8位(或10位)数字"), "invalid_format")
    return IdInfo(normalized=value)


def _validate_taiwan(value: str) -> IdInfo:
    if not _TAIWAN_RE.fullmatch(value):
        raise InvalidValue(_("台湾居民来往大陆通行证号码应为8位或10位数字"), "invalid_format")
    return IdInfo(normalized=value)


def _validate_foreign_permanent(value: str) -> IdInfo:
    if _FPR_OLD_RE.fullmatch(value):
        return IdInfo(normalized=value)
    if _FPR_NEW_RE.fullmatch(value):
        if value[-1] != ric.calc_check_digit(value):
            raise InvalidValue(_("外国人永久居留身份证号码校验位不正确,请核对号码"), "bad_check_digit")
        # 2023 format: 9 + province (2) + nationality (3) + birth date (8) + sequence (3) + check.
        return IdInfo(normalized=value, birth_date=_birth_date(value[6:10], value[10:12], value[12:14]))
    raise InvalidValue(
        _("外国人永久居留身份证号码应为15位(3位字母加12位数字)或以9开头的18位"), "invalid_format"
    )


# --- corporate codes ----------------------------------------------------------------------

_ORG_CODE_RE = re.compile(r"[0-9A-Z]{8}[0-9X]")
_ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_CODE_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def org_code_check_character(body: str) -> str:
    """GB 11714 check character of the 8-character body of an organisation code."""
    total = sum(_ORG_CODE_ALPHABET.index(c) * w for c, w in zip(body, _ORG_CODE_WEIGHTS, strict=True))
    check = 11 - total % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


def validate_org_code(raw: str) -> IdInfo:
    """组织机构代码 (GB 11714): 8 digits or capital letters and a check character.
    A hyphen before the check character (XXXXXXXX-X, as printed on certificates) is accepted."""
    value = _squash(raw).replace("-", "")
    if not _ORG_CODE_RE.fullmatch(value):
        raise InvalidValue(_("组织机构代码应为9位:8位数字或大写字母加1位校验码"), "invalid_format")
    if value[-1] != org_code_check_character(value[:8]):
        raise InvalidValue(_("组织机构代码校验码不正确,请核对代码"), "bad_check_digit")
    return IdInfo(normalized=value)


def validate_uscc(raw: str) -> IdInfo:
    """统一社会信用代码 (GB 32100): 18 characters, the last a check character (python-stdnum
    `cn.uscc`). Characters 9–17 carry the organisation code, but codes issued under the
    2015 scheme do not all keep its GB 11714 check, so it is not enforced here."""
    value = _squash(raw)
    if len(value) != 18:
        raise InvalidValue(_("统一社会信用代码应为18位"), "invalid_length")
    try:
        uscc.validate(value)
    except InvalidChecksum:
        raise InvalidValue(_("统一社会信用代码校验码不正确,请核对代码"), "bad_check_digit") from None
    except StdnumValidationError:
        raise InvalidValue(
            _("统一社会信用代码格式不正确:前8位须为数字,其余只能是数字或除 I、O、Z、S、V 以外的大写字母"),
            "invalid_format",
        ) from None
    return IdInfo(normalized=value)


def validate_id_number(id_type: str, raw: str, *, today: date | None = None) -> IdInfo:
    """Check ``raw`` against the rules of ``id_type`` and return the normalized number.

    Whitespace (also full-width) is removed, full-width characters are folded to ASCII and
    letters are upper-cased before checking.
    """
    if id_type not in ID_TYPES:
        raise InvalidValue(_("不支持的证件类型"), "unknown_id_type")
    value = _squash(raw)
    if not value:
        raise InvalidValue(_("请填写证件号码"), "required")
    if id_type == RESIDENT_ID:
        return _validate_resident_id(value, today or _today())
    if id_type == PASSPORT:
        return _validate_passport(value)
    if id_type == HK_MACAU_PERMIT:
        return _validate_hk_macau(value)
    if id_type == TAIWAN_PERMIT:
        return _validate_taiwan(value)
    if id_type == USCC:
        return validate_uscc(value)
    if id_type == ORG_CODE:
        return validate_org_code(value)
    return _validate_foreign_permanent(value)


# --- phones and e-mail ------------------------------------------------------------------


def normalize_phone(raw: str) -> str:
    """Parse a phone number (default region CN) and return it in E.164 (``+8613800138000``)."""
    text = re.sub(r"[\s\-]+", "", unicodedata.normalize("NFKC", raw or ""))
    message = _("请输入有效的电话号码(手机号码,或带区号的固定电话)")
    if not text or len(text) > 32:
        raise InvalidValue(message, "invalid_phone")
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        raise InvalidValue(message, "invalid_phone")
    if not phonenumbers.is_valid_number(number):
        raise InvalidValue(message, "invalid_phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def is_mobile(e164: str) -> bool:
    """True if the number is a mobile number (or, where a plan cannot tell, may be one)."""
    try:
        number = phonenumbers.parse(e164, "CN")
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.number_type(number) in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    )


_email_validator = EmailValidator()


def validate_email_address(raw: str) -> str:
    """Validate an e-mail address; return it stripped with the domain lower-cased."""
    value = (raw or "").strip()
    try:
        _email_validator(value)
    except ValidationError:
        raise InvalidValue(_("请输入有效的电子邮箱地址"), "invalid_email")
    local, _sep, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}"


# --- identity document validity (证件有效期) ----------------------------------------------

# 长期: a document with no end date (resident ids issued from age 46). The API and forms accept
# either spelling; the API answers "long_term".
LONG_TERM = "long_term"
LONG_TERM_SPELLINGS = {"long_term", "长期", "长期有效"}


@dataclass(frozen=True)
class IdValidity:
    until: date | None  # the last valid day; None when long term or not recorded
    long_term: bool = False

    @property
    def recorded(self) -> bool:
        return self.long_term or self.until is not None

    def as_text(self) -> str:
        """The API's representation: "YYYY-MM-DD", "long_term", or "" (not recorded)."""
        return LONG_TERM if self.long_term else (self.until.isoformat() if self.until else "")


def validate_id_valid_until(raw: object, *, birth_date: date | None, today: date | None = None) -> IdValidity:
    """证件有效期: a date (YYYY-MM-DD) not in the past and not before the holder's birth, or
    长期 / long_term. Empty is "not recorded" (the caller decides whether it is required)."""
    if isinstance(raw, date):
        until = raw
    else:
        text = unicodedata.normalize("NFKC", str(raw or "")).strip()
        if not text:
            return IdValidity(until=None)
        if text.lower() in LONG_TERM_SPELLINGS:
            return IdValidity(until=None, long_term=True)
        try:
            if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
                raise ValueError(text)
            until = date.fromisoformat(text)
        except ValueError:
            raise InvalidValue(
                _("证件有效期应为 YYYY-MM-DD 格式的日期；长期有效的证件请填“长期”。"), "invalid_date"
            ) from None
    if birth_date is not None and until < birth_date:
        raise InvalidValue(
            _("证件有效期不能早于出生日期（%(birth)s）。") % {"birth": birth_date.isoformat()},
            "before_birth_date",
        )
    today = today or timezone.localdate()
    if until < today:
        raise InvalidValue(
            _("证件已过期（有效期至 %(until)s），请客户提供有效证件。") % {"until": until.isoformat()},
            "id_expired",
        )
    return IdValidity(until=until)


# --- scans ------------------------------------------------------------------------------

MAX_SCAN_PIXELS = 80_000_000
_CHUNK = 64 * 1024
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class ScanInfo:
    content_type: str  # "application/pdf" | "image/jpeg" | "image/png"
    extension: str  # "pdf" | "jpg" | "png" (no dot)
    size: int
    sha256: str


def _sniff(head: bytes) -> tuple[str, str] | None:
    if head.startswith(b"%PDF-"):
        return "application/pdf", "pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg", "jpg"
    if head.startswith(_PNG_MAGIC):
        return "image/png", "png"
    return None


def _rewind(fileobj: IO[bytes]) -> None:
    try:
        fileobj.seek(0)
    except (AttributeError, OSError, ValueError):
        pass


def _format_mb(max_bytes: int) -> str:
    mb = max_bytes / (1024 * 1024)
    return f"{mb:.0f}" if mb == int(mb) else f"{mb:.1f}"


def _verify_image(fileobj: IO[bytes], expected_format: str) -> None:
    bad_type = InvalidValue(_("扫描件须为 PDF、JPEG 或 PNG 文件"), "scan_type")
    too_many_pixels = InvalidValue(
        _("扫描图像尺寸过大(不能超过 %(mp)d 百万像素)") % {"mp": MAX_SCAN_PIXELS // 1_000_000},
        "scan_too_large",
    )
    _rewind(fileobj)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(fileobj, formats=[expected_format]) as img:
                width, height = img.size
                if img.format != expected_format:
                    raise bad_type
                if width * height > MAX_SCAN_PIXELS:
                    raise too_many_pixels
                if expected_format == "JPEG":
                    # Pillow's verify() checks nothing for JPEG: decode at 1/8 scale instead.
                    img.draft("RGB", (max(1, width // 8), max(1, height // 8)))
                    img.load()
                else:
                    img.verify()  # PNG: chunk structure and CRCs
    except InvalidValue:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise too_many_pixels
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        EOFError,
        IndexError,
        TypeError,
        struct_error,
    ):
        raise bad_type
    finally:
        _rewind(fileobj)


def _verify_image_bounded(fileobj: IO[bytes], expected_format: str) -> None:
    """``_verify_image`` in a killable child (backend.common.isolation): a 30 KB progressive
    JPEG with a thousand repeated scans decodes for seconds, within the pixel cap. A child
    that runs out of time or memory refuses the scan."""
    limits = settings.CUSTFLOW["IMAGE_LIMITS"]

    def work() -> dict[str, str]:
        try:
            _verify_image(fileobj, expected_format)
        except InvalidValue as exc:
            return {"message": exc.message, "code": exc.code}
        return {}

    kind, value = run_isolated(work, seconds=limits["SECONDS"], memory_mb=limits["MEMORY_MB"], database=False)
    _rewind(fileobj)
    if kind != "ok":
        raise InvalidValue(_("扫描图像过于复杂，无法在限定时间内读取。"), "scan_too_complex")
    if value.get("code"):
        raise InvalidValue(value["message"], value["code"])


def inspect_scan(fileobj: IO[bytes], *, max_bytes: int) -> ScanInfo:
    """Check an uploaded scan by its CONTENT (never its name or declared type).

    Accepts PDF, JPEG and PNG; images are also opened and verified with Pillow, with a pixel
    cap against decompression bombs. Reads in chunks and rewinds the file afterwards. Works
    with Django ``UploadedFile`` objects and plain binary streams.
    """
    _rewind(fileobj)
    digest = hashlib.sha256()
    size = 0
    head = b""
    # JPEG: whether the last of the SOS (FF DA) / EOI (FF D9) markers seen is an EOI. Neither
    # can occur inside entropy-coded data, so a file cut off mid-scan ends after an SOS.
    last_marker_is_eoi = False
    previous = b""
    try:
        while True:
            chunk = fileobj.read(_CHUNK)
            if not chunk:
                break
            if len(head) < 16:
                head += chunk[: 16 - len(head)]
            window = previous + chunk
            sos, eoi = window.rfind(b"\xff\xda"), window.rfind(b"\xff\xd9")
            if sos >= 0 or eoi >= 0:
                last_marker_is_eoi = eoi > sos
            previous = chunk[-1:]
            size += len(chunk)
            if size > max_bytes:
                raise InvalidValue(
                    _("扫描件不能超过 %(mb)s MB") % {"mb": _format_mb(max_bytes)}, "scan_too_large"
                )
            digest.update(chunk)
    finally:
        _rewind(fileobj)
    if size == 0:
        raise InvalidValue(_("请上传扫描件"), "missing_scan")
    sniffed = _sniff(head)
    if sniffed is None:
        raise InvalidValue(_("扫描件须为 PDF、JPEG 或 PNG 文件"), "scan_type")
    content_type, extension = sniffed
    if content_type == "image/jpeg":
        # WeasyPrint sets PIL.ImageFile.LOAD_TRUNCATED_IMAGES = True for the whole process, so
        # Pillow alone would accept a truncated JPEG: insist on the end-of-image marker.
        if not last_marker_is_eoi:
            raise InvalidValue(_("扫描件须为 PDF、JPEG 或 PNG 文件"), "scan_type")
        _verify_image_bounded(fileobj, "JPEG")
    elif content_type == "image/png":
        _verify_image_bounded(fileobj, "PNG")
    return ScanInfo(content_type=content_type, extension=extension, size=size, sha256=digest.hexdigest())
