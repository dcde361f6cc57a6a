"""Callback URLs cannot reach inside the network (SSRF).

A callback URL is resolved (every address getaddrinfo returns) and refused when any address is
loopback, private, link-local, reserved, multicast, unspecified or otherwise not global (an
IPv4-mapped IPv6 address is judged by its IPv4 address), unless the URL's host or host:port is
listed in the ``CUSTFLOW_CALLBACK_ALLOWED_HOSTS`` setting. The check runs when a client is
registered or changed (a field error on ``callback_url``) and again before every delivery; the
delivery then connects to the very address that was checked (never re-resolving the name, so a
DNS answer that changes between check and connect — rebinding — gains nothing) and follows no
redirect (``http.client`` never does).
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

from backend.common.exceptions import ValidationFailed

MAX_URL_LENGTH = 200  # ApiClient.callback_url is a URLField(max_length=200)
DEFAULT_PORTS = {"http": 80, "https": 443}


class CallbackUrlRefused(ValueError):
    """The URL is malformed, does not resolve, or points inside the network."""


@dataclass(frozen=True)
class CallbackTarget:
    scheme: str
    host: str  # as written in the URL (Host header, TLS server name)
    port: int
    path: str  # path + query
    addresses: tuple[str, ...]  # every resolved address, all checked


def allowed_hosts() -> set[str]:
    raw = getattr(settings, "CUSTFLOW_CALLBACK_ALLOWED_HOSTS", []) or []
    if isinstance(raw, str):
        raw = raw.split(",")
    return {str(h).strip().lower() for h in raw if str(h).strip()}


def _host_allowed(host: str, port: int) -> bool:
    allowed = allowed_hosts()
    shown = f"[{host}]" if ":" in host else host
    return host in allowed or shown in allowed or f"{shown}:{port}" in allowed


def address_forbidden(address: str) -> bool:
    """True for every address a callback may not reach."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        mapped = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if mapped is not None and address_forbidden(str(mapped)):
            return True
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_multicast
        or ip.is_unspecified
        or not ip.is_global
    )


def callback_target(url: str) -> CallbackTarget:
    """Parse, resolve and check a callback URL; raises CallbackUrlRefused."""
    if len(url) > MAX_URL_LENGTH:
        raise CallbackUrlRefused(_("回调地址过长（最多 %(n)s 个字符）") % {"n": MAX_URL_LENGTH})
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise CallbackUrlRefused(_("回调地址格式无效")) from exc
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise CallbackUrlRefused(_("回调地址须以 http:// 或 https:// 开头"))
    if parts.username or parts.password:
        raise CallbackUrlRefused(_("回调地址不得包含用户名或密码"))
    host = parts.hostname.lower()
    port = port or DEFAULT_PORTS[parts.scheme]
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise CallbackUrlRefused(_("回调地址的主机名无法解析")) from exc
    addresses = tuple(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise CallbackUrlRefused(_("回调地址的主机名无法解析"))
    if not _host_allowed(host, port) and any(address_forbidden(a) for a in addresses):
        raise CallbackUrlRefused(_("回调地址不得指向内部网络（回环、私有、链路本地、保留或组播地址）"))
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return CallbackTarget(scheme=parts.scheme, host=host, port=port, path=path, addresses=addresses)


def callback_url_clean(url: str) -> str:
    """Registration: the URL as stored, or a 400 on `callback_url`."""
    url = (url or "").strip()
    if not url:
        return ""
    try:
        callback_target(url)
    except CallbackUrlRefused as exc:
        raise ValidationFailed.field("callback_url", str(exc), code="callback_url_refused") from exc
    return url


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, target: CallbackTarget, address: str, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, target: CallbackTarget, address: str, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def callback_post(target: CallbackTarget, *, body: bytes, headers: dict[str, str], timeout: float) -> int:
    """POST to the checked addresses in turn (no name resolution, no redirects): the status
    code of the first address that answers. Raises OSError when none does."""
    error: OSError | None = None
    cls = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    for address in target.addresses:
        connection = cls(target, address, timeout)
        try:
            connection.request("POST", target.path, body=body, headers=headers)
            return connection.getresponse().status
        except (OSError, http.client.HTTPException) as exc:
            error = exc if isinstance(exc, OSError) else OSError(str(exc))
        finally:
            connection.close()
    raise error or OSError("no address")
