"""The API answers what its schema says, whatever it is sent.

Schemathesis reads `/api/schema/` from the application and generates requests for every operation,
valid ones and invalid ones, as an integrator with an API key and as a seller signed in to a session,
in a small world of hubs, rule sets, ECB rates, listings, quotes and orders (`tests/api/conftest.py`).
Each answer is checked against the schema: no server error, a documented status code, content type
and headers, and a body that matches the documented schema (error codes included).

Checks left out, and why:
- `positive_data_acceptance`: a request the schema allows may still break a business rule (an HS code
  that does not exist, a quote into a hub of the same country): a 400 is the right answer there.
- `negative_data_rejection`: DRF reads some values more leniently than the schema writes them (a number
  where a string is expected, `1e2` for a decimal): accepting them is no contract violation.
- `ignored_auth`, for the seller only: the session cookie comes from the test, not from the schema, so
  the check takes it for generated credentials. It runs for the integrator's API key.
The stateful phase is left out to keep the run short; the world's real ids are mixed into the
generated ones instead (`flatmap_*` hooks below), so that reads and writes reach real rows.

The whole run is bounded (`MAX_EXAMPLES` per operation in the fuzzing phase, plus the coverage phase's
boundary cases, run as the integrator only) and deterministic, so that `make test` gives the same answer
every time, in under two minutes on two cores.
"""

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import ignored_auth

from tests.api.conftest import MY_BUYER
from tests.trade.conftest import BUYER

MAX_EXAMPLES = 25
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "ignored_auth",
    "unsupported_method",
    "missing_required_header",
]

# The world's ids, set by the `known` fixture before each operation runs, read by the hooks.
KNOWN = {}


def load_schema(phases, currency):
    """The schema as the application serves it, with hooks that mix real rows (and, for a listing, the
    actor's currency) into what is generated."""
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())
    schema.config.generation.update(max_examples=MAX_EXAMPLES, with_security_parameters=False, deterministic=True)
    schema.config.phases.update(phases=phases)
    schema.config.checks.update(included_check_names=CHECKS)

    @schema.hook
    def flatmap_path_parameters(context, path_parameters):
        """Now and then, the id of a row that exists (the actor's own, or another company's)."""
        resource = context.operation.path.split("/")[3]
        (name,) = path_parameters or {None: None}
        if name is None or not KNOWN.get(resource):
            return st.just(path_parameters)
        real = st.sampled_from(KNOWN[resource]).map(lambda value: {**path_parameters, name: value})
        return st.one_of(real, st.just(path_parameters))

    @schema.hook
    def flatmap_body(context, body):
        """Now and then, goods of a real HS code priced in the actor's currency to list, a quote of the
        world's to order for a buyer that fits it, or a line of a real listing to quote."""
        operation = context.operation
        if operation.method.upper() != "POST" or not isinstance(body, dict) or not KNOWN:
            return st.just(body)
        if operation.path == "/api/v1/listings/":
            real = st.builds(
                lambda hs_code, amount, size: {
                    **{name: value for name, value in body.items() if name != "company"},
                    "hs_code": hs_code,
                    "unit_price": {"amount": amount, "currency": currency},
                    **dict.fromkeys(("unit_weight_kg", "length_cm", "width_cm", "height_cm", "measure_quantity"), size),
                },
                st.sampled_from(["420221", "090210", "33049900"]),
                st.sampled_from(["0.01", "12.50", "99999.99"]),
                st.sampled_from(["0.1", "1", "25.5"]),
            )
        elif operation.path == "/api/v1/orders/":
            real = st.builds(
                lambda quote, buyer: {**body, "quote": quote, "buyer": buyer},
                st.sampled_from(KNOWN["quotes"]),
                st.sampled_from([body.get("buyer"), *KNOWN["buyers"]]),
            )
        elif operation.path == "/api/v1/quotes/":
            real = st.builds(
                lambda route, listing, quantity: {
                    **body,
                    "origin_hub": route[0],
                    "destination_hub": route[1],
                    "lines": [{"listing": listing, "quantity": quantity}],
                },
                st.sampled_from([("HGH", "MYS"), ("MYS", "HGH"), ("MYS", "YIW")]),
                st.sampled_from(KNOWN["listings"]),
                st.integers(min_value=1, max_value=5),
            )
        else:
            return st.just(body)
        return st.one_of(real, st.just(body))

    return schema


# The coverage phase's boundary cases (some 400 requests for an operation with a rich body) run once, as
# the integrator; the seller's run fuzzes only.
integrator_schema = load_schema(["examples", "coverage", "fuzzing"], currency="MYR")
seller_schema = load_schema(["examples", "fuzzing"], currency="CNY")

HYPOTHESIS = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@pytest.fixture
def known(world):
    KNOWN.update(
        listings=world.listings,
        quotes=world.quotes,
        orders=world.orders,
        companies=world.companies,
        buyers=[BUYER, MY_BUYER],
        hubs=["HGH", "MYS", "YIW", "XXX"],
        **{"hs-codes": ["42", "4202", "420221", "9999"]},
    )
    yield world
    KNOWN.clear()


@integrator_schema.parametrize()
@HYPOTHESIS
def test_as_integrator(case, known):
    # Each request in a savepoint: on PostgreSQL, a database error in one would abort the test's
    # transaction for every request after it.
    with transaction.atomic():
        case.call_and_validate(headers=known.integrator.headers)


@seller_schema.parametrize()
@HYPOTHESIS
def test_as_seller(case, known):
    with transaction.atomic():
        case.call_and_validate(
            headers=known.seller.headers, cookies=known.seller.cookies, excluded_checks=[ignored_auth]
        )
