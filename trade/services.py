import dataclasses
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Case, Exists, F, OuterRef, PositiveIntegerField, Value, When
from django.utils import timezone
from djmoney.money import Money

from hubs.consumers import consumer_hash, mask_id_number
from hubs.fx import Conversion, fx_rate_on
from hubs.kernel.audit import audit_event_record
from hubs.kernel.errors import DomainError
from hubs.kernel.money import MAX_AMOUNT, AmountSum
from hubs.kernel.transitions import transition
from hubs.models import COMPANY_ROLES, QuotaYear
from hubs.scoping import require_role
from hubs.selectors import (
    consumer_year_usage,
    hs_code_validate,
    hs_codes_validate,
    hub_today,
    rule_set_in_force,
)
from hubs.tariff import Basket, BasketLine, ExportRegime, ImportRules, Measure, Regime, assess, assess_export
from trade.models import (
    LISTING_ARCHIVED,
    LISTING_CREATED,
    LISTING_RESTOCKED,
    LISTING_UPDATED,
    ORDER_PLACED,
    QUOTA_PENDING_STATUSES,
    QUOTE_CREATED,
    Buyer,
    BuyerKind,
    Listing,
    ListingStatus,
    Order,
    OrderLine,
    OrderStatus,
    Quote,
    QuoteLine,
)

ZERO = Decimal(0)


def _require_currency(money, currency, attr):
    if money.currency.code != currency:
        raise DomainError(
            f"Give this amount in {currency}, not {money.currency.code}.", code="wrong_currency", attr=attr
        )


# --- listings ---------------------------------------------------------------------------------------


def _check_listing_fields(company, fields):
    if "hs_code" in fields:
        fields["hs_code"], _ = hs_code_validate(fields["hs_code"])
    if "unit_price" in fields:
        _require_currency(fields["unit_price"], company.home_currency, "unit_price")
        if fields["unit_price"].amount <= 0:
            raise DomainError("Give a unit price above zero.", code="invalid_price", attr="unit_price")
    for name in ("unit_weight_kg", "length_cm", "width_cm", "height_cm", "measure_quantity"):
        if name in fields and fields[name] <= 0:
            raise DomainError("Give a size above zero.", code="invalid_measure", attr=name)
    if "stock" in fields and not 0 <= fields["stock"] <= Listing.MAX_STOCK:
        raise DomainError(f"Give a stock from 0 to {Listing.MAX_STOCK:,} units.", code="invalid_stock", attr="stock")
    if fields.get("status") == ListingStatus.ARCHIVED:
        raise DomainError("Archive a listing with its archive action.", code="invalid_status", attr="status")
    unknown = set(fields) - set(Listing.EDITABLE_FIELDS)
    if unknown:
        raise DomainError(f"Listings have no field {', '.join(sorted(unknown))}.", code="unknown_field")
    return fields


def listing_create(*, actor, company, **fields):
    """List goods at the company's home hub, priced in its home currency."""
    require_role(actor, company, *COMPANY_ROLES)
    fields = _check_listing_fields(company, fields)
    with transaction.atomic():
        listing = Listing.objects.create(company=company, hub=company.home_hub, **fields)
        audit_event_record(actor=actor, verb=LISTING_CREATED, target=listing)
    return listing


def listing_update(*, actor, listing, **changes):
    """Change a listing's fields. Its stock is not one of them: orders take units while a seller edits, so
    stock changes only relatively (`listing_restock`); an update may repeat the stock it holds, no more."""
    require_role(actor, listing.company, *COMPANY_ROLES)
    changes = _check_listing_fields(listing.company, changes)
    with transaction.atomic():
        listing = Listing.objects.select_for_update(no_key=True).get(pk=listing.pk)
        if listing.status == ListingStatus.ARCHIVED:
            raise DomainError("An archived listing cannot be changed.", code="archived")
        if "stock" in changes and changes.pop("stock") != listing.stock:
            raise DomainError(
                f"{listing.public_id} has {listing.stock} in stock, and orders change that at any moment: add or "
                "take off units with a restock (POST /api/v1/listings/{id}/restock/ with a delta) instead of "
                "setting a number.",
                code="stock_read_only",
                attr="stock",
            )
        if not changes:
            return listing
        for name, value in changes.items():
            setattr(listing, name, value)
        listing.save(update_fields=[*changes, "updated_at"])
        audit_event_record(actor=actor, verb=LISTING_UPDATED, target=listing, data={"fields": sorted(changes)})
    return listing


