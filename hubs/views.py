from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from hubs.forms import (
    ApiKeyIssueForm,
    DeactivateForm,
    HSSearchForm,
    IntegratorCreateForm,
    MemberInviteForm,
    RevokeForm,
    RotateSecretForm,
    WebhookEndpointForm,
    add_domain_error,
)
from hubs.kernel.errors import DomainError
from hubs.partner_webhooks import (
    EVENT_ID_HEADER,
    SIGNATURE_HEADER,
    event_types,
    webhook_delivery_retry,
    webhook_endpoint_add,
    webhook_endpoint_deactivate,
    webhook_endpoint_secret_rotate,
    webhook_endpoint_test,
)
from hubs.scoping import actor_for_request
from hubs.selectors import (
    api_keys_managed_by,
    colleagues_for,
    companies_administered_by,
    hs_code_normalize,
    hs_code_validate,
    hs_codes_search,
    integrator_memberships_managed_by,
    webhook_deliveries_for,
    webhook_deliveries_managed_by,
    webhook_endpoints_for,
    webhook_endpoints_managed_by,
)
from hubs.services import api_key_issue, api_key_revoke, integrator_create, member_invite


@login_required
def home(request):
    return render(request, "hubs/home.html")


# A key just issued, an invitation link just made, an endpoint's secret just drawn (added or rotated): kept in the
# session from the POST to the GET that shows them, once (POST/redirect/GET: a reload neither draws again nor shows
# them again).
ISSUED_KEY = "hubs.issued_key"
INVITATION = "hubs.invitation"
ADDED_ENDPOINT = "hubs.added_endpoint"


def _api_keys_page(request, actor, *, form=None, integrator_form=None):
    memberships = integrator_memberships_managed_by(actor)
    administered = companies_administered_by(actor)
    if integrator_form is None and administered:
        integrator_form = IntegratorCreateForm(companies=administered)
    keys = api_keys_managed_by(actor).order_by("revoked", "-created")
    context = {
        "form": form or ApiKeyIssueForm(memberships=memberships),
        "integrator_form": integrator_form,
        "keys": keys,
        "issued": request.session.pop(ISSUED_KEY, None) if request.method == "GET" else None,
        "manages_integrators": memberships.exists(),
    }
    return render(request, "hubs/api_keys.html", context)


@login_required
def api_keys(request):
    """Issue and revoke the API keys of the integrators the user manages. A new key is shown this once."""
    actor = actor_for_request(request)
    form = None
    if request.method == "POST":
        form = ApiKeyIssueForm(request.POST, memberships=integrator_memberships_managed_by(actor))
        if form.is_valid():
            try:
                api_key, key = api_key_issue(
                    actor=actor,
                    membership=form.cleaned_data["membership"],
                    name=form.cleaned_data["name"],
                    expires_at=form.cleaned_data["expires_at"],
                )
            except DomainError as error:
                add_domain_error(form, error)
            else:
                request.session[ISSUED_KEY] = {"name": api_key.name, "prefix": api_key.prefix, "key": key}
                return redirect("api-keys")
    return _api_keys_page(request, actor, form=form)


@login_required
@require_POST
def integrator_new(request):
    """A seller admin creates its company's integrator, the user its API keys act as."""
    actor = actor_for_request(request)
    companies = companies_administered_by(actor)
    if not companies:
        raise PermissionDenied("Only a company's seller admin creates its integrators.")
    form = IntegratorCreateForm(request.POST, companies=companies)
    if form.is_valid():
        try:
            membership = integrator_create(actor=actor, company=form.company, username=form.cleaned_data["username"])
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(
                request, f"{membership.user} is an integrator of {membership.company}: issue it a key below."
            )
            return redirect("api-keys")
    return _api_keys_page(request, actor, integrator_form=form)


