from django.apps import AppConfig


class HotlineConfig(AppConfig):
    """热线坐席台 (seed 001 §三, 004 呼叫中心): look a caller up, see the customer whole, log the call
    and hand it on (complaint, change request, claim report) from one screen."""

    name = "backend.hotline"
    label = "hotline"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "热线坐席台"
