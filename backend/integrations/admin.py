from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from backend.common.exceptions import ApplicationError, ValidationFailed
from backend.integrations.callback_urls import callback_url_clean
from backend.integrations.clients import api_client_revoke, api_client_rotate, api_client_update
from backend.integrations.models import ApiClient, CallbackAttempt, CallbackEvent, ImportBatch


class ApiClientForm(forms.ModelForm):
    class Meta:
        model = ApiClient
        fields = ("scopes", "callback_url")

    def clean_callback_url(self) -> str:
        try:
            return callback_url_clean(self.cleaned_data.get("callback_url") or "")
        except ValidationFailed as exc:
            raise forms.ValidationError(exc.field_errors["callback_url"]) from exc


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    """Clients are created with `manage.py api_client create` or the admin API (the token is
    shown once); here administrators rotate, revoke and edit the callback URL."""

    form = ApiClientForm
    list_display = ("name", "org_unit", "scopes", "token_prefix", "created_at", "revoked_at")
    readonly_fields = (
        "name",
        "org_unit",
        "service_user",
        "token_prefix",
        "created_by",
        "created_at",
        "rotated_at",
        "revoked_at",
    )
    fields = (
        "name",
        "org_unit",
        "service_user",
        "scopes",
        "callback_url",
        "token_prefix",
        "created_at",
        "rotated_at",
        "revoked_at",
    )
    actions = ("rotate", "revoke")

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        # Through the service, so every change of scopes or callback URL is audited.
        try:
            api_client_update(
                actor=request.user,
                client_id=obj.pk,
                scopes=obj.scopes if "scopes" in form.changed_data else None,
                callback_url=obj.callback_url if "callback_url" in form.changed_data else None,
            )
        except ApplicationError as exc:
            self.message_user(request, f"{obj.name}: {exc.as_dict()}", messages.ERROR)

    def has_delete_permission(self, request, obj=None):
        return False  # clients are revoked (audited), never deleted

    @admin.action(description=_("更换令牌"))
    def rotate(self, request, queryset):
        for client in queryset:
            try:
                _client, token = api_client_rotate(actor=request.user, client_id=client.pk)
            except ApplicationError as exc:
                self.message_user(request, f"{client.name}: {exc.as_dict()}", messages.ERROR)
            else:
                self.message_user(request, f"{client.name}: {token}", messages.WARNING)

    @admin.action(description=_("吊销"))
    def revoke(self, request, queryset):
        for client in queryset:
            api_client_revoke(actor=request.user, client_id=client.pk)


class CallbackAttemptInline(admin.TabularInline):
    model = CallbackAttempt
    extra = 0
    readonly_fields = ("attempted_at", "status_code", "error", "duration_ms")


@admin.register(CallbackEvent)
class CallbackEventAdmin(admin.ModelAdmin):
    list_display = (
        "event_id",
        "client",
        "event_type",
        "status",
        "attempts",
        "next_attempt_at",
        "delivered_at",
    )
    list_filter = ("status",)
    inlines = [CallbackAttemptInline]
    readonly_fields = (
        "event_id",
        "client",
        "event_type",
        "payload",
        "attempts",
        "delivered_at",
        "created_at",
    )


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    list_display = ("id", "filename", "org_unit", "status", "processed_rows", "created_at")
    readonly_fields = [f.name for f in ImportBatch._meta.fields]
