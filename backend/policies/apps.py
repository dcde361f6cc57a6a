from django.apps import AppConfig


class PoliciesConfig(AppConfig):
    name = "backend.policies"
    label = "policies"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from backend.policies import handlers, process_types

        handlers.register()
        process_types.register()
