"""The officer console: the Django admin, every page scoped to the officer's own hub.

No page leads an officer to a dead end: a row of another hub (or any row the officer may not open) is shown
as text, never as a link (`console_link`); filters list only the related rows the officer may open and the
states a row can reach; a refusal is shown in the console's own layout (`hubs.console`).
"""

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import InlineModelAdmin
from django.contrib.admin.utils import get_fields_from_path, quote
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.db.models import Count, Max, Q
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst
from django.utils.translation import ngettext

from hubs import tariff
from hubs.kernel.errors import DomainError
from hubs.kernel.transitions import StateMachine
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
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from hubs.partner_webhooks import webhook_delivery_retry, webhook_endpoint_secret_rotate, webhook_endpoint_test
from hubs.scoping import actor_for_request, is_tenant_model, restrict
from hubs.selectors import hub_today
from hubs.services import (
    api_key_revoke,
    company_verify,
    fx_rate_enter,
    rule_set_copy_to_draft,
    rule_set_discard,
    rule_set_draft_edit,
    rule_set_publish,
    rule_set_withdraw,
)

# --- no dead ends: links, filters ------------------------------------------------------------------------


def may_open(request, row, admin_site=admin.site):
    """Whether the request's user may open `row`'s console page: its model has a page there, and the row is
    among those the page shows this user. Remembered for the request."""
    model_admin = admin_site._registry.get(type(row))
    if model_admin is None:
        return False
    known = request.__dict__.setdefault("_console_may_open", {})
    key = (type(row)._meta.label, row.pk)
    if key not in known:
        known[key] = model_admin.has_view_or_change_permission(request, row) and (
            model_admin.get_queryset(request).filter(pk=row.pk).exists()
        )
    return known[key]


def console_link(request, row, admin_site=admin.site):
    """`row` as a link to its console page where the request's user may open it; otherwise as text."""
    if row is None:
        return "-"
    if may_open(request, row, admin_site):
        opts = row._meta
        try:
            url = reverse(f"{admin_site.name}:{opts.app_label}_{opts.model_name}_change", args=[quote(row.pk)])
        except NoReverseMatch:
            return str(row)
        return format_html('<a href="{}">{}</a>', url, row)
    return str(row)


def percent(rate):
    """A stored fraction as a percentage: Decimal("0.13") → "13%"."""
    return "-" if rate is None else f"{(rate * 100).normalize():f}%"


def reachable_states(model):
    """The states a row of a state machine can be in: its field's default, and all that follow along the map."""
    start = model._meta.get_field(model.state_field).get_default()
    reached, todo = {start}, [start]
    while todo:
        for state in model.TRANSITIONS.get(todo.pop(), ()):
            if state not in reached:
                reached.add(state)
                todo.append(state)
    return reached


class ScopedRelatedFieldListFilter(admin.RelatedFieldListFilter):
    """A filter by a related row that lists only the rows the officer may open (for a hub: its own hubs)."""

    def field_choices(self, field, request, model_admin):
        related = field.related_model
        related_admin = model_admin.admin_site._registry.get(related)
        if related_admin is not None:
            rows = related_admin.get_queryset(request)
        elif is_tenant_model(related):
            rows = restrict(related._default_manager.all(), actor_for_request(request))
        else:
            return super().field_choices(field, request, model_admin)
        ordering = self.field_admin_ordering(field, request, model_admin)
        return [(row.pk, str(row)) for row in (rows.order_by(*ordering) if ordering else rows)]


class ReachableStateListFilter(admin.ChoicesFieldListFilter):
    """A filter by a state machine's state that lists only the states its rows can reach (`reachable_states`)."""

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        reachable = reachable_states(field.model)
        self.states = [(value, title) for value, title in field.flatchoices if value in reachable]

    def get_facet_counts(self, pk_attname, filtered_qs):
        return {
            f"{i}__c": Count(pk_attname, filter=Q((self.lookup_kwarg, value)))
            for i, (value, _) in enumerate(self.states)
        }

    def choices(self, changelist):
        counts = self.get_facet_queryset(changelist) if changelist.add_facets else None
        yield {
            "selected": self.lookup_val is None,
            "query_string": changelist.get_query_string(remove=[self.lookup_kwarg, self.lookup_kwarg_isnull]),
            "display": "All",
        }
        for i, (value, title) in enumerate(self.states):
            yield {
                "selected": self.lookup_val is not None and str(value) in self.lookup_val,
                "query_string": changelist.get_query_string({self.lookup_kwarg: value}, [self.lookup_kwarg_isnull]),
                "display": f"{title} ({counts[f'{i}__c']})" if counts is not None else title,
            }


