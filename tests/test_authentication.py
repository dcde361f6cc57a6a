"""Every API route needs a user: no credentials or a bad token → 401, bad login → 400."""

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("method, url", [("get", "/api/tasks/"), ("get", "/api/customers/1/"), ("post", "/api/account-openings/"), ("post", "/api/tasks/1/complete/"), ("post", "/api/process-definitions/")])
def test_anonymous_and_bad_token_get_401(demo, method, url):
    assert getattr(APIClient(), method)(url).status_code == 401
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert getattr(client, method)(url).status_code == 401


def test_wrong_password_gets_400_without_a_token(demo):
    resp = APIClient().post("/api/auth/token/", {"username": "reviewer.sz", "password": "wrong"}, format="json")
    assert resp.status_code == 400
    assert "token" not in resp.json()


def test_web_pages_redirect_to_login(client, demo):
    resp = client.get("/inbox/")
    assert resp.status_code == 302 and resp["Location"].startswith("/login/")
