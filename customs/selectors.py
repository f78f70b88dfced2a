"""Scoped reads of customs: a declaration is its declaring hub's and its order's seller's, a summary declaration its
hub's and its seller's; risk rules are their hub's; a hub message is both its hubs' and its order's seller's; a
hub-pair key is both its hubs'."""

from datetime import timedelta

from django.db.models import Case, Count, IntegerField, Min, QuerySet, Value, When
from django.utils import timezone

from customs.models import (
    LANE_ORDER,
    OPEN_STATUSES,
    Declaration,
    DeclarationDocument,
    HubKey,
    HubMessage,
    Lane,
    RefundClaim,
    RiskRule,
    SummaryDeclaration,
)
from hubs.scoping import restrict, selector_for


@selector_for(Declaration)
def declarations_for(actor) -> QuerySet[Declaration]:
    return restrict(Declaration.objects.select_related("order", "hub"), actor)


def in_review_order(rows: QuerySet[Declaration]) -> QuerySet[Declaration]:
    """Declarations as officers review them: red, then yellow, then green; the oldest first."""
    severity = Case(
        *(When(lane=lane, then=Value(rank)) for rank, lane in enumerate(reversed(LANE_ORDER))),
        output_field=IntegerField(),
    )
    return rows.alias(severity=severity).order_by("severity", "filed_at", "pk")


@selector_for(DeclarationDocument)
def declaration_documents_for(actor) -> QuerySet[DeclarationDocument]:
    return restrict(DeclarationDocument.objects.defer("content").select_related("declaration"), actor)


@selector_for(RiskRule)
def risk_rules_for(actor) -> QuerySet[RiskRule]:
    return restrict(RiskRule.objects.select_related("hub"), actor)


@selector_for(RefundClaim)
def refund_claims_for(actor) -> QuerySet[RefundClaim]:
    return restrict(RefundClaim.objects.select_related("order", "hub", "company"), actor)


@selector_for(SummaryDeclaration)
def summary_declarations_for(actor) -> QuerySet[SummaryDeclaration]:
    return restrict(SummaryDeclaration.objects.select_related("hub", "company"), actor)


def with_exports(rows: QuerySet[SummaryDeclaration]) -> QuerySet[SummaryDeclaration]:
    """Summary declarations with how many exports each sums up, in their own order (counting groups the rows)."""
    return rows.annotate(exports=Count("declarations")).order_by(*SummaryDeclaration._meta.ordering)


@selector_for(HubMessage)
def hub_messages_for(actor) -> QuerySet[HubMessage]:
    return restrict(HubMessage.objects.select_related("order", "origin_hub", "destination_hub"), actor)


@selector_for(HubKey)
def hub_keys_for(actor) -> QuerySet[HubKey]:
    return restrict(HubKey.objects.select_related("origin_hub", "destination_hub").defer("secret"), actor)


def queue_figures(rows: QuerySet[Declaration], now=None) -> tuple[list[dict], int]:
    """Per lane (red first) of the scoped `rows`: how many wait and since when, and how many were decided on each of
    the last 7 days; with the most decided in a day (the scale of the bars)."""
    now = now or timezone.now()
    waiting = {
        row["lane"]: row
        for row in rows.filter(status__in=OPEN_STATUSES)
        .values("lane")
        .annotate(count=Count("pk"), oldest=Min("filed_at"))
    }
    days = [(now - timedelta(days=n)).date() for n in range(6, -1, -1)]
    decided = rows.filter(decided_at__date__gte=days[0]).values("lane", "decided_at__date").annotate(n=Count("pk"))
    per_day = {(row["lane"], row["decided_at__date"]): row["n"] for row in decided}
    lanes = [
        {
            "lane": lane,
            "label": Lane(lane).label,
            "waiting": waiting.get(lane, {}).get("count", 0),
            "oldest": now - waiting[lane]["oldest"] if lane in waiting else None,
            "days": [(day, per_day.get((lane, day), 0)) for day in days],
        }
        for lane in reversed(LANE_ORDER)
    ]
    return lanes, max(per_day.values(), default=0) or 1


def order_declarations(*, actor, order) -> dict | None:
    """The order page's customs section: the order's declarations the reader may see, with their lanes (never
    the rules that chose them); None before the first is filed."""
    declarations = list(declarations_for(actor).filter(order=order).order_by("filed_at", "pk"))
    return {"declarations": declarations} if declarations else None
