"""Customs in a real browser: an officer holds a yellow-lane declaration from the console's queue asking for the
invoice, the seller answers the hold in the portal with a PDF, and the officer releases it from the queue."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from customs.models import Declaration, DeclarationStatus, Direction, Lane, RiskRule, RiskRuleKind
from customs.services import declaration_file
from hubs.scoping import actor_for
from hubs.services import rule_sets_load_reference
from payments.services import payment_start
from tests.e2e.test_login import log_in
from tests.tenants import make_tenant
from tests.trade.conftest import BUYER, make_listing, quote_listing, verified
from trade.models import OrderStatus
from trade.services import order_place

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PDF = b"%PDF-1.4\n% the commercial invoice\n%%EOF\n"


def test_an_officer_holds_the_seller_answers_and_the_officer_releases(page, tmp_path):
    hkg = verified(make_tenant("HKG", "HK", "HKD", "Asia/Hong_Kong"))
    hkg.company.home_currency = "CNY"
    hkg.company.save(update_fields=["home_currency"])
    hgh = make_tenant("HGH", "CN", "CNY", "Asia/Shanghai")
    rule_sets_load_reference(hub=hgh.hub)
    RiskRule.objects.create(hub=hkg.hub, kind=RiskRuleKind.RANDOM, lane=Lane.YELLOW, threshold=Decimal(1))
    seller = actor_for(hkg.seller_admin.user)
    order = order_place(actor=seller, quote=quote_listing(hkg, hgh, make_listing(hkg)), buyer=BUYER)
    payment_start(actor=seller, order=order, method="sim_ok")
    declaration = declaration_file(order=order, direction=Direction.EXPORT)
    assert declaration.lane == Lane.YELLOW

    # The officer opens the queue, the yellow declaration, and holds it for the invoice
    log_in(page, "/admin/login/", hkg.officer.user.username)
    page.goto("/admin/customs/declaration/")
    page.get_by_role("link", name="Decide…").click()
    expect(page.get_by_text("selected at random")).to_be_visible()
    page.get_by_label("Decision").select_option("hold")
    page.locator("#id_reason").fill("The value needs its invoice.")
    page.get_by_label("Documents wanted").fill("The commercial invoice")
    page.get_by_role("button", name="Decide").click()
    expect(page.get_by_text("Held for documents")).to_be_visible()
    page.context.clear_cookies()

    # The seller sees the hold in the portal and answers it with the invoice
    log_in(page, "/login/", hkg.seller_admin.user.username)
    page.goto(f"/customs/{declaration.public_id}/")
    expect(page.get_by_text("The commercial invoice", exact=True)).to_be_visible()
    invoice = tmp_path / "invoice.pdf"
    invoice.write_bytes(PDF)
    page.get_by_label("Documents").set_input_files(str(invoice))
    page.get_by_role("button", name="Send the documents").click()
    expect(page.get_by_text(f"Your documents are with the officers of {hkg.hub.code}")).to_be_visible()
    page.context.clear_cookies()

    # The officer finds it back in the queue, opens the invoice's entry, and releases it
    log_in(page, "/admin/login/", hkg.officer.user.username)
    page.goto("/admin/customs/declaration/")
    page.get_by_role("link", name="Decide…").click()
    expect(page.get_by_role("link", name="invoice.pdf")).to_be_visible()
    page.get_by_label("Decision").select_option("release")
    page.locator("#id_reason").fill("The invoice matches.")
    page.get_by_role("button", name="Decide").click()
    expect(page.get_by_text("Export declaration at HKG: Released")).to_be_visible()

    declaration.refresh_from_db()
    order.refresh_from_db()
    assert declaration.status == DeclarationStatus.RELEASED
    assert order.status == OrderStatus.EXPORT_RELEASED
    assert Declaration.objects.get().documents.get().name == "invoice.pdf"
