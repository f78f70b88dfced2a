"""Isolation, walked: no outsider reaches a row of another tenant, on any surface.

This module lists no model, endpoint or page by hand. It discovers them: every tenant model from the
app registry (`is_tenant_model`), every API endpoint over tenant rows from the router, every officer
console page from the admin registry, every portal page from the URL resolver. A model, endpoint,
console page or portal page added later is walked without anyone remembering to add a test here.

The world: a victim (a Hong Kong seller selling into Hangzhou) holds at least one row of every tenant
model; outsiders (a Malaysian hub's sellers, officers and API keys, and another company's seller at the
victim's own hub) must see none of those rows. Positive controls prove the walk is not vacuous: the
victim's own people reach the same URLs, so a 404 to an outsider means "hidden", not "mis-built URL".
"""

from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.utils import quote as admin_quote
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import RequestFactory, override_settings
from django.urls import URLResolver, get_resolver, reverse
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules
from djmoney.money import Money
from rest_framework.routers import Route

from customs.exchange import hub_message_deliver
from customs.models import (
    SUMMARY_FILED,
    Declaration,
    Direction,
    HubMessage,
    Lane,
    RefundClaim,
    RiskRule,
    RiskRuleKind,
    SummaryDeclaration,
)
from customs.services import declaration_answer, declaration_decide, declaration_file
from ewtp.api import router
from hubs.admin import TenantAdmin
from hubs.consumers import consumer_hash
from hubs.kernel.api import TenantViewSet
from hubs.kernel.audit import audit_event_record
from hubs.kernel.ids import PublicIdField
from hubs.kernel.transitions import transition
from hubs.models import (
    ApiKey,
    AuditEvent,
    Company,
    Membership,
    QuotaEntry,
    Role,
    WebhookAttempt,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
)
from hubs.partner_webhooks import webhook_endpoint_add
from hubs.scoping import SELECTORS, actor_for, is_tenant_model, restrict, tenant_lookups
from hubs.selectors import hub_today
from hubs.services import rule_sets_load_reference
from logistics.models import Consignment, Departure, Parcel, Shipment, ShipmentDocument, TrackingEvent, UnitType
from payments.models import Account, Corridor, Payout
from payments.services import duties_to_hub, escrow_release, payment_start, payout_schedule
from tests.factories import CompanyFactory, MembershipFactory
from tests.payments.conftest import deliver
from tests.tenants import issue_key, key_client, make_tenant, session_client
from tests.trade.conftest import BUYER, CONSUMER, make_listing, quote_listing
from trade.models import Listing, Order, Quote
from trade.services import (
    order_place,
)

autodiscover_modules("selectors")  # fills SELECTORS, as `manage.py check` does


# --- what the walk discovers ------------------------------------------------------------------------------


def label(model):
    return model._meta.label


TENANT_MODELS = [model for model in apps.get_models() if is_tenant_model(model)]

TENANT_VIEWSETS = [
    pytest.param(prefix, viewset, basename, id=prefix)
    for prefix, viewset, basename in router.registry
    if issubclass(viewset, TenantViewSet)
]

TENANT_ADMINS = [
    pytest.param(model, model_admin, id=label(model))
    for model, model_admin in admin.site._registry.items()
    if isinstance(model_admin, TenantAdmin)
]

# Viewsets over tenant rows that are deliberately not scoped, and why.
PUBLIC_VIEWSETS = {"hubs": "the directory of active hubs, which every signed-in actor may read"}


@dataclass(frozen=True)
class PortalPage:
    name: str  # for `reverse`, with its namespace
    route: str
    arguments: tuple


