"""Bounded reading of uploaded PDFs (anyone may post one to the public verification).

A PDF is an object graph an attacker writes: a 2 KB file whose /Kids nodes list the same
child twice is walked 2**depth times, a deeply nested array overflows the parser's recursion,
a small stream inflates to gigabytes. Every uploaded PDF is therefore read in a forked child
(``backend.common.isolation``: wall-clock kill, CPU and address-space limits) and, inside that
child, a structural pre-check on the raw bytes refuses most hostile files before pyHanko sees
them:

- object count: the number of ``N G obj`` headers and the largest ``/Size`` of any trailer or
  cross-reference stream (objects inside object streams are counted by ``/Size``);
- nesting depth of ``<<``/``[`` outside streams;
- /Kids trees (page tree and form-field tree, inline or indirect /Kids arrays): every node has
  at most one parent, and no chain is deeper than the limit (a cycle is an endless chain);
- the total size of every Flate stream once inflated (inflated with a budget, never in full).

What the pre-check cannot see (objects inside compressed object streams) is bounded by the
child's limits: a child that runs out of time or memory, or whose parser fails, gives the
verdict "unreadable". Limits are ``CUSTFLOW["PDF_LIMITS"]``.
"""

from __future__ import annotations

import bisect
import dataclasses
import logging
import re
import zlib
from typing import Any

from django.conf import settings

from backend.common.isolation import run_isolated
from pdfs.signing import SignatureCheck, signature_check

__all__ = ["PdfRefused", "pdf_structure_check", "signature_check_bounded"]

logger = logging.getLogger(__name__)

_STREAM = re.compile(rb"(?<!end)stream\r?\n")
_OBJ_WORD = re.compile(rb"(?<!end)obj\b")
_HEADER = re.compile(rb"(\d{1,10})\s+\d{1,5}\s+$")
_SIZE = re.compile(rb"/Size\s+(\d{1,12})")
_NEST = re.compile(rb"<<|>>|\[|\]")
_KIDS = re.compile(rb"/Kids\s*\[([^\]]*)\]")
_KIDS_REF = re.compile(rb"/Kids\s*(\d{1,10})\s+\d{1,5}\s+R\b")
_REF = re.compile(rb"(\d{1,10})\s+\d{1,5}\s+R\b")


class PdfRefused(Exception):
    """The file breaks a structural limit; ``code`` says which (pdf_too_many_objects,
    pdf_too_deeply_nested, pdf_bad_tree, pdf_inflates_too_much)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(detail or code)
        self.code = code


def _split(pdf: bytes) -> tuple[bytes, list[tuple[int, int]]]:
    """The bytes outside streams (joined) and the (start, end) of every stream's data."""
    parts: list[bytes] = []
    streams: list[tuple[int, int]] = []
    at = 0
    while True:
        match = _STREAM.search(pdf, at)
        if match is None:
            parts.append(pdf[at:])
            break
        parts.append(pdf[at : match.start()])
        end = pdf.find(b"endstream", match.end())
        if end < 0:
            streams.append((match.end(), len(pdf)))
            break
        streams.append((match.end(), end))
        at = end + len(b"endstream")
    return b"\n".join(parts), streams


def _check_objects(text: bytes, max_objects: int) -> None:
    headers = text.count(b"obj") - text.count(b"endobj")
    declared = max((int(m.group(1)) for m in _SIZE.finditer(text)), default=0)
    if max(headers, declared) > max_objects:
        raise PdfRefused("pdf_too_many_objects", f"{max(headers, declared)} objects")


def _check_nesting(text: bytes, max_nesting: int) -> None:
    depth = 0
    for match in _NEST.finditer(text):
        token = match.group()
        if token in (b"<<", b"["):
            depth += 1
            if depth > max_nesting:
                raise PdfRefused("pdf_too_deeply_nested", f"nesting deeper than {max_nesting}")
        elif depth:
            depth -= 1


def _owner(text: bytes, words: list[int], at: int) -> int:
    """The number of the object whose body holds position ``at`` (-1 - at if unknown)."""
    i = bisect.bisect_right(words, at) - 1
    if i >= 0:
        header = _HEADER.search(text, max(0, words[i] - 32), words[i])
        if header is not None:
            return int(header.group(1))
    return -1 - at


