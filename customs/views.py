"""The SME portal's customs: its orders' declarations, holds first, and the answer to a hold with documents; each
declaration and its order's commercial invoice as PDFs (a seller sees the lane and what an officer asked, never the
risk rules that chose the lane); its CBEC exports' summary declarations with their history; its export VAT refund
claims, filed from here."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, Value, When
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET

from customs.documents import Kind, document_download, summary_download
from customs.forms import AnswerForm, RefundFilingForm
from customs.models import DeclarationStatus, RefundClaimStatus
from customs.selectors import declarations_for, refund_claims_for, summary_declarations_for, with_exports
from customs.services import declaration_answer, refund_claim_file
from hubs.kernel.errors import DomainError
from hubs.scoping import actor_for_request
from hubs.selectors import audit_events_about

PAGE_SIZE = 25


@login_required
def declarations(request):
    actor = actor_for_request(request)
    held_first = Case(When(status=DeclarationStatus.HELD, then=Value(0)), default=Value(1), output_field=IntegerField())
    rows = declarations_for(actor).alias(held_first=held_first).order_by("held_first", "-filed_at")
    summary = None
    if "summary" in request.GET:  # the exports of one of the reader's summaries
        summary = get_object_or_404(summary_declarations_for(actor), public_id=request.GET["summary"])
        rows = rows.filter(summary=summary)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "customs/declarations.html", {"page": page, "summary": summary})


@login_required
def declaration_detail(request, public_id):
    actor = actor_for_request(request)
    declaration = get_object_or_404(declarations_for(actor), public_id=public_id)
    form = AnswerForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            declaration_answer(
                actor=actor, declaration=declaration, files=form.cleaned_data["files"], note=form.cleaned_data["note"]
            )
        except PermissionDenied as refused:
            messages.error(request, str(refused))
        except DomainError as refused:
            form.add_error("files" if refused.attr == "files" else None, refused.detail)
        else:
            messages.success(request, f"Your documents are with the officers of {declaration.hub.code}.")
            return redirect("customs:declaration-detail", public_id=declaration.public_id)
    context = {
        "declaration": declaration,
        "documents": declaration.documents.defer("content"),
        "form": form,
        "answerable": declaration.status == DeclarationStatus.HELD
        and declaration.order.company_id in actor.company_ids,
    }
    return render(request, "customs/declaration_detail.html", context, status=400 if form.errors else 200)


def _document(kind: Kind):
    @login_required
    @require_GET
    def download(request, public_id):
        declaration = get_object_or_404(declarations_for(actor_for_request(request)), public_id=public_id)
        return document_download(declaration, kind)

    return download


declaration_pdf = _document("declaration")
invoice_pdf = _document("invoice")


@login_required
@require_GET
def summary_pdf(request, public_id):
    return summary_download(
        get_object_or_404(summary_declarations_for(actor_for_request(request)), public_id=public_id)
    )


@login_required
def summaries(request):
    rows = with_exports(summary_declarations_for(actor_for_request(request)))
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "customs/summaries.html", {"page": page})


@login_required
def summary_detail(request, public_id):
    actor = actor_for_request(request)
    summary = get_object_or_404(with_exports(summary_declarations_for(actor)), public_id=public_id)
    history = audit_events_about(actor, summary)
    return render(request, "customs/summary_detail.html", {"summary": summary, "history": history})


@login_required
def refund_claims(request):
    page = Paginator(refund_claims_for(actor_for_request(request)), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "customs/refund_claims.html", {"page": page})


@login_required
def refund_claim_detail(request, public_id):
    actor = actor_for_request(request)
    claim = get_object_or_404(refund_claims_for(actor), public_id=public_id)
    form = RefundFilingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            refund_claim_file(actor=actor, claim=claim, **form.cleaned_data)
        except PermissionDenied as refused:
            messages.error(request, str(refused))
        except DomainError as refused:
            form.add_error(refused.attr if refused.attr in form.fields else None, refused.detail)
        else:
            messages.success(request, f"{claim.public_id} is filed with {claim.hub.code}.")
            return redirect("customs:refund-claim-detail", public_id=claim.public_id)
    context = {
        "claim": claim,
        "form": form,
        "fileable": claim.status == RefundClaimStatus.COMPUTED and claim.company_id in actor.company_ids,
    }
    return render(request, "customs/refund_claim_detail.html", context, status=400 if form.errors else 200)