def listing_restock(*, actor, listing: Listing, delta: int) -> Listing:
    """Add `delta` units to a listing's stock (take them off when it is below zero), relative to what it holds
    at that moment: one UPDATE adds to the row, so units that orders take at the same time are never
    overwritten. Stock never goes below zero nor past `Listing.MAX_STOCK`."""
    require_role(actor, listing.company, *COMPANY_ROLES)
    if isinstance(delta, bool) or not isinstance(delta, int) or delta == 0 or abs(delta) > Listing.MAX_STOCK:
        raise DomainError(
            f"Give the number of units to add, or to take off with a minus sign: not zero, and at most "
            f"{Listing.MAX_STOCK:,}.",
            code="invalid_delta",
            attr="delta",
        )
    with transaction.atomic():
        rows = Listing.objects.filter(pk=listing.pk).exclude(status=ListingStatus.ARCHIVED)
        rows = rows.filter(stock__gte=-delta) if delta < 0 else rows.filter(stock__lte=Listing.MAX_STOCK - delta)
        changed = rows.update(stock=F("stock") + delta, updated_at=timezone.now())
        listing = Listing.objects.get(pk=listing.pk)
        if not changed:
            if listing.status == ListingStatus.ARCHIVED:
                raise DomainError(f"{listing.public_id} is archived: its stock no longer changes.", code="archived")
            if delta < 0:
                raise DomainError(
                    f"{listing.public_id} has {listing.stock} in stock: {-delta} cannot be taken off.",
                    code="insufficient_stock",
                    attr="delta",
                )
            raise DomainError(
                f"{listing.public_id} would hold more than {Listing.MAX_STOCK:,} units.",
                code="invalid_stock",
                attr="delta",
            )
        audit_event_record(
            actor=actor,
            verb=LISTING_RESTOCKED,
            target=listing,
            data={"delta": delta, "change": f"{delta:+d}", "stock": listing.stock},
        )
    return listing


def listing_archive(*, actor, listing, reason=""):
    """Take a listing off sale for good; its orders keep their snapshot of it."""
    require_role(actor, listing.company, *COMPANY_ROLES)
    with transaction.atomic():
        listing = Listing.objects.select_for_update(no_key=True).get(pk=listing.pk)
        if listing.status == ListingStatus.ARCHIVED:
            raise DomainError(f"{listing.public_id} is already archived.", code="archived")
        listing.status = ListingStatus.ARCHIVED
        listing.save(update_fields=["status", "updated_at"])
        audit_event_record(actor=actor, verb=LISTING_ARCHIVED, target=listing, reason=reason)
    return listing


# --- quotes -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuoteLineRequest:
    """A line to quote: a listing of the company's, or ad-hoc goods (a landed-cost estimate)."""

    quantity: int
    listing: Listing | None = None
    hs_code: str = ""
    description: str = ""
    unit_price: Money | None = None
    measure_quantity: Decimal = Decimal(1)
    measure_unit: str = "piece"


