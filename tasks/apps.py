from django.apps import AppConfig


class TasksConfig(AppConfig):
    name = "tasks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from processes.runtime import task_store_set
        from tasks import handlers
        from tasks.store import HumanTaskStore

        task_store_set(HumanTaskStore())
        handlers.register()
