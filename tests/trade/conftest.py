from decimal import Decimal

import pytest
from djmoney.money import Money

from hubs.scoping import actor_for
from hubs.services import rule_sets_load_reference
from tests.tenants import make_tenant
from trade.models import ListingStatus
from trade.services import QuoteLineRequest, listing_create, quote_create

CONSUMER = "330106199001011234"
BUYER = {
    "kind": "consumer",
    "name": "Li Wei",
    "id_number": CONSUMER,
    "address_line1": "1 Wensan Road",
    "city": "Hangzhou",
    "country": "CN",
}


def verified(tenant):
    """The tenant with its company verified by its hub, as a company must be to place orders."""
    tenant.company.verified = True
    tenant.company.save(update_fields=["verified"])
    return tenant


# The sellers of the trade tests are verified companies; tests of an unverified one make it so.
@pytest.fixture
def hgh(db):
    return verified(make_tenant("HGH", "CN", "CNY", "Asia/Shanghai"))


@pytest.fixture
def mys(db):
    return verified(make_tenant("MYS", "MY", "MYR", "Asia/Kuala_Lumpur"))


@pytest.fixture
def yiw(db):
    return verified(make_tenant("YIW", "CN", "CNY", "Asia/Shanghai"))


@pytest.fixture
def hkg(db):
    """A Hong Kong trader that invoices in CNY: it sells into Hangzhou across a border without conversion."""
    tenant = verified(make_tenant("HKG", "HK", "HKD", "Asia/Hong_Kong"))
    tenant.company.home_currency = "CNY"
    tenant.company.save(update_fields=["home_currency"])
    return tenant


@pytest.fixture
def rules(hgh, mys, yiw):
    """The reference rule sets of the three hubs, published."""
    for tenant in (hgh, mys, yiw):
        rule_sets_load_reference(hub=tenant.hub)


def make_listing(tenant, *, hs_code="420221", price="500.00", stock=10, title="Woven rattan handbag", **extra):
    fields = {
        "title": title,
        "hs_code": hs_code,
        "origin_country": tenant.hub.country,
        "unit_price": Money(price, tenant.company.home_currency),
        "unit_weight_kg": Decimal("0.7"),
        "length_cm": Decimal(30),
        "width_cm": Decimal(10),
        "height_cm": Decimal(25),
        "stock": stock,
        "status": ListingStatus.ACTIVE,
        **extra,
    }
    return listing_create(actor=actor_for(tenant.seller_admin.user), company=tenant.company, **fields)


@pytest.fixture
def handbag(hkg, rules):
    """A Hong Kong trader's handbag at CNY 500: worked example 1 when sold into Hangzhou."""
    return make_listing(hkg)


def quote_listing(seller, destination, listing, *, quantity=1, consumer_id=CONSUMER):
    """A quote made by `seller`'s admin for its `listing`, into `destination`'s hub."""
    return quote_create(
        actor=actor_for(seller.seller_admin.user),
        company=seller.company,
        origin_hub=seller.hub,
        destination_hub=destination.hub,
        consumer_id=consumer_id,
        lines=[QuoteLineRequest(quantity=quantity, listing=listing)],
    )
