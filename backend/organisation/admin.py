from django.contrib import admin

from backend.organisation.models import OrgUnit, RoleAssignment, SalesAgent
from backend.organisation.services import role_assign, role_revoke


@admin.register(OrgUnit)
class OrgUnitAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "level", "parent", "path")
    search_fields = ("code", "name")
    readonly_fields = ("path",)


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(admin.ModelAdmin):
    """Grants and revocations go through the services, so each one is audited (role.granted /
    role.revoked); a grant is never edited in place (revoke it and grant the new one)."""

    list_display = ("user", "role", "org_unit")
    list_filter = ("role", "org_unit")
    search_fields = ("user__username",)

    def has_change_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        saved = role_assign(user=obj.user, role=obj.role, org_unit=obj.org_unit, actor=request.user)
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        role_revoke(actor=request.user, assignment_id=obj.pk)

    def delete_queryset(self, request, queryset):
        for pk in list(queryset.values_list("pk", flat=True)):
            role_revoke(actor=request.user, assignment_id=pk)


@admin.register(SalesAgent)
class SalesAgentAdmin(admin.ModelAdmin):
    list_display = ("agent_code", "name", "org_unit", "active")
    list_filter = ("org_unit", "active")
    search_fields = ("agent_code", "name")