def _basket_lines(company, origin_hub, requests):
    """The lines as priced by the seller (a listing's price, an ad-hoc line's given price), checked
    against the company and its hub: [(BasketLine, unit price as Money)]."""
    adhoc = [i for i, request in enumerate(requests) if request.listing is None]
    validated = hs_codes_validate([requests[i].hs_code for i in adhoc], attrs=[f"lines.{i}.hs_code" for i in adhoc])
    codes = dict(zip(adhoc, validated, strict=True))
    lines = []
    for i, request in enumerate(requests):
        listing = request.listing
        if listing is not None:
            if listing.company_id != company.pk or listing.status != ListingStatus.ACTIVE:
                raise DomainError(
                    f"{listing.public_id} is not an active listing of {company.legal_name}.",
                    code="listing_unavailable",
                    attr=f"lines.{i}.listing",
                )
            if listing.hub_id != origin_hub.pk:
                raise DomainError(
                    f"{listing.public_id} ships from {listing.hub.code}, not {origin_hub.code}.",
                    code="wrong_origin",
                    attr=f"lines.{i}.listing",
                )
            hs_code, description, unit_price = listing.hs_code, listing.title, listing.unit_price
            measure = Measure(listing.measure_quantity, listing.measure_unit)
        else:
            hs_code, description, unit_price = codes[i][0], request.description, request.unit_price
            measure = Measure(request.measure_quantity, request.measure_unit)
        lines.append((BasketLine(hs_code, request.quantity, unit_price.amount, measure, description), unit_price))
    return lines


class _Converter:
    """Converts a quote's figures at the rates in force on one date, each pair's rate read once, and
    keeps what it converted (`records`) for the quote to show."""

    def __init__(self, on: date, max_age_days: int | None):
        self.on, self.max_age_days = on, max_age_days
        self.rates = {}
        self.records = []

    def __call__(self, money: Money, currency: str, *, figure: str, attr: str) -> Money:
        if money.currency.code == currency:
            return money
        pair = (money.currency.code, currency)
        if pair not in self.rates:
            self.rates[pair] = fx_rate_on(*pair, self.on, max_age_days=self.max_age_days, attr=attr)
        conversion: Conversion = self.rates[pair].convert(money)
        self.records.append(conversion.as_record(figure))
        return conversion.amount


def _in_currency(priced, convert, currency, figure):
    """The basket's lines with each unit price converted into `currency`."""
    return tuple(
        dataclasses.replace(
            line,
            unit_price=convert(price, currency, figure=f"{figure}.{i}.unit_price", attr=f"lines.{i}").amount,
        )
        for i, (line, price) in enumerate(priced)
    )


def _export_side(priced, origin_rules, convert, export_regime):
    """The seller's side at the origin hub, in the origin hub's currency: an estimate; what it cannot tell (a
    missing rate) it says. It refuses the quote only for goods its export regime cannot take (a market-procurement
    unit worth more than a declaration holds)."""
    currency = origin_rules.currency
    try:
        basket = Basket(currency=currency, lines=_in_currency(priced, convert, currency, "export.lines"))
        cap, cap_currency = origin_rules.market_procurement_cap, origin_rules.market_procurement_cap_currency
        procurement = export_regime == ExportRegime.MARKET_PROCUREMENT
        if procurement and cap is not None and cap_currency and cap_currency != currency:
            cap = convert(Money(cap, cap_currency), currency, figure="export.market_procurement_cap", attr="").amount
            origin_rules = dataclasses.replace(
                origin_rules, market_procurement_cap=cap, market_procurement_cap_currency=currency
            )
    except DomainError as unknown:
        if unknown.code not in ("fx_unavailable", "fx_stale"):
            raise
        return None, f"Not known: {unknown.detail}"
    return assess_export(basket, origin_rules, regime=export_regime), None


def _consumer_usage(hub, consumer, year):
    """The consumer's year at `hub`: imports released (the quota ledger), and orders on their way there.

    An order counts toward the limit from its release; until then its quote's share is counted here,
    so that two orders in flight cannot each pass the limit that together they break.
    """
    in_flight = Order.objects.filter(
        destination_hub=hub,
        consumer_hash=consumer,
        quota_year=year,
        status__in=QUOTA_PENDING_STATUSES,
    ).aggregate(total=AmountSum("quota_counted"))["total"]  # from the index `order_consumer_year` alone
    return consumer_year_usage(hub, consumer, year) + (in_flight or ZERO)


