"""The SME portal's listings, quote calculator and orders: reads through the selectors, writes through the services."""

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
from djmoney.money import Money

from hubs.kernel.errors import DomainError
from hubs.kernel.sections import sections
from hubs.models import COMPANY_ROLES
from hubs.scoping import actor_for_request, require_role
from hubs.tariff import TaxKind
from hubs.views import confirmed_action
from trade.forms import (
    ArchiveForm,
    BuyerForm,
    CancelForm,
    ListingForm,
    ListingSearchForm,
    PortalOrderFilter,
    QuoteForm,
    QuoteLineFormSet,
    RestockForm,
    add_domain_error,
)
from trade.models import ListingStatus, OrderStatus
from trade.selectors import (
    journey_steps,
    listings_for,
    order_timeline,
    orders_for,
    quotes_for,
    sellability,
    stock_shortfalls,
)
from trade.services import (
    company_unverified_refusal,
    listing_archive,
    listing_create,
    listing_restock,
    listing_update,
    order_cancel,
    order_place,
    quote_create,
)

PAGE_SIZE = 25


def _companies(actor):
    """The companies the actor acts for; the pages that write for a company need one."""
    if not actor.companies:
        raise PermissionDenied("Only a company's sellers list goods and quote them.")
    return actor.companies


# --- listings -------------------------------------------------------------------------------------------


@login_required
def listing_list(request):
    """The actor's listings, searched and filtered, each with where it can be sold and why not."""
    form = ListingSearchForm(request.GET)
    form.is_valid()
    listings = listings_for(
        actor_for_request(request), query=form.cleaned_data.get("q", ""), status=form.cleaned_data.get("status")
    )
    page = Paginator(listings, PAGE_SIZE).get_page(request.GET.get("page"))
    verdicts = sellability(page.object_list)
    rows = [(listing, verdicts[listing.pk]) for listing in page]
    return render(request, "trade/listing_list.html", {"form": form, "page": page, "rows": rows})


@login_required
def listing_new(request):
    actor = actor_for_request(request)
    companies = _companies(actor)
    form = ListingForm(request.POST or None, companies=companies)
    if request.method == "POST" and form.is_valid():
        company = actor.acting_company(form.cleaned_data.get("company"))
        try:
            listing = listing_create(actor=actor, company=company, **form.listing_fields(company.home_currency))
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, f"{listing.public_id} “{listing.title}” is listed.")
            return redirect("trade:listing-detail", public_id=listing.public_id)
    return render(request, "trade/listing_form.html", {"form": form})


def _listing_page(request, actor, listing, *, restock_form=None):
    editable = listing.company_id in actor.company_ids and listing.status != ListingStatus.ARCHIVED
    context = {
        "listing": listing,
        "verdicts": sellability([listing])[listing.pk],
        "editable": editable,
        "quotable": editable and listing.status == ListingStatus.ACTIVE,
        "restock_form": restock_form or RestockForm(),
    }
    return render(request, "trade/listing_detail.html", context)


@login_required
def listing_detail(request, public_id):
    actor = actor_for_request(request)
    return _listing_page(request, actor, get_object_or_404(listings_for(actor), public_id=public_id))


@login_required
@require_POST
def listing_restock_view(request, public_id):
    """Add units to stock (or take some off), relative to what it holds when saved."""
    actor = actor_for_request(request)
    listing = get_object_or_404(listings_for(actor), public_id=public_id)
    require_role(actor, listing.company, *COMPANY_ROLES)
    form = RestockForm(request.POST)
    if form.is_valid():
        try:
            listing = listing_restock(actor=actor, listing=listing, delta=form.cleaned_data["delta"])
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, f"{listing.public_id} has {listing.stock} in stock.")
            return redirect("trade:listing-detail", public_id=listing.public_id)
    return _listing_page(request, actor, listing, restock_form=form)


@login_required
def listing_edit(request, public_id):
    actor = actor_for_request(request)
    listing = get_object_or_404(listings_for(actor), public_id=public_id)
    form = ListingForm(request.POST or None, instance=listing)
    if request.method == "POST" and form.is_valid():
        try:
            listing = listing_update(actor=actor, listing=listing, **form.listing_fields(listing.company.home_currency))
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, f"{listing.public_id} is saved.")
            return redirect("trade:listing-detail", public_id=listing.public_id)
    return render(request, "trade/listing_form.html", {"form": form, "listing": listing})


@login_required
def listing_archive_view(request, public_id):
    """Asks to confirm (GET), then takes the listing off sale for good (POST)."""
    actor = actor_for_request(request)
    listing = get_object_or_404(listings_for(actor), public_id=public_id)
    require_role(actor, listing.company, *COMPANY_ROLES)
    return confirmed_action(
        request,
        ArchiveForm,
        lambda reason: listing_archive(actor=actor, listing=listing, reason=reason),
        done=f"{listing.public_id} is archived: it is off sale for good.",
        then=redirect("trade:listing-detail", public_id=listing.public_id),
        template="trade/listing_archive.html",
        context={"listing": listing},
    )


# --- quotes ---------------------------------------------------------------------------------------------


def _add_quote_error(form, lines, error):
    """A refusal of `quote_create` on the field, or the line (`lines.<i>.<field>`), it names."""
    attr = error.attr or ""
    head, _, rest = attr.partition(".")
    if head == "lines" and rest:
        index, _, field = rest.partition(".")
        lines[int(index)].add_domain_error(error, field)
    else:
        add_domain_error(form, error)


