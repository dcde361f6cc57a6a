"""The segment and alert rules (seed 001 §一/§四), as pure functions of a customer's figures and
his branch's thresholds. Nothing here reads the database: `services.py` gathers the figures.

- 优质客户 `good`: a customer of ours for at least N years (first policy's start) with a policy in
  force, and either no claim in the last N years, or a loss ratio over the loss-ratio window at or
  under the threshold.
- 大客户 `key`: his yearly premium in force is at least the threshold's share of his branch's (his
  own org unit's) yearly premium in force.
- 多次理赔 `multiple_claims`: at least K claims (withdrawn ones aside) occurred in the last M months.
- 高赔付率 `high_loss_ratio`: the loss ratio over the window at or over the threshold.

The loss ratio is what was paid on claims that occurred in the window divided by the premium
earned in it (each policy's yearly premium times the part of the window it was in force).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from backend.common.exceptions import ValidationFailed


@dataclass(frozen=True)
class Threshold:
    name: str
    label: Any
    unit: Any
    minimum: Decimal
    maximum: Decimal
    default: Decimal
    integer: bool = False

    def text(self, value: Any) -> str:
        return f"{value}{self.unit}"


THRESHOLDS = (
    Threshold("good_claim_free_years", gettext_lazy("优质客户：连续无理赔年数"), gettext_lazy("年"), Decimal(1), Decimal(10), Decimal(3), True),
    Threshold("good_max_loss_ratio_pct", gettext_lazy("优质客户：赔付率不高于"), "%", Decimal(0), Decimal(50), Decimal(5)),
    Threshold("key_premium_share_pct", gettext_lazy("大客户：年保费占本机构比例不低于"), "%", Decimal("0.01"), Decimal(50), Decimal(2)),
    Threshold("alert_claims_count", gettext_lazy("多次理赔：理赔次数达到"), gettext_lazy("次"), Decimal(2), Decimal(50), Decimal(3), True),
    Threshold("alert_claims_window_months", gettext_lazy("多次理赔：统计月数"), gettext_lazy("个月"), Decimal(1), Decimal(60), Decimal(12), True),
    Threshold("alert_loss_ratio_pct", gettext_lazy("高赔付率：赔付率达到"), "%", Decimal(10), Decimal(1000), Decimal(80)),
    Threshold("loss_ratio_window_months", gettext_lazy("赔付率统计月数"), gettext_lazy("个月"), Decimal(12), Decimal(120), Decimal(36), True),
)
BY_NAME = {t.name: t for t in THRESHOLDS}
SEGMENT_LABELS = {"good": gettext_lazy("优质客户"), "key": gettext_lazy("大客户")}
ALERT_LABELS = {"multiple_claims": gettext_lazy("多次理赔"), "high_loss_ratio": gettext_lazy("高赔付率")}


def threshold_defaults() -> dict[str, str]:
    return {t.name: str(t.default) for t in THRESHOLDS}


def thresholds_clean(data: Any, current: dict[str, str]) -> dict[str, str]:
    """The proposed set: each given value checked against its range (a message per field), the
    others kept from `current`. Raises ValidationFailed; refuses a proposal that changes nothing."""
    if not isinstance(data, dict):
        raise ValidationFailed.field("non_field_errors", _("请求体须为 JSON 对象"))
    errors: dict[str, list[str]] = {}
    values = dict(current)
    for spec in THRESHOLDS:
        raw = data.get(spec.name)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            continue
        try:
            value = Decimal(str(raw).strip()) if len(str(raw)) <= 20 and not isinstance(raw, bool) else None
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite():
            errors[spec.name] = [_("请填写数字")]
            continue
        if spec.integer and value != value.to_integral_value():
            errors[spec.name] = [_("请填写整数")]
            continue
        if not spec.minimum <= value <= spec.maximum or value != value.quantize(Decimal("0.01")):
            errors[spec.name] = [
                _("须在 %(min)s 到 %(max)s 之间（最多两位小数）") % {"min": spec.text(spec.minimum), "max": spec.text(spec.maximum)}
            ]
            continue
        values[spec.name] = str(value.quantize(Decimal(1))) if spec.integer else f"{value.normalize():f}"
    if errors:
        raise ValidationFailed("", field_errors=errors, code="invalid_thresholds")
    if all(Decimal(values[n]) == Decimal(current[n]) for n in BY_NAME):
        raise ValidationFailed.field("non_field_errors", _("没有修改任何阈值"), code="thresholds_unchanged")
    return values


@dataclass
class CustomerFigures:
    """What the rules read of one customer (as of `today`)."""

    first_policy_on: date | None = None
    premium_in_force: Decimal = Decimal(0)  # yearly
    premium_earned: Decimal = Decimal(0)  # over the loss-ratio window
    paid_in_window: Decimal = Decimal(0)  # claims that occurred in the loss-ratio window
    claim_dates: list[date] = field(default_factory=list)  # occurrence dates, withdrawn aside


def months_back(today: date, months: int) -> date:
    """The same day `months` months earlier (clamped to the month's end: 31 May − 3 → 28/29 Feb)."""
    month = today.month - 1 - months
    year, month = today.year + month // 12, month % 12 + 1
    return date(year, month, min(today.day, calendar.monthrange(year, month)[1]))


def _pct(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}%"


def loss_ratio_pct(figures: CustomerFigures) -> Decimal | None:
    if figures.premium_earned <= 0:
        return None
    return figures.paid_in_window * 100 / figures.premium_earned


def segments_judge(
    figures: CustomerFigures, thresholds: dict[str, str], *, branch_premium: Decimal, branch_name: str, today: date
) -> tuple[list[dict], list[dict]]:
    """(segments, alerts), each a list of {"code", "reasons"}."""
    limit = {name: Decimal(value) for name, value in thresholds.items()}
    segments: list[dict] = []
    alerts: list[dict] = []
    ratio = loss_ratio_pct(figures)
    window = int(limit["loss_ratio_window_months"])
    years = int(limit["good_claim_free_years"])
    in_force = figures.premium_in_force > 0
    tenure_from = months_back(today, 12 * years)
    if in_force and figures.first_policy_on and figures.first_policy_on <= tenure_from:
        recent = [d for d in figures.claim_dates if d >= tenure_from]
        reasons = []
        if not recent:
            reasons.append(
                _("近 %(years)s 年无理赔（%(since)s 起为本公司客户）") % {"years": years, "since": figures.first_policy_on.isoformat()}
            )
        elif ratio is not None and ratio <= limit["good_max_loss_ratio_pct"]:
            reasons.append(
                _("近 %(months)s 个月赔付率 %(ratio)s，不高于 %(limit)s")
                % {"months": window, "ratio": _pct(ratio), "limit": _pct(limit["good_max_loss_ratio_pct"])}
            )
        if reasons:
            segments.append({"code": "good", "reasons": reasons})
    if in_force and branch_premium > 0:
        share = figures.premium_in_force * 100 / branch_premium
        if share >= limit["key_premium_share_pct"]:
            segments.append(
                {
                    "code": "key",
                    "reasons": [
                        _("年保费 %(premium)s 元，占%(branch)s年保费的 %(share)s，不低于 %(limit)s")
                        % {
                            "premium": figures.premium_in_force.quantize(Decimal("0.01")),
                            "branch": branch_name,
                            "share": _pct(share),
                            "limit": _pct(limit["key_premium_share_pct"]),
                        }
                    ],
                }
            )
    claims_window = int(limit["alert_claims_window_months"])
    since = months_back(today, claims_window)
    count = sum(1 for d in figures.claim_dates if d >= since)
    if count >= limit["alert_claims_count"]:
        alerts.append(
            {
                "code": "multiple_claims",
                "reasons": [
                    _("近 %(months)s 个月理赔 %(count)s 次，达到 %(limit)s 次")
                    % {"months": claims_window, "count": count, "limit": int(limit["alert_claims_count"])}
                ],
            }
        )
    if ratio is not None and ratio >= limit["alert_loss_ratio_pct"]:
        alerts.append(
            {
                "code": "high_loss_ratio",
                "reasons": [
                    _("近 %(months)s 个月赔付率 %(ratio)s（赔付 %(paid)s 元 / 已赚保费 %(earned)s 元），达到 %(limit)s")
                    % {
                        "months": window,
                        "ratio": _pct(ratio),
                        "paid": figures.paid_in_window,
                        "earned": figures.premium_earned.quantize(Decimal("0.01")),
                        "limit": _pct(limit["alert_loss_ratio_pct"]),
                    }
                ],
            }
        )
    return segments, alerts
