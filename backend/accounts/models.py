"""Sign-in tokens: django-rest-knox's hashed tokens (idle and absolute expiry), bound to the
password they were issued under."""

from django.db import models
from knox.models import AbstractAuthToken


class AuthToken(AbstractAuthToken):
    # `user.get_session_auth_hash()` when the token was issued (an HMAC of the password hash,
    # the same value Django keeps in a session): any password change, through any path
    # (service, admin, `changepassword`), makes it differ and the token dead.
    password_mac = models.CharField(max_length=128)

    class Meta:
        verbose_name = "sign-in token"
