"""Control 2: no identifier (resident id, USCC, mobile number) in any log line, the access log
included. A run of look-ups and openings with known identifiers goes through the API while
every log record is captured (caplog at DEBUG on the root logger) and every request is also
written as runserver's and gunicorn's access-log line through the handlers LOGGING installs."""

from __future__ import annotations

import io
import logging
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.core.servers.basehttp import WSGIRequestHandler
from django.utils.log import configure_logging
from rest_framework.test import APIClient

from backend.common.log_redaction import REDACTED, redact_identifiers
from tests.customers.factories import corporate_make, customer_make
from tests.factories import resident_id, uscc
from tests.integrations.conftest import open_payload

pytestmark = pytest.mark.django_db

ID_SZ = resident_id(region="440305", serial=611)
ID_NEW = resident_id(region="330106", serial=612)
PHONE = "13812345678"
USCC = uscc()


def spellings(secret: str) -> set[str]:
    out = {secret, secret.lower()}
    if len(secret) == 11:
        out |= {
            f"+86{secret}",
            f"%2B86{secret}",
            f"{secret[:3]} {secret[3:7]} {secret[7:]}",
            f"{secret[:3]}-{secret[3:7]}-{secret[7:]}",
        }
    return out


@pytest.mark.parametrize(
    "text",
    [
        f"id {ID_SZ} here",
        f"id={ID_SZ[:-1]}x",
        f"GET /api/customers/?phone=%2B86{PHONE}&page=2 HTTP/1.1",
        f"phone +86 {PHONE[:3]}-{PHONE[3:7]}-{PHONE[7:]}",
        f"phone {PHONE[:3]} {PHONE[3:7]} {PHONE[7:]}",
        f"uscc={USCC.lower()}",
        f'{{"id_number": "{ID_SZ}", "phone": "+86{PHONE}"}}',
    ],
)
def test_identifiers_are_redacted(text):
    clean = redact_identifiers(text)
    assert REDACTED in clean
    for secret in (ID_SZ, ID_SZ[:-1], PHONE, USCC, USCC.lower()):
        assert secret not in clean


@pytest.mark.parametrize(
    "text",
    [
        "GET /api/customers/12345/ HTTP/1.1 200 512",
        "[07/Dec/2026 07:15:41] took 0.031s, 2026-12-07T07:15:41.123456+00:00",
        "hash 3f2a9c0d1e8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f",
        "request 20261207071541 queued",
    ],
)
def test_other_numbers_are_left_alone(text):
    assert redact_identifiers(text) == text


@pytest.fixture
def log_streams():
    """Every handler of the loggers LOGGING configures writes into one buffer; LOGGING is
    applied again afterwards, as each gunicorn worker does when Django starts after
    gunicorn's own logging setup."""
    from gunicorn.config import Config
    from gunicorn.glogging import Logger as GunicornLogger

    cfg = Config()
    cfg.set("accesslog", "-")
    gunicorn_logger = GunicornLogger(cfg)  # gunicorn's handlers first, then Django's LOGGING
    configure_logging(settings.LOGGING_CONFIG, settings.LOGGING)
    buffer = io.StringIO()
    names = ["", "django.server", "gunicorn.access", "gunicorn.error", "django.request"]
    handlers = {
        h for name in names for h in logging.getLogger(name).handlers if isinstance(h, logging.StreamHandler)
    }
    assert handlers
    for handler in handlers:
        if not type(handler).__module__.startswith("_pytest"):
            handler.setStream(buffer)
    yield buffer, gunicorn_logger
    configure_logging(settings.LOGGING_CONFIG, settings.LOGGING)


def _upstream(org_unit: str) -> APIClient:
    from backend.integrations.clients import api_client_create

    _client, token = api_client_create(
        actor=None,
        name=f"承保系统-{org_unit}",
        org_unit_code=org_unit,
        scopes=["open", "query"],
        callback_url="",
    )
    http = APIClient()
    http.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return http


@pytest.fixture
def requests_made(monkeypatch):
    made: list[tuple[str, str, str, int]] = []
    original = APIClient.request

    def request(self, **kwargs):
        resp = original(self, **kwargs)
        made.append(
            (
                kwargs.get("REQUEST_METHOD", ""),
                kwargs.get("PATH_INFO", ""),
                kwargs.get("QUERY_STRING", ""),
                resp.status_code,
            )
        )
        return resp

    monkeypatch.setattr(APIClient, "request", request)
    return made