def portal_pages(patterns=None, route="", namespace="", arguments=()):
    """Every named URL outside the console (/admin/) and the API (/api/), with the arguments it takes."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        full_route = route + str(pattern.pattern)
        taken = arguments + tuple(pattern.pattern.regex.groupindex)
        if full_route.lstrip("^").startswith(("admin/", "api/")):
            continue
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from portal_pages(pattern.url_patterns, full_route, inner, taken)
        elif pattern.name:
            yield PortalPage(namespace + pattern.name, full_route, taken)


# Portal pages about no tenant row, and why.
PUBLIC_PAGES = {"password_reset_confirm": "an invited colleague's set-password link: a user id and a one-time token"}

PORTAL_PAGES = [page for page in portal_pages() if page.name not in PUBLIC_PAGES]
OBJECT_PAGES = [pytest.param(page, id=page.name) for page in PORTAL_PAGES if len(page.arguments) == 1]
LIST_PAGES = [pytest.param(page, id=page.name) for page in PORTAL_PAGES if not page.arguments]

# The kinds of rows the portal has object pages for: the walk must reach each of them.
PORTAL_KINDS = {
    Listing,
    Quote,
    Order,
    ApiKey,
    Account,
    Payout,
    Shipment,
    Declaration,
    SummaryDeclaration,
    RefundClaim,
    WebhookEndpoint,
    WebhookDelivery,
}


# --- the world: a victim holding a row of every tenant model, and outsiders ------------------------------


@dataclass(frozen=True)
class Outsider:
    """Someone who must see none of the victim's rows: a user signed in, or an API key."""

    membership: object
    api_key: object = None
    secret: str = ""

    @property
    def actor(self):
        return actor_for(self.membership.user, self.api_key)

    def client(self):
        return key_client(self.secret) if self.api_key else session_client(self.membership)


OUTSIDERS = [
    "MYS-seller-admin",
    "MYS-company-key",
    "MYS-officer",
    "MYS-supervisor",
    "MYS-hub-key",
    "HKG-neighbour-seller",
]
ROLES = ["seller_admin", "seller_staff", "company_integrator", "officer", "supervisor", "hub_integrator"]
SESSION_OUTSIDERS = ["MYS-seller-admin", "MYS-officer", "MYS-supervisor", "HKG-neighbour-seller"]
CONSOLE_OUTSIDERS = ["MYS-officer", "MYS-supervisor"]


@dataclass
class World:
    hkg: object  # the victim seller's tenant
    hgh: object  # the victim's destination hub's tenant
    listing: object
    victim: dict  # tenant model → the pks of the victim's rows
    outsiders: dict  # name → Outsider

    def rows(self, model):
        return model.objects.filter(pk__in=self.victim[model]).order_by("pk")

    @cached_property
    def identifiers(self):
        """Strings that name a victim row wherever a page or an answer would show it."""
        names = set()
        for model in TENANT_MODELS:
            shown = [f.name for f in model._meta.concrete_fields if isinstance(f, PublicIdField)]
            shown += [name for name in ("prefix", "legal_name") if any(f.name == name for f in model._meta.fields)]
            for field in shown:
                names.update(str(value) for value in self.rows(model).values_list(field, flat=True))
        return names


