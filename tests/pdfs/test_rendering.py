"""PDF rendering: the collection card, CJK fonts, page numbers, QR codes and the closed fetcher."""

from __future__ import annotations

import base64
import io
import re
import shutil
import subprocess
import threading
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.template import Context, Template
from django.template.loader import render_to_string
from PIL import Image
from weasyprint import HTML

from pdfs import rendering
from pdfs.documents import card_context, render_collection_card
from pdfs.qr import qr_data_uri
from pdfs.rendering import STATIC_DIR, ResourceRefused, StaticOnlyFetcher, html_to_pdf

UNMASKED_ID = "440305199003071236"
MASKED_ID = "440305********1236"
SHA = "3f7a9c2e5b1d4e6f" + "0" * 48


def make_card(trail_steps: int = 3) -> dict:
    return {
        "document_id": "CC-2024-000123",
        "sha256": SHA,
        "verify_url": "https://custflow.example.com/verify/CC-2024-000123",
        "printed_at": "2024-06-01 14:32",
        "printed_by": "王小明",
        "org_unit": "深圳市分公司",
        "unmasked_id_number": UNMASKED_ID,  # not a key the card prints: must never show up
        "customer": {
            "id": "C000123",
            "name": "张三丰",
            "customer_type_label": "个人客户",
            "id_type_label": "居民身份证",
            "id_number": MASKED_ID,
            "id_number_full": UNMASKED_ID,  # idem
            "birth_date": "1990-03-07",
            "phone": "138****8000",
            "address": "广东省深圳市南山区科技园南区 88 号",
            "email": "zh***@example.com",
            "info_level_label": "高级程度",
            "status_label": "已生效",
            "collected_by": "李四",
            "created_at": "2024-05-30 09:15",
        },
        "flags": ["该手机号码已登记于另一客户名下"],
        "trail": [
            {
                "at": f"2024-05-{10 + i % 20:02d} 09:15",
                "actor": "赵六",
                "action": "通过",
                "comment": f"意见{i}",
            }
            for i in range(trail_steps)
        ],
    }


def needs(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"{tool} (poppler-utils) is not installed")
    return path


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    """pdftotext output with all whitespace removed (CJK text may come out letter-spaced)."""
    source = tmp_path / "doc.pdf"
    source.write_bytes(pdf)
    out = subprocess.run([needs("pdftotext"), str(source), "-"], capture_output=True, check=True, timeout=60)
    return re.sub(r"\s+", "", out.stdout.decode("utf-8"))


@pytest.fixture(scope="module")
def card_pdf() -> bytes:
    return render_collection_card(make_card())


def test_card_is_a_pdf_with_embedded_noto_cjk(card_pdf, tmp_path):
    assert card_pdf.startswith(b"%PDF")
    source = tmp_path / "card.pdf"
    source.write_bytes(card_pdf)
    fonts = subprocess.run([needs("pdffonts"), str(source)], capture_output=True, check=True, text=True)
    rows = [line for line in fonts.stdout.splitlines() if re.search(r"Noto-?Sans-?CJK", line)]
    assert rows, fonts.stdout
    assert all(" yes " in row for row in rows)  # embedded


def test_card_text(card_pdf, tmp_path):
    text = pdf_text(card_pdf, tmp_path)
    for expected in (
        "客户信息资料采集卡",
        "张三丰",
        MASKED_ID,
        "深圳市分公司",
        "证件号码",
        "审批记录",
        "意见2",
        "该手机号码已登记于另一客户名下",
        "CC-2024-000123",
        SHA[:16],
        "第1页/共1页",
    ):
        assert expected in text, expected
    assert UNMASKED_ID not in text
    assert SHA[16:] not in text


def test_long_trail_numbers_pages(tmp_path):
    text = pdf_text(render_collection_card(make_card(trail_steps=90)), tmp_path)
    pages = int(re.search(r"第1页/共(\d+)页", text).group(1))
    assert pages >= 2
    assert f"第{pages}页/共{pages}页" in text


def test_card_qr_encodes_verify_url_with_hash():
    context = card_context(make_card())
    expected = "https://custflow.example.com/verify/CC-2024-000123?sha256=" + SHA
    assert context["qr_src"] == qr_data_uri(expected)
    assert context["sha256_short"] == SHA[:16]
    assert "id_number_full" not in str(context)
    assert UNMASKED_ID not in str(context)


def test_qr_data_uri_png_and_svg():
    png_uri = qr_data_uri("https://custflow.example.com/verify/x?sha256=" + SHA)
    assert png_uri.startswith("data:image/png;base64,")
    image = Image.open(io.BytesIO(base64.b64decode(png_uri.split(",", 1)[1])))
    image.verify()
    assert image.format == "PNG"
    assert image.size[0] == image.size[1] >= 21 * 8

    svg_uri = qr_data_uri("hello", kind="svg")
    assert svg_uri.startswith("data:image/svg+xml;base64,")
    root = ET.fromstring(base64.b64decode(svg_uri.split(",", 1)[1]))
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    with pytest.raises(ValueError):
        qr_data_uri("hello", kind="gif")


