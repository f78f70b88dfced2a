from django.db.models import Q

from hubs.fx import fx_rate_on
from hubs.kernel.errors import DomainError
from hubs.models import AuditEvent
from hubs.scoping import restrict, selector_for
from hubs.selectors import hub_today, hubs_directory, rules_in_force
from hubs.tariff import Admissibility
from trade.models import Buyer, Listing, Order, OrderStatus, Quote


@selector_for(Listing)
def listings_for(actor, *, query="", status=None):
    """The listings the actor may see, searched (`listings_matching`) and of a status."""
    listings = restrict(Listing.objects.select_related("company", "hub"), actor)
    if status:
        listings = listings.filter(status=status)
    return listings_matching(listings, query)


def listings_matching(listings, query):
    """The listings whose title, description, HS code or id match each word of `query`."""
    for word in query.split():
        listings = listings.filter(
            Q(title__icontains=word)
            | Q(description__icontains=word)
            | Q(hs_code__startswith=word)
            | Q(public_id__iexact=word)
        )
    return listings


def sellability(listings):
    """For each listing, whether customs lets it into each other hub, whether it can be quoted there now,
    and why not: {listing pk: [{hub, verdict, label, reason, quotable}]}.

    Customs may allow goods that still cannot be quoted: into a hub of the seller's own country (the
    platform clears goods across borders), or with no usable reference rate for the price's currency.
    """
    rules_by_hub = rules_in_force()
    hubs = {hub.code: hub for hub in hubs_directory()}
    rate_refusals = {}

    def rate_refusal(currency, hub):
        if (currency, hub.code) not in rate_refusals:
            try:
                fx_rate_on(currency, hub.currency, hub_today(hub), max_age_days=hub.fx_max_age_days)
                rate_refusals[currency, hub.code] = ""
            except DomainError as refusal:
                rate_refusals[currency, hub.code] = refusal.detail
        return rate_refusals[currency, hub.code]

    verdicts = {}
    for listing in listings:
        verdicts[listing.pk] = []
        for code, rules in sorted(rules_by_hub.items()):
            if code == listing.hub.code:
                continue
            verdict = rules.admissibility(listing.hs_code)
            label, reason = verdict.label, ""
            if verdict != Admissibility.ALLOWED:
                reason = rules.rate_for(listing.hs_code).note
            elif hubs[code].country == listing.hub.country:
                label, reason = "Not quotable", f"{code} is in the same country: the platform trades across borders."
            else:
                reason = rate_refusal(listing.unit_price.currency.code, hubs[code])
                label = "Not quotable" if reason else label
            quotable = verdict == Admissibility.ALLOWED and not reason
            verdicts[listing.pk].append(
                {"hub": code, "verdict": verdict.value, "label": label, "reason": reason, "quotable": quotable}
            )
    return verdicts


@selector_for(Quote)
def quotes_for(actor):
    return restrict(
        Quote.objects.select_related("company", "origin_hub", "destination_hub", "rule_set__hub").prefetch_related(
            "lines__listing"
        ),
        actor,
    )


def stock_shortfalls(lines):
    """The quote lines that ask for more units of their listing than it holds now: [(line, stock)].

    A quote binds its figures, not stock: orders may have taken units since, or it asked for more from the
    start. Such a quote cannot be ordered (`order_place` refuses `out_of_stock`) until the listing is restocked.
    Several lines of one listing count together."""
    asked = {}
    for line in lines:
        if line.listing_id is not None:
            asked[line.listing_id] = asked.get(line.listing_id, 0) + line.quantity
    return [
        (line, line.listing.stock)
        for line in lines
        if line.listing_id is not None and asked[line.listing_id] > line.listing.stock
    ]


@selector_for(Order)
def orders_for(actor):
    return restrict(
        Order.objects.select_related("company", "buyer", "origin_hub", "destination_hub", "quote").prefetch_related(
            "lines__listing"
        ),
        actor,
    )


# What the orders list shows of an order (`trade.api.OrderSummarySerializer`), and nothing more.
ORDER_SUMMARY_FIELDS = (
    "public_id",
    "company_id",
    "status",
    "regime",
    "quote__public_id",
    "origin_hub__code",
    "destination_hub__code",
    "buyer__name",
    *(
        f"{money}{suffix}"
        for money in ("goods", "freight", "insurance", "duties_and_taxes", "total")
        for suffix in ("", "_currency")
    ),
    "placed_at",
)


def order_summaries_for(actor):
    """The orders the actor may see, with just what a list of them shows: one query, whatever their lines."""
    return restrict(
        Order.objects.select_related("quote", "origin_hub", "destination_hub", "buyer").only(*ORDER_SUMMARY_FIELDS),
        actor,
    )


@selector_for(Buyer)
def buyers_for(actor):
    return restrict(Buyer.objects.select_related("company"), actor)


def order_timeline(order):
    """Every event of the order, whichever app or hub recorded it, oldest first."""
    return AuditEvent.objects.filter(order_ref=order.public_id).select_related("company").order_by("at", "id")


# The order's journey as the portal draws it: its road, and the detours (held) that rejoin it.
JOURNEY_ROAD = [
    OrderStatus.PLACED,
    OrderStatus.PAID,
    OrderStatus.EXPORT_DECLARED,
    OrderStatus.EXPORT_RELEASED,
    OrderStatus.SHIPPED,
    OrderStatus.IMPORT_DECLARED,
    OrderStatus.IMPORT_RELEASED,
    OrderStatus.DELIVERED,
    OrderStatus.COMPLETED,
]
DETOURS = {OrderStatus.EXPORT_HELD: OrderStatus.EXPORT_DECLARED, OrderStatus.IMPORT_HELD: OrderStatus.IMPORT_DECLARED}


def journey_steps(order) -> list[dict]:
    """The journey's steps with where the order is now: each {label, state: done, now or ahead}. A held order is
    now at its declaration, held; a cancelled, rejected or refunded one shows the steps it reached, then its end."""
    status = OrderStatus(order.status)
    if status in JOURNEY_ROAD or status in DETOURS:
        now = JOURNEY_ROAD.index(DETOURS.get(status, status))
        steps = [
            {"label": step.label, "state": "done" if n < now else "now" if n == now else "ahead"}
            for n, step in enumerate(JOURNEY_ROAD)
        ]
        steps[now]["label"] = status.label
        return steps
    reached = set(AuditEvent.objects.filter(order_ref=order.public_id).values_list("verb", flat=True))
    done = [step for step in JOURNEY_ROAD if step == OrderStatus.PLACED or f"order.{step.value}" in reached]
    return [{"label": step.label, "state": "done"} for step in done] + [{"label": status.label, "state": "now"}]