def build_victim():
    """HKG sells a handbag into HGH: hubs, companies, memberships, keys, rule sets, a partner's webhook endpoint, a
    listing, a quote, an order with its buyer, a quota movement, its payment into escrow with the ledger's accounts
    and postings, its export declaration held and answered with a document under HKG's risk rule, its refund claim
    filed, a second order paid out in tranches with its pre-arrival message applied under the pair's key and its
    export in a summary declaration filed at HKG, its parcel
    in a departure's consignment and its shipment tracked, the audit events all of that records, and the webhooks
    each of its orders' moves wrote out, one of them attempted and one given up."""
    hgh = make_tenant("HGH", "CN", "CNY", "Asia/Shanghai")
    hkg = make_tenant("HKG", "HK", "HKD", "Asia/Hong_Kong")
    hkg.company.home_currency = "CNY"  # priced in CNY, it sells into Hangzhou without conversion
    hkg.company.verified = True  # verified by its hub: it places orders
    hkg.company.save(update_fields=["home_currency", "verified"])
    rule_sets_load_reference(hub=hgh.hub)
    issue_key(hkg.seller_admin, hkg.company_integrator)
    issue_key(hgh.supervisor, hgh.hub_integrator)
    endpoint = webhook_endpoint_add(
        actor=actor_for(hkg.seller_admin.user), company=hkg.company, url="https://erp.hkg.example/ehub"
    )
    listing = make_listing(hkg)
    quote = quote_listing(hkg, hgh, listing)
    order = order_place(actor=actor_for(hkg.seller_admin.user), quote=quote, buyer=BUYER)
    QuotaEntry.objects.create(
        hub=hgh.hub,
        consumer_hash=consumer_hash(CONSUMER),
        year=hub_today(hgh.hub).year,
        amount=Decimal("500.00"),
        reference=order.public_id,
    )
    payment_start(actor=actor_for(hkg.seller_admin.user), order=order, method="sim_ok")  # escrow, seller's share
    duties_to_hub(order=order)  # the hub's tax account
    # Its export declaration, sent to the document check by HKG's rule, held and answered with a document.
    RiskRule.objects.create(hub=hkg.hub, kind=RiskRuleKind.RANDOM, lane=Lane.YELLOW, threshold=Decimal(1))
    held = declaration_file(order=order, direction=Direction.EXPORT)
    held = declaration_decide(
        actor=actor_for(hkg.officer.user), declaration=held, decision="hold", reason="Check", documents="Invoice"
    )
    invoice = SimpleUploadedFile("invoice.pdf", b"%PDF-1.7 victim invoice", content_type="application/pdf")
    declaration_answer(actor=actor_for(hkg.seller_admin.user), declaration=held, files=[invoice])
    RefundClaim.objects.create(  # made directly: Hong Kong's hub has no rule set to grant one
        order=order,
        hub=hkg.hub,
        company=hkg.company,
        export_date=hub_today(hkg.hub),
        rule_set_version=1,
        lines=[],
        amount=Money("65.00", "CNY"),
        explanation="Victim refund",
        status="filed",
    )
    # A second order, delivered and paid out to Hong Kong in tranches.
    Corridor.objects.create(from_country="CN", to_country="HK", currency="CNY", per_transfer_cap=Decimal("100"))
    delivered = order_place(actor=actor_for(hkg.seller_admin.user), quote=quote_listing(hkg, hgh, listing), buyer=BUYER)
    payment_start(actor=actor_for(hkg.seller_admin.user), order=delivered, method="sim_ok")
    deliver(delivered)  # its export's release queues its pre-arrival message, delivered under the pair's first key
    hub_message_deliver(message=HubMessage.objects.get(order=delivered))
    summary = SummaryDeclaration.objects.create(  # made directly: HKG's exports are not CBEC ones
        hub=hkg.hub,
        company=hkg.company,
        month=hub_today(hkg.hub).replace(day=1),
        destination_country="CN",
        lines=[{"hs_code": "420221", "description": "Handbag", "quantity": 1, "value": "100.00", "orders": 1}],
        value=Money("100.00", "CNY"),
    )
    Declaration.objects.filter(order=delivered, direction=Direction.EXPORT).update(summary=summary)
    summary_data = {"summary": summary.public_id, "hub": "HKG", "count": 1, "month": f"{summary.month:%Y-%m}"}
    audit_event_record(actor=None, verb=SUMMARY_FILED, target=summary, data=summary_data)  # its page's history
    escrow_release(order=delivered)
    payout_schedule(order=delivered)
    # Its parcel, in a consignment of a departure from Hong Kong to Hangzhou.
    flight = Departure.objects.create(
        origin_hub=hkg.hub,
        destination_hub=hgh.hub,
        unit_type=UnitType.objects.get(code="LD3"),
        units=1,
        unit_cost=Money("1200.00", "USD"),
        cut_off_at=timezone.now(),
        departs_at=timezone.now(),
    )
    cost = Money("1200.00", "USD")
    consignment = Consignment.objects.create(
        departure=flight, number=1, weight_kg=14, volume_m3=Decimal("0.088"), chargeable_kg=15, cost=cost
    )
    Parcel.objects.create(
        order=delivered,
        weight_kg=14,
        length_cm=30,
        width_cm=45,
        height_cm=65,
        consignment=consignment,
        chargeable_kg=15,
        cost_share=cost,
    )
    shipment = Shipment.objects.create(
        order=delivered,
        sender={"name": hkg.company.legal_name},
        receiver={"name": BUYER["name"]},
        carrier="simulated",
        waybill="999-00000001",
        status="in_transit",
    )
    TrackingEvent.objects.create(
        shipment=shipment, carrier_event_id="trk-1", status="in_transit", occurred_at=timezone.now(), place="HKG"
    )
    ShipmentDocument.objects.create(shipment=shipment, kind="label", content=b"%PDF-1.7", sha256="0" * 64)
    WebhookAttempt.objects.create(delivery=endpoint.deliveries.first(), number=1, status_code=200, duration_ms=12)
    transition(endpoint.deliveries.last(), WebhookDeliveryStatus.FAILED, actor=None, reason="HTTP 500")  # to send again
    return hkg, hgh, listing


