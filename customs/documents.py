"""Customs documents as PDFs rendered by WeasyPrint from templates: a declaration as it was filed, its order's
commercial invoice, and a summary declaration. Their labels are in English and, beside it, in the language of the
hub they are presented at, told by the hub's country: a new hub in a country listed here speaks its language with no
code, and a country not listed gets English only."""

import hashlib
from typing import Literal
from zoneinfo import ZoneInfo

from django.http import HttpResponse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from djmoney.money import Money

from customs.models import Declaration, SummaryDeclaration
from hubs.kernel.downloads import download_response
from hubs.kernel.pdf import pdf_render
from hubs.models import Hub
from trade.models import Order

# The language printed beside English on the documents of a hub in each country.
LANGUAGES = {"CN": "zh", "HK": "zh", "MY": "ms"}

# Each label in English, and in the languages of LANGUAGES (Chinese in simplified characters, Malay in Rumi).
LABELS = {
    "customs_declaration": ("Customs declaration", {"zh": "报关单", "ms": "Pengisytiharan Kastam"}),
    "commercial_invoice": ("Commercial invoice", {"zh": "商业发票", "ms": "Invois Komersial"}),
    "declaration_no": ("Declaration no.", {"zh": "报关单号", "ms": "No. pengisytiharan"}),
    "direction": ("Direction", {"zh": "进出口", "ms": "Arah"}),
    "export": ("Export", {"zh": "出口", "ms": "Eksport"}),
    "import": ("Import", {"zh": "进口", "ms": "Import"}),
    "procedure": ("Procedure", {"zh": "监管方式", "ms": "Prosedur"}),
    "hub": ("Declared at", {"zh": "申报口岸", "ms": "Diisytiharkan di"}),
    "filed": ("Filed", {"zh": "申报日期", "ms": "Tarikh difailkan"}),
    "lane": ("Lane", {"zh": "风险通道", "ms": "Laluan"}),
    "status": ("Status", {"zh": "状态", "ms": "Status"}),
    "order_no": ("Order no.", {"zh": "订单号", "ms": "No. pesanan"}),
    "order_date": ("Order date", {"zh": "订单日期", "ms": "Tarikh pesanan"}),
    "exporter": ("Exporter", {"zh": "出口商", "ms": "Pengeksport"}),
    "importer": ("Importer", {"zh": "进口商", "ms": "Pengimport"}),
    "declarant": ("Declarant", {"zh": "申报人", "ms": "Pengisytihar"}),
    "seller": ("Seller", {"zh": "卖方", "ms": "Penjual"}),
    "buyer": ("Buyer", {"zh": "买方", "ms": "Pembeli"}),
    "registration": ("Registration", {"zh": "注册号", "ms": "No. pendaftaran"}),
    "on_behalf_of": ("On behalf of", {"zh": "代理", "ms": "Bagi pihak"}),
    "goods": ("Goods", {"zh": "商品", "ms": "Barangan"}),
    "hs_code": ("HS code", {"zh": "商品编码", "ms": "Kod HS"}),
    "description": ("Description", {"zh": "商品名称", "ms": "Perihalan"}),
    "quantity": ("Quantity", {"zh": "数量", "ms": "Kuantiti"}),
    "origin": ("Origin", {"zh": "原产国", "ms": "Negara asal"}),
    "unit_price": ("Unit price", {"zh": "单价", "ms": "Harga seunit"}),
    "value": ("Value", {"zh": "价值", "ms": "Nilai"}),
    "taxes": ("Taxes", {"zh": "税费", "ms": "Cukai"}),
    "freight": ("Freight", {"zh": "运费", "ms": "Tambang"}),
    "insurance": ("Insurance", {"zh": "保险费", "ms": "Insurans"}),
    "duties_and_taxes": ("Duties and taxes", {"zh": "关税及税费", "ms": "Duti dan cukai"}),
    "total": ("Total", {"zh": "合计", "ms": "Jumlah"}),
    "currency": ("Currency", {"zh": "币制", "ms": "Mata wang"}),
    "summary_declaration": ("Summary declaration", {"zh": "汇总申报单", "ms": "Pengisytiharan ringkasan"}),
    "month": ("Month", {"zh": "申报月份", "ms": "Bulan"}),
    "destination_country": ("Destination country", {"zh": "运抵国", "ms": "Negara destinasi"}),
    "exports": ("Exports", {"zh": "清单数", "ms": "Eksport"}),
}


# What a declaration's download can be: itself, or its order's commercial invoice.
Kind = Literal["declaration", "invoice"]

# The parties in the order a declaration form lists them.
PARTIES = ("exporter", "importer", "declarant")


