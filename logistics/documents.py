"""A shipment's documents as PDFs rendered by WeasyPrint from templates: the label (with the waybill as a Code 128
barcode) and the packing list. Chinese and Malay names render as text in Noto Sans CJK (the README says what to
install)."""

import base64
import io

import barcode
from barcode.writer import SVGWriter
from django.http import HttpResponse

from hubs.kernel.downloads import download_response
from hubs.kernel.pdf import pdf_render

TEMPLATES = {"label": "logistics/label.html", "packing_list": "logistics/packing_list.html"}


def code128_data_uri(value: str) -> str:
    """`value` as a Code 128 barcode, an SVG data URI (its digits printed beside it, not under it)."""
    svg = io.BytesIO()
    barcode.Code128(value, writer=SVGWriter()).write(svg, options={"write_text": False, "quiet_zone": 2})
    return "data:image/svg+xml;base64," + base64.b64encode(svg.getvalue()).decode()


def render(kind: str, shipment) -> bytes:
    """The PDF of the shipment's `kind` of document (label or packing_list)."""
    parcels = list(shipment.order.parcels.order_by("received_at", "pk"))
    context = {
        "shipment": shipment,
        "parcels": parcels,
        "lines": list(shipment.order.lines.order_by("position")),
        "weight": sum(parcel.weight_kg for parcel in parcels),
        "barcode": code128_data_uri(shipment.waybill),
    }
    return pdf_render(TEMPLATES[kind], context)


def pdf_response(document) -> HttpResponse:
    """A stored document as a PDF download."""
    filename = f"{document.shipment.waybill}-{document.kind}.pdf"
    return download_response(
        document.content, content_type="application/pdf", filename=filename, sha256=document.sha256
    )