def build_outsiders(hkg):
    """A third tenant unrelated to the victim's hubs (MYS), and another company's seller at HKG."""
    mys = make_tenant("MYS", "MY", "MYR", "Asia/Kuala_Lumpur")
    company_key, company_secret = issue_key(mys.seller_admin, mys.company_integrator)
    hub_key, hub_secret = issue_key(mys.supervisor, mys.hub_integrator)
    neighbour = MembershipFactory(role=Role.SELLER_ADMIN, company=CompanyFactory(home_hub=hkg.hub))
    return {
        "MYS-seller-admin": Outsider(mys.seller_admin),
        "MYS-company-key": Outsider(mys.company_integrator, company_key, company_secret),
        "MYS-officer": Outsider(mys.officer),
        "MYS-supervisor": Outsider(mys.supervisor),
        "MYS-hub-key": Outsider(mys.hub_integrator, hub_key, hub_secret),
        "HKG-neighbour-seller": Outsider(neighbour),
    }


@pytest.fixture(scope="module")
def _world(django_db_setup, django_db_blocker):
    """Built once for the module inside a transaction that is rolled back at its end."""
    fast_hashing = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
    with django_db_blocker.unblock(), fast_hashing, transaction.atomic():
        hkg, hgh, listing = build_victim()
        # Every tenant row that exists now is the victim's; what the outsiders bring comes after.
        victim = {model: frozenset(model.objects.values_list("pk", flat=True)) for model in TENANT_MODELS}
        yield World(hkg=hkg, hgh=hgh, listing=listing, victim=victim, outsiders=build_outsiders(hkg))
        transaction.set_rollback(True)


@pytest.fixture
def world(_world, db):
    """The module's world; each test's own writes are rolled back when it ends."""
    return _world


def leaks(body, world):
    text = body.decode() if isinstance(body, bytes) else body
    return sorted(name for name in world.identifiers if name in text)


# --- guards: what the walk relies on ----------------------------------------------------------------------


@pytest.mark.parametrize("model", TENANT_MODELS, ids=label)
def test_the_victim_holds_a_row_of_every_tenant_model(world, model):
    assert world.victim[model], (
        f"The victim has no {label(model)} row: add one to `build_victim` so that the walk checks it stays hidden."
    )


@pytest.mark.parametrize("outsider", OUTSIDERS)
def test_each_outsider_is_a_real_actor_with_rows_of_its_own(world, outsider):
    # Given an outsider, when it reads companies, then it sees its own: its emptiness elsewhere means "hidden"
    assert SELECTORS[Company](world.outsiders[outsider].actor).exists()


def test_every_api_viewset_over_tenant_rows_is_a_tenant_viewset():
    unscoped = {}
    for prefix, viewset, _ in router.registry:
        request = RequestFactory().get("/")
        request.user, request.query_params = AnonymousUser(), {}
        model = viewset(request=request, kwargs={}, format_kwarg=None, action="list").get_queryset().model
        if is_tenant_model(model) and not issubclass(viewset, TenantViewSet) and prefix not in PUBLIC_VIEWSETS:
            unscoped[prefix] = viewset.__name__
    assert not unscoped, f"API endpoints over tenant rows that bypass TenantViewSet: {unscoped}"


def test_every_console_page_over_tenant_rows_is_a_tenant_admin():
    unscoped = [
        label(model)
        for model, model_admin in admin.site._registry.items()
        if is_tenant_model(model) and not isinstance(model_admin, TenantAdmin)
    ]
    assert not unscoped, f"Console pages over tenant rows that do not subclass TenantAdmin: {unscoped}"