def _access_lines(requests_made, gunicorn_logger):
    """Each request as runserver logs it (WSGIRequestHandler.log_message) and as gunicorn
    logs it (Logger.access with its default format)."""
    runserver = SimpleNamespace(request=None, log_date_time_string=lambda: "07/Dec/2026 07:15:41")
    for method, path, query, status in requests_made:
        uri = path + (f"?{query}" if query else "")
        WSGIRequestHandler.log_message(
            runserver, '"%s" %s %s', f"{method} {uri} HTTP/1.1", str(status), "512"
        )
        environ = {
            "REQUEST_METHOD": method,
            "RAW_URI": uri,
            "SERVER_PROTOCOL": "HTTP/1.1",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "REMOTE_ADDR": "10.0.0.9",
            "HTTP_REFERER": f"https://custflow.example/customers/?q={ID_SZ}",
        }
        response = SimpleNamespace(status=f"{status} X", sent=512, headers=[])
        gunicorn_logger.access(response, SimpleNamespace(headers=[]), environ, timedelta(milliseconds=12))


def test_a_run_of_lookups_and_openings_logs_no_identifier(
    api, users, caplog, log_streams, requests_made, settings
):
    buffer, gunicorn_logger = log_streams
    caplog.set_level(logging.DEBUG)
    settings.LOOKUP_LIMIT_PER_HOUR = 1000
    customer_make("GD-SZ", id_number=ID_SZ, phone=f"+86{PHONE}")
    corporate_make("GD-SZ", id_number=USCC)
    reviewer = api("reviewer.sz")
    upstream, hangzhou = _upstream("GD-SZ"), _upstream("ZJ-HZ")

    for field, value in (("id_number", ID_SZ), ("phone", PHONE), ("phone", f"+86 {PHONE}"), ("uscc", USCC)):
        assert (
            reviewer.post(
                "/api/customers/search/", {"field": field, "value": value}, format="json"
            ).status_code
            == 200
        )
    # The old GETs carry identifiers in the URL: refused, and the access log must not keep them.
    for key, value in (("phone", PHONE), ("id_number", ID_SZ), ("uscc", USCC), ("q", ID_SZ)):
        assert reviewer.get("/api/customers/", {key: value}).status_code == 400
    assert reviewer.get(f"/api/customers/{ID_SZ}/").status_code == 404  # "Not Found: <path>" is logged
    assert (
        upstream.get(
            "/api/integrations/customers/check", {"id_type": "resident_id", "id_number": ID_SZ}
        ).status_code
        == 400
    )
    assert (
        upstream.post(
            "/api/integrations/customers/check", {"id_type": "resident_id", "id_number": ID_SZ}, format="json"
        ).status_code
        == 200
    )
    assert (
        upstream.post("/api/integrations/customers/check", {"uscc": USCC}, format="json").status_code == 200
    )
    opened = upstream.post(
        "/api/integrations/customers/",
        open_payload(id_number=ID_NEW, phone=PHONE),
        format="json",
        HTTP_IDEMPOTENCY_KEY="log-1",
    )
    assert opened.status_code == 201, opened.content
    held = hangzhou.post(
        "/api/integrations/customers/",
        open_payload(id_number=ID_SZ),
        format="json",
        HTTP_IDEMPOTENCY_KEY="log-2",
    )
    assert held.status_code == 202
    logging.getLogger("backend.test").warning(
        "looked up %s and %s", ID_SZ, PHONE
    )  # something that slips through
    _access_lines(requests_made, gunicorn_logger)

    access = buffer.getvalue()
    texts = {
        "handlers": access,
        "caplog": caplog.text,
        "records": "\n".join(r.getMessage() for r in caplog.records),
    }
    found = [
        f"{where}: {secret}"
        for where, text in texts.items()
        for secret in (ID_SZ, ID_NEW, PHONE, USCC)
        if any(s in text for s in spellings(secret))
    ]
    assert found == []
    assert access.count("/api/customers/") >= 2 * 10  # both access-log formats were written
    assert REDACTED in access
