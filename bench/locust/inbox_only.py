"""P3's raw baseline: the same locust users doing only an authenticated GET of the inbox page."""

from __future__ import annotations

import os

from locust import HttpUser, between, task


class InboxOnly(HttpUser):
    wait_time = between(0, 0.05)

    def on_start(self):
        self.client.headers["X-Forwarded-Proto"] = "https"
        resp = self.client.post("/api/auth/token/", json={"username": "reviewer.sz", "password": os.environ.get("CUSTFLOW_DEMO_PASSWORD", "demo-pass-2026")}, name="token")
        resp.raise_for_status()
        self.client.headers["Authorization"] = f"Token {resp.json()['token']}"

    @task
    def inbox(self):
        self.client.get("/api/tasks/", name="inbox page")
