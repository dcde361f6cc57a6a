"""Hostile spreadsheets: an XLSX is a zip of XML parts, and openpyxl (even read-only) loads every
shared string into memory before the first row, so 3 M tiny strings tie a process for a minute.
Before anything parses an uploaded XLSX, ``xlsx_check`` looks at its structure only:

- the zip's end-of-central-directory record: entry count (no Zip64);
- the central directory: total uncompressed size, and the ratio of each large entry;
- the shared-strings part, inflated as a stream and scanned for ``<si`` with a cap (never kept);
- the first sheet's ``<dimension>``: declared rows × columns.

The upload request runs the check in a killable child (``xlsx_check_bounded``; a check that
does not end in time refuses the file) and never opens the workbook; the import job (Celery
worker) checks again before openpyxl parses, and counts cells while it reads
(``XLSX_LIMITS["MAX_CELLS"]``). Limits are ``CUSTFLOW["XLSX_LIMITS"]``.
"""

from __future__ import annotations

import re
import struct
import zipfile
from typing import IO, Any

from django.conf import settings
from django.utils.translation import gettext as _

from backend.common.exceptions import ValidationFailed
from backend.common.isolation import run_isolated

_EOCD = b"PK\x05\x06"
_SHARED_STRING = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?si[\s>/]")
_DIMENSION = re.compile(
    rb"<(?:[A-Za-z_][\w.-]*:)?dimension\s+ref=\"([A-Z]{1,3})(\d{1,7})(?::([A-Z]{1,3})(\d{1,7}))?\""
)
_RATIO_FLOOR = 1024 * 1024  # small parts (styles, themes) may compress better than any sheet
_CHUNK = 1024 * 1024


class ImportFileInvalid(ValidationFailed):
    default_code = "invalid_import_file"

    def __init__(self, message: str) -> None:
        super().__init__("", field_errors={"file": [message]})


def _limits() -> dict[str, Any]:
    return settings.CUSTFLOW["XLSX_LIMITS"]


def _unreadable(reason: str) -> ImportFileInvalid:
    return ImportFileInvalid(_("XLSX 文件无法读取:%(error)s") % {"error": reason})


def _too_big(reason: str) -> ImportFileInvalid:
    return ImportFileInvalid(_("XLSX 文件超出导入限制（%(reason)s），请拆分后再导入。") % {"reason": reason})


def _directory_entries(fileobj: IO[bytes]) -> int:
    fileobj.seek(0, 2)
    size = fileobj.tell()
    tail_size = min(size, 22 + 65535)
    fileobj.seek(size - tail_size)
    tail = fileobj.read(tail_size)
    at = tail.rfind(_EOCD)
    if at < 0 or len(tail) - at < 22:
        raise _unreadable("not a zip file")
    _disk, _cd_disk, _here, total, _cd_size, cd_offset = struct.unpack("<HHHHII", tail[at + 4 : at + 20])
    if total == 0xFFFF or cd_offset == 0xFFFFFFFF:
        raise _too_big(_("Zip64 格式"))
    return total


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + (letter - 64)
    return number