class ConsoleMixin:
    """What every console page and inline shares: related rows shown as links only where the officer may
    open them, and filters that list only what the officer may pick.

    A read-only page (no change permission) shows each foreign key through `console_link`; so does an
    editable page or an inline, for its read-only foreign keys.
    """

    def _link_display(self, request, name):
        """A display of foreign key `name` through `console_link`: one per request, as the admin compares them."""
        displays = request.__dict__.setdefault("_console_link_displays", {})
        key = (id(self), name)
        if key not in displays:
            field = self.model._meta.get_field(name)

            def display(row):
                return console_link(request, getattr(row, name), self.admin_site)

            display.__name__ = name
            display.short_description = capfirst(field.verbose_name)
            displays[key] = display
        return displays[key]

    def _is_link(self, name):
        if not isinstance(name, str):
            return False
        try:
            field = self.model._meta.get_field(name)
        except FieldDoesNotExist:
            return False
        return field.concrete and (field.many_to_one or field.one_to_one)

    def _as_links(self, request, names, linked):
        return [
            tuple(self._as_links(request, name, linked))
            if isinstance(name, (list, tuple))
            else self._link_display(request, name)
            if self._is_link(name) and (linked is None or name in linked)
            else name
            for name in names
        ]

    def get_readonly_fields(self, request, obj=None):
        return self._as_links(request, super().get_readonly_fields(request, obj), None)

    def get_fieldsets(self, request, obj=None):
        read_only_page = (
            not isinstance(self, InlineModelAdmin) and obj is not None and not self.has_change_permission(request, obj)
        )
        linked = None if read_only_page else set(super().get_readonly_fields(request, obj))
        return [
            (title, {**options, "fields": self._as_links(request, options["fields"], linked)})
            for title, options in super().get_fieldsets(request, obj)
        ]

    def get_list_filter(self, request):
        filters = []
        for entry in super().get_list_filter(request):
            if isinstance(entry, str):
                field = get_fields_from_path(self.model, entry)[-1]
                if field.is_relation:
                    entry = (entry, ScopedRelatedFieldListFilter)
                elif issubclass(field.model, StateMachine) and field.name == field.model.state_field and field.choices:
                    entry = (entry, ReachableStateListFilter)
            filters.append(entry)
        return filters


class ReadOnly:
    """A console page (or inline) that only shows: its rows are written by services, never by a form."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class TenantAdmin(ConsoleMixin, admin.ModelAdmin):
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
        """Call `service` on each row; report each refusal instead of failing the whole action.

        `success` is the message's singular and plural forms, with `{count}`. Returns what the service returned for
        each row it did not refuse."""
        actor = actor_for_request(request)
        done = []
        for row in rows:
            try:
                done.append(service(actor=actor, **{self.service_arg: row}, **kwargs))
            except (DomainError, PermissionDenied) as error:
                self.message_user(request, f"{row}: {error}", messages.ERROR)
        if done:
            self.message_user(request, ngettext(*success, len(done)).format(count=len(done)), messages.SUCCESS)
        return done


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
        self.run_service(
            request, company_verify, queryset, ("{count} company verified.", "{count} companies verified.")
        )


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
        self.run_service(
            request,
            api_key_revoke,
            queryset.filter(revoked=False),
            ("{count} API key revoked.", "{count} API keys revoked."),
        )


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnly, TenantAdmin):
    list_display = ["at", "sentence", "verb", "order_ref", "target_type", "target_id", "company"]
    list_filter = ["verb", "hubs"]
    search_fields = ["actor_label", "verb", "target_id", "order_ref", "reason"]
    list_select_related = ["company", "target_type"]
    date_hierarchy = "at"


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnly, TenantAdmin):
    """Companies' partner endpoints, read only (their secrets never shown, but a new one once, to the officer who
    draws it): an officer helping a partner connect sends one a test event and reads its delivery below, or rotates
    its secret (leaked, or the partner's staff changed)."""

    list_display = ["public_id", "company", "url", "description", "active", "created_at"]
    list_filter = ["active"]
    search_fields = ["public_id", "url", "company__legal_name"]
    list_select_related = ["company"]
    fields = ["public_id", "company", "url", "description", "event_types", "active", "created_at", "created_by"]
    readonly_fields = fields
    actions = ["send_test", "rotate_secret", "rotate_leaked_secret"]
    service_arg = "endpoint"

    def has_send_test_permission(self, request):
        return self._serves_a_hub(request)

    def has_rotate_secret_permission(self, request):
        return self._serves_a_hub(request)

    @admin.action(
        description="Rotate the secrets of the selected endpoints (shown once)", permissions=["rotate_secret"]
    )
    def rotate_secret(self, request, queryset, leaked=False):
        rotated = self.run_service(
            request,
            webhook_endpoint_secret_rotate,
            queryset.filter(active=True),
            ("{count} secret rotated.", "{count} secrets rotated."),
            leaked=leaked,
        )
        if not rotated:
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "New webhook secrets",
            "opts": self.model._meta,
            "endpoints": rotated,
        }
        return TemplateResponse(request, "admin/hubs/webhookendpoint/secrets_rotated.html", context)

    @admin.action(
        description="Rotate the leaked secrets of the selected endpoints: the old ones stop signing at once",
        permissions=["rotate_secret"],
    )
    def rotate_leaked_secret(self, request, queryset):
        return self.rotate_secret(request, queryset, leaked=True)

    @admin.action(description="Send a test event to the selected endpoints", permissions=["send_test"])
    def send_test(self, request, queryset):
        self.run_service(
            request,
            webhook_endpoint_test,
            queryset.filter(active=True),
            ("{count} test event sent.", "{count} test events sent."),
        )


