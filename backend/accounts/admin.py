from django.contrib import admin

from backend.accounts.models import AuthToken


@admin.register(AuthToken)
class AuthTokenAdmin(admin.ModelAdmin):
    """Sign-in tokens: administrators see and delete (revoke) them; they are issued by sign-in only."""

    list_display = ("token_key", "user", "created", "expiry")
    search_fields = ("user__username",)
    readonly_fields = ("token_key", "user", "created", "expiry")
    exclude = ("digest", "password_mac")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
