from django.contrib import admin

from backend.reports.models import ReportRecipient
from backend.reports.services import report_recipient_add, report_recipient_remove


@admin.register(ReportRecipient)
class ReportRecipientAdmin(admin.ModelAdmin):
    """决策者: who receives an org unit's monthly complaint analysis when it is archived."""

    list_display = ("kind", "org_unit", "user")
    list_filter = ("kind",)
    autocomplete_fields = ()
    raw_id_fields = ("org_unit", "user")

    def save_model(self, request, obj, form, change):
        if change:  # a recipient row is replaced, never edited in place: the trail shows both
            old = ReportRecipient.objects.get(pk=obj.pk)
            report_recipient_remove(actor=request.user, recipient=old)
            obj.pk = None
        saved = report_recipient_add(actor=request.user, kind=obj.kind, org_unit=obj.org_unit, user=obj.user)
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        report_recipient_remove(actor=request.user, recipient=obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            report_recipient_remove(actor=request.user, recipient=obj)