class WebhookAttemptInline(ReadOnly, ConsoleMixin, admin.TabularInline):
    model = WebhookAttempt
    fields = ["number", "started_at", "outcome", "duration_ms"]
    readonly_fields = fields
    extra = 0

    def has_view_permission(self, request, obj=None):
        return True  # whoever sees the delivery (its page is scoped) sees its attempts


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnly, TenantAdmin):
    """Every event sent to a partner endpoint, with each attempt and its outcome; an officer helping a partner sends
    a failed one again."""

    list_display = ["public_id", "event_type", "endpoint", "status", "attempt_count", "next_attempt_at", "created_at"]
    list_filter = ["status", "event_type"]
    search_fields = ["public_id", "endpoint__public_id", "endpoint__url"]
    list_select_related = ["endpoint"]
    fields = [
        "public_id",
        "endpoint",
        "event_type",
        "status",
        "attempt_count",
        "next_attempt_at",
        "delivered_at",
        "created_at",
        "payload",
    ]
    readonly_fields = fields
    inlines = [WebhookAttemptInline]
    date_hierarchy = "created_at"
    actions = ["retry"]
    service_arg = "delivery"

    def has_retry_permission(self, request):
        return self._serves_a_hub(request)

    @admin.action(description="Send the selected failed deliveries again now", permissions=["retry"])
    def retry(self, request, queryset):
        self.run_service(
            request,
            webhook_delivery_retry,
            queryset.select_related("endpoint__company__home_hub"),
            ("{count} delivery sent again.", "{count} deliveries sent again."),
        )


def _supervises(request, rule_set):
    """A supervisor of the rule set's hub (or a superuser), looking at a draft."""
    if rule_set is None or not rule_set.is_draft:
        return False
    return request.user.is_superuser or Role.HUB_SUPERVISOR in actor_for_request(request).roles_at(rule_set.hub)


class PercentField(forms.DecimalField):
    """A rate edited as a percentage (13 for 13%) and stored as the fraction it stands for (Decimal 0.13)."""

    def __init__(self, **kwargs):
        kwargs["widget"] = forms.NumberInput(attrs={"class": "vPercent"})
        kwargs.update(max_digits=4, decimal_places=2, min_value=0, max_value=Decimal("99.99"))  # 0.9999 stored
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, Decimal):
            return f"{(value * 100).normalize():f}"
        return value

    def clean(self, value):
        entered = super().clean(value)
        return None if entered is None else entered / 100

    def has_changed(self, initial, data):
        try:
            entered = self.to_python(data)
        except ValidationError:
            return True
        stored = None if initial in (None, "") else Decimal(str(initial)) * 100
        return stored != entered


