"""Builders for the web tests: a valid resident id, a small PNG scan, an opening via the service,
a second 深圳 reviewer."""

from __future__ import annotations

import io
from datetime import date

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from backend.customers.services import account_opening_submit
from backend.organisation.models import OrgUnit, RoleAssignment
from backend.organisation.services import user_ensure

DEMO_PASSWORD = "demo-pass-2026"
# GB 11643: weights of the first 17 digits, and the check character for (sum mod 11).
GB11643_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
GB11643_CHECK = "10X98765432"


def resident_id(region: str = "440304", birth: date = date(1990, 3, 7), seq: int = 123) -> str:
    """A made-up 18-digit resident id with a correct check character (福田区 by default)."""
    body = f"{region}{birth:%Y%m%d}{seq:03d}"
    total = sum(int(d) * w for d, w in zip(body, GB11643_WEIGHTS, strict=True))
    return body + GB11643_CHECK[total % 11]


def bad_check_digit(number: str) -> str:
    return number[:-1] + ("1" if number[-1] != "1" else "2")


def png_scan(name: str = "scan.png") -> SimpleUploadedFile:
    buf = io.BytesIO()
    Image.new("RGB", (48, 32), (210, 225, 240)).save(buf, format="PNG")
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/png")


def user(username: str):
    return get_user_model().objects.get(username=username)


def submit_opening(
    *,
    username: str = "collector.sz",
    level: str = "advanced",
    seq: int = 123,
    name: str = "王测试",
    scan_bytes=None,
    confirm_as: str | None = "officer.sz",
):
    """An account opening submitted through the service (not the web form). `scan_bytes`, if
    given, makes the scan's PNG bytes from the id number. A collector's submission is confirmed
    by `confirm_as` (the officer's step) unless that is None."""
    from tasks.models import HumanTask
    from tasks.services import task_complete

    extra = (
        {"phone": "13812345678", "address": "深圳市福田区福华路 1 号", "email": "wang@example.com", "id_valid_until": "2041-06-30"}
        if level == "advanced"
        else {}
    )
    number = resident_id(seq=seq)
    scan = png_scan() if scan_bytes is None else SimpleUploadedFile("scan.png", scan_bytes(number), content_type="image/png")
    opening = account_opening_submit(
        actor=user(username),
        info_level=level,
        name=name,
        id_type="resident_id",
        id_number=number,
        scan=scan,
        **extra,
    )
    task = HumanTask.objects.filter(case_type="customers.accountopening", case_id=opening.pk, step="officer_check", status="ready").first()
    if task is not None and confirm_as:
        task_complete(actor=user(confirm_as), task_id=task.pk, data={"decision": "confirm"})
        # Re-read: the customer's status is a protected FSM field (no refresh_from_db).
        opening = type(opening).objects.select_related("customer").get(pk=opening.pk)
    return opening


def second_reviewer(username: str = "reviewer2.sz", full_name: str = "深圳复核岗"):
    """Another reviewer at 深圳 (the demo has one): someone to transfer a 深圳 review to."""
    reviewer = user_ensure(username=username, password=DEMO_PASSWORD, full_name=full_name)
    RoleAssignment.objects.create(user=reviewer, role="reviewer", org_unit=OrgUnit.objects.get(code="GD-SZ"))
    return reviewer


def html(response) -> str:
    return response.content.decode()
