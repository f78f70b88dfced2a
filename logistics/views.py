"""The SME portal's shipments: each with its tracking timeline, its parcels and their shares of the consignments'
costs, and its label and packing list to download. Reads through the scoped selectors."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from hubs.kernel.errors import DomainError
from hubs.scoping import actor_for_request
from logistics.documents import pdf_response
from logistics.models import DocumentKind
from logistics.selectors import shipments_for
from logistics.services import shipment_document

PAGE_SIZE = 25


@login_required
def shipments(request):
    page = Paginator(shipments_for(actor_for_request(request)), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "logistics/shipments.html", {"page": page})


@login_required
def shipment_detail(request, public_id):
    shipment = get_object_or_404(shipments_for(actor_for_request(request)), public_id=public_id)
    parcels = shipment.order.parcels.select_related("consignment__departure").order_by("received_at", "pk")
    return render(request, "logistics/shipment_detail.html", {"shipment": shipment, "parcels": parcels})


def _document(kind):
    @login_required
    @require_GET
    def download(request, public_id):
        shipment = get_object_or_404(shipments_for(actor_for_request(request)), public_id=public_id)
        try:
            return pdf_response(shipment_document(shipment=shipment, kind=kind))
        except DomainError as refused:
            return render(request, "logistics/no_document.html", {"shipment": shipment, "reason": refused}, status=409)

    return download


shipment_label = _document(DocumentKind.LABEL)
shipment_packing_list = _document(DocumentKind.PACKING_LIST)
