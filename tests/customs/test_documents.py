"""An order's customs declarations and its commercial invoice as PDFs whose text, parsed back, holds the ids, HS
codes and amounts, labelled in English and the language of the hub's country (Chinese at Hangzhou and Hong Kong,
Malay in Malaysia, English only elsewhere); downloaded from the portal, the console and the API by the seller and
the hub's officers, by nobody else."""

import base64
import hashlib
import os

from customs.documents import commercial_invoice_pdf, declaration_pdf
from customs.models import Direction
from hubs.scoping import actor_for
from tests.customs.conftest import declaration, pay
from tests.pdfs import cjk_font_installed, text_of
from tests.tenants import session_client
from tests.trade.conftest import BUYER, make_listing, quote_listing
from trade.services import order_place

# Without the font, Chinese is drawn as boxes and cannot be read back; CI installs it, so there a missing one fails.
CHINESE = cjk_font_installed() or bool(os.environ.get("CI"))


def amount(money) -> str:
    return f"{money.currency.code} {money.amount:,.2f}"


def test_an_order_from_hong_kong_into_hangzhou_is_declared_and_invoiced_in_english_and_chinese(journey):
    order = journey.shipped(journey.paid())
    imported = declaration(order, Direction.IMPORT)

    text = text_of(declaration_pdf(imported))
    assert "Customs declaration" in text
    assert imported.public_id in text
    assert order.public_id in text
    assert "Import" in text
    assert "9610 CBEC direct mail" in text
    assert "HGH" in text
    assert "420221" in text
    assert "Woven rattan handbag" in text
    assert "Li Wei" in text
    assert order.company.legal_name in text
    assert amount(imported.value) in text
    assert amount(imported.duties_and_taxes) in text
    if CHINESE:
        assert "报关单" in text
        assert "进口" in text

    exported = declaration(order, Direction.EXPORT)  # at HKG: Hong Kong is labelled in Chinese too
    text = text_of(declaration_pdf(exported))
    assert exported.public_id in text
    assert "Export" in text
    if CHINESE:
        assert "报关单" in text
        assert "出口" in text

    text = text_of(commercial_invoice_pdf(order))
    assert "Commercial invoice" in text
    assert order.public_id in text
    assert order.company.legal_name in text
    assert order.company.registration_number in text
    assert "Li Wei" in text
    assert "Woven rattan handbag 420221 1" in text
    for figure in (order.goods, order.freight, order.insurance, order.duties_and_taxes, order.total):
        assert amount(figure) in text
    if CHINESE:
        assert "商业发票" in text


def test_a_malaysian_export_is_declared_and_invoiced_in_english_and_malay(mys, hgh, rules, ecb_rates, committed):
    listing = make_listing(mys, price="120.00", title="Batik handbag")
    order = order_place(actor=actor_for(mys.seller_admin.user), quote=quote_listing(mys, hgh, listing), buyer=BUYER)
    with committed():
        pay(mys, order)
    exported = declaration(order, Direction.EXPORT)
    assert exported.hub == mys.hub

    text = text_of(declaration_pdf(exported))
    assert "Customs declaration Pengisytiharan Kastam" in text
    assert "Export Eksport" in text
    assert exported.public_id in text
    assert "Batik handbag" in text
    assert "报关单" not in text

    text = text_of(commercial_invoice_pdf(order, hub=mys.hub))
    assert "Commercial invoice Invois Komersial" in text
    assert amount(order.total) in text


def test_a_hub_in_a_country_without_a_second_language_gets_english_only(journey):
    imported = declaration(journey.shipped(journey.paid()), Direction.IMPORT)
    imported.hub.country = "NG"  # a hub is data: its country alone decides

    text = text_of(declaration_pdf(imported))
    assert "Customs declaration" in text
    assert imported.public_id in text
    assert "报关单" not in text
    assert "Pengisytiharan" not in text


def downloaded(response, filename):
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{filename}"'
    digest = base64.b64encode(hashlib.sha256(response.content).digest()).decode()
    assert response["Repr-Digest"] == f"sha-256=:{digest}:"
    return text_of(response.content)


def test_the_seller_and_the_hubs_officers_download_them_and_nobody_else(journey, hkg, hgh, mys):
    order = journey.shipped(journey.paid())
    imported = declaration(order, Direction.IMPORT)
    declaration_file = f"{imported.public_id}-declaration.pdf"
    invoice_file = f"{order.public_id}-commercial-invoice.pdf"

    # the portal, for the seller: linked from the declaration's page
    seller = session_client(hkg.seller_admin)
    portal = f"/customs/{imported.public_id}/"
    page = seller.get(portal).content.decode()
    assert f'href="{portal}declaration.pdf"' in page
    assert f'href="{portal}invoice.pdf"' in page
    assert imported.public_id in downloaded(seller.get(f"{portal}declaration.pdf"), declaration_file)
    assert order.public_id in downloaded(seller.get(f"{portal}invoice.pdf"), invoice_file)

    # the console, for an officer of the declaring hub: linked from the decision page
    officer = session_client(hgh.officer)
    console = f"/admin/customs/declaration/{imported.pk}/"
    page = officer.get(f"{console}decide/").content.decode()
    assert f'href="{console}declaration.pdf"' in page
    assert f'href="{console}invoice.pdf"' in page
    assert imported.public_id in downloaded(officer.get(f"{console}declaration.pdf"), declaration_file)
    assert order.public_id in downloaded(officer.get(f"{console}invoice.pdf"), invoice_file)

    # the API, for both
    api = f"/api/v1/declarations/{imported.public_id}/"
    assert imported.public_id in downloaded(seller.get(f"{api}declaration-pdf/"), declaration_file)
    assert order.public_id in downloaded(officer.get(f"{api}invoice-pdf/"), invoice_file)

    # another tenant's seller and officer are told nothing exists
    for outsider in (session_client(mys.seller_admin), session_client(mys.officer)):
        for url in (f"{portal}declaration.pdf", f"{portal}invoice.pdf", f"{api}declaration-pdf/", f"{api}invoice-pdf/"):
            assert outsider.get(url).status_code == 404, url
    for url in (f"{console}declaration.pdf", f"{console}invoice.pdf"):
        assert session_client(mys.officer).get(url).status_code == 404, url