def test_the_walk_discovers_every_surface():
    # A floor, so that a broken discovery cannot make the walk walk nothing
    assert {Company, Listing, Quote, Order, ApiKey, AuditEvent, QuotaEntry} <= set(TENANT_MODELS)
    assert {param.id for param in TENANT_VIEWSETS} >= {
        "companies",
        "listings",
        "quotes",
        "orders",
        "webhook-endpoints",
        "webhook-deliveries",
    }
    assert {param.values[0] for param in TENANT_ADMINS} >= {Company, Listing, Quote, Order, ApiKey}
    assert {param.id for param in OBJECT_PAGES} >= {
        "trade:listing-detail",
        "trade:listing-restock",
        "trade:listing-archive",
        "trade:order-cancel",
        "api-key-revoke",
        "webhook-endpoint",
        "webhook-endpoint-send-test",
        "webhook-endpoint-deactivate-confirm",
        "webhook-delivery-send-again",
        "webhook-endpoint-rotate-secret-confirm",
    }
    assert {param.id for param in LIST_PAGES} >= {
        "trade:listings",
        "trade:quotes",
        "trade:orders",
        "team",
        "api-keys",
        "webhooks",
    }


def test_every_portal_page_is_reached_by_its_own_name():
    # A portal page named as an API route is not reached by `{% url name value %}`: the name and a value reverse to
    # the API's route (the webhook endpoint page's test button posted to the API's test action)
    elsewhere = {}
    for page in PORTAL_PAGES:
        for path in (
            reverse(page.name, kwargs=dict.fromkeys(page.arguments, "X-1")),
            reverse(page.name, args=["X-1" for _ in page.arguments]),
        ):
            if path.startswith(("/api/", "/admin/")):
                elsewhere[page.name] = path
    assert not elsewhere, f"portal pages whose names reverse to another surface's route: {elsewhere}"


# --- models: selectors and restrict -----------------------------------------------------------------------


@pytest.mark.parametrize("outsider", OUTSIDERS)
@pytest.mark.parametrize("model", TENANT_MODELS, ids=label)
def test_no_selector_shows_an_outsider_a_victim_row(world, model, outsider):
    # Given an outsider's actor
    actor = world.outsiders[outsider].actor

    # When it reads the model through its selector, and through restrict
    through_selector = set(SELECTORS[model](actor).values_list("pk", flat=True))
    through_restrict = set(restrict(model.objects.all(), actor).values_list("pk", flat=True))

    # Then neither holds a victim row
    assert not through_selector & world.victim[model], f"{outsider} sees {label(model)} rows through its selector"
    assert not through_restrict & world.victim[model], f"{outsider} sees {label(model)} rows through restrict"


@pytest.mark.parametrize("model", TENANT_MODELS, ids=label)
def test_the_victims_own_people_see_their_rows(world, model):
    members = [getattr(tenant, role) for tenant in (world.hkg, world.hgh) for role in ROLES]
    seen = set().union(*(SELECTORS[model](actor_for(m.user)).values_list("pk", flat=True) for m in members))
    assert seen & world.victim[model], f"no member of the victim sees its own {label(model)} rows"


# --- API: every endpoint over tenant rows -----------------------------------------------------------------


def model_of(viewset):
    """The model a viewset reads: the one whose registered selector is the viewset's."""
    return next(model for model, selector in SELECTORS.items() if selector is viewset.selector)


def json_id(viewset, model):
    """The key under which the API shows the attribute the viewset looks rows up by (`id` for `public_id`)."""
    wanted = {viewset.lookup_field}
    if viewset.lookup_field == "pk":
        wanted.add(model._meta.pk.name)
    fields = viewset.serializer_class().fields
    return next(name for name, field in fields.items() if name in wanted or field.source in wanted)


def lookup_kwargs(viewset, row):
    return {viewset.lookup_url_kwarg or viewset.lookup_field: getattr(row, viewset.lookup_field)}


def listed(client, url):
    """Every row of a list endpoint, page after page, and the raw answers."""
    rows, bodies = [], []
    while url:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        body = response.json()
        bodies.append(response.content)
        rows += body["results"] if isinstance(body, dict) else body
        url = body.get("next") if isinstance(body, dict) else None
    return rows, b"".join(bodies)


def object_routes(viewset, basename, row):
    """(method, URL) of every route about one row: the detail route's methods and the detail actions."""
    kwargs = lookup_kwargs(viewset, row)
    for route in router.routes:
        if isinstance(route, Route) and route.detail:
            for method in router.get_method_map(viewset, route.mapping):
                yield method, reverse(f"{basename}-detail", kwargs=kwargs)
    for extra in viewset.get_extra_actions():
        if extra.detail:
            for method in extra.mapping:
                yield method, reverse(f"{basename}-{extra.url_name}", kwargs=kwargs)