def quote_create(
    *,
    actor,
    company,
    origin_hub,
    destination_hub,
    lines,
    freight=None,
    insurance=None,
    consumer_id="",
    export_regime=None,
):
    """A binding landed-cost quote: the destination hub's rules in force today applied to the basket,
    and the seller's side at the origin hub (export regime and VAT refund) as an estimate."""
    require_role(actor, company, *COMPANY_ROLES)
    if origin_hub.country == destination_hub.country:
        raise DomainError(
            f"{origin_hub.code} and {destination_hub.code} are both in {destination_hub.country.name}: the platform "
            "clears goods across borders, so quote into a hub of another country.",
            code="domestic_route",
            attr="destination_hub",
        )
    currency = destination_hub.currency
    now = timezone.now()
    local_today = hub_today(destination_hub, now)
    rule_set = rule_set_in_force(destination_hub, local_today)
    if rule_set is None:
        raise DomainError(f"{destination_hub.code} has no rules in force.", code="no_rules", attr="destination_hub")
    cbec = rule_set.import_rules == ImportRules.CHINA_CBEC
    if cbec and not consumer_id:
        raise DomainError(
            "CBEC retail import counts each consumer's annual limit: give the consumer's ID number.",
            code="required",
            attr="consumer_id",
        )
    convert = _Converter(local_today, destination_hub.fx_max_age_days)
    priced = _basket_lines(company, origin_hub, lines)
    freight = convert(freight or Money(0, currency), currency, figure="freight", attr="freight")
    insurance = convert(insurance or Money(0, currency), currency, figure="insurance", attr="insurance")
    consumer = consumer_hash(consumer_id) if consumer_id else ""
    usage = _consumer_usage(destination_hub, consumer, local_today.year) if cbec else ZERO
    basket = Basket(
        currency=currency,
        lines=_in_currency(priced, convert, currency, "lines"),
        freight=freight.amount,
        insurance=insurance.amount,
    )
    assessment = assess(basket, rule_set.as_rules(), consumer_year_usage=usage)
    origin_rules = rule_set_in_force(origin_hub, hub_today(origin_hub, now))
    export, export_unknown = (
        _export_side(priced, origin_rules.as_rules(), convert, export_regime)
        if origin_rules
        else (None, f"{origin_hub.code} has no export rules in force.")
    )
    if assessment.total > MAX_AMOUNT:
        raise DomainError(
            f"This basket comes to {currency} {assessment.total}, more than one quote can hold ({MAX_AMOUNT}).",
            code="amount_too_large",
            attr="lines",
        )

    def money(amount):
        return Money(amount, currency)

    with transaction.atomic():
        quote = Quote.objects.create(
            company=company,
            origin_hub=origin_hub,
            destination_hub=destination_hub,
            rule_set=rule_set,
            regime=assessment.regime,
            explanation=assessment.explanation,
            consumer_hash=consumer,
            consumer_masked=mask_id_number(consumer_id) if consumer_id else "",
            goods=money(assessment.goods),
            freight=freight,
            insurance=insurance,
            duties_and_taxes=money(assessment.duties_and_taxes),
            total=money(assessment.total),
            quota_counted=assessment.quota_counted,
            export_regime=export.regime if export else "",
            export_refund=Money(export.refund, origin_hub.currency) if export else None,
            export_declarations=export.declarations if export else None,
            export_parts=[
                [{"position": index, "quantity": units} for index, units in part]
                for part in (export.parts if export else ())
            ],
            export_explanation=export.explanation if export else export_unknown,
            conversions=convert.records,
            expires_at=now + timedelta(minutes=settings.QUOTE_VALIDITY_MINUTES),
            created_at=now,
            created_by=actor.user,
        )
        quote_lines = QuoteLine.objects.bulk_create(
            QuoteLine(
                quote=quote,
                position=position,
                listing=request.listing,
                description=line.line.description,
                hs_code=line.line.hs_code,
                quantity=line.line.quantity,
                unit_price=money(line.line.unit_price),
                measure_quantity=line.line.measure.quantity,
                measure_unit=line.line.measure.unit,
                value=money(line.value),
                freight_share=money(line.freight_share),
                taxes=[
                    {
                        "kind": tax.kind.value,
                        "rate": f"{tax.rate:.4f}",
                        "base": str(tax.base),
                        "amount": str(tax.amount),
                        "explanation": tax.explanation,
                    }
                    for tax in line.taxes
                ],
                taxes_total=money(line.taxes_total),
            )
            for position, (request, line) in enumerate(zip(lines, assessment.lines, strict=True))
        )
        _hold_prefetched(quote, "lines", quote_lines)
        audit_event_record(
            actor=actor,
            verb=QUOTE_CREATED,
            target=quote,
            data={"regime": assessment.regime.value, "rule_set_version": rule_set.version, "total": str(quote.total)},
        )
    return quote


