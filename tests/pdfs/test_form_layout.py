"""Issue 17 item 8: printed forms look like forms. Every form is laid out by WeasyPrint and
measured: no text leaves its cell, the seal or the page, with realistic values and with the
longest values the models allow; each customer type shows only its own fields; the opening
form prints the review opinions and the signers."""

from __future__ import annotations

import html
import re

import pytest
from django.template.loader import render_to_string

from pdfs.documents import opening_form_context
from pdfs.layout import layout_overflows
from tests.pdfs import forms_data

FORMS = sorted(forms_data.form_htmls())


@pytest.mark.parametrize("long", [False, True], ids=["realistic", "longest"])
@pytest.mark.parametrize("name", FORMS)
def test_no_text_leaves_its_cell(name, long):
    found = layout_overflows(forms_data.form_htmls(long)[name])
    assert [str(o) for o in found] == []


def test_the_measure_sees_a_label_wider_than_its_column():
    # The label column as it was (16 %): 法定代表人证件号码 stuck out of its cell by 5.5 mm.
    page = forms_data.form_htmls()["opening_form_corporate"].replace(
        "</head>", "<style>.fields col.label { width: 16%; } .fields col.value { width: 34%; }</style></head>"
    )
    [overflow] = layout_overflows(page)
    assert (overflow.text, overflow.frame, overflow.side) == ("法定代表人证件号码", "cell", "right")
    assert overflow.by_mm > 3


def test_the_measure_sees_a_seal_name_that_does_not_fit():
    page = forms_data.form_htmls()["change_request"].replace(
        "深圳市分公司</span>",
        "广东省深圳市南山区科技园高新南七道支公司营业部第一营销服务部客户服务中心</span>",
        1,
    )
    assert any(o.frame == "seal" and o.side == "bottom" for o in layout_overflows(page))


def _text(page: str) -> str:
    body = page.split("<body", 1)[1]
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body)))


def test_individual_forms_show_only_individual_fields_and_corporate_forms_only_corporate_ones():
    pages = {name: _text(page) for name, page in forms_data.form_htmls().items()}
    for form in ("collection_card", "opening_form"):
        individual, corporate = pages[f"{form}_individual"], pages[f"{form}_corporate"]
        for label in ("法定代表人", "法定代表人证件号码", "联系人"):
            assert f" {label} " not in individual and f" {label} " in corporate, (form, label)
        assert " 出生日期 1990-03-07 " in individual and " 出生日期 " not in corporate


def test_the_opening_form_prints_the_review_opinions_and_the_signers():
    text = _text(forms_data.form_htmls()["opening_form_individual"])
    assert (
        "审核意见 审核环节 审核人 结论 意见 时间 市级审核 赵审核 通过 电话号码已与客户本人核实,同意开户。 2026-05-30 10:02"
        in text
    )
    assert "审核意见:—" not in text and "审核意见: —" not in text
    # The closing block: the collector and the reviewer by name, with the day they acted.
    assert "采集人 李采集 签字 日期 2026-05-30 审核人 赵审核 签字 日期 2026-05-30 客户 签字 日期" in text


def test_an_opening_not_yet_reviewed_says_so_and_a_return_reason_prints():
    form = {**forms_data.opening(), "reviews": [], "decision_comment": "请补充营业执照扫描件"}
    text = _text(render_to_string("pdfs/opening_form.html", opening_form_context(form)))
    assert "尚未审核" in text and "办理意见:请补充营业执照扫描件" in text


@pytest.mark.parametrize("name", ["change_request", "endorsement_form", "collection_card_individual"])
def test_other_forms_print_their_signers(name):
    text = _text(forms_data.form_htmls()[name])
    expected = {
        "change_request": "申请人 钱七 签字 日期 2026-05-28 审核人 孙审核",
        "endorsement_form": "投保人 诸葛亮 签字 日期 经办人 钱七 签字 日期 2026-05-28 审核人 孙审核",
        "collection_card_individual": "采集人 李采集 签字 日期 2026-05-30 审核人 签字 日期 客户 张三丰",
    }[name]
    assert expected in text


def test_the_measure_sees_a_long_org_name_running_under_the_seal():
    # The header as it was (no room kept for the seal): a long org unit name ran under it.
    page = forms_data.form_htmls(long=True)["change_request"].replace(
        "</head>", "<style>.doc-header { padding-left: 0; padding-right: 0; }</style></head>"
    )
    assert any(o.side == "under the seal" for o in layout_overflows(page))


def test_the_measure_sees_a_table_wider_than_the_page():
    # The change request's table as it was: columns of 16 % + 48 % + 48 % ran 21 mm off the page.
    page = forms_data.form_htmls()["change_request"].replace(
        "</head>",
        "<style>.changes col.item { width: 16%; } .changes col.old, .changes col.new { width: 48%; }</style></head>",
    )
    assert any(o.frame == "page" and o.side == "right" and o.by_mm > 20 for o in layout_overflows(page))