@login_required
def quote_new(request):
    """The landed-cost calculator: a binding quote for listings, an estimate for ad-hoc goods."""
    actor = actor_for_request(request)
    companies = _companies(actor)
    listings = listings_for(actor, status=ListingStatus.ACTIVE).filter(company__in=companies)
    # "Quote this listing": the calculator opens with the listing on its first line, from its hub.
    chosen = listings.filter(public_id=request.GET.get("listing", "")).first() if request.method == "GET" else None
    initial = {"origin_hub": chosen.hub.code, "company": chosen.company_id} if chosen else None
    form = QuoteForm(request.POST or None, companies=companies, initial=initial)
    formset = QuoteLineFormSet(
        request.POST or None,
        prefix="lines",
        form_kwargs={"listings": listings},
        initial=[{"listing": chosen.public_id}] if chosen else None,
    )
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        destination_hub = form.cleaned_data["destination_hub"]
        lines = [line for line in formset if line.cleaned_data]
        try:
            quote = quote_create(
                actor=actor,
                company=actor.acting_company(form.cleaned_data.get("company")),
                origin_hub=form.cleaned_data["origin_hub"],
                destination_hub=destination_hub,
                consumer_id=form.cleaned_data["consumer_id"],
                freight=form.freight_money(),
                lines=[line.line_request(destination_hub.currency) for line in lines],
            )
        except DomainError as error:
            _add_quote_error(form, lines, error)
        else:
            return redirect("trade:quote-detail", public_id=quote.public_id)
    return render(request, "trade/quote_form.html", {"form": form, "formset": formset})


def _lines_with_taxes(lines):
    """Each line with its taxes as quoted: kind named, rate in percent, base and amount as Money."""
    return [
        (
            line,
            [
                {
                    **tax,
                    "label": TaxKind(tax["kind"]).label,
                    "percent": f"{(Decimal(tax['rate']) * 100).normalize():f}%",
                    "base": Money(tax["base"], line.value.currency),
                    "amount": Money(tax["amount"], line.value.currency),
                }
                for tax in line.taxes
            ],
        )
        for line in lines
    ]


@login_required
def quote_list(request):
    """The quotes the actor may see, newest first, each with what became of it."""
    actor = actor_for_request(request)
    quotes = quotes_for(actor).select_related("order")
    page = Paginator(quotes, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "trade/quote_list.html", {"page": page})


@login_required
def quote_detail(request, public_id):
    """A quote's figures; while it binds, all its lines are listings in stock and the company is verified,
    the form to order it."""
    actor = actor_for_request(request)
    quote = get_object_or_404(quotes_for(actor).select_related("company__home_hub"), public_id=public_id)
    order = orders_for(actor).filter(quote=quote).first()
    lines = list(quote.lines.all())
    estimate = any(line.listing_id is None for line in lines)
    shortfalls = stock_shortfalls(lines)
    unverified = company_unverified_refusal(quote.company)
    form = BuyerForm(request.POST or None, initial={"country": quote.destination_hub.country.code})
    if request.method == "POST" and form.is_valid():
        try:
            order = order_place(actor=actor, quote=quote, buyer=form.cleaned_data)
        except DomainError as error:
            add_domain_error(form, error, (error.attr or "").removeprefix("buyer."))
        else:
            messages.success(request, f"{order.public_id} is placed.")
            return redirect("trade:order-detail", public_id=order.public_id)
    context = {
        "quote": quote,
        "lines": _lines_with_taxes(lines),
        "order": order,
        "estimate": estimate,
        "shortfalls": shortfalls,
        "unverified": unverified.detail if unverified else "",
        "orderable": quote.company_id in actor.company_ids
        and order is None
        and not estimate
        and not quote.is_expired
        and not shortfalls
        and not unverified,
        "form": form,
    }
    return render(request, "trade/quote_detail.html", context)


# --- orders ---------------------------------------------------------------------------------------------


@login_required
def order_list(request):
    filters = PortalOrderFilter(request.GET, queryset=orders_for(actor_for_request(request)), request=request)
    page = Paginator(filters.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "trade/order_list.html", {"filters": filters, "page": page})


@login_required
def order_detail(request, public_id):
    actor = actor_for_request(request)
    order = get_object_or_404(orders_for(actor), public_id=public_id)
    context = {
        "order": order,
        "lines": _lines_with_taxes(order.lines.all()),
        "timeline": order_timeline(order),
        "journey": journey_steps(order),
        "sections": sections("order", actor=actor, order=order),  # customs' and payments' parts of the order
        "cancellable": order.company_id in actor.company_ids and order.can_become(OrderStatus.CANCELLED),
    }
    return render(request, "trade/order_detail.html", context)


@login_required
def order_cancel_view(request, public_id):
    """Asks to confirm, with the reason (GET), then cancels (POST)."""
    actor = actor_for_request(request)
    order = get_object_or_404(orders_for(actor), public_id=public_id)
    require_role(actor, order.company, *COMPANY_ROLES)  # officers of its hubs see it, and cancel nothing
    return confirmed_action(
        request,
        CancelForm,
        lambda reason: order_cancel(actor=actor, order=order, reason=reason),
        done=f"{order.public_id} is cancelled; its units are back on stock.",
        then=redirect("trade:order-detail", public_id=order.public_id),
        template="trade/order_cancel.html",
        context={"order": order},
    )