def confirmed_action(request, form_class, action, *, done, then, template, context):
    """A step that cannot be undone: GET asks to confirm (with a reason, `form_class`), POST runs
    `action(**the form's fields)`, says `done` or the refusal, and redirects to `then`."""
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            action(**form.cleaned_data)
        except (DomainError, PermissionDenied) as error:
            messages.error(request, getattr(error, "detail", None) or str(error))
        else:
            messages.success(request, done)
        return then
    return render(request, template, {**context, "form": form})


@login_required
def revoke_api_key(request, prefix):
    """Asks to confirm (GET), then revokes the key for good (POST)."""
    actor = actor_for_request(request)
    api_key = get_object_or_404(api_keys_managed_by(actor), prefix=prefix)
    return confirmed_action(
        request,
        RevokeForm,
        lambda reason: api_key_revoke(actor=actor, api_key=api_key, reason=reason),
        done=f"The key “{api_key.name}” ({api_key.prefix}…) is revoked.",
        then=redirect("api-keys"),
        template="hubs/api_key_revoke.html",
        context={"api_key": api_key},
    )


@login_required
def team(request):
    """The people of the user's companies; a seller admin invites colleagues here."""
    actor = actor_for_request(request)
    administered = companies_administered_by(actor)
    form = MemberInviteForm(request.POST or None, companies=administered) if administered else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied("Only a company's seller admin invites colleagues.")
        if form.is_valid():
            try:
                membership, link = member_invite(
                    actor=actor,
                    company=form.company,
                    username=form.cleaned_data["username"],
                    email=form.cleaned_data["email"],
                    role=form.cleaned_data["role"],
                    site=request.build_absolute_uri("/").rstrip("/"),
                )
            except DomainError as error:
                add_domain_error(form, error)
            else:
                request.session[INVITATION] = {
                    "username": membership.user.username,
                    "company": membership.company.legal_name,
                    "email": membership.user.email,
                    "link": link,
                }
                return redirect("team")
    context = {
        "form": form,
        "members": colleagues_for(actor),
        "invitation": request.session.pop(INVITATION, None) if request.method == "GET" else None,
    }
    return render(request, "hubs/team.html", context)


@login_required
def hs_codes(request):
    """Search the HS 2022 nomenclature; a full goods code is also checked."""
    form = HSSearchForm(request.GET or None)
    query = form.data.get("q", "").strip() if form.is_bound else ""
    page = Paginator(hs_codes_search(query), 50).get_page(request.GET.get("page"))
    checked = checked_error = None
    if len(hs_code_normalize(query)) >= 6 and hs_code_normalize(query).isdigit():
        try:
            checked = hs_code_validate(query, attr="q")
        except DomainError as error:
            checked_error = error.detail
    return render(
        request, "hubs/hs_codes.html", {"form": form, "page": page, "checked": checked, "checked_error": checked_error}
    )


def _own_endpoints(actor):
    """The endpoints of the actor's own companies (an officer reads others' in the console, not here)."""
    return webhook_endpoints_for(actor).filter(company__in=actor.company_ids)


@login_required
def webhooks(request):
    """The endpoints of the user's companies; a seller admin adds one here and is shown its secret once."""
    actor = actor_for_request(request)
    administered = companies_administered_by(actor)
    form = WebhookEndpointForm(request.POST or None, companies=administered, event_types=event_types())
    if request.method == "POST":
        if not administered:
            raise PermissionDenied("Only a company's seller admin adds webhook endpoints.")
        if form.is_valid():
            try:
                endpoint = webhook_endpoint_add(
                    actor=actor,
                    company=form.company,
                    url=form.cleaned_data["url"],
                    description=form.cleaned_data["description"],
                    event_types=form.cleaned_data["event_types"],
                )
            except DomainError as error:
                add_domain_error(form, error)
            else:
                request.session[ADDED_ENDPOINT] = {
                    "id": endpoint.public_id,
                    "secret": endpoint.secret,
                    "rotated": False,
                }
                return redirect("webhook-endpoint", endpoint.public_id)
    context = {"form": form if administered else None, "endpoints": _own_endpoints(actor)}
    return render(request, "hubs/webhooks.html", context)


