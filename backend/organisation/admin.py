from django.contrib import admin

from backend.organisation.models import OrgUnit, RoleAssignment, SalesAgent


@admin.register(OrgUnit)
class OrgUnitAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "level", "parent", "path")
    search_fields = ("code", "name")
    readonly_fields = ("path",)


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(admin.ModelAdmin):
    list_display = ("user", "role", "org_unit")
    list_filter = ("role", "org_unit")
    search_fields = ("user__username",)


@admin.register(SalesAgent)
class SalesAgentAdmin(admin.ModelAdmin):
    list_display = ("agent_code", "name", "org_unit", "active")
    list_filter = ("org_unit", "active")
    search_fields = ("agent_code", "name")
