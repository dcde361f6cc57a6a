from django.apps import AppConfig


class ComplaintsConfig(AppConfig):
    name = "backend.complaints"
    label = "complaints"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from backend.complaints import handlers, process_types

        handlers.register()
        process_types.register()