def _check_trees(text: bytes, max_depth: int) -> None:
    inline = list(_KIDS.finditer(text))
    indirect = list(_KIDS_REF.finditer(text))
    if not inline and not indirect:
        return
    words = [m.start() for m in _OBJ_WORD.finditer(text)]
    # Per object number, the /Kids of its last revision (an incremental update rewrites it).
    kids_of: dict[int, list[int]] = {}
    for kids in inline:
        owner = _owner(text, words, kids.start())
        kids_of[owner] = [int(ref.group(1)) for ref in _REF.finditer(kids.group(1))]
    if indirect:
        # /Kids N 0 R: the array object N is one more level, its entries are its children.
        starts: dict[int, int] = {}
        for at in words:
            header = _HEADER.search(text, max(0, at - 32), at)
            if header is not None:
                starts[int(header.group(1))] = at + 3
        for kids in indirect:
            array = int(kids.group(1))
            kids_of[_owner(text, words, kids.start())] = [array]
            if array in starts:
                end = text.find(b"endobj", starts[array])
                body = text[starts[array] : end if end >= 0 else len(text)]
                kids_of[array] = [int(ref.group(1)) for ref in _REF.finditer(body)]
    parent: dict[int, int] = {}
    for owner, children in kids_of.items():
        for child in children:
            if child in parent or child == owner:
                raise PdfRefused("pdf_bad_tree", f"object {child} has two parents")
            parent[child] = owner
    depth: dict[int, int] = {}
    for node in parent:
        chain: list[int] = []
        current: int | None = node
        while current is not None and current not in depth:
            chain.append(current)
            if len(chain) > max_depth:
                raise PdfRefused("pdf_bad_tree", f"a /Kids chain deeper than {max_depth}")
            current = parent.get(current)
        known = depth[current] if current is not None else 0
        for offset, item in enumerate(reversed(chain), start=1):
            depth[item] = known + offset
            if depth[item] > max_depth:
                raise PdfRefused("pdf_bad_tree", f"a /Kids chain deeper than {max_depth}")


def _check_inflated(pdf: bytes, streams: list[tuple[int, int]], max_bytes: int) -> None:
    view = memoryview(pdf)
    total = 0
    for start, end in streams:
        inflater = zlib.decompressobj()
        data: Any = view[start:end]
        try:
            while True:
                out = inflater.decompress(data, max_bytes - total + 1)
                total += len(out)
                if total > max_bytes:
                    raise PdfRefused("pdf_inflates_too_much", f"streams inflate past {max_bytes} bytes")
                data = inflater.unconsumed_tail
                if not data or not out:
                    break
        except zlib.error:
            continue  # not a Flate stream (or a broken one): the parser decides


def pdf_structure_check(pdf: bytes, limits: dict[str, Any] | None = None) -> None:
    """Raise ``PdfRefused`` when the raw bytes break one of the structural limits."""
    limits = limits or settings.CUSTFLOW["PDF_LIMITS"]
    text, streams = _split(pdf)
    _check_objects(text, limits["MAX_OBJECTS"])
    _check_nesting(text, limits["MAX_NESTING"])
    _check_trees(text, limits["MAX_TREE_DEPTH"])
    _check_inflated(pdf, streams, limits["MAX_INFLATED_BYTES"])


def signature_check_bounded(pdf: bytes) -> SignatureCheck:
    """``signature_check`` in a killable child, after the structural pre-check. Raises
    ``PdfRefused`` for a file that breaks a limit; a child that is killed or fails gives
    ``SignatureCheck(state="unreadable")``."""
    limits = settings.CUSTFLOW["PDF_LIMITS"]

    def work() -> dict[str, Any]:
        try:
            pdf_structure_check(pdf, limits)
        except PdfRefused as exc:
            return {"refused": exc.code, "detail": str(exc)}
        return {"check": dataclasses.asdict(signature_check(pdf))}

    kind, value = run_isolated(work, seconds=limits["SECONDS"], memory_mb=limits["MEMORY_MB"], database=False)
    if kind != "ok":
        logger.info("uploaded PDF not readable within bounds: %s", value.get("message", ""))
        return SignatureCheck(state="unreadable")
    if "refused" in value:
        logger.info("uploaded PDF refused: %s (%s)", value["refused"], value["detail"])
        raise PdfRefused(value["refused"], value["detail"])
    return SignatureCheck(**value["check"])