# --- orders -------------------------------------------------------------------------------------------


def _buyer_create(company, quote, buyer):
    """The buyer of an order: a consumer must be the one the quote counted the annual limit for."""
    buyer = dict(buyer)
    id_number = buyer.pop("id_number", "")
    if buyer.get("kind") == BuyerKind.CONSUMER:
        if not id_number:
            raise DomainError("A consumer buyer needs an ID number.", code="required", attr="buyer.id_number")
        if quote.consumer_hash and consumer_hash(id_number) != quote.consumer_hash:
            raise DomainError(
                f"The quote was made for the consumer {quote.consumer_masked}; this buyer is another person.",
                code="consumer_mismatch",
                attr="buyer.id_number",
            )
        buyer.update(id_number_hash=consumer_hash(id_number), id_number_masked=mask_id_number(id_number))
    elif not buyer.get("registration_number"):
        raise DomainError(
            "A business buyer needs its registration number.", code="required", attr="buyer.registration_number"
        )
    elif quote.consumer_hash:
        raise DomainError(
            "The quote was made for a consumer's retail import: the buyer is that consumer.",
            code="consumer_mismatch",
            attr="buyer.kind",
        )
    destination = quote.destination_hub
    if str(buyer.get("country") or "").upper() != destination.country.code:
        raise DomainError(
            f"The goods clear import at {destination.code}, in {destination.country.name}: give the buyer's "
            f"address in {destination.country.name}.",
            code="buyer_country_mismatch",
            attr="buyer.country",
        )
    return Buyer.objects.create(company=company, **buyer)


# What an order line copies from its quote line.
LINE_FIELDS = [
    "listing_id",
    "position",
    "description",
    "hs_code",
    "quantity",
    "unit_price",
    "measure_quantity",
    "measure_unit",
    "value",
    "freight_share",
    "taxes",
    "taxes_total",
]


def company_unverified_refusal(company) -> DomainError | None:
    """Why `company` cannot place orders yet (its hub has not verified it), or None when it can.

    An unverified company lists goods and quotes them; it orders once a supervisor of its home hub has
    checked its registration (`hubs.services.company_verify`)."""
    if company.verified:
        return None
    hub = company.home_hub.code
    return DomainError(
        f"{company.legal_name} is awaiting verification by {hub}: it can list goods and quote them, and can place "
        f"orders once a supervisor of {hub} has verified its registration.",
        code="company_unverified",
    )


class _StockShort(Exception):
    """Some listing of an order lacks the units it needs: raised inside the order's transaction, which it undoes."""

    def __init__(self, wanted):
        super().__init__(wanted)
        self.wanted = wanted


def order_place(*, actor, quote, buyer):
    """Turn a quote into an order: lines frozen as quoted, stock reserved, or nothing at all.

    The order comes back as written, with its lines (and their listings), buyer, hubs and quote, and the event
    just recorded (`recorded_events`), so that it can be answered without reading it back. `quote` needs no
    more than its pk: it is read again, locked."""
    try:
        return _order_place(actor, quote, buyer)
    except _StockShort as short:
        # The transaction is undone: the listings hold what they held before this order.
        raise _out_of_stock(short.wanted) from None