class UnitPricesWidget(forms.MultiWidget):
    """One amount per unit of measure, each shown with its currency: `CNY [10] per g`."""

    def __init__(self, attrs=None):
        amount = {"class": "vUnitPrice", "step": "any", "min": "0"}
        super().__init__({unit: forms.NumberInput(attrs=amount) for unit in tariff.PRICE_UNITS}, attrs)
        self.currency = ""

    def decompress(self, value):
        prices = value if isinstance(value, dict) else {}
        return [prices.get(unit) for unit in tariff.PRICE_UNITS]

    def render(self, name, value, attrs=None, renderer=None):
        values = value if isinstance(value, list) else self.decompress(value)
        attrs = self.build_attrs(self.attrs, attrs)
        parts = []
        for widget, unit, amount in zip(self.widgets, tariff.PRICE_UNITS, values, strict=True):
            unit_attrs = {**attrs, "id": f"{attrs['id']}_{unit}"} if "id" in attrs else attrs
            unit_attrs = {**unit_attrs, "aria-label": f"{self.currency or 'Price'} per {unit}"}
            parts.append((self.currency, widget.render(f"{name}_{unit}", amount, unit_attrs, renderer), unit))
        rows = format_html_join("", '<label class="unit-price">{} {} <span>per {}</span></label>', parts)
        return format_html('<div class="unit-prices">{}</div>', rows)


class UnitPricesField(forms.MultiValueField):
    """Prices per unit of measure from which the consumption tax applies, each an amount in the hub's
    currency; stored as {"g": "10", "piece": "15"} (`hubs.tariff.UNIT_PRICES`), empty units left out."""

    widget = UnitPricesWidget

    def __init__(self, *, currency="", **kwargs):
        for offered in ("encoder", "decoder", "max_length"):  # what the model's JSONField offers a form field
            kwargs.pop(offered, None)
        kwargs.update(required=False, show_hidden_initial=False)
        fields = [forms.DecimalField(required=False) for _ in tariff.PRICE_UNITS]
        super().__init__(fields, require_all_fields=False, **kwargs)
        self.currency = self.widget.currency = currency

    def compress(self, values):
        amounts = zip(tariff.PRICE_UNITS, values or (), strict=False)
        return {unit: f"{amount:f}" for unit, amount in amounts if amount is not None}

    def validate(self, value):
        problem = tariff.value_problem(tariff.UNIT_PRICES, value, self.currency)
        if problem:
            raise ValidationError(f"Give {problem}.", code="invalid_unit_prices")


RATE_PERCENTS = {
    "duty_rate": "Duty %",
    "vat_rate": "VAT / sales tax %",
    "consumption_tax_rate": "Consumption tax %",
    "export_refund_rate": "Export refund %",
}


class RateRowForm(forms.ModelForm):
    """A rate row as a supervisor edits it: rates in percent, the consumption-tax thresholds as amounts in
    the hub's currency (`currency`, given by the rule set's page)."""

    class Meta:
        model = RateRow
        fields = [
            "hs_prefix",
            *RATE_PERCENTS,
            "consumption_tax_min_unit_price",
            "cbec_positive_list",
            "admissibility",
            "de_minimis_excluded",
            "note",
        ]
        labels = {
            "hs_prefix": "HS prefix",
            **RATE_PERCENTS,
            "cbec_positive_list": "CBEC list",
            "de_minimis_excluded": "No de minimis",
        }
        widgets = {
            "hs_prefix": forms.TextInput(attrs={"class": "vPrefix"}),
            "note": forms.Textarea(attrs={"class": "vNote", "rows": 3}),
        }
        field_classes = {
            **dict.fromkeys(RATE_PERCENTS, PercentField),
            "consumption_tax_min_unit_price": UnitPricesField,
        }

    def __init__(self, *args, currency="", **kwargs):
        super().__init__(*args, **kwargs)
        prices = self.fields.get("consumption_tax_min_unit_price")
        if prices is not None:
            prices.label = f"Consumption tax from ({currency or 'hub currency'})"
            prices.currency = prices.widget.currency = currency


