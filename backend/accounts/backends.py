"""django-axes' lockout check as the first authentication backend."""

from __future__ import annotations

from axes.backends import AxesStandaloneBackend


class LockoutBackend(AxesStandaloneBackend):
    """Refuses a locked-out username or client address before any password is checked.

    Every HTTP sign-in path (the sign-in page, the token API, the admin) passes its request. A
    call of `authenticate()` without one comes from no client address (Django's test client
    `login()`, a shell): there is nothing to count it against, so it is let through to the
    password check instead of failing."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