def _order_place(actor, quote, buyer):
    with transaction.atomic():
        quote = (
            Quote.objects.select_for_update(no_key=True, of=("self",))
            .select_related("company", "origin_hub", "destination_hub", "rule_set")
            .annotate(ordered=Exists(Order.objects.filter(quote=OuterRef("pk"))))
            .get(pk=quote.pk)
        )
        require_role(actor, quote.company, *COMPANY_ROLES)
        unverified = company_unverified_refusal(quote.company)
        if unverified:
            raise unverified
        if quote.ordered:
            raise DomainError(f"{quote.public_id} is already ordered.", code="quote_used", attr="quote")
        if quote.is_expired:
            raise DomainError(
                f"{quote.public_id} expired at {quote.expires_at:%Y-%m-%d %H:%M} UTC: ask for a new quote.",
                code="quote_expired",
                attr="quote",
            )
        lines = list(quote.lines.select_related("listing"))
        if any(line.listing_id is None for line in lines):
            raise DomainError(
                "A quote with ad-hoc lines is an estimate: quote listings to order them.",
                code="estimate_only",
                attr="quote",
            )
        quota_year = _check_annual_limit(quote)
        buyer = _buyer_create(quote.company, quote, buyer)
        _reserve_stock(lines)
        order = Order.objects.create(
            company=quote.company,
            buyer=buyer,
            quote=quote,
            origin_hub=quote.origin_hub,
            destination_hub=quote.destination_hub,
            regime=quote.regime,
            goods=quote.goods,
            freight=quote.freight,
            insurance=quote.insurance,
            duties_and_taxes=quote.duties_and_taxes,
            total=quote.total,
            quota_year=quota_year,
            consumer_hash=quote.consumer_hash,
            quota_counted=quote.quota_counted,
            placed_by=actor.user,
        )
        order_lines = OrderLine.objects.bulk_create(
            OrderLine(order=order, **{f: getattr(line, f) for f in LINE_FIELDS}) for line in lines
        )
        for order_line, line in zip(order_lines, lines, strict=True):
            order_line.listing = line.listing
        _hold_prefetched(order, "lines", order_lines)
        event = audit_event_record(actor=actor, verb=ORDER_PLACED, target=order, data={"quote": quote.public_id})
        order.recorded_events = [event]
    return order


def _hold_prefetched(instance, name, rows):
    """`instance.<name>.all()` answers `rows` (just written, in order) as a prefetch would, without a query."""
    rows = list(rows)
    queryset = getattr(instance, name).all()
    queryset._result_cache, queryset._prefetch_done = rows, True
    cache = instance.__dict__.setdefault("_prefetched_objects_cache", {})
    cache[name] = queryset


def _check_annual_limit(quote):
    """The destination hub's local year of an order placed now, once a CBEC retail quote is checked
    again against the consumer's annual limit: with the consumer's year locked, so that two orders
    for one consumer serialise, and with the orders placed since the quote counted too."""
    hub = quote.destination_hub
    year = hub_today(hub).year
    if quote.regime != Regime.CBEC_RETAIL:
        return year
    QuotaYear.objects.select_for_update(no_key=True).get_or_create(
        hub=hub, consumer_hash=quote.consumer_hash, year=year
    )
    limit = quote.rule_set.cbec_annual_limit
    if _consumer_usage(hub, quote.consumer_hash, year) + quote.quota_counted > limit:
        raise DomainError(
            f"This order no longer fits in the consumer's annual CBEC limit of {hub.currency} {limit} at {hub.code} "
            "(other orders came first): make a new quote, which comes out as general trade, and order that.",
            code="annual_limit_reached",
            attr="quote",
        )
    return year


def _quantities_by_listing(lines):
    quantities = {}
    for line in lines:
        quantities[line.listing_id] = quantities.get(line.listing_id, 0) + line.quantity
    return sorted(quantities.items())  # in key order, so that concurrent orders lock rows alike


def _per_listing(wanted):
    """The quantity of each listing of `wanted` [(listing id, quantity)], as an SQL expression over a listing row."""
    return Case(*(When(pk=pk, then=Value(quantity)) for pk, quantity in wanted), output_field=PositiveIntegerField())


def _reserve_stock(lines):
    """Take the lines' units off stock in one statement, whatever the number of lines; a listing short of stock
    refuses the whole order (`_StockShort`, which undoes the transaction)."""
    wanted = _quantities_by_listing(lines)
    quantity = _per_listing(wanted)
    taken = Listing.objects.filter(
        pk__in=[pk for pk, _ in wanted], status=ListingStatus.ACTIVE, stock__gte=quantity
    ).update(stock=F("stock") - quantity)
    if taken != len(wanted):
        raise _StockShort(wanted)


