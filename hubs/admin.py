"""The officer console: the Django admin, every page scoped to the officer's own hub."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied
from django.http import Http404

from hubs.kernel.errors import DomainError
from hubs.models import (
    OFFICER_ROLES,
    ApiKey,
    AuditEvent,
    Company,
    FxRate,
    HSCode,
    Hub,
    Membership,
    RateRow,
    Role,
    RuleSet,
    User,
)
from hubs.scoping import actor_for_request
from hubs.selectors import hub_today
from hubs.services import (
    api_key_revoke,
    company_verify,
    fx_rate_enter,
    rule_set_copy_to_draft,
    rule_set_draft_edit,
    rule_set_publish,
)


class TenantAdmin(admin.ModelAdmin):
    """Base of every officer-console page over tenant-owned rows.

    Rows are restricted to the actor; another hub's row answers 404. Officers and supervisors
    read; changes go through admin actions that call services, so the default is read-only.
    """

    def get_queryset(self, request):
        return super().get_queryset(request).restrict(actor_for_request(request))

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404("No such row in your hub.")
        return obj

    def _serves_a_hub(self, request):
        return request.user.is_superuser or actor_for_request(request).has_role(*OFFICER_ROLES)

    def has_module_permission(self, request):
        return self._serves_a_hub(request)

    def has_view_permission(self, request, obj=None):
        return self._serves_a_hub(request)

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return False

    def run_service(self, request, service, rows, success, **kwargs):
        """Call `service` on each row; report each refusal instead of failing the whole action."""
        actor = actor_for_request(request)
        done = 0
        for row in rows:
            try:
                service(actor=actor, **{self.service_arg: row}, **kwargs)
            except (DomainError, PermissionDenied) as error:
                self.message_user(request, f"{row}: {error}", messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(request, success.format(count=done), messages.SUCCESS)


@admin.register(Hub)
class HubAdmin(TenantAdmin):
    list_display = ["code", "name", "country", "currency", "timezone", "active"]
    search_fields = ["code", "name"]


@admin.register(Company)
class CompanyAdmin(TenantAdmin):
    list_display = ["legal_name", "home_hub", "country", "registration_number", "home_currency", "verified"]
    list_filter = ["verified", "home_hub"]
    search_fields = ["legal_name", "registration_number"]
    list_select_related = ["home_hub"]
    actions = ["verify"]
    service_arg = "company"

    def has_verify_permission(self, request):
        return request.user.is_superuser or actor_for_request(request).has_role(Role.HUB_SUPERVISOR)

    @admin.action(description="Verify the selected companies", permissions=["verify"])
    def verify(self, request, queryset):
        self.run_service(request, company_verify, queryset, "{count} companies verified.")


@admin.register(Membership)
class MembershipAdmin(TenantAdmin):
    list_display = ["user", "role", "company", "hub", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__username", "company__legal_name", "hub__code"]
    list_select_related = ["user", "company", "hub"]
    autocomplete_fields = ["user"]


@admin.register(ApiKey)
class ApiKeyAdmin(TenantAdmin):
    list_display = ["name", "prefix", "membership", "created", "expiry_date", "last_used_at", "revoked"]
    list_filter = ["revoked"]
    search_fields = ["name", "prefix"]
    list_select_related = ["membership__user", "membership__company", "membership__hub"]
    fields = ["name", "prefix", "membership", "issued_by", "created", "expiry_date", "last_used_at", "revoked"]
    readonly_fields = fields
    actions = ["revoke"]
    service_arg = "api_key"

    def has_add_permission(self, request):
        return False  # keys are issued on the portal's API keys page, where the key is shown once

    def has_revoke_permission(self, request):
        return self._serves_a_hub(request)

    @admin.action(description="Revoke the selected API keys", permissions=["revoke"])
    def revoke(self, request, queryset):
        self.run_service(request, api_key_revoke, queryset.filter(revoked=False), "{count} API keys revoked.")


@admin.register(AuditEvent)
class AuditEventAdmin(TenantAdmin):
    list_display = ["at", "sentence", "verb", "order_ref", "target_type", "target_id", "company"]
    list_filter = ["verb", "hubs"]
    search_fields = ["actor_label", "verb", "target_id", "order_ref", "reason"]
    list_select_related = ["company", "target_type"]
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def _supervises(request, rule_set):
    """A supervisor of the rule set's hub (or a superuser), looking at a draft."""
    if rule_set is None or rule_set.is_published:
        return False
    return request.user.is_superuser or Role.HUB_SUPERVISOR in actor_for_request(request).roles_at(rule_set.hub)


