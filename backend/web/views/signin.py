"""Sign-in page: Django's login view with the lockout told in words (django-axes counts the
attempts; its middleware turns a locked-out answer into 429 + Retry-After)."""

from __future__ import annotations

from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from backend.accounts.signin import lockout_message


class SignInForm(AuthenticationForm):
    def clean(self):
        try:
            return super().clean()
        except ValidationError:
            if self.request is not None and getattr(self.request, "axes_locked_out", False):
                raise ValidationError(lockout_message(self.request), code="locked_out") from None
            raise