def _out_of_stock(wanted):
    """The refusal of an order whose `wanted` units [(listing id, quantity)] are not all in stock: the first
    listing (in id order) that is off sale or short, as it is now."""
    listings = Listing.objects.in_bulk([pk for pk, _ in wanted])
    asked = [(listings[pk], quantity) for pk, quantity in wanted]
    listing, quantity = next(
        ((listing, quantity) for listing, quantity in asked if not _can_give(listing, quantity)), asked[0]
    )
    return DomainError(
        f"{listing.public_id} has {listing.stock} in stock: this order needs {quantity}."
        if listing.status == ListingStatus.ACTIVE
        else f"{listing.public_id} is no longer on sale.",
        code="out_of_stock",
        attr="quote",
    )


def _can_give(listing, quantity):
    return listing.status == ListingStatus.ACTIVE and listing.stock >= quantity


def order_cancel(*, actor, order, reason=""):
    """Cancel an order before it is paid; its units go back on stock."""
    require_role(actor, order.company, *COMPANY_ROLES)
    return _cancel(order, actor, reason)


def order_expire(*, order) -> Order:
    """The platform cancels an order left unpaid past its payment window; its units go back on stock."""
    return _cancel(order, None, f"Not paid within {settings.PAYMENT_WINDOW_MINUTES} minutes of its placing.")


def _cancel(order, actor, reason):
    with transaction.atomic():
        order = transition(order, OrderStatus.CANCELLED, actor=actor, reason=reason)
        wanted = _quantities_by_listing(order.lines.all())
        if wanted:
            Listing.objects.filter(pk__in=[pk for pk, _ in wanted]).update(stock=F("stock") + _per_listing(wanted))
    return order


# The order's journey (`ewtp/lifecycle.py` drives it): one service per step, each a kernel transition.
# `actor` is None when the platform itself acts; `then` is the next step's task, sent on commit.


def order_mark_paid(*, actor=None, order, reason="", data=None, then=None):
    return transition(order, OrderStatus.PAID, actor=actor, reason=reason, data=data, then=then)


def _next_of(order, choices):
    """The state among `choices` that the order's current state may become (export or import side)."""
    current = Order.objects.only("status").get(pk=order.pk)
    return next((to for to in choices if current.can_become(to)), choices[0])


def order_declare(*, actor=None, order, reason="", data=None, then=None):
    """Declared at export (once paid), or at import (once shipped)."""
    to = _next_of(order, (OrderStatus.EXPORT_DECLARED, OrderStatus.IMPORT_DECLARED))
    return transition(order, to, actor=actor, reason=reason, data=data, then=then)


def order_hold(*, actor=None, order, reason="", data=None, then=None):
    to = _next_of(order, (OrderStatus.EXPORT_HELD, OrderStatus.IMPORT_HELD))
    return transition(order, to, actor=actor, reason=reason, data=data, then=then)


def order_release(*, actor=None, order, reason="", data=None, then=None):
    to = _next_of(order, (OrderStatus.EXPORT_RELEASED, OrderStatus.IMPORT_RELEASED))
    return transition(order, to, actor=actor, reason=reason, data=data, then=then)


def order_reject(*, actor=None, order, reason="", data=None, then=None):
    return transition(order, OrderStatus.REJECTED, actor=actor, reason=reason, data=data, then=then)


def order_ship(*, actor=None, order, reason="", data=None, then=None):
    return transition(order, OrderStatus.SHIPPED, actor=actor, reason=reason, data=data, then=then)


def order_deliver(*, actor=None, order, reason="", data=None, then=None):
    return transition(order, OrderStatus.DELIVERED, actor=actor, reason=reason, data=data, then=then)


def order_refund(*, actor=None, order, reason="", data=None, then=None):
    """The buyer was paid back (`payments.services.payment_refund` moves the money, then calls this)."""
    return transition(order, OrderStatus.REFUNDED, actor=actor, reason=reason, data=data, then=then)
