from django.apps import AppConfig


class ProcessesConfig(AppConfig):
    name = "processes"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from processes import checks  # noqa: F401  (registers the system check)
