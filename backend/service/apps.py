from django.apps import AppConfig


class ServiceConfig(AppConfig):
    """服务台: customer managers (客户经理制) and, later, the other service-desk processes."""

    name = "backend.service"
    label = "service"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "服务台"

    def ready(self) -> None:
        from backend.service import handlers, process_types

        handlers.register()
        process_types.register()
