"""Scoped reads of customs: a declaration is its declaring hub's and its order's seller's; risk rules are their
hub's; a hub message is both its hubs' and its order's seller's; a hub-pair key is both its hubs'."""

from django.db.models import Case, IntegerField, QuerySet, Value, When

from customs.models import LANE_ORDER, Declaration, DeclarationDocument, HubKey, HubMessage, RefundClaim, RiskRule
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


@selector_for(HubMessage)
def hub_messages_for(actor) -> QuerySet[HubMessage]:
    return restrict(HubMessage.objects.select_related("order", "origin_hub", "destination_hub"), actor)


@selector_for(HubKey)
def hub_keys_for(actor) -> QuerySet[HubKey]:
    return restrict(HubKey.objects.select_related("origin_hub", "destination_hub").defer("secret"), actor)