class RateRowInline(ConsoleMixin, admin.TabularInline):
    """A version's rates: percentages and amounts for its supervisor to edit in a draft, shown read-only to
    everyone else who sees the version."""

    model = RateRow
    form = RateRowForm
    extra = 0
    edit_fields = RateRowForm.Meta.fields
    read_fields = [
        "hs_prefix",
        "duty_percent",
        "vat_percent",
        "consumption_tax_percent",
        "export_refund_percent",
        "consumption_tax_from",
        "cbec_positive_list",
        "admissibility",
        "de_minimis_excluded",
        "note",
    ]

    def get_fields(self, request, obj=None):
        return self.edit_fields if _supervises(request, obj) else self.read_fields

    def get_readonly_fields(self, request, obj=None):
        return [] if _supervises(request, obj) else self.read_fields

    @admin.display(description="Duty %")
    def duty_percent(self, row):
        return percent(row.duty_rate)

    @admin.display(description="VAT / sales tax %")
    def vat_percent(self, row):
        return percent(row.vat_rate)

    @admin.display(description="Consumption tax %")
    def consumption_tax_percent(self, row):
        return percent(row.consumption_tax_rate)

    @admin.display(description="Export refund %")
    def export_refund_percent(self, row):
        return percent(row.export_refund_rate)

    @admin.display(description="Consumption tax from")
    def consumption_tax_from(self, row):
        prices = row.consumption_tax_min_unit_price or {}
        currency = row.rule_set.hub.currency
        return (
            ", ".join(f"{currency} {prices[unit]} per {unit}" for unit in tariff.PRICE_UNITS if unit in prices) or "-"
        )

    def has_view_permission(self, request, obj=None):
        return True

    def has_add_permission(self, request, obj=None):
        return _supervises(request, obj)

    def has_change_permission(self, request, obj=None):
        return _supervises(request, obj)

    def has_delete_permission(self, request, obj=None):
        return _supervises(request, obj)


