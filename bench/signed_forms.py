"""P6: signed forms per second per core ÷ raw WeasyPrint on the same template, same run.

Both sides render the same collection card (pdfs/templates/pdfs/collection_card.html) in one
process (one core): "raw" is WeasyPrint alone (`html_to_pdf` of the rendered HTML), "signed" is
what every print does in pdfs/ — the card's context and template, WeasyPrint, then the PAdES
signature with the org unit's key (pyHanko, visible widget on the seal). Runs alternate so
both see the same machine load. Raw gets the template context ready-made; signed builds it
(masking-free whitelist, QR code) every time, as a real print does. Goal: signed/raw ≥ 0.9.

Usage: python bench/signed_forms.py [--n 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
GOAL = 0.9


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=20)
    args = parser.parse_args()
    certs = tempfile.mkdtemp(prefix="custflow-bench-certs-")
    os.environ["CUSTFLOW_CERT_DIR"] = certs
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.config.settings.local")
    import django

    django.setup()
    from django.template.loader import render_to_string

    from pdfs.documents import card_context, render_collection_card
    from pdfs.rendering import html_to_pdf
    from pdfs.signing import sign_pdf
    from tests.pdfs.test_rendering import make_card

    card = make_card(trail_steps=8)
    context = card_context(card)  # built once: raw is the template + WeasyPrint only

    def raw() -> bytes:
        return html_to_pdf(render_to_string("pdfs/collection_card.html", context))

    def signed() -> bytes:
        pdf = render_collection_card(card)
        return sign_pdf(
            pdf, document_id="bench", org_code="GD-SZ", org_name="深圳市分公司", reason="客户信息资料采集卡"
        )

    signed()  # warm up: fonts, the signer's key (issued once into the temp folder)
    raw()
    raw_t, signed_t, sign_only, render_only = [], [], [], []
    for _ in range(args.n):
        t0 = time.perf_counter()
        raw()
        t1 = time.perf_counter()
        pdf = render_collection_card(card)
        t2 = time.perf_counter()
        sign_pdf(
            pdf, document_id="bench", org_code="GD-SZ", org_name="深圳市分公司", reason="客户信息资料采集卡"
        )
        t3 = time.perf_counter()
        raw_t.append(t1 - t0)
        signed_t.append(t3 - t1)
        sign_only.append(t3 - t2)
        render_only.append(t2 - t1)
    raw_rate = 1 / statistics.median(raw_t)
    signed_rate = 1 / statistics.median(signed_t)
    ratio = signed_rate / raw_rate
    print(f"P6 signed forms: n={args.n} (one process = one core)")
    print(f"  raw WeasyPrint      {raw_rate:6.2f} forms/s  (median {statistics.median(raw_t) * 1000:.0f} ms)")
    print(
        f"  rendered + signed   {signed_rate:6.2f} forms/s  (median {statistics.median(signed_t) * 1000:.0f} ms)"
    )
    print(
        f"  of which context + template + WeasyPrint {statistics.median(render_only) * 1000:.0f} ms,"
        f" signing {statistics.median(sign_only) * 1000:.1f} ms"
    )
    print(f"  signed/raw = {ratio:.3f}  (goal >= {GOAL}) {'OK' if ratio >= GOAL else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
