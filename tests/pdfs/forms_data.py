"""Every printed form as HTML, filled two ways: realistic values (the reviewed reference PNGs)
and the longest values the models allow (the overflow measurements). Fixed dates, ids and
hashes, so a form renders the same on every run."""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string

from pdfs.complaint_documents import COMPLAINT_FORMS, analysis_table_context, complaint_form_context
from pdfs.documents import (
    card_context,
    change_request_context,
    endorsement_context,
    opening_form_context,
    report_table_context,
)

SHA = "3f7a9c2e5b1d4e6f" + "0" * 48


def _long(seed: str, length: int) -> str:
    return (seed * (length // len(seed) + 1))[:length]


def _header(doc_id: str, *, long: bool) -> dict[str, Any]:
    return {
        "document_id": doc_id,
        "sha256": SHA,
        "verify_url": f"https://custflow.example.com/verify/{doc_id}",
        "printed_at": "2026-06-01 14:32",
        "printed_by": _long("欧阳", 150) if long else "王小明",
        "org_unit": _long("广东省深圳市南山区科技园支公司", 100) if long else "深圳市分公司",
    }


def _trail(long: bool) -> list[dict[str, str]]:
    comment = _long("资料齐全,同意。", 500) if long else "资料齐全,同意。"
    return [
        {"at": "2026-05-30 09:15", "actor": "李采集", "action": "提交", "comment": ""},
        {
            "at": "2026-05-30 10:02",
            "actor": _long("赵审核", 100) if long else "赵审核",
            "action": "任务完成: 市级审核 通过",
            "comment": comment,
        },
    ]


def _customer(corporate: bool, long: bool) -> dict[str, Any]:
    name = "深圳市前海科技有限公司" if corporate else "张三丰"
    if long:
        name = _long("广东省深圳市前海科技有限公司", 100) if corporate else _long("欧阳娜娜", 100)
    customer = {
        "id": "C000123",
        "customer_type": "corporate" if corporate else "individual",
        "customer_type_label": "法人客户" if corporate else "个人客户",
        "name": name,
        "id_type_label": "统一社会信用代码" if corporate else "居民身份证",
        "id_number": "91440300********5X" if corporate else "440305********1236",
        "birth_date": None if corporate else "1990-03-07",
        "phone": "138****8000",
        "address": _long("广东省深圳市南山区科技园南区高新南七道 88 号", 300)
        if long
        else "广东省深圳市南山区科技园南区 88 号",
        "email": _long("a", 240) + "@example.com" if long else "zh***@example.com",
        "info_level_label": "高级程度",
        "status_label": "已生效",
        "collected_by": "李采集",
        "created_at": "2026-05-30 09:15",
        # What customer_view gives for every customer, corporate or not.
        "legal_rep_name": (_long("欧阳", 100) if long else "马化腾") if corporate else "",
        "legal_rep_id_number": "440301********0011" if corporate else "",
        "contact_person": (_long("司马", 100) if long else "陈联系") if corporate else "",
    }
    return customer


def card(corporate: bool = False, long: bool = False) -> dict[str, Any]:
    return {
        **_header("CC-2026-000123", long=long),
        "customer": _customer(corporate, long),
        "flags": ["电话号码与其他客户或业务员相同"],
        "trail": _trail(long),
    }


def opening(corporate: bool = False, long: bool = False) -> dict[str, Any]:
    reviewer = _long("赵审核", 100) if long else "赵审核"
    return {
        **_header("OF-2026-000045", long=long),
        "title": "法人客户开户申请表" if corporate else "个人客户开户申请表",
        "opening_id": 45,
        "info_level_label": "高级程度",
        "submitted_by": _long("李采集", 100) if long else "李采集",
        "submitted_at": "2026-05-30 09:15",
        "status_label": "已生效",
        "closed_at": "2026-05-30 10:02",
        "customer": _customer(corporate, long),
        "checks": {"A": "通过", "B": "通过", "C": "通过", "D": "未通过(已提示审核人)", "blacklist": "未命中"},
        "flags": ["电话号码与其他客户或业务员相同"],
        "decision_comment": "",
        "reviews": [
            {
                "step": "市级审核",
                "reviewer": reviewer,
                "outcome": "通过",
                "comment": _long("电话号码已与客户本人核实,同意开户。", 500)
                if long
                else "电话号码已与客户本人核实,同意开户。",
                "at": "2026-05-30 10:02",
            }
        ],
        "trail": _trail(long),
    }


def change_request(long: bool = False) -> dict[str, Any]:
    return {
        **_header("CR-2026-000007", long=long),
        "case_id": 7,
        "customer_id": 9,
        "customer_name": _long("欧阳娜娜", 100) if long else "欧阳娜娜",
        "scope_label": "身份信息变更",
        "status_label": "已通过",
        "reason": _long("客户更正姓名,", 500) if long else "客户更正姓名,已核对身份证原件。",
        "requested_by": "钱七",
        "requested_at": "2026-05-28 11:20",
        "decided_by": "孙审核",
        "changes": [
            {"label": "法定代表人证件号码", "old": "440301********0011", "new": "440301********0022"}
        ],
        "trail": _trail(long),
    }


def endorsement(long: bool = False) -> dict[str, Any]:
    return {
        **_header("EN-2026-000031", long=long),
        "endorsement": {
            "endorsement_id": 31,
            "status_label": "已通过",
            "policy_number": "P2026-0001",
            "product": "终身寿险",
            "policyholder": "诸葛亮",
            "insured": "黄月英",
            "scope_label": "客户信息变更",
            "requested_by": "钱七",
            "created_at": "2026-05-28 11:20",
            "decided_by": "孙审核",
            "reason": _long("投保人变更联系地址。", 500) if long else "投保人变更联系地址。",
            "decision_comment": "同意",
        },
        "customer_parts": [
            {
                "role_label": "投保人",
                "name": "诸葛亮",
                "changes": [{"label": "联系地址", "old": "南阳卧龙岗", "new": "成都武侯祠"}],
            }
        ],
        "policy_changes": [{"label": "受益人", "old": "诸葛瞻", "new": "诸葛乔"}],
        "beneficiaries": {
            "old": [
                {
                    "name": "诸葛瞻",
                    "id_type_label": "居民身份证",
                    "id_number": "510104********0011",
                    "relationship_label": "子女",
                    "share": "100%",
                }
            ],
            "new": [
                {
                    "name": "诸葛乔",
                    "id_type_label": "居民身份证",
                    "id_number": "510104********0022",
                    "relationship_label": "子女",
                    "share": "100%",
                }
            ],
        },
        "flags": [],
        "trail": _trail(long),
    }


def complaint(long: bool = False) -> dict[str, Any]:
    text = (
        _long("客户反映理赔款迟迟未到账,要求说明原因。", 2000)
        if long
        else "客户反映理赔款迟迟未到账,要求说明原因。"
    )
    return {
        **_header("CP-2026-000088", long=long),
        "case": {
            "number": "TS-2026-0088",
            "status_label": "处理中",
            "complainant_name": _long("欧阳", 100) if long else "欧阳娜娜",
            "complainant_phone": "138****8000",
            "id_type": "居民身份证",
            "id_number": "440305********1236",
            "channel_label": "电话",
            "received_at": "2026-05-20 09:00",
            "received_org_unit": "深圳市分公司",
            "org_unit_name": "深圳市南山支公司",
            "category_label": "理赔时效",
            "product": "终身寿险",
            "customer_name": "欧阳娜娜",
            "policy_number": "P2026-0001",
            "complainant_count": 1,
            "major_label": "否",
            "subject": "理赔款未到账",
        },
        "description": text,
        "registered_at": "2026-05-20 09:12",
        "identity_verified": "已核对身份证原件",
        "verified_facts": text,
        "decision": {
            "facts": text,
            "basis": "《保险法》第二十三条",
            "reasons": "理赔材料已于 5 月 18 日补齐",
            "decision": "5 个工作日内支付理赔款",
            "remedies": "如不服可向监管部门反映",
            "decided_at": "2026-05-25 16:00",
            "decided_by": "孙处理",
            "satisfaction_label": "满意",
            "root_cause_label": "流程时效",
            "root_cause_note": "审核环节积压",
        },
        "clock": {
            "state_label": "计时中",
            "clock_start": "2026-05-20",
            "limit_days": 15,
            "due_at": "2026-06-10",
            "extension_reason": "",
            "paused_days": 0,
            "breached_at": "",
            "on_time_label": "是",
            "closed_at": "",
        },
        "attachments": [{"filename": "理赔申请书.pdf", "kind": "证据", "size": 120448, "sha256": SHA}],
        "handovers": [
            {
                "at": "2026-05-21 10:00",
                "from_org": "深圳市分公司",
                "to_org": "深圳市南山支公司",
                "reason": "属地处理",
                "handler": "孙处理",
                "by": "钱七",
            }
        ],
        "opinions": [
            {
                "at": "2026-05-22 15:00",
                "org_unit": "理赔部",
                "question": "材料何时补齐",
                "opinion": "5 月 18 日",
                "by": "周理赔",
            }
        ],
        "notices": [
            {
                "sent_at": "2026-05-25 16:30",
                "kind_label": "处理决定",
                "channel_label": "短信",
                "proof": "SMS-88",
                "recorded_by": "孙处理",
            }
        ],
        "reviews": [],
        "actions": [
            {
                "root_cause_label": "流程时效",
                "description": "增加审核人手",
                "owner": "理赔部",
                "due_date": "2026-07-01",
                "status_label": "进行中",
                "closing_note": "",
            }
        ],
        "trail": _trail(long),
    }


def analysis(long: bool = False) -> dict[str, Any]:
    return {
        **_header("CA-2026-05", long=long),
        "title": "客户投诉分析表",
        "month": "2026-05",
        "scope": "深圳市分公司",
        "generated_at": "2026-06-01 08:00",
        "totals": [
            {"label": "投诉总数", "value": 12},
            {"label": "按时办结", "value": 11},
            {"label": "超时", "value": 1},
        ],
        "sections": [
            {
                "title": "按类别",
                "headers": ["投诉类别", "件数", "占比"],
                "rows": [["理赔时效", 7, "58.3%"], ["销售误导", 5, "41.7%"]],
            },
            {
                "title": "按机构",
                "headers": ["机构", "件数", "按时率"],
                "rows": [["深圳市南山支公司", 8, "100.0%"], ["深圳市福田支公司", 4, "75.0%"]],
            },
        ],
    }


def report(long: bool = False) -> dict[str, Any]:
    return {
        "title": "时效报表",
        "subtitle": "2026 年 5 月 · 深圳市分公司",
        "generated_at": "2026-06-01 08:00",
        "headers": ["流程", "环节", "任务数", "超时数", "超时率", "平均用时(小时)"],
        "rows": [
            ["个人客户开户", "市级审核", 120, 3, "2.5%", 5.2],
            ["法人客户开户", "省级审核", 40, 2, "5.0%", 20.1],
        ],
    }


def form_htmls(long: bool = False) -> dict[str, str]:
    """Every printed form's HTML, by name (one PNG reference each)."""
    forms = {
        "collection_card_individual": ("pdfs/collection_card.html", card_context(card(False, long))),
        "collection_card_corporate": ("pdfs/collection_card.html", card_context(card(True, long))),
        "opening_form_individual": ("pdfs/opening_form.html", opening_form_context(opening(False, long))),
        "opening_form_corporate": ("pdfs/opening_form.html", opening_form_context(opening(True, long))),
        "change_request": ("pdfs/change_request.html", change_request_context(change_request(long))),
        "endorsement_form": ("pdfs/endorsement_form.html", endorsement_context(endorsement(long))),
        **{
            f"complaint_{name}": (template, complaint_form_context(name, complaint(long)))
            for name, (template, _title) in COMPLAINT_FORMS.items()
        },
        "complaint_analysis": ("pdfs/complaint_analysis.html", analysis_table_context(analysis(long))),
        "report_table": ("pdfs/report_table.html", report_table_context(report(long))),
    }
    return {name: render_to_string(template, context) for name, (template, context) in forms.items()}
