from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from hubs.forms import ApiKeyIssueForm, HSSearchForm
from hubs.kernel.errors import DomainError
from hubs.models import ApiKey
from hubs.scoping import actor_for_request
from hubs.selectors import hs_code_normalize, hs_code_validate, hs_codes_search, integrator_memberships_managed_by
from hubs.services import api_key_issue, api_key_revoke


@login_required
def home(request):
    return render(request, "hubs/home.html")


@login_required
def api_keys(request):
    """Issue and revoke the API keys of the integrators the user manages. A new key is shown this once."""
    actor = actor_for_request(request)
    memberships = integrator_memberships_managed_by(actor)
    form = ApiKeyIssueForm(request.POST or None, memberships=memberships)
    issued = None
    if request.method == "POST" and form.is_valid():
        try:
            issued = api_key_issue(
                actor=actor,
                membership=form.cleaned_data["membership"],
                name=form.cleaned_data["name"],
                expires_at=form.cleaned_data["expires_at"],
            )
        except DomainError as error:
            form.add_error(error.attr if error.attr in form.fields else None, error.detail)
        else:
            form = ApiKeyIssueForm(memberships=memberships)
    keys = (
        ApiKey.objects.filter(membership__in=memberships)
        .select_related("membership__user", "membership__company", "membership__hub")
        .order_by("revoked", "-created")
    )
    context = {"form": form, "keys": keys, "issued": issued, "manages_integrators": memberships.exists()}
    return render(request, "hubs/api_keys.html", context, status=201 if issued else 200)


@login_required
@require_POST
def revoke_api_key(request, prefix):
    actor = actor_for_request(request)
    api_key = get_object_or_404(
        ApiKey.objects.filter(membership__in=integrator_memberships_managed_by(actor)), prefix=prefix
    )
    try:
        api_key_revoke(actor=actor, api_key=api_key, reason=request.POST.get("reason", ""))
    except (DomainError, PermissionDenied) as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"The key “{api_key.name}” ({api_key.prefix}…) is revoked.")
    return redirect("api-keys")


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
