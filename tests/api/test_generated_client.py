"""A client generated from `/api/schema/` works: `openapi-python-client` writes a Python package from the
schema, and an integrator's code using it lists listings, quotes one, places an order and cancels it.

The client is generated offline into a temporary folder, once per test session, and talks to Django's
WSGI application in process (an httpx WSGI transport), so that it reads and writes the test database.
"""

import importlib
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from django.core.management import call_command

from tests.trade.conftest import BUYER, CONSUMER

PACKAGE = "ehub_client"
# Labels and packing lists are PDFs: bytes, to a client (the generator names only generic binary types).
CONFIG = f"""\
package_name_override: {PACKAGE}
post_hooks: []
content_type_overrides:
  application/pdf: application/octet-stream
"""


@pytest.fixture(scope="session")
def generated_client(tmp_path_factory):
    """The package `openapi-python-client` generates from the schema, imported."""
    folder = tmp_path_factory.mktemp("generated-client")
    schema, config = folder / "openapi.json", folder / "config.yml"
    call_command("spectacular", file=str(schema), format="openapi-json", validate=True, fail_on_warn=True)
    config.write_text(CONFIG)
    generator = Path(sys.executable).parent / "openapi-python-client"
    command = [str(generator), "generate", "--path", str(schema), "--config", str(config), "--meta", "none"]
    command += ["--output-path", str(folder / PACKAGE), "--fail-on-warning"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(folder))
        for name in [name for name in sys.modules if name == PACKAGE or name.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def api(package, name):
    return importlib.import_module(f"{package.__name__}.api.v1.{name}")


def models(package):
    return importlib.import_module(f"{package.__name__}.models")


@pytest.fixture
def client(generated_client, world, wsgi_app):
    """The integrator's client, authenticated with its API key, calling the application in process."""
    key = world.integrator.headers["Authorization"].removeprefix("Api-Key ")
    transport = httpx.WSGITransport(app=wsgi_app)
    return generated_client.AuthenticatedClient(
        base_url="http://testserver", token=key, prefix="Api-Key", httpx_args={"transport": transport}
    )


def test_a_generated_client_lists_quotes_orders_and_cancels(generated_client, client):
    listings_list, quotes_create = api(generated_client, "v1_listings_list"), api(generated_client, "v1_quotes_create")
    orders_create = api(generated_client, "v1_orders_create")
    orders_cancel = api(generated_client, "v1_orders_cancel_create")
    m = models(generated_client)

    listings = listings_list.sync(client=client, status=m.V1ListingsListStatus.ACTIVE)
    assert isinstance(listings, m.PaginatedListingList), listings
    (scarf,) = listings.results
    assert scarf.title == "Batik silk scarf"
    assert scarf.unit_price.currency == m.CurrencyEnum.MYR
    into_hgh = next(sellable for sellable in scarf.sellable if sellable.hub == "HGH")
    assert isinstance(into_hgh, m.Sellability)
    assert into_hgh.quotable

    request = m.QuoteInputRequest(
        origin_hub="MYS",
        destination_hub="HGH",
        consumer_id=CONSUMER,
        lines=[m.QuoteLineInputRequest(listing=scarf.id, quantity=2)],
    )
    quoted = quotes_create.sync_detailed(client=client, body=request, idempotency_key="quote-1")
    assert quoted.status_code == 201, quoted.content
    quote = quoted.parsed
    assert isinstance(quote, m.Quote)
    assert (quote.rule_set.hub, quote.origin_hub, quote.destination_hub) == ("HGH", "MYS", "HGH")
    assert quote.totals.total.currency == m.CurrencyEnum.CNY
    line = quote.lines[0]
    assert (line.listing, line.quantity) == (scarf.id, 2)
    assert all(isinstance(tax, m.Tax) and tax.amount.currency == m.CurrencyEnum.CNY for tax in line.taxes)
    assert [conversion.from_currency for conversion in quote.conversions][:1] == ["MYR"]

    replayed = quotes_create.sync_detailed(client=client, body=request, idempotency_key="quote-1")
    assert (replayed.status_code, replayed.headers["Idempotent-Replayed"]) == (201, "true")
    assert replayed.parsed.id == quote.id

    placed = orders_create.sync_detailed(
        client=client, body=m.OrderInputRequest(quote=quote.id, buyer=m.BuyerRequest.from_dict(BUYER))
    )
    assert placed.status_code == 201, placed.content
    order = placed.parsed
    assert isinstance(order, m.OrderDetail)
    assert order.status == m.OrderStatusEnum.PLACED
    assert order.buyer.id_number_masked.endswith("1234")
    assert order.buyer.email == ""
    assert [event.verb for event in order.timeline] == ["order.placed"]

    cancelled = orders_cancel.sync(client=client, id=order.id, body=m.CancelRequest(reason="Out of season."))
    assert isinstance(cancelled, m.OrderDetail), cancelled
    assert cancelled.status == m.OrderStatusEnum.CANCELLED
    assert cancelled.timeline[-1].reason == "Out of season."

    again = orders_cancel.sync(client=client, id=order.id, body=m.CancelRequest())
    assert isinstance(again, m.V1OrdersCancelCreateErrorResponse400)
    assert again.errors[0].code == m.V1OrdersCancelCreateErrorResponse400CodeEnum.INVALID_TRANSITION


def test_a_generated_client_reads_every_error_shape(generated_client, client, wsgi_app):
    """An error answer parses into the operation's error model, its code one of the documented enum."""
    m = models(generated_client)
    quotes_create, me = api(generated_client, "v1_quotes_create"), api(generated_client, "v1_me_retrieve")

    unknown = m.QuoteInputRequest(
        origin_hub="MYS", destination_hub="HGH", lines=[m.QuoteLineInputRequest(listing="LST-0", quantity=1)]
    )
    refused = quotes_create.sync(client=client, body=unknown)
    assert isinstance(refused, m.V1QuotesCreateErrorResponse400)
    assert refused.type_ == m.BadRequestTypeEnum.VALIDATION_ERROR
    (error,) = refused.errors
    assert (error.code, error.attr) == (m.V1QuotesCreateErrorResponse400CodeEnum.NOT_FOUND, "lines.0.listing")

    transport = httpx.WSGITransport(app=wsgi_app)
    anonymous = generated_client.Client(base_url="http://testserver", httpx_args={"transport": transport})
    denied = me.sync_detailed(client=anonymous)
    assert denied.status_code == 401
    assert denied.parsed.errors[0].code == m.ErrorResponse401CodeEnum.NOT_AUTHENTICATED
