"""Control 14: callbacks cannot reach inside the network.

A callback URL that resolves to a loopback, private, link-local, reserved, multicast or
unspecified address (IPv4-mapped IPv6 included) is refused at registration with a 400 on
`callback_url`, and again at every delivery; a delivery connects to the address it checked
(a DNS answer that changes afterwards is never used) and follows no redirect. Only hosts in
CUSTFLOW_CALLBACK_ALLOWED_HOSTS are exempt. Every connection these tests make is to loopback.
"""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from backend.integrations.admin import ApiClientForm
from backend.integrations.callback_urls import address_forbidden
from backend.integrations.callbacks import callbacks_deliver
from backend.integrations.models import ApiClient, CallbackAttempt, CallbackEvent
from tests.integrations.conftest import open_payload

pytestmark = pytest.mark.django_db

INSIDE = [
    "http://127.0.0.1/hook",
    "http://127.0.0.1:9/hook",
    "http://127.1.2.3:8080/hook",
    "http://localhost:8000/hook",
    "http://2130706433/hook",  # 127.0.0.1 written as one number
    "http://0x7f.0.0.1/hook",
    "http://0.0.0.0/hook",
    "http://10.1.2.3/hook",
    "http://172.16.0.1/hook",
    "http://192.168.1.10/hook",
    "http://100.64.0.1/hook",  # carrier-grade NAT, not global
    "http://169.254.169.254/latest/meta-data/",
    "http://224.0.0.1/hook",
    "http://240.0.0.1/hook",
    "http://255.255.255.255/hook",
    "http://[::1]/hook",
    "http://[::]/hook",
    "http://[fe80::1]/hook",
    "http://[fc00::1]/hook",
    "http://[ff02::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://[::ffff:10.0.0.1]/hook",
    "http://[::ffff:169.254.169.254]/hook",
]
MALFORMED = [
    "ftp://93.184.215.14/hook",
    "http:///hook",
    "http://93.184.215.14:99999/hook",
    "http://user:pw@93.184.215.14/hook",
    "http://93.184.215.14/" + "a" * 300,
    "http://no-such-host.invalid/hook",
]
OUTSIDE = "http://93.184.215.14/hook"  # a global address (only resolved, never connected to)


class Sink:
    """A loopback HTTP server recording what reaches it; answers `status` (+ Location)."""

    def __init__(self, status: int = 204, location: str = "") -> None:
        self.hits: list[tuple[str, str]] = []
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                sink.hits.append((self.command, self.path))
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_POST = do_GET = _answer  # noqa: N815

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def sinks():
    made: list[Sink] = []

    def _make(**kw) -> Sink:
        made.append(Sink(**kw))
        return made[-1]

    yield _make
    for s in made:
        s.close()


def _register(api, url: str):
    return api("admin").post(
        "/api/integrations/clients/",
        {"name": f"回调-{abs(hash(url))}", "org_unit": "GD-SZ", "scopes": ["open"], "callback_url": url},
        format="json",
    )


@pytest.mark.parametrize("url", INSIDE)
def test_registration_refuses_an_address_inside_the_network(api, url):
    resp = _register(api, url)
    assert resp.status_code == 400, resp.content
    assert "callback_url" in resp.json()
    assert not ApiClient.objects.exists()  # nothing changed


@pytest.mark.parametrize("url", MALFORMED)
def test_registration_refuses_malformed_or_unresolvable_urls_with_a_field_message(api, url):
    resp = _register(api, url)
    assert resp.status_code == 400, resp.content
    assert "callback_url" in resp.json()
    assert not ApiClient.objects.exists()


def test_a_global_address_is_accepted(api):
    resp = _register(api, OUTSIDE)
    assert resp.status_code == 201, resp.content
    assert ApiClient.objects.get().callback_url == OUTSIDE


def test_the_allow_list_admits_exactly_its_host_and_port(api, settings):
    settings.CUSTFLOW_CALLBACK_ALLOWED_HOSTS = ["127.0.0.1:9"]
    assert _register(api, "http://127.0.0.1:9/hook").status_code == 201
    assert _register(api, "http://127.0.0.1:8000/hook").status_code == 400
    assert _register(api, "http://10.1.2.3:9/hook").status_code == 400
    settings.CUSTFLOW_CALLBACK_ALLOWED_HOSTS = ["localhost"]  # a host without port: any port
    assert _register(api, "http://localhost:8000/hook").status_code == 201