@pytest.mark.parametrize("outsider", OUTSIDERS)
@pytest.mark.parametrize(("prefix", "viewset", "basename"), TENANT_VIEWSETS)
def test_api_lists_show_an_outsider_no_victim_row(world, prefix, viewset, basename, outsider):
    model = model_of(viewset)
    victim_ids = {str(getattr(row, viewset.lookup_field)) for row in world.rows(model)}

    # When the outsider lists the endpoint
    rows, body = listed(world.outsiders[outsider].client(), reverse(f"{basename}-list"))

    # Then no row is the victim's, and the answer names none of the victim's rows anywhere
    key = json_id(viewset, model)
    assert not {str(row[key]) for row in rows} & victim_ids, f"{outsider} lists victim rows at /api/v1/{prefix}/"
    assert not leaks(body, world), f"{outsider} reads {leaks(body, world)} at /api/v1/{prefix}/"


@pytest.mark.parametrize("outsider", OUTSIDERS)
@pytest.mark.parametrize(("prefix", "viewset", "basename"), TENANT_VIEWSETS)
def test_api_object_routes_answer_an_outsider_404(world, prefix, viewset, basename, outsider):
    client = world.outsiders[outsider].client()
    walked, answered = 0, []

    # When the outsider calls every route about every victim row (read, update, actions such as cancel)
    for row in world.rows(model_of(viewset)):
        for method, url in object_routes(viewset, basename, row):
            response = getattr(client, method)(url, {}, format="json")
            walked += 1
            if response.status_code != 404:
                answered.append(f"{method.upper()} {url} → {response.status_code}")

    # Then each answers 404
    assert walked, f"no route walked for /api/v1/{prefix}/"
    assert not answered, f"{outsider} reaches victim rows: {answered}"


@pytest.mark.parametrize(("prefix", "viewset", "basename"), TENANT_VIEWSETS)
def test_api_shows_the_victim_its_rows(world, prefix, viewset, basename):
    # Given the victim's seller admin (its company's rows), or its hub's officer for rows of hubs only — the
    # control that the URLs and keys above are right
    model = model_of(viewset)
    insider = world.hkg.seller_admin if tenant_lookups(model, "tenant_company") else world.hkg.officer
    client = session_client(insider)
    own = restrict(world.rows(model), actor_for(insider.user)).first()
    assert own is not None, f"the victim's {insider.get_role_display()} sees no {label(model)} row"

    rows, _ = listed(client, reverse(f"{basename}-list"))
    assert str(getattr(own, viewset.lookup_field)) in {str(row[json_id(viewset, model)]) for row in rows}
    assert client.get(reverse(f"{basename}-detail", kwargs=lookup_kwargs(viewset, own))).status_code == 200


# --- the officer console: every TenantAdmin page ----------------------------------------------------------


