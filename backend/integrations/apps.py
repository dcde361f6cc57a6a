from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "backend.integrations"
    label = "integrations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from backend.integrations import handlers, process_types

        handlers.register()
        process_types.register()
