"""What an officer's task page shows of an integration request, an import row or a
verification sample (reads only; personal fields masked unless the viewer sees them in full)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from backend.common.exceptions import NotFound
from backend.customers.selectors import customer_view
from backend.integrations.models import ImportReview, IntegrationRequest, VerificationSample
from backend.organisation import privacy
from backend.organisation.selectors import scope_filter

LABELS = {
    "customer_type": _("客户类型"),
    "name": _("姓名/名称"),
    "id_type": _("证件类型"),
    "id_number": _("证件号码"),
    "phone": _("联系电话"),
    "address": _("通讯地址"),
    "email": _("电子邮箱"),
    "info_level": _("信息程度"),
    "legal_rep_name": _("法定代表人"),
    "legal_rep_id_type": _("法定代表人证件类型"),
    "legal_rep_id_number": _("法定代表人证件号码"),
    "contact_person": _("联系人"),
    "id_valid_until": _("证件有效期至"),
    "org_unit": _("机构"),
    "scan_filename": _("扫描件文件名"),
    "scan_attached": _("附扫描件"),
}


def _rows(values: dict, full: bool) -> list[dict[str, str]]:
    out = []
    for name, value in values.items():
        text = str(value if value is not None else "")
        text = privacy.present(name, text, full=full)
        out.append({"label": str(LABELS.get(name, name)), "value": text})
    return out


def _get(model, user, case_id):
    try:
        pk = int(case_id)
    except (TypeError, ValueError):
        pk = None
    obj = scope_filter(model.objects.select_related("org_unit"), user).filter(pk=pk).first() if pk else None
    if obj is None:
        raise NotFound(_("业务不存在"), code="case_not_found")
    return obj


def request_case_view(*, user, case_id: Any) -> dict[str, Any]:
    request = _get(IntegrationRequest, user, case_id)
    full = privacy.sees_full(user, request.org_unit)
    return {
        "title": _("自动开户请求 #%(id)s(%(client)s)") % {"id": request.pk, "client": request.client.name},
        "status": request.get_status_display(),
        "rows": _rows(request.payload, full),
        "errors": [
            {"label": str(LABELS.get(k, k)), "value": " ".join(v)} for k, v in (request.errors or {}).items()
        ],
        "conflicts": [],
    }


def import_review_case_view(*, user, case_id: Any) -> dict[str, Any]:
    review = _get(ImportReview, user, case_id)
    full = privacy.sees_full(user, review.org_unit)
    return {
        "title": _("导入 #%(batch)s 第 %(row)s 行:%(kind)s")
        % {"batch": review.batch_id, "row": review.row_number, "kind": review.get_kind_display()},
        "status": review.decision or _("待审核"),
        "rows": _rows(review.row, full),
        "errors": [{"label": _("可疑原因"), "value": r} for r in review.reasons],
        "conflicts": [
            {
                "label": str(LABELS.get(c["field"], c["field"])),
                "current": privacy.present(c["field"], c["current"], full=full),
                "imported": privacy.present(c["field"], c["imported"], full=full),
            }
            for c in review.conflicts
        ],
        "customer_id": review.customer_id,
        "flags": list(review.flags or []),
    }


def verification_case_view(*, user, case_id: Any) -> dict[str, Any]:
    sample = _get(VerificationSample, user, case_id)
    customer = customer_view(user=user, customer=sample.customer, purpose="verification")
    return {
        "title": _("%(period)s 抽样核实:客户 #%(id)s") % {"period": sample.period, "id": sample.customer_id},
        "status": sample.get_result_display() or _("待核实"),
        "rows": [
            {"label": str(LABELS.get(k, k)), "value": str(customer.get(k) or "")}
            for k in ("name", "id_type", "id_number", "phone", "address", "email")
        ],
        "errors": [],
        "conflicts": [],
        "customer_id": sample.customer_id,
    }