def labels_for(hub: Hub) -> dict[str, SafeString]:
    """Each label in English, followed by the hub's language where its country has one."""
    language = LANGUAGES.get(hub.country.code)
    return {
        key: format_html('{} <span class="local">{}</span>', english, local[language]) if language else english
        for key, (english, local) in LABELS.items()
    }


def money(figure: Money) -> str:
    """An amount as customs forms print it: the currency's code, then the figure (not a locale's symbol)."""
    return f"{figure.currency.code} {figure.amount:,.2f}"


def local_date(moment, hub: Hub) -> str:
    """The day at the hub: what its officers read on their own calendar."""
    return timezone.localtime(moment, ZoneInfo(hub.timezone)).date().isoformat()


def declaration_pdf(declaration: Declaration) -> bytes:
    """The declaration as it was filed: its parties and lines are the snapshot taken then, not today's rows. A
    market-procurement export above its cap prints as the declarations it is lodged as, a page each (an export owes
    no duties here)."""
    hub = declaration.hub
    labels = labels_for(hub)
    currency = declaration.value.currency.code

    def printed(line):
        return {
            **line,
            "value": money(Money(line["value"], currency)),
            "taxes": money(Money(line["taxes"], currency)),
        }

    whole = {
        "number": declaration.public_id,
        "lines": declaration.lines,
        "value": declaration.value,
        "duties_and_taxes": declaration.duties_and_taxes,
    }
    by_position = {line["position"]: line for line in declaration.lines}
    forms = [
        {
            "number": f"{declaration.public_id}-{part['number']}",
            "lines": [{**by_position[line["position"]], **line, "taxes": 0} for line in part["lines"]],
            "value": Money(part["value"], currency),
            "duties_and_taxes": Money(0, currency),
        }
        for part in declaration.parts
    ] or [whole]
    context = {
        "declaration": declaration,
        "labels": labels,
        "direction": labels[declaration.direction],
        "filed": local_date(declaration.filed_at, hub),
        "parties": [(labels[role], declaration.parties.get(role, {})) for role in PARTIES],
        "forms": [
            {
                **form,
                "lines": [printed(line) for line in form["lines"]],
                "value": money(form["value"]),
                "duties_and_taxes": money(form["duties_and_taxes"]),
            }
            for form in forms
        ],
    }
    return pdf_render("customs/declaration.html", context)


def commercial_invoice_pdf(order: Order, *, hub: Hub | None = None) -> bytes:
    """The seller's invoice to its buyer, labelled for `hub` (where it is presented; the destination's unless
    told): the lines at the binding quote's prices, then freight, insurance, duties and taxes, and the total."""
    hub = hub or order.destination_hub
    labels = labels_for(hub)
    lines = [
        {
            "description": line.description,
            "hs_code": line.hs_code,
            "quantity": line.quantity,
            "unit_price": money(line.unit_price),
            "value": money(line.value),
        }
        for line in order.lines.order_by("position")
    ]
    context = {
        "order": order,
        "labels": labels,
        "date": local_date(order.placed_at, hub),
        "currency": order.total.currency.code,
        "lines": lines,
        "totals": [
            (labels[figure], money(getattr(order, figure)))
            for figure in ("goods", "freight", "insurance", "duties_and_taxes", "total")
        ],
    }
    return pdf_render("customs/commercial_invoice.html", context)


def summary_pdf(summary: SummaryDeclaration) -> bytes:
    """A summary declaration as filed: its exports added up per HS code, labelled for its hub."""
    hub = summary.hub
    currency = summary.value.currency.code
    context = {
        "summary": summary,
        "labels": labels_for(hub),
        "filed": local_date(summary.filed_at, hub),
        "lines": [{**line, "value": money(Money(line["value"], currency))} for line in summary.lines],
        "value": money(summary.value),
    }
    return pdf_render("customs/summary.html", context)


def summary_download(summary: SummaryDeclaration) -> HttpResponse:
    """The summary declaration as a PDF download."""
    return _pdf_download(summary_pdf(summary), f"{summary.public_id}-summary-declaration.pdf")


def _pdf_download(content: bytes, filename: str) -> HttpResponse:
    """A rendered PDF as a download, with the checksum of what was rendered."""
    return download_response(
        content, content_type="application/pdf", filename=filename, sha256=hashlib.sha256(content).hexdigest()
    )


def document_download(declaration: Declaration, kind: Kind) -> HttpResponse:
    """The declaration, or its order's commercial invoice labelled for the declaration's hub, as a PDF download."""
    if kind == "declaration":
        content, filename = declaration_pdf(declaration), f"{declaration.public_id}-declaration.pdf"
    else:
        content = commercial_invoice_pdf(declaration.order, hub=declaration.hub)
        filename = f"{declaration.order.public_id}-commercial-invoice.pdf"
    return _pdf_download(content, filename)