def test_card_template_escapes_values():
    card = make_card()
    card["customer"]["name"] = '<img src="http://127.0.0.1:9/x.png">张三'
    html = render_to_string("pdfs/collection_card.html", card_context(card))
    assert "&lt;img src=&quot;http://127.0.0.1:9/x.png&quot;&gt;张三" in html
    assert '<img src="http://127.0.0.1:9' not in html


class _CountingHandler(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802 (http.server API)
        self.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/css")
        self.end_headers()
        self.wfile.write(b"body { color: red }")

    def log_message(self, *args):
        pass


@pytest.fixture
def local_http_server():
    _CountingHandler.hits = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _CountingHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", _CountingHandler.hits
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def fetch_log(monkeypatch):
    """Record every URL the fetcher is asked for, and whether it served or refused it."""
    log: list[tuple[str, str]] = []
    original = StaticOnlyFetcher.fetch

    def spy(self, url, headers=None):
        try:
            response = original(self, url, headers)
        except ResourceRefused:
            log.append((url, "refused"))
            raise
        log.append((url, "served"))
        return response

    monkeypatch.setattr(StaticOnlyFetcher, "fetch", spy)
    return log


def test_outside_resources_are_refused_and_the_pdf_still_renders(local_http_server, fetch_log, tmp_path):
    base, hits = local_http_server
    dot = "data:image/png;base64," + base64.b64encode(_tiny_png()).decode()
    template = Template(
        """<html><head>
        <link rel="stylesheet" href="forms.css">
        <link rel="stylesheet" href="file:///etc/passwd">
        <link rel="stylesheet" href="{{ base }}/style.css">
        <style>@import url("{{ base }}/import.css"); p { background: url("{{ base }}/bg.png") }</style>
        </head><body>
        <p>外部资源测试</p>
        <img src="http://127.0.0.1:9/x.png">
        <img src="{{ base }}/x.png">
        <img src="https://example.com/x.png">
        <img src="ftp://127.0.0.1/x.png">
        <img src="../../backend/config/settings/base.py">
        <img src="../../../backend/config/settings/base.py">
        <img src="file:///etc/hostname">
        <img src="{{ dot }}">
        </body></html>"""
    )
    pdf = html_to_pdf(template.render(Context({"base": base, "dot": dot})))
    assert pdf.startswith(b"%PDF")
    assert "外部资源测试" in pdf_text(pdf, tmp_path)
    assert hits == []  # the local server never saw a request

    outcome = dict(fetch_log)
    static_url = (STATIC_DIR / "forms.css").as_uri()
    assert outcome[static_url] == "served"
    assert outcome[dot] == "served"
    refused = {url for url, result in fetch_log if result == "refused"}
    project = STATIC_DIR.parents[2]  # /…/main
    for url in (
        "file:///etc/passwd",
        f"{base}/style.css",
        f"{base}/import.css",
        f"{base}/bg.png",
        "http://127.0.0.1:9/x.png",
        f"{base}/x.png",
        "https://example.com/x.png",
        "ftp://127.0.0.1/x.png",
        (project / "pdfs" / "backend/config/settings/base.py").as_uri(),
        (project / "backend/config/settings/base.py").as_uri(),
        "file:///etc/hostname",
    ):
        assert url in refused, (url, fetch_log)


def _tiny_png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (2, 2), "red").save(buf, format="PNG")
    return buf.getvalue()


def test_fetcher_serves_only_real_files_inside_its_root(tmp_path):
    root = tmp_path / "static"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "a.css").write_text("p { color: blue }")
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    (root / "link.css").symlink_to(secret)
    (root / "sub-link").symlink_to(tmp_path)
    fetcher = StaticOnlyFetcher(root)

    response = fetcher.fetch((root / "sub" / "a.css").as_uri())
    assert response.read() == b"p { color: blue }"
    assert response.content_type == "text/css"
    assert fetcher.fetch("data:text/plain;base64,aGk=").read() == b"hi"

    for url in (
        (root / "link.css").as_uri(),  # symlink out of the root
        (root / "sub-link" / "secret.txt").as_uri(),  # symlinked directory
        root.as_uri() + "/sub/../../secret.txt",  # .. out of the root
        root.as_uri() + "/%2e%2e/secret.txt",  # encoded ..
        (root / "missing.css").as_uri(),
        (root / "sub").as_uri(),  # a directory
        "file://evil.example.com" + str(root / "sub" / "a.css"),  # a remote host
        "http://127.0.0.1:9/a.css",
        "about:blank",
        "javascript:alert(1)",
    ):
        with pytest.raises(ResourceRefused):
            fetcher.fetch(url)


def test_renders_reuse_one_font_configuration(monkeypatch):
    seen = []
    original = HTML.write_pdf

    def spy(self, *args, **kwargs):
        seen.append(kwargs.get("font_config"))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(HTML, "write_pdf", spy)
    font_config = rendering.FONT_CONFIG
    html_to_pdf("<p>第一次</p>")
    rendering.render_pdf("pdfs/collection_card.html", card_context(make_card()))
    assert len(seen) == 2
    assert seen[0] is seen[1] is font_config is rendering.FONT_CONFIG
