"""Hostile PDFs, generated in the test (nothing large is committed): a deep /Kids graph whose
nodes share their children (2 KB, exponential to walk), many objects, a deflate bomb, deep
array nesting. Each file is a syntactically valid PDF with a correct cross-reference table."""

from __future__ import annotations

import zlib


def assemble(objects: list[bytes], *, root: int = 1, trailer_extra: bytes = b"") -> bytes:
    """objects[i] is the body of object i + 1; returns a PDF with a classic xref table."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root %d 0 R %s>>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        root,
        trailer_extra,
        xref,
    )
    return bytes(out)


def deep_kids(depth: int, *, fan: int = 2) -> bytes:
    """Catalog → /Pages and /AcroForm /Fields, each a chain of `depth` nodes where every node
    lists the next node `fan` times in /Kids: a few objects, fan**depth paths."""
    first = 3
    objects = [
        b"<< /Type /Catalog /Pages %d 0 R /AcroForm << /Fields [%d 0 R] >> >>" % (first, first),
        b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 10 10] /FT /Sig /T (custflow-x) >>" % first,
    ]
    for level in range(depth):
        number = first + level
        child = number + 1 if level < depth - 1 else 2
        kids = b" ".join([b"%d 0 R" % child] * fan)
        objects.append(
            b"<< /Type /Pages /T (n%d) /Kids [%s] /Count %d >>" % (level, kids, fan ** (depth - level))
        )
    return assemble(objects)


def many_objects(count: int) -> bytes:
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"]
    objects += [b"<< /N %d >>" % i for i in range(count)]
    return assemble(objects)


def deflate_bomb(megabytes: int) -> bytes:
    """A content stream of a few hundred KB that inflates to `megabytes` MB."""
    data = zlib.compress(b"\x00" * (megabytes * 1024 * 1024), 9)
    stream = b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream"
    return assemble(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 10 10] /Contents 4 0 R >>",
            stream,
        ]
    )


def deep_nesting(depth: int) -> bytes:
    return assemble(
        [
            b"<< /Type /Catalog /Pages 2 0 R /Deep %s%s >>" % (b"[" * depth, b"]" * depth),
            b"<< /Type /Pages /Kids [] /Count 0 >>",
        ]
    )


def deep_kids_in_object_stream(depth: int) -> bytes:
    """``deep_kids`` with its nodes inside a compressed object stream (PDF 1.5), where no scan
    of the raw bytes sees them: only the wall-clock kill bounds the parse."""
    first, leaf = 3, 2
    nodes = []
    for level in range(depth):
        child = first + level + 1 if level < depth - 1 else leaf
        nodes.append(b"<< /T (n%d) /Kids [%d 0 R %d 0 R] >>" % (level, child, child))
    numbers = list(range(first, first + depth))
    header, body, at = b"", b"", 0
    for number, node in zip(numbers, nodes, strict=True):
        header += b"%d %d " % (number, at)
        body += node + b"\n"
        at += len(node) + 1
    stream_number = first + depth
    packed = zlib.compress(header + body)
    plain = [
        b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [%d 0 R] >> >>" % first,
        b"<< /Type /Pages /Kids [] /Count 0 >>",
    ]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number, item in enumerate(plain, start=1):
        offsets[number] = len(out)
        out += b"%d 0 obj\n" % number + item + b"\nendobj\n"
    offsets[stream_number] = len(out)
    out += (
        b"%d 0 obj\n<< /Type /ObjStm /N %d /First %d /Length %d /Filter /FlateDecode >>\nstream\n"
        % (stream_number, depth, len(header), len(packed))
        + packed
        + b"\nendstream\nendobj\n"
    )
    xref_number = stream_number + 1
    offsets[xref_number] = len(out)
    rows = b"\x00" + (0).to_bytes(4, "big") + (65535).to_bytes(2, "big")
    for number in range(1, xref_number + 1):
        if number in offsets:
            rows += b"\x01" + offsets[number].to_bytes(4, "big") + b"\x00\x00"
        else:
            rows += b"\x02" + stream_number.to_bytes(4, "big") + numbers.index(number).to_bytes(2, "big")
    out += (
        b"%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] /Root 1 0 R /Length %d >>\nstream\n"
        % (xref_number, xref_number + 1, len(rows))
        + rows
        + b"\nendstream\nendobj\n"
    )
    out += b"startxref\n%d\n%%%%EOF\n" % offsets[xref_number]
    return bytes(out)


def kids_via_indirect_array(depth: int) -> bytes:
    """``deep_kids`` where each /Kids is a reference to an array object, not an inline array."""
    first = 3
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [%d 0 R] >> >>" % first,
        b"<< /Type /Pages /Kids [] /Count 0 >>",
    ]
    # nodes at first, first + 2, ...; each node's /Kids array object right after it
    for level in range(depth):
        number = first + 2 * level
        child = number + 2 if level < depth - 1 else 2
        objects.append(b"<< /T (n%d) /Kids %d 0 R >>" % (level, number + 1))
        objects.append(b"[%d 0 R %d 0 R]" % (child, child))
    return assemble(objects)
