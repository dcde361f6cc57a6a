"""User-entered fields carrying URLs, markup and data-URI tricks reach every form as text:
rendering fetches nothing but the forms' own stylesheet and the QR code's data URI."""

from __future__ import annotations

import pytest

from pdfs.documents import (
    render_change_request,
    render_collection_card,
    render_endorsement_form,
    render_opening_form,
)
from pdfs.rendering import STATIC_DIR
from tests.pdfs.test_rendering import fetch_log, local_http_server, make_card, pdf_text  # noqa: F401


def hostile(base: str) -> list[str]:
    return [
        f'<img src="{base}/name.png">',
        '<link rel="stylesheet" href="file:///etc/passwd">',
        f"<style>@import url('{base}/import.css');</style>",
        '<img src="data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciPjxpbWFnZSBocmVmPSJmaWxlOi8vL2V0Yy9wYXNzd2QiLz48L3N2Zz4=">',
        f'<object data="{base}/obj"></object><iframe src="file:///etc/hostname"></iframe>',
        f"url({base}/bg.png) file:///etc/passwd",
        '<svg><image href="file:///etc/passwd"/></svg>',
    ]


@pytest.mark.parametrize("form", ["card", "change", "endorsement", "opening"])
def test_hostile_values_are_printed_as_text_and_fetch_nothing(form, local_http_server, fetch_log, tmp_path):  # noqa: F811
    base, hits = local_http_server
    values = hostile(base)
    if form == "card":
        card = make_card()
        card["customer"].update(name=values[0], address=values[1], email=values[2], phone=values[3])
        card["flags"] = values[4:]
        card["trail"][0]["comment"] = values[5]
        card["org_unit"] = values[6]
        pdf = render_collection_card(card)
    elif form == "change":
        pdf = render_change_request(
            {
                "document_id": "x",
                "customer_name": values[0],
                "reason": values[1],
                "org_unit": values[6],
                "changes": [{"label": values[2], "old": values[3], "new": values[4]}],
                "trail": [{"comment": values[5]}],
            }
        )
    elif form == "opening":
        card = make_card()
        card["customer"].update(name=values[0], address=values[1])
        pdf = render_opening_form(
            {
                "document_id": "x",
                "title": values[2],
                "org_unit": values[6],
                "submitted_by": values[3],
                "customer": card["customer"],
                "checks": {"A": values[4], "D": values[5]},
                "flags": values,
                "decision_comment": values[1],
                "trail": [{"comment": values[5]}],
            }
        )
    else:
        pdf = render_endorsement_form(
            {
                "document_id": "x",
                "org_unit": values[6],
                "endorsement": {
                    "policyholder": values[0],
                    "reason": values[1],
                    "decision_comment": values[2],
                },
                "customer_parts": [
                    {"name": values[3], "changes": [{"label": "a", "old": values[4], "new": values[5]}]}
                ],
                "flags": values,
            }
        )
    assert pdf.startswith(b"%PDF")
    assert hits == []
    fetched = {url for url, _ in fetch_log}
    assert fetched <= {(STATIC_DIR / "forms.css").as_uri()} | {
        u for u in fetched if u.startswith("data:image/png;base64,")
    }
    assert all(result == "served" for _, result in fetch_log)
    text = pdf_text(pdf, tmp_path)
    assert "file:///etc/passwd" in text  # printed, not fetched
    assert "root:x:0:0" not in text