def _count_shared_strings(archive: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> int:
    """``<si`` elements in the part, read as a stream; stops once past ``cap``."""
    count, carry, keep = 0, b"", 64
    with archive.open(info) as part:
        while count <= cap:
            chunk = part.read(_CHUNK)
            if not chunk:
                return count + sum(1 for _ in _SHARED_STRING.finditer(carry))
            window = carry + chunk
            # a match may straddle two chunks: count those starting before the carried tail
            limit = max(0, len(window) - keep)
            count += sum(1 for m in _SHARED_STRING.finditer(window, 0, len(window)) if m.start() < limit)
            carry = window[limit:]
    return count


def _first_sheet(archive: zipfile.ZipFile) -> zipfile.ZipInfo | None:
    sheets = sorted(
        (i for i in archive.infolist() if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", i.filename, re.I)),
        key=lambda i: int(re.sub(r"\D", "", i.filename.rsplit("/", 1)[-1]) or 0),
    )
    return sheets[0] if sheets else None


def xlsx_check(fileobj: IO[bytes], limits: dict[str, Any] | None = None) -> None:
    """Raise ``ImportFileInvalid`` unless the XLSX's structure is within the limits. Reads the
    zip directory, streams the shared strings with a cap and reads the first sheet's head;
    parses no XML and keeps nothing. Rewinds the file."""
    limits = limits or _limits()
    try:
        entries = _directory_entries(fileobj)
        if entries > limits["MAX_ENTRIES"]:
            raise _too_big(_("%(n)d 个压缩条目") % {"n": entries})
        fileobj.seek(0)
        try:
            archive = zipfile.ZipFile(fileobj)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, struct.error) as exc:
            raise _unreadable(str(exc)[:200]) from None
        with archive:
            infos = archive.infolist()
            if len(infos) > limits["MAX_ENTRIES"]:
                raise _too_big(_("%(n)d 个压缩条目") % {"n": len(infos)})
            total = sum(i.file_size for i in infos)
            if total > limits["MAX_UNCOMPRESSED_BYTES"]:
                raise _too_big(_("解压后 %(mb)d MB") % {"mb": total // (1024 * 1024)})
            for info in infos:
                if info.file_size > _RATIO_FLOOR and info.file_size > limits["MAX_RATIO"] * max(
                    info.compress_size, 1
                ):
                    raise _too_big(_("压缩比异常：%(name)s") % {"name": info.filename[:100]})
            try:
                for info in infos:
                    if info.filename.lower().endswith("sharedstrings.xml"):
                        cap = limits["MAX_SHARED_STRINGS"]
                        if _count_shared_strings(archive, info, cap) > cap:
                            raise _too_big(_("共享字符串超过 %(n)d 个") % {"n": cap})
                sheet = _first_sheet(archive)
                if sheet is not None:
                    with archive.open(sheet) as part:
                        head = part.read(64 * 1024)
                    dimension = _DIMENSION.search(head)
                    if dimension is not None:
                        first_col, first_row, last_col, last_row = dimension.groups()
                        rows = int(last_row or first_row) - int(first_row) + 1
                        cols = _column_number(last_col or first_col) - _column_number(first_col) + 1
                        if rows * cols > limits["MAX_CELLS"]:
                            raise _too_big(_("%(n)d 个单元格") % {"n": rows * cols})
            except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as exc:
                # zlib errors surface as zipfile.BadZipFile or zlib.error (an Exception subclass)
                raise _unreadable(str(exc)[:200]) from None
            except Exception as exc:  # noqa: BLE001 — zlib.error, a CRC mismatch: not readable
                if isinstance(exc, ImportFileInvalid):
                    raise
                raise _unreadable(str(exc)[:200]) from None
    finally:
        fileobj.seek(0)


def xlsx_check_bounded(fileobj: IO[bytes]) -> None:
    """``xlsx_check`` in a killable child (the request thread inflates nothing): a check that
    runs out of time or memory refuses the file."""
    limits = _limits()

    def work() -> dict[str, Any]:
        try:
            xlsx_check(fileobj, limits)
        except ImportFileInvalid as exc:
            return {"refused": exc.field_errors["file"][0]}
        return {}

    kind, value = run_isolated(work, seconds=limits["SECONDS"], memory_mb=limits["MEMORY_MB"], database=False)
    fileobj.seek(0)
    if kind != "ok":
        raise ImportFileInvalid(_("XLSX 文件过于复杂，无法在限定时间内完成检查，请拆分后再导入。"))
    if value.get("refused"):
        raise ImportFileInvalid(value["refused"])


def xlsx_cells_counter(limits: dict[str, Any] | None = None):
    """While the worker reads rows: call with each row's width; raises past MAX_CELLS."""
    cap = (limits or _limits())["MAX_CELLS"]
    state = {"cells": 0}

    def count(width: int) -> None:
        state["cells"] += max(width, 1)
        if state["cells"] > cap:
            raise _too_big(_("超过 %(n)d 个单元格") % {"n": cap})

    return count
