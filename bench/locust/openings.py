"""P3 locust scenario: a collector submits an advanced opening (multipart, with a scan), the
branch's customer-information officer finds it in the inbox and confirms it (seed 003 §1.1.1: a
collector's opening passes the officer first), a reviewer finds it, claims it and approves it. Every successful approval is one
"complete opening" (reported as the request `FLOW opening approved`).

Run by `bench/p3_throughput.py` (which starts gunicorn + Celery on PostgreSQL/Redis), or by hand:
`locust -f bench/locust/openings.py --host http://127.0.0.1:8000 --headless -u 20 -r 20 -t 60s`.
"""

from __future__ import annotations

import io
import itertools
import os
import random
import time

from locust import HttpUser, between, events, task
from PIL import Image

_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_serial = itertools.count(random.randrange(10**6))
_SCAN = io.BytesIO()
Image.new("RGB", (40, 30), (200, 220, 240)).save(_SCAN, format="PNG")
SCAN = _SCAN.getvalue()
PASSWORD = os.environ.get("CUSTFLOW_DEMO_PASSWORD", "demo-pass-2026")


def resident_id() -> str:
    n = next(_serial) + os.getpid() * 7919
    birth = f"{1940 + n % 60:04d}{1 + n // 60 % 12:02d}{1 + n // 720 % 28:02d}"
    body = f"440305{birth}{n // 20160 % 1000:03d}"
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True)) % 11]


class OpeningFlow(HttpUser):
    wait_time = between(0, 0.05)

    def on_start(self):
        self.client.headers["X-Forwarded-Proto"] = "https"  # behind the TLS proxy the production settings expect
        self.auth = {u: {"Authorization": f"Token {self._token(u)}"} for u in ("collector.sz", "officer.sz", "reviewer.sz")}

    def _token(self, username: str) -> str:
        resp = self.client.post("/api/auth/token/", json={"username": username, "password": PASSWORD}, name="token")
        resp.raise_for_status()
        return resp.json()["token"]

    def _find(self, case_id: int, step: str, auth: dict) -> int | None:
        found = self.client.get(f"/api/tasks/?process=individual_account_opening&step={step}&sort=received&page_size=50", headers=auth, name=f"inbox {step}")
        rows = found.json().get("results", []) if found.ok else []
        return next((t["id"] for t in rows if t["case_id"] == case_id), None)

    @task
    def open_and_approve(self):
        start = time.perf_counter()
        data = {"info_level": "advanced", "name": "压测客户", "id_type": "resident_id", "id_number": resident_id(),
                "phone": f"139{random.randrange(10**8):08d}", "address": "深圳市南山区压测路 1 号", "email": "load@example.com",
                "id_valid_until": "2041-06-30"}
        resp = self.client.post("/api/account-openings/", data=data, files={"scan": ("id.png", SCAN, "image/png")},
                                headers=self.auth["collector.sz"], name="submit opening")
        if resp.status_code != 201:
            return
        case_id = resp.json()["id"]
        officer = self.auth["officer.sz"]
        task_id = self._find(case_id, "officer_check", officer)
        if task_id is None:
            return
        confirmed = self.client.post(f"/api/tasks/{task_id}/complete/", json={"decision": "confirm"}, headers=officer, name="confirm")
        if not confirmed.ok:
            return
        rev = self.auth["reviewer.sz"]
        task_id = self._find(case_id, "review", rev)
        if task_id is None:
            return
        if not self.client.post(f"/api/tasks/{task_id}/claim/", headers=rev, name="claim").ok:
            return
        done = self.client.post(f"/api/tasks/{task_id}/complete/", json={"decision": "approve", "comment": "压测"}, headers=rev, name="approve")
        if done.ok:
            events.request.fire(request_type="FLOW", name="opening approved", response_time=(time.perf_counter() - start) * 1000,
                                response_length=0, exception=None, context={})