@login_required
def webhook_endpoint(request, public_id):
    """An endpoint and its delivery log, each event with its attempts; its secret once, just after it is added or
    rotated."""
    actor = actor_for_request(request)
    endpoint = get_object_or_404(_own_endpoints(actor), public_id=public_id)
    added = request.session.pop(ADDED_ENDPOINT, None) if request.method == "GET" else None
    added = added if added and added["id"] == endpoint.public_id else None
    deliveries = webhook_deliveries_for(actor).filter(endpoint=endpoint)
    context = {
        "endpoint": endpoint,
        "secret": added["secret"] if added else None,
        "rotated": bool(added and added.get("rotated")),
        "manages": webhook_endpoints_managed_by(actor).filter(pk=endpoint.pk).exists(),
        "page": Paginator(deliveries, 25).get_page(request.GET.get("page")),
        "signature_header": SIGNATURE_HEADER,
        "event_id_header": EVENT_ID_HEADER,
    }
    return render(request, "hubs/webhook_endpoint.html", context)


@login_required
@require_POST
def webhook_endpoint_send_test(request, public_id):
    """A seller admin sends its endpoint a test event; the log shows how it went."""
    actor = actor_for_request(request)
    endpoint = get_object_or_404(webhook_endpoints_managed_by(actor), public_id=public_id)
    try:
        delivery = webhook_endpoint_test(actor=actor, endpoint=endpoint)
    except DomainError as error:
        messages.error(request, error.detail)
    else:
        messages.success(request, f"Test event {delivery.public_id} is on its way: its attempts show below.")
    return redirect("webhook-endpoint", endpoint.public_id)


@login_required
def webhook_endpoint_deactivate_page(request, public_id):
    """Asks to confirm (GET), then stops the events to the endpoint for good (POST)."""
    actor = actor_for_request(request)
    endpoint = get_object_or_404(webhook_endpoints_managed_by(actor), public_id=public_id)
    return confirmed_action(
        request,
        DeactivateForm,
        lambda reason: webhook_endpoint_deactivate(actor=actor, endpoint=endpoint, reason=reason),
        done=f"{endpoint.url} is sent no more events.",
        then=redirect("webhook-endpoint", endpoint.public_id),
        template="hubs/webhook_endpoint_deactivate.html",
        context={"endpoint": endpoint},
    )


@login_required
@require_POST
def webhook_delivery_send_again(request, public_id):
    """A seller admin sends a failed delivery again now (given up, or waiting out a back-off); the log shows how
    it went."""
    actor = actor_for_request(request)
    delivery = get_object_or_404(webhook_deliveries_managed_by(actor).select_related("endpoint"), public_id=public_id)
    try:
        webhook_delivery_retry(actor=actor, delivery=delivery)
    except DomainError as error:
        messages.error(request, error.detail)
    else:
        messages.success(request, f"{delivery.public_id} is sent again now: its attempts show below.")
    return redirect("webhook-endpoint", delivery.endpoint.public_id)


@login_required
def webhook_endpoint_rotate_secret_page(request, public_id):
    """Asks to confirm (GET), then draws the endpoint a new secret (POST), shown once on the endpoint's page; the
    previous one signs events too for the grace period, unless it leaked."""
    actor = actor_for_request(request)
    endpoint = get_object_or_404(webhook_endpoints_managed_by(actor), public_id=public_id)

    def rotate(reason, leaked):
        rotated = webhook_endpoint_secret_rotate(actor=actor, endpoint=endpoint, reason=reason, leaked=leaked)
        request.session[ADDED_ENDPOINT] = {"id": rotated.public_id, "secret": rotated.secret, "rotated": True}

    return confirmed_action(
        request,
        RotateSecretForm,
        rotate,
        done=f"{endpoint.public_id} has a new secret: give it to your partner now.",
        then=redirect("webhook-endpoint", endpoint.public_id),
        template="hubs/webhook_endpoint_rotate_secret.html",
        context={"endpoint": endpoint, "grace_hours": settings.PARTNER_WEBHOOKS_SECRET_GRACE_HOURS},
    )
