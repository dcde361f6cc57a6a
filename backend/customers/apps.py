from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "backend.customers"
    label = "customers"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from backend.customers import handlers, process_types

        handlers.register()
        process_types.register()
