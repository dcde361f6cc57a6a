from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "backend.accounts"
    label = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Sign-in events happen inside Django's `authenticate()` / `login()` / `logout()` and
        # django-axes: their documented signals are the one place every path (web, API, admin)
        # passes through. Each receiver only hands the event to the audit service.
        from axes.signals import user_locked_out
        from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

        from backend.accounts import signin

        user_logged_in.connect(signin.on_signed_in, dispatch_uid="accounts.signed_in")
        user_login_failed.connect(signin.on_sign_in_failed, dispatch_uid="accounts.sign_in_failed")
        user_logged_out.connect(signin.on_signed_out, dispatch_uid="accounts.signed_out")
        user_locked_out.connect(signin.on_locked_out, dispatch_uid="accounts.locked_out")