class RuleSetForm(forms.ModelForm):
    """A draft's parameters, checked against its rule family's declaration (`hubs.tariff.RULE_FAMILIES`):
    each fault is shown on the field at fault, as the publish service would refuse it."""

    class Meta:
        model = RuleSet
        fields = ["effective_from", "notes", *tariff.RULE_SET_PARAMETERS]
        field_classes = {"lvg_rate": PercentField}
        labels = {"lvg_rate": "Low-value goods tax %"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        rule_set = self.instance
        if rule_set.hub_id is None:
            return
        family = {parameter.name: parameter for parameter in tariff.RULE_FAMILIES[rule_set.import_rules]}
        for name, field in self.fields.items():
            parameter = family.get(name)
            if parameter is not None and name != "lvg_rate":
                field.label = parameter.label
            if parameter is not None and parameter.kind == tariff.AMOUNT and not parameter.currency:
                field.help_text = f"An amount in {rule_set.hub.currency}. {field.help_text}".strip()

    def clean(self):
        data = super().clean()
        rule_set = self.instance
        if rule_set.hub_id is None:
            return data
        effective_from = data.get("effective_from")
        if effective_from is not None and effective_from < hub_today(rule_set.hub):
            self.add_error("effective_from", f"Rules take effect today ({hub_today(rule_set.hub)}) or later.")
        values = {**rule_set.parameters, **{name: data.get(name) for name in tariff.RULE_SET_PARAMETERS}}
        for error in tariff.parameter_errors(rule_set.import_rules, values, currency=rule_set.hub.currency):
            field = error.attr if error.attr in self.fields else None
            if field not in self.errors:
                self.add_error(field, error.detail)
        return data


@admin.register(RuleSet)
class RuleSetAdmin(TenantAdmin):
    """Duty and tax rules per hub: supervisors copy a version to a draft, edit it, publish it; withdraw or
    supersede a published version before its date comes; discard a draft."""

    form = RuleSetForm
    list_display = ["hub", "version", "status", "effective_from", "import_rules", "published_at"]
    list_filter = ["status", "hub"]
    list_select_related = ["hub"]
    readonly_fields = ["hub", "version", "status", "published_at", "import_rules"]
    inlines = [RateRowInline]
    actions = ["copy_to_draft", "publish", "withdraw", "discard"]
    service_arg = "rule_set"

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["hub", "import_rules", "effective_from", "notes", *tariff.RULE_SET_PARAMETERS]
        family = [parameter.name for parameter in tariff.RULE_FAMILIES[obj.import_rules]]
        if not self.has_change_permission(request, obj):
            family = ["lvg_percent" if name == "lvg_rate" else name for name in family]
        return ["hub", "version", "status", "import_rules", "effective_from", "published_at", *family, "notes"]

    def get_readonly_fields(self, request, obj=None):
        return super().get_readonly_fields(request, obj) if obj is not None else ["version", "status", "published_at"]

    @admin.display(description="Low-value goods tax %")
    def lvg_percent(self, rule_set):
        return percent(rule_set.lvg_rate)

    def has_change_permission(self, request, obj=None):
        return _supervises(request, obj)

    def has_supervise_permission(self, request):
        return request.user.is_superuser or actor_for_request(request).has_role(Role.HUB_SUPERVISOR)

    def get_formset_kwargs(self, request, obj, inline, prefix):
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        if isinstance(inline, RateRowInline) and obj is not None and obj.hub_id:
            kwargs["form_kwargs"] = {"currency": obj.hub.currency}
        return kwargs

    def save_model(self, request, obj, form, change):
        if not change:  # a superuser writes a new hub's first draft; supervisors copy a version to a draft
            obj.version = (RuleSet.objects.filter(hub=obj.hub).aggregate(latest=Max("version"))["latest"] or 0) + 1
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        """One audit event per save of a draft (the admin saves in one transaction), naming what changed."""
        super().save_related(request, form, formsets, change)
        changed = form.changed_data + (["rates"] if any(f.has_changed() for f in formsets) else [])
        rule_set_draft_edit(actor=actor_for_request(request), rule_set=form.instance, changed=changed)

    @admin.action(description="Copy to a new draft", permissions=["supervise"])
    def copy_to_draft(self, request, queryset):
        self.run_service(
            request, rule_set_copy_to_draft, queryset, ("{count} draft created.", "{count} drafts created.")
        )

    @admin.action(description="Publish the selected drafts on their effective date", permissions=["supervise"])
    def publish(self, request, queryset):
        """Publish each draft on the date set on it; one published for the same date, not yet in force, is
        superseded by it."""
        for rule_set in queryset:
            published = ("{count} rule set published.", "{count} rule sets published.")
            self.run_service(request, rule_set_publish, [rule_set], published, effective_from=rule_set.effective_from)

    @admin.action(description="Withdraw the selected versions before they take effect", permissions=["supervise"])
    def withdraw(self, request, queryset):
        self.run_service(
            request, rule_set_withdraw, queryset, ("{count} rule set withdrawn.", "{count} rule sets withdrawn.")
        )

    @admin.action(description="Discard the selected drafts", permissions=["supervise"])
    def discard(self, request, queryset):
        self.run_service(request, rule_set_discard, queryset, ("{count} draft discarded.", "{count} drafts discarded."))


@admin.register(HSCode)
class HSCodeAdmin(ReadOnly, ConsoleMixin, admin.ModelAdmin):
    """The HS nomenclature: reference data every officer reads, nobody edits here."""

    list_display = ["code", "description", "level", "section"]
    list_filter = ["level", "section"]
    search_fields = ["code", "description"]

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff


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
class FxRateAdmin(ConsoleMixin, admin.ModelAdmin):
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


@admin.register(User)
class ConsoleUserAdmin(ConsoleMixin, UserAdmin):
    """People. A superuser manages them; an officer reads, without passwords or permissions, those of its
    hubs: members of the hub, and of the companies at home there. Anyone else answers 404, as a missing
    user does, on every page (change, history, password)."""

    officer_fieldsets = (
        (None, {"fields": ("username", "first_name", "last_name", "email")}),
        ("Activity", {"fields": ("is_active", "last_login", "date_joined")}),
    )

    def _serves_a_hub(self, request):
        return actor_for_request(request).has_role(*OFFICER_ROLES)

    def get_queryset(self, request):
        users = super().get_queryset(request)
        if request.user.is_superuser:
            return users
        actor = actor_for_request(request)
        memberships = restrict(Membership.objects.all(), actor)
        companies = restrict(Company.objects.all(), actor)
        return users.filter(Q(memberships__in=memberships) | Q(memberships__company__in=companies)).distinct()

    def get_object(self, request, object_id, from_field=None):
        user = super().get_object(request, object_id, from_field)
        if user is None:
            raise Http404("No such person in your hub.")
        return user

    def has_module_permission(self, request):
        return super().has_module_permission(request) or self._serves_a_hub(request)

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) or self._serves_a_hub(request)

    def get_fieldsets(self, request, obj=None):
        if obj is not None and not self.has_change_permission(request, obj):
            return self.officer_fieldsets
        return super().get_fieldsets(request, obj)

    def get_list_filter(self, request):
        return super().get_list_filter(request) if self.has_change_permission(request) else ["is_active"]
