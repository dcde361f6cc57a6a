from django.contrib import admin

from processes.models import ProcessDefinition, ProcessInstance, ProcessVersion, Timer


class ReadOnlyAdmin(admin.ModelAdmin):
    """Versions, instances and timers change only through the engine runtime."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ProcessDefinition)
class ProcessDefinitionAdmin(ReadOnlyAdmin):
    list_display = ("key", "name", "created_at")


@admin.register(ProcessVersion)
class ProcessVersionAdmin(ReadOnlyAdmin):
    list_display = ("definition", "version", "content_hash", "source", "created_at")
    exclude = ("spec",)


@admin.register(ProcessInstance)
class ProcessInstanceAdmin(ReadOnlyAdmin):
    list_display = ("id", "version", "status", "org_unit", "row_version", "created_at")
    list_filter = ("status",)
    exclude = ("state",)


@admin.register(Timer)
class TimerAdmin(ReadOnlyAdmin):
    list_display = ("id", "instance", "spec", "due_at", "status", "fired_at")
    list_filter = ("status", "spec")