class RateRowInline(admin.TabularInline):
    model = RateRow
    extra = 0
    fields = [
        "hs_prefix",
        "duty_rate",
        "vat_rate",
        "consumption_tax_rate",
        "consumption_tax_min_unit_price",
        "cbec_positive_list",
        "export_refund_rate",
        "admissibility",
        "de_minimis_excluded",
        "note",
    ]

    def has_view_permission(self, request, obj=None):
        return True

    def has_add_permission(self, request, obj=None):
        return _supervises(request, obj)

    def has_change_permission(self, request, obj=None):
        return _supervises(request, obj)

    def has_delete_permission(self, request, obj=None):
        return _supervises(request, obj)


@admin.register(RuleSet)
class RuleSetAdmin(TenantAdmin):
    """Duty and tax rules per hub: supervisors copy the version in force to a draft, edit it, publish it."""

    list_display = ["hub", "version", "status", "effective_from", "import_rules", "published_at"]
    list_filter = ["status", "hub"]
    list_select_related = ["hub"]
    readonly_fields = ["hub", "version", "status", "published_at", "import_rules"]
    inlines = [RateRowInline]
    actions = ["copy_to_draft", "publish"]
    service_arg = "rule_set"

    def has_change_permission(self, request, obj=None):
        return _supervises(request, obj)

    def has_supervise_permission(self, request):
        return request.user.is_superuser or actor_for_request(request).has_role(Role.HUB_SUPERVISOR)

    def save_related(self, request, form, formsets, change):
        """One audit event per save of a draft (the admin saves in one transaction), naming what changed."""
        super().save_related(request, form, formsets, change)
        changed = form.changed_data + (["rates"] if any(f.has_changed() for f in formsets) else [])
        rule_set_draft_edit(actor=actor_for_request(request), rule_set=form.instance, changed=changed)

    @admin.action(description="Copy to a new draft", permissions=["supervise"])
    def copy_to_draft(self, request, queryset):
        self.run_service(request, rule_set_copy_to_draft, queryset, "{count} drafts created.")

    @admin.action(description="Publish the selected drafts on their effective date", permissions=["supervise"])
    def publish(self, request, queryset):
        for rule_set in queryset:
            published = "{count} rule sets published."
            self.run_service(request, rule_set_publish, [rule_set], published, effective_from=rule_set.effective_from)


@admin.register(HSCode)
class HSCodeAdmin(admin.ModelAdmin):
    """The HS nomenclature: reference data every officer reads, nobody edits here."""

    list_display = ["code", "description", "level", "section"]
    list_filter = ["level", "section"]
    search_fields = ["code", "description"]

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class FxRateEntryForm(forms.ModelForm):
    """A supervisor's rate: 1 base = rate quote, for one day, entered for the hub it serves."""

    class Meta:
        model = FxRate
        fields = ["hub", "base", "quote", "rate", "rate_date"]
        help_texts = {"hub": "The hub entering it; the rate serves every hub."}

    def clean(self):
        data = super().clean()
        hub, rate_date = data.get("hub"), data.get("rate_date")
        if hub and rate_date and rate_date > hub_today(hub):
            self.add_error("rate_date", "Give the day the rate is for, today or earlier.")
        return data


@admin.register(FxRate)
class FxRateAdmin(admin.ModelAdmin):
    """Reference rates: ECB files are loaded with `fx_load`; supervisors enter the rates the ECB does not
    publish. Every officer reads them; nobody changes a stored rate."""

    list_display = ["rate_date", "base", "quote", "rate", "source", "hub", "published_at"]
    list_filter = ["source", "quote"]
    search_fields = ["base", "quote"]
    list_select_related = ["hub"]
    date_hierarchy = "rate_date"
    form = FxRateEntryForm

    def _supervised_hubs(self, request):
        if request.user.is_superuser:
            return Hub.objects.all()
        actor = actor_for_request(request)
        return Hub.objects.filter(pk__in=[m.hub_id for m in actor.memberships if m.role == Role.HUB_SUPERVISOR])

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    def has_add_permission(self, request):
        return self._supervised_hubs(request).exists()

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "hub":
            kwargs["queryset"] = self._supervised_hubs(request)
            kwargs["required"] = True
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        entered = fx_rate_enter(
            actor=actor_for_request(request),
            hub=data["hub"],
            base=data["base"],
            quote=data["quote"],
            rate=data["rate"],
            rate_date=data["rate_date"],
        )
        obj.pk = entered.pk


admin.site.register(User, UserAdmin)
