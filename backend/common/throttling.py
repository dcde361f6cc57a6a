"""Rate limits per client address, on DRF's throttling (counters in the default cache, which is
Redis in production so every web node counts together). One class serves the API views (as a
throttle class) and the server-rendered pages (``address_throttle_wait``)."""

from __future__ import annotations

import math

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle


class AddressRateThrottle(SimpleRateThrottle):
    """Counts requests per client address (``REST_FRAMEWORK["NUM_PROXIES"]`` decides whether
    X-Forwarded-For is trusted), whoever is signed in. Subclasses name the ``scope`` whose rate
    is ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"][scope]``."""

    def get_rate(self):
        # Read when used (not when the class is defined), so a changed setting applies.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class DocumentVerifyThrottle(AddressRateThrottle):
    """Uploads of PDFs to verify (``POST /api/documents/verify/`` and ``POST /verify/<id>``):
    one budget per address shared by both."""

    scope = "document_verify"


def address_throttle_wait(throttle_class: type[AddressRateThrottle], request) -> int | None:
    """For a Django view: None if the request is allowed (and counted), else the seconds to put
    in ``Retry-After``."""
    throttle = throttle_class()
    if throttle.allow_request(request, None):
        return None
    return max(1, math.ceil(throttle.wait() or 1))
