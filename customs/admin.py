"""The officers' customs console: the review queue of their hub (the most severe lane first, then the oldest), a
declaration's page with its risk reasons, mismatches and the seller's documents, where an officer decides or
re-routes it, and downloads it and its order's commercial invoice as PDFs; supervisors' queue age and throughput per
lane; the hub's risk rules, edited as data; summary declarations of CBEC exports; export VAT refund claims;
hub-to-hub messages and the hub-pair keys they are signed with (never their secrets), rotated by supervisors."""

import mimetypes

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from customs.documents import Kind, document_download, summary_download
from customs.exchange import hub_key_retire, hub_key_rotate
from customs.forms import DecisionForm, RejectForm, RerouteForm
from customs.models import OPEN_STATUSES, Declaration, HubKey, HubMessage, RefundClaim, RiskRule, SummaryDeclaration
from customs.selectors import in_review_order, queue_figures, with_exports
from customs.services import declaration_decide, declaration_reroute, refund_claim_decide, risk_rule_save
from customs.summaries import summary_decide
from hubs.admin import ReadOnly, TenantAdmin
from hubs.kernel.downloads import download_response
from hubs.kernel.errors import DomainError
from hubs.models import OFFICER_ROLES, Hub, Role
from hubs.scoping import actor_for_request


class QueueFilter(admin.SimpleListFilter):
    """The queue by default: the declarations still to decide."""

    title = "queue"
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [("open", "To decide"), ("decided", "Decided"), ("all", "All")]

    def value(self):
        return super().value() or "open"

    def choices(self, changelist):
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(status__in=OPEN_STATUSES)
        if self.value() == "decided":
            return queryset.exclude(status__in=OPEN_STATUSES)
        return queryset


@admin.register(Declaration)
class DeclarationAdmin(ReadOnly, TenantAdmin):
    """The review queue: red, then yellow, then green; the oldest first. A declaration's page decides it."""

    list_display = ["public_id", "lane_badge", "age", "status", "direction", "procedure", "order", "hub", "decide"]
    list_filter = [QueueFilter, "lane", "status", "direction", "procedure"]
    search_fields = ["public_id", "order__public_id"]
    list_select_related = ["order", "hub"]
    exclude = ["parties", "lines", "risk", "mismatches"]
    change_list_template = "admin/customs/declaration/change_list.html"

    def get_queryset(self, request):
        return in_review_order(super().get_queryset(request))

    @admin.display(description="Lane", ordering="lane")
    def lane_badge(self, declaration):
        return format_html('<span class="lane lane-{}">{}</span>', declaration.lane, declaration.lane.capitalize())

    @admin.display(description="Waiting", ordering="filed_at")
    def age(self, declaration):
        if not declaration.open:
            return "—"
        minutes = int((timezone.now() - declaration.filed_at).total_seconds() // 60)
        return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"

    @admin.display(description="")
    def decide(self, declaration):
        url = reverse("admin:customs_declaration_decide", args=[declaration.pk])
        return format_html('<a href="{}">{}</a>', url, "Decide…" if declaration.open else "View")

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:object_id>/decide/", view(self.decide_view), name="customs_declaration_decide"),
            path(
                "<int:object_id>/documents/<int:document_pk>/",
                view(self.document_view),
                name="customs_declaration_document",
            ),
            path(
                "<int:object_id>/declaration.pdf",
                view(self.pdf_view),
                {"kind": "declaration"},
                name="customs_declaration_pdf",
            ),
            path(
                "<int:object_id>/invoice.pdf",
                view(self.pdf_view),
                {"kind": "invoice"},
                name="customs_declaration_invoice_pdf",
            ),
            path("queue/", view(self.queue_view), name="customs_declaration_queue"),
            *super().get_urls(),
        ]

    def _declaration(self, request, object_id):
        return get_object_or_404(self.get_queryset(request).select_related("order__company"), pk=object_id)

    def decide_view(self, request, object_id):
        """A declaration, its reasons and documents; an officer of its hub decides or re-routes it (POST)."""
        declaration = self._declaration(request, object_id)
        actor = actor_for_request(request)
        may_decide = actor.is_superuser or bool(actor.roles_at(declaration.hub) & set(OFFICER_ROLES))
        decision = DecisionForm(request.POST if "decision" in request.POST else None)
        rerouted = request.POST if "reroute-lane" in request.POST else None
        reroute = RerouteForm(rerouted, prefix="reroute", initial={"lane": declaration.lane})
        for form, run in ((decision, declaration_decide), (reroute, declaration_reroute)):
            if request.method == "POST" and form.is_bound and form.is_valid():
                if not may_decide:
                    raise PermissionDenied("Only an officer of the declaration's hub decides it.")
                try:
                    run(actor=actor, declaration=declaration, **form.cleaned_data)
                except DomainError as refused:
                    form.add_error(refused.attr if refused.attr in form.fields else None, refused.detail)
                else:
                    self.message_user(request, f"{declaration.public_id}: done.", messages.SUCCESS)
                    return redirect("admin:customs_declaration_decide", object_id=declaration.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Declaration {declaration.public_id}",
            "opts": self.model._meta,
            "declaration": declaration,
            "documents": declaration.documents.defer("content"),
            "decision_form": decision,
            "reroute_form": reroute,
            "may_decide": may_decide and declaration.open,
        }
        status = 400 if decision.errors or reroute.errors else 200
        return TemplateResponse(request, "admin/customs/declaration/decide.html", context, status=status)

    def document_view(self, request, object_id, document_pk):
        """A seller's document as it was sent, with its checksum; never shown inline (a download)."""
        document = get_object_or_404(self._declaration(request, object_id).documents, pk=document_pk)
        return download_response(
            document.content,
            content_type=document.content_type,
            filename=f"{object_id}-{document.pk}{mimetypes.guess_extension(document.content_type) or ''}",
            sha256=document.sha256,
        )

    def pdf_view(self, request, object_id: int, kind: Kind):
        """The declaration, or its order's commercial invoice, as a PDF labelled for the declaration's hub."""
        return document_download(self._declaration(request, object_id), kind)

    def queue_view(self, request):
        """Supervisors: per lane, what waits and since when, and what was decided each of the last 7 days."""
        actor = actor_for_request(request)
        if not (actor.is_superuser or actor.has_role(Role.HUB_SUPERVISOR)):
            raise PermissionDenied("The queue's figures are for hub supervisors.")
        lanes, most = queue_figures(self.get_queryset(request))
        context = {
            **self.admin_site.each_context(request),
            "title": "Customs queue: age and throughput per lane",
            "opts": self.model._meta,
            "lanes": lanes,
            "most": most,
        }
        return TemplateResponse(request, "admin/customs/declaration/queue.html", context)