def admin_url(model, suffix, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{suffix}", args=args)


def object_page_names(model_admin):
    """The console's named pages about one row (change, history, delete, and a page's own, such as a decision)."""
    return [p.name for p in model_admin.urls if p.name and set(p.pattern.regex.groupindex) == {"object_id"}]


@pytest.mark.parametrize("outsider", CONSOLE_OUTSIDERS)
@pytest.mark.parametrize(("model", "model_admin"), TENANT_ADMINS)
def test_console_lists_show_an_outsider_no_victim_row(world, model, model_admin, outsider):
    # When another hub's officer opens the page's list
    response = world.outsiders[outsider].client().get(admin_url(model, "changelist"))

    # Then it links to no victim row and names none
    assert response.status_code == 200
    body = response.content.decode()
    shown = [row.pk for row in world.rows(model) if admin_url(model, "change", admin_quote(row.pk)) in body]
    assert not shown, f"{outsider} sees {label(model)} rows {shown} in the console"
    assert not leaks(body, world), f"{outsider} reads {leaks(body, world)} on the {label(model)} list"


@pytest.mark.parametrize("outsider", CONSOLE_OUTSIDERS)
@pytest.mark.parametrize(("model", "model_admin"), TENANT_ADMINS)
def test_console_object_pages_answer_an_outsider_404(world, model, model_admin, outsider):
    client = world.outsiders[outsider].client()
    answered = []
    for row in world.rows(model):
        for name in object_page_names(model_admin):
            url = reverse(f"admin:{name}", args=[admin_quote(row.pk)])
            status = client.get(url).status_code
            if status != 404:
                answered.append(f"GET {url} → {status}")
    assert not answered, f"{outsider} reaches victim rows in the console: {answered}"


def tenant_state(world):
    """How many rows each tenant model holds, and the victim's rows as they are."""
    return {model: (model.objects.count(), list(world.rows(model).values())) for model in TENANT_MODELS}


def run_actions(client, model, model_admin, pks):
    """Run each action the page declares (verify, revoke, publish, ...) on the rows `pks`, as the console does."""
    for action in model_admin.actions:
        name = action if isinstance(action, str) else action.__name__
        client.post(admin_url(model, "changelist"), {"action": name, "_selected_action": list(pks), "index": 0})


TENANT_ADMINS_WITH_ACTIONS = [param for param in TENANT_ADMINS if param.values[1].actions]


@pytest.mark.parametrize("outsider", CONSOLE_OUTSIDERS)
@pytest.mark.parametrize(("model", "model_admin"), TENANT_ADMINS_WITH_ACTIONS)
def test_console_actions_on_victim_rows_change_nothing(world, model, model_admin, outsider):
    # Given another hub's officer or supervisor, and the state of every tenant model
    client, before = world.outsiders[outsider].client(), tenant_state(world)

    # When it runs each of the page's actions on the victim's rows
    run_actions(client, model, model_admin, world.victim[model])

    # Then nothing is written: no victim row changed, no row added anywhere (audit events included)
    assert tenant_state(world) == before, f"{outsider} changed victim {label(model)} rows with console actions"


@pytest.mark.parametrize(("model", "model_admin"), TENANT_ADMINS_WITH_ACTIONS)
def test_console_actions_by_the_victims_supervisors_change_their_rows(world, model, model_admin):
    # The control: the same actions, run by the victim hubs' own supervisors, do write
    before = tenant_state(world)
    for tenant in (world.hkg, world.hgh):
        run_actions(session_client(tenant.supervisor), model, model_admin, world.victim[model])
    assert tenant_state(world) != before


@pytest.mark.parametrize(("model", "model_admin"), TENANT_ADMINS)
def test_console_shows_the_victims_officers_their_rows(world, model, model_admin):
    # The control: an officer of a victim hub sees its rows on the same pages
    for tenant in (world.hkg, world.hgh):
        own = restrict(world.rows(model), actor_for(tenant.officer.user)).first()
        if own is not None:
            break
    assert own is not None, f"no officer of the victim's hubs sees a {label(model)} row"
    client = session_client(tenant.officer)
    assert (
        admin_url(model, "change", admin_quote(own.pk)) in client.get(admin_url(model, "changelist")).content.decode()
    )
    for name in object_page_names(model_admin):
        if not name.endswith("_delete"):  # nobody deletes tenant rows: 403 to everyone who may see them
            assert client.get(reverse(f"admin:{name}", args=[admin_quote(own.pk)])).status_code == 200, name


def victim_people(world):
    """The people of the victim's memberships (users are no tenant model: they are reached through those)."""
    return get_user_model().objects.filter(memberships__in=world.victim[Membership]).distinct().order_by("pk")


@pytest.mark.parametrize("outsider", CONSOLE_OUTSIDERS)
def test_console_people_pages_answer_an_outsider_404(world, outsider):
    # When another hub's officer opens every page about each of the victim's people, and the list of people
    client = world.outsiders[outsider].client()
    model_admin = admin.site._registry[get_user_model()]
    answered = []
    for person in victim_people(world):
        for name in object_page_names(model_admin):
            url = reverse(f"admin:{name}", args=[admin_quote(person.pk)])
            if (status := client.get(url).status_code) != 404:
                answered.append(f"GET {url} → {status}")
    listed = client.get(admin_url(get_user_model(), "changelist")).content.decode()

    # Then each answers 404, as for a person who does not exist, and the list names none of them
    assert victim_people(world).exists()
    assert not answered, f"{outsider} reaches the victim's people in the console: {answered}"
    assert not [p.username for p in victim_people(world) if f">{p.username}<" in listed]


def test_console_shows_the_victims_officers_their_people(world):
    # The control: an officer of the victim's destination hub opens its own people's pages
    client = session_client(world.hgh.officer)
    for person in victim_people(world).filter(memberships__hub=world.hgh.hub):
        assert client.get(admin_url(get_user_model(), "history", admin_quote(person.pk))).status_code == 200


# --- the portal: every page that takes a row, and every page that lists -----------------------------------


def rows_named_by(world, argument):
    """The victim rows a URL argument can name: those of every tenant model with a field of that name."""
    for model in TENANT_MODELS:
        if any(field.name == argument for field in model._meta.concrete_fields):
            for row in world.rows(model):
                yield row, getattr(row, argument)


def test_every_portal_object_page_names_victim_rows(world):
    unknown = [page.route for page in PORTAL_PAGES if len(page.arguments) > 1]
    unknown += [
        page.route
        for page in PORTAL_PAGES
        if len(page.arguments) == 1 and not any(rows_named_by(world, *page.arguments))
    ]
    assert not unknown, f"the walk cannot fill these pages' arguments with victim rows; teach it: {unknown}"


@pytest.mark.parametrize("outsider", SESSION_OUTSIDERS)
@pytest.mark.parametrize("page", OBJECT_PAGES)
def test_portal_object_pages_answer_an_outsider_404(world, page, outsider):
    client = world.outsiders[outsider].client()
    (argument,) = page.arguments
    answered = []

    # When the outsider GETs and POSTs the page for every victim row its argument can name
    for _, value in rows_named_by(world, argument):
        url = reverse(page.name, kwargs={argument: value})
        statuses = {method: getattr(client, method)(url).status_code for method in ("get", "post")}

        # Then it answers 404 (405 only to the method the page refuses anyway): no page, no redirect to the row
        if set(statuses.values()) - {404, 405} or 404 not in statuses.values():
            answered.append(f"{url} → {statuses}")
    assert not answered, f"{outsider} reaches victim rows on the portal: {answered}"


def reached_by_owner(client, url):
    """Whether the victim's seller reaches the page (GET, or POST where only POST is taken); undone after."""
    with transaction.atomic():
        status = client.get(url).status_code
        if status == 405:
            status = client.post(url).status_code
        transaction.set_rollback(True)
    return status != 404


def test_the_portal_walk_reaches_a_victim_row_of_every_kind(world):
    # Given the victim's seller admin, who owns the listing, quote, order and company key
    client = session_client(world.hkg.seller_admin)
    kinds = {}

    # When it opens every object page with every victim row its argument can name
    for param in OBJECT_PAGES:
        (page,) = param.values
        (argument,) = page.arguments
        for row, value in rows_named_by(world, argument):
            if reached_by_owner(client, reverse(page.name, kwargs={argument: value})):
                kinds.setdefault(page.name, set()).add(type(row))

    # Then each page reaches a row of its own, and pages of every kind were walked
    assert set(kinds) == {param.values[0].name for param in OBJECT_PAGES}, f"pages reaching nothing: {kinds}"
    assert set().union(*kinds.values()) >= PORTAL_KINDS, f"the walk reached only {kinds}"


@pytest.mark.parametrize("outsider", SESSION_OUTSIDERS)
@pytest.mark.parametrize("page", LIST_PAGES)
def test_portal_pages_without_a_row_show_an_outsider_no_victim_row(world, page, outsider):
    # When the outsider opens a page that takes no row (the listings and orders lists among them)
    response = world.outsiders[outsider].client().get(reverse(page.name))

    # Then it names none of the victim's rows
    assert not leaks(response.content, world), f"{outsider} reads {leaks(response.content, world)} at /{page.route}"


def test_the_victim_seller_reaches_its_listing(world):
    # The control of the whole walk: the owner gets 200 where outsiders get 404
    client = session_client(world.hkg.seller_admin)
    listing = world.listing

    page = client.get(reverse("trade:listing-detail", kwargs={"public_id": listing.public_id}))
    api = client.get(reverse("listing-detail", kwargs={"id": listing.public_id}))

    assert page.status_code == 200
    assert listing.public_id in page.content.decode()
    assert api.status_code == 200
    assert api.json()["id"] == listing.public_id
