"""In real Chromium at 1366 px (issue 16 item 3): the reviewer opens an advanced opening's review
task, sees the identity scan beside the data (not below the form), zooms and rotates it, and
approves. The scan view is recorded as a reveal event of kind `scan`."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from PIL import Image, ImageDraw, ImageFont

from backend.common.models import AuditEvent
from backend.customers.models import Customer, RevealEvent
from tasks.models import HumanTask
from tests.browser.test_review_flow import chromium  # noqa: F401 (fixture)
from tests.web.helpers import DEMO_PASSWORD, submit_opening

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")


def id_card_png(name: str, id_number: str) -> bytes:
    """A made-up resident id card (front), landscape like a real scan."""
    img = Image.new("RGB", (856, 540), (232, 240, 247))
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(str(FONT), 34) if FONT.exists() else ImageFont.load_default()
    small = ImageFont.truetype(str(FONT), 26) if FONT.exists() else ImageFont.load_default()
    draw.rounded_rectangle((8, 8, 848, 532), radius=28, outline=(120, 150, 180), width=4)
    for y, (label, value) in enumerate(
        [("姓名", name), ("性别", "男"), ("出生", "1990年3月7日"), ("住址", "广东省深圳市福田区福华路1号")]
    ):
        draw.text((60, 60 + y * 70), label, fill=(70, 110, 150), font=small)
        draw.text((150, 55 + y * 70), value, fill=(20, 20, 20), font=font)
    draw.text((60, 430), "公民身份号码", fill=(70, 110, 150), font=small)
    draw.text((250, 424), id_number, fill=(20, 20, 20), font=font)
    draw.rectangle((610, 60, 800, 300), fill=(190, 200, 210), outline=(150, 160, 170))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def test_reviewer_sees_the_scan_beside_the_data_zooms_rotates_and_approves(
    live_server,
    transactional_db,
    chromium,  # noqa: F811
    tmp_path,
):
    from playwright.sync_api import expect

    call_command("seed_demo", stdout=io.StringIO())
    opening = submit_opening(name="王测试", scan_bytes=lambda number: id_card_png("王测试", number))
    task = HumanTask.objects.get(
        case_type="customers.accountopening", case_id=opening.pk, step="review", status="ready"
    )

    context = chromium.new_context(
        locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1366, "height": 768}
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", "reviewer.sz")
        page.fill("#id_password", DEMO_PASSWORD)
        page.click("[data-testid=login-submit]")
        page.wait_for_url(re.compile(r"/inbox/$"))
        page.locator(f"[data-testid=task-link-{task.pk}]").click()
        page.wait_for_url(re.compile(rf"/tasks/{task.pk}/$"))

        viewer = page.locator("[data-testid=scan-viewer]")
        image = page.locator("[data-testid=scan-image]")
        expect(image).to_be_visible()
        page.wait_for_function("document.querySelector('[data-testid=scan-image]').naturalWidth > 0")
        assert image.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [856, 540]
        # Beside the data, in the first screen: right of the case panel, its top above the fold.
        data_box = page.locator(".review-main").bounding_box()
        scan_box = viewer.bounding_box()
        assert scan_box["x"] >= data_box["x"] + data_box["width"], (data_box, scan_box)
        assert scan_box["y"] < 200 and scan_box["x"] + scan_box["width"] <= 1366, scan_box
        fit_width = image.bounding_box()["width"]

        page.click("[data-testid=scan-zoom-in]")
        page.click("[data-testid=scan-zoom-in]")
        expect(page.locator("[data-testid=scan-zoom]")).to_have_text("156%")
        assert image.bounding_box()["width"] == pytest.approx(fit_width * 1.5625, rel=0.02)
        page.click("[data-testid=scan-reset]")
        page.click("[data-testid=scan-rotate-right]")
        expect(viewer).to_have_attribute("data-rotation", "90")
        box = image.bounding_box()  # turned a quarter: the card stands upright, taller than wide
        assert box["height"] > box["width"], box
        page.click("[data-testid=scan-rotate-left]")
        page.click("[data-testid=scan-rotate-left]")
        expect(viewer).to_have_attribute("data-rotation", "270")
        page.click("[data-testid=scan-rotate-right]")
        page.click("[data-testid=scan-zoom-in]")
        expect(viewer).to_have_attribute("data-rotation", "0")
        expect(page.locator("[data-testid=scan-zoom]")).to_have_text("125%")
        page.screenshot(path=str(tmp_path / "review-scan.png"))
        assert (tmp_path / "review-scan.png").stat().st_size > 10_000
        if os.environ.get("CUSTFLOW_SCREENSHOTS"):
            Path(os.environ["CUSTFLOW_SCREENSHOTS"]).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(os.environ["CUSTFLOW_SCREENSHOTS"]) / "review-scan.png"))

        page.click("[data-testid=task-claim]")
        page.wait_for_url(re.compile(rf"/tasks/{task.pk}/$"))
        page.get_by_label("通过").check()
        page.click("[data-testid=task-submit]")
        page.wait_for_url(re.compile(r"/inbox/$"))
        expect(page.locator("[data-testid=flash-success]")).to_have_text("任务“客户信息审核”已提交")
    finally:
        context.close()

    assert Customer.objects.get(pk=opening.customer_id).status == "active"
    assert HumanTask.objects.get(pk=task.pk).completed_by.username == "reviewer.sz"
    views = RevealEvent.objects.filter(
        kind="scan", user__username="reviewer.sz", customer_id=opening.customer_id
    )
    assert views.count() >= 1
    assert (
        AuditEvent.objects.filter(action="customer.scan_viewed", actor__username="reviewer.sz").count()
        == views.count()
    )