@admin.register(RiskRule)
class RiskRuleAdmin(TenantAdmin):
    """A hub's selectivity criteria, edited by its officers; each change is an audit event."""

    list_display = ["__str__", "kind", "direction", "threshold", "hs_prefixes", "lane", "active", "note"]
    list_filter = ["kind", "lane", "active"]
    list_select_related = ["hub"]

    def _officer_of(self, request, hub_id=None):
        actor = actor_for_request(request)
        if actor.is_superuser:
            return True
        hubs = {m.hub_id for m in actor.memberships if m.hub_id and m.role in OFFICER_ROLES}
        return bool(hubs) if hub_id is None else hub_id in hubs

    def has_add_permission(self, request):
        return self._officer_of(request)

    def has_change_permission(self, request, obj=None):
        return self._officer_of(request, obj.hub_id if obj else None)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "hub":
            actor = actor_for_request(request)
            hubs = Hub.objects.all()
            if not actor.is_superuser:
                hubs = hubs.filter(pk__in=[m.hub_id for m in actor.memberships if m.role in OFFICER_ROLES])
            kwargs["queryset"] = hubs
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        risk_rule_save(actor=actor_for_request(request), rule=obj, changed=form.changed_data)


@admin.register(RefundClaim)
class RefundClaimAdmin(ReadOnly, TenantAdmin):
    """Export VAT refund claims of the officer's hub: approve (paid from its tax account) or reject the filed ones."""

    list_display = ["public_id", "order", "company", "export_date", "taxpayer", "amount", "status"]
    list_filter = ["status", "taxpayer"]
    search_fields = ["public_id", "order__public_id", "company__legal_name"]
    list_select_related = ["order", "company"]
    actions = ["approve", "reject"]
    service_arg = "claim"

    def has_decide_permission(self, request):
        return self._serves_a_hub(request)

    @admin.action(description="Approve and pay the selected claims", permissions=["decide"])
    def approve(self, request, queryset):
        self.run_service(
            request,
            refund_claim_decide,
            queryset,
            ("{count} claim approved and paid.", "{count} claims approved and paid."),
            approve=True,
            reason="Approved in the console.",
        )

    @admin.action(description="Reject the selected claims", permissions=["decide"])
    def reject(self, request, queryset):
        self.run_service(
            request,
            refund_claim_decide,
            queryset,
            ("{count} claim rejected.", "{count} claims rejected."),
            approve=False,
            reason="Rejected in the console.",
        )


