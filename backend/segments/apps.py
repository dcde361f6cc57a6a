from django.apps import AppConfig


class SegmentsConfig(AppConfig):
    """客户分群与预警 (seed 001 §一/§四): 优质客户 and 大客户, the 多次理赔 and 高赔付率 alerts, and the
    thresholds each branch sets through a reviewed change."""

    name = "backend.segments"
    label = "segments"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "客户分群与预警"

    def ready(self) -> None:
        from backend.segments import handlers, process_types

        handlers.register()
        process_types.register()
