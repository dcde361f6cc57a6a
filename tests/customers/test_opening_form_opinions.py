"""Issue 17 item 8: the printed opening form carries the reviewers' opinions and signers (the
review opinion used to print "—": the comment lives on the review task, not on the opening)."""

from __future__ import annotations

import subprocess

import pytest

from backend.customers.models import AccountOpening
from backend.customers.selectors import opening_reviews
from tests.conftest import inbox

pytestmark = pytest.mark.django_db


def test_the_review_comment_and_the_reviewer_print_on_the_opening_form(api, submit, users):
    body = submit("advanced").json()
    reviewer = api("reviewer.sz")
    [task] = [t for t in inbox(reviewer) if t["case_id"] == body["id"]]
    resp = reviewer.post(
        f"/api/tasks/{task['id']}/complete/",
        {"decision": "approve", "comment": "电话已与客户本人核实,同意"},
        format="json",
    )
    assert resp.status_code == 200, resp.content

    reviews = opening_reviews(opening=AccountOpening.objects.get(pk=body["id"]))
    name = users["reviewer.sz"].get_full_name() or "reviewer.sz"
    assert [(r["reviewer"], r["outcome"], r["comment"]) for r in reviews] == [
        (name, "通过", "电话已与客户本人核实,同意")
    ]

    pdf = reviewer.post(f"/api/account-openings/{body['id']}/form.pdf", format="json")
    assert pdf.status_code == 200, pdf.content[:300]
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=pdf.content, capture_output=True, check=True
    ).stdout.decode()
    flat = "".join(text.split())
    assert "审核意见" in flat and "电话已与客户本人核实,同意" in flat and "".join(name.split()) in flat
    assert "审核意见:—" not in flat
    # An individual's form: no corporate fields.
    assert "法定代表人" not in flat and "联系人" not in flat
