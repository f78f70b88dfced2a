"""A small, realistic world for the API contract tests: two hubs of different countries with their
rule sets and ECB rates, a seller at each with listings, quotes and orders (one of them cancelled),
an integrator's API key and a seller's signed-in session."""

from dataclasses import dataclass, field

import pytest
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from django.utils.crypto import get_random_string

from hubs.models import Company
from hubs.scoping import actor_for
from tests.tenants import issue_key
from tests.trade.conftest import BUYER, make_listing, quote_listing, rules, yiw  # noqa: F401 (fixtures)
from trade.services import order_cancel, order_place

# A Malaysian consumer buying from Hangzhou (Malaysia keeps no annual limit per consumer).
MY_BUYER = {**BUYER, "name": "Siti Aminah", "id_number": "900101-14-5678", "city": "Kuala Lumpur", "country": "MY"}


@dataclass
class Caller:
    """How a test client authenticates: the headers and cookies to send with every request."""

    headers: dict
    cookies: dict = field(default_factory=dict)


@dataclass
class World:
    integrator: Caller
    seller: Caller
    listings: list
    quotes: list
    orders: list
    companies: list


def signed_in(membership):
    """A seller's session as a browser holds it: the session cookie, and a CSRF token sent back as a header."""
    client = Client()
    client.force_login(membership.user)
    token = get_random_string(32)
    return Caller(
        headers={"X-CSRFToken": token},
        cookies={"sessionid": client.cookies["sessionid"].value, "csrftoken": token},
    )


@pytest.fixture
def unthrottled(settings):
    """Rates far above what a test sends, so that every request reaches its view."""
    rates = dict.fromkeys(("client", "address", "api_key_failures"), "100000/min")
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}


@pytest.fixture
def wsgi_app():
    """Django's WSGI application, called in process inside the test's transaction. Django closes the
    database connection when a request finishes; the test client stops that, and so does this."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def world(hgh, mys, rules, ecb_rates, unthrottled, wsgi_app):  # noqa: F811 (fixture)
    Company.objects.filter(pk__in=[hgh.company.pk, mys.company.pk]).update(verified=True)
    hgh_actor, mys_actor = actor_for(hgh.seller_admin.user), actor_for(mys.seller_admin.user)
    handbag = make_listing(hgh, price="500.00", stock=50)
    make_listing(hgh, title="Longjing green tea", hs_code="090210", price="180.00", stock=40, status="draft")
    batik = make_listing(mys, title="Batik silk scarf", hs_code="621410", price="120.00", stock=30)
    quotes = [
        quote_listing(hgh, mys, handbag, quantity=2, consumer_id=""),
        quote_listing(hgh, mys, handbag, consumer_id=""),
        quote_listing(mys, hgh, batik),
        quote_listing(mys, hgh, batik),
    ]
    orders = [
        order_place(actor=hgh_actor, quote=quotes[0], buyer=MY_BUYER),
        order_place(actor=mys_actor, quote=quotes[2], buyer=BUYER),
    ]
    order_cancel(actor=mys_actor, order=orders[1], reason="The buyer changed their mind.")
    _, key = issue_key(mys.seller_admin, mys.company_integrator, name="Batik shop ERP")
    return World(
        integrator=Caller(headers={"Authorization": f"Api-Key {key}"}),
        seller=signed_in(hgh.seller_admin),
        listings=[handbag.public_id, batik.public_id],
        quotes=[quote.public_id for quote in quotes],
        orders=[order.public_id for order in orders],
        companies=[hgh.company.pk, mys.company.pk],
    )