def test_the_admin_form_refuses_an_inside_address(make_client):
    client, _http, _t = make_client()
    form = ApiClientForm(
        data={"scopes": '["open"]', "callback_url": "http://169.254.169.254/"}, instance=client
    )
    assert not form.is_valid() and "callback_url" in form.errors


@pytest.mark.parametrize(
    "address, forbidden",
    [
        ("127.0.0.1", True),
        ("10.0.0.1", True),
        ("169.254.1.1", True),
        ("::ffff:192.168.0.1", True),
        ("2002:7f00:1::", True),  # 6to4 around 127.0.0.1
        ("fe80::1%eth0", True),
        ("93.184.215.14", False),
        ("2606:4700:4700::1111", False),
    ],
)
def test_address_rule(address, forbidden):
    assert address_forbidden(address) is forbidden


def _open_customer(http, key: str):
    resp = http.post("/api/integrations/customers/", open_payload(), format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert resp.status_code == 201, resp.content
    return CallbackEvent.objects.get()


def test_delivery_checks_again_and_refuses_once_the_host_is_no_longer_allowed(make_client, settings, sinks):
    sink = sinks()
    settings.CUSTFLOW_CALLBACK_ALLOWED_HOSTS = [f"127.0.0.1:{sink.port}"]
    _client, http, _t = make_client(callback_url=sink.url)
    event = _open_customer(http, "ssrf-1")
    settings.CUSTFLOW_CALLBACK_ALLOWED_HOSTS = []
    callbacks_deliver(now=timezone.now())
    attempt = CallbackAttempt.objects.get(event=event)
    assert attempt.status_code is None and attempt.error.startswith("refused")
    assert sink.hits == []
    event.refresh_from_db()
    assert event.status == "pending"


def test_delivery_follows_no_redirect(make_client, settings, sinks):
    inside = sinks()
    redirector = sinks(status=302, location=f"http://127.0.0.1:{inside.port}/admin")
    settings.CUSTFLOW_CALLBACK_ALLOWED_HOSTS = [f"127.0.0.1:{redirector.port}"]
    _client, http, _t = make_client(callback_url=redirector.url)
    event = _open_customer(http, "ssrf-2")
    callbacks_deliver(now=timezone.now())
    assert redirector.hits == [("POST", "/hook")]
    assert inside.hits == []
    attempt = CallbackAttempt.objects.get(event=event)
    assert attempt.status_code == 302
    event.refresh_from_db()
    assert event.status == "pending"


def test_delivery_connects_to_the_checked_address_not_a_rebound_name(make_client, monkeypatch, sinks):
    """DNS rebinding: the name answers a global address while it is checked (registration and
    the delivery's check), then loopback. The delivery must use the checked address."""
    inside = sinks()
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.create_connection
    lookups: list[str] = []
    connects: list[tuple] = []

    def fake_getaddrinfo(host, port, *args, **kwargs):
        if host == "rebind.example":
            lookups.append(host)
            address = "93.184.215.14" if len(lookups) <= 2 else "127.0.0.1"
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, int(port)))]
        return real_getaddrinfo(host, port, *args, **kwargs)

    def fake_create_connection(address, *args, **kwargs):
        connects.append(address)
        if address[0] not in ("127.0.0.1", "localhost"):
            raise OSError("the outside is not reachable from tests")
        return real_connect(address, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", fake_create_connection)
    _client, http, _t = make_client(callback_url=f"http://rebind.example:{inside.port}/hook")
    event = _open_customer(http, "ssrf-3")
    callbacks_deliver(now=timezone.now())
    assert len(lookups) == 2  # registration + the delivery's check; no third resolution
    assert connects == [("93.184.215.14", inside.port)]
    assert inside.hits == []
    attempt = CallbackAttempt.objects.get(event=event)
    assert attempt.status_code is None


def test_an_allowed_loopback_receiver_still_gets_its_signed_post(make_client, settings, sinks):
    sink = sinks()
    settings.CUSTFLOW_CALLBACK_ALLOWED_HOSTS = [f"127.0.0.1:{sink.port}"]
    _client, http, _t = make_client(callback_url=sink.url)
    event = _open_customer(http, "ssrf-4")
    assert callbacks_deliver(now=timezone.now()) == 1
    assert sink.hits == [("POST", "/hook")]
    event.refresh_from_db()
    assert event.status == "delivered"