@admin.register(SummaryDeclaration)
class SummaryDeclarationAdmin(ReadOnly, TenantAdmin):
    """The month's CBEC exports of a seller, summed up per HS code: the hub's officers accept or reject them."""

    list_display = ["public_id", "company", "month", "destination_country", "exports", "value", "status", "filed_at"]
    list_filter = ["status", "month"]
    search_fields = ["public_id", "company__legal_name"]
    list_select_related = ["hub", "company"]
    fields = [
        "public_id",
        "hub",
        "company",
        "month",
        "destination_country",
        "value",
        "status",
        "filed_at",
        "decided_at",
        "exports",
        "lines_table",
        "pdf",
    ]
    actions = ["accept", "reject"]
    service_arg = "summary"

    def get_queryset(self, request):
        return with_exports(super().get_queryset(request))

    def get_urls(self):
        view = self.admin_site.admin_view(self.pdf_view)
        return [path("<int:object_id>/summary.pdf", view, name="customs_summarydeclaration_pdf"), *super().get_urls()]

    def pdf_view(self, request, object_id: int):
        """The summary declaration as a PDF labelled for its hub."""
        return summary_download(get_object_or_404(self.get_queryset(request), pk=object_id))

    @admin.display(description="PDF")
    def pdf(self, summary):
        url = reverse("admin:customs_summarydeclaration_pdf", args=[summary.pk])
        return format_html('<a href="{}">The summary declaration</a>', url)

    @admin.display(description="Exports", ordering="exports")
    def exports(self, summary):
        return summary.exports

    @admin.display(description="Per HS code")
    def lines_table(self, summary):
        return render_to_string("customs/_summary_lines.html", {"summary": summary})

    def has_decide_permission(self, request):
        return self._serves_a_hub(request)

    @admin.action(description="Accept the selected summaries", permissions=["decide"])
    def accept(self, request, queryset):
        self.run_service(
            request,
            summary_decide,
            queryset,
            ("{count} summary accepted.", "{count} summaries accepted."),
            accept=True,
            reason="Accepted in the console.",
        )

    @admin.action(description="Reject the selected summaries, saying why…", permissions=["decide"])
    def reject(self, request, queryset):
        """Asks why first (the seller reads it), then rejects; their exports are declared again at the next run."""
        form = RejectForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            self.run_service(
                request,
                summary_decide,
                queryset,
                ("{count} summary rejected.", "{count} summaries rejected."),
                accept=False,
                reason=form.cleaned_data["reason"],
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Reject summary declarations",
            "opts": self.model._meta,
            "summaries": queryset,
            "form": form,
            "selected": ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/customs/summarydeclaration/reject.html", context)


@admin.register(HubMessage)
class HubMessageAdmin(ReadOnly, TenantAdmin):
    """Hub-to-hub messages, seen by both their hubs: the outbox's attempts and errors, the inbox's pre-score."""

    list_display = [
        "public_id",
        "kind",
        "order",
        "origin_hub",
        "destination_hub",
        "sequence",
        "status",
        "pre_lane",
        "attempts",
        "next_attempt_at",
        "last_error",
        "applied_at",
    ]
    list_filter = ["status", "kind", "origin_hub", "destination_hub"]
    search_fields = ["public_id", "order__public_id"]
    list_select_related = ["order", "origin_hub", "destination_hub"]

    @admin.display(description="Pre-score")
    def pre_lane(self, message):
        return message.pre_score.get("lane", "—")


@admin.register(HubKey)
class HubKeyAdmin(ReadOnly, TenantAdmin):
    """The keys each hub pair's messages are signed with: which signs, which still verify. The secret is never
    shown. A supervisor of either hub rotates a pair's keys, or retires one at once (its secret leaked)."""

    list_display = ["key_id", "origin_hub", "destination_hub", "active_from", "retired_at", "signs"]
    list_filter = ["origin_hub", "destination_hub"]
    list_select_related = ["origin_hub", "destination_hub"]
    exclude = ["secret"]
    actions = ["rotate", "retire"]
    service_arg = "key"

    @admin.display(description="Signs now", boolean=True)
    def signs(self, key):
        return key.retired_at is None

    def has_supervise_permission(self, request):
        return request.user.is_superuser or actor_for_request(request).has_role(Role.HUB_SUPERVISOR)

    @admin.action(
        description="Rotate the selected keys' pairs (the old keys verify during the grace period)",
        permissions=["supervise"],
    )
    def rotate(self, request, queryset):
        pairs = {(key.origin_hub_id, key.destination_hub_id): key for key in queryset}
        self.run_service(request, hub_key_rotate, pairs.values(), ("{count} pair rotated.", "{count} pairs rotated."))

    @admin.action(description="Retire the selected keys now", permissions=["supervise"])
    def retire(self, request, queryset):
        self.run_service(request, hub_key_retire, queryset, ("{count} key retired.", "{count} keys retired."))
