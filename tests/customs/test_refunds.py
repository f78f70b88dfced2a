"""Export VAT refunds: computed at the rates in force on the export date where the origin hub grants them, filed
by the seller as a trading company or a manufacturer, approved (paid through the ledger, once) or rejected by the
origin hub's officers. The reference facts' worked examples hold."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from djmoney.money import Money
from hypothesis import given
from hypothesis import strategies as st

from customs.models import Declaration, Direction, Procedure, RefundClaimStatus, Taxpayer
from customs.refunds import manufacturer_refund, trading_refund
from customs.services import refund_claim_compute, refund_claim_decide, refund_claim_file
from hubs.kernel.errors import DomainError
from hubs.scoping import actor_for
from payments.models import Account, AccountKind, LedgerTransaction
from payments.reconciliation import reconcile
from tests.customs.conftest import pay
from tests.tenants import session_client
from tests.trade.conftest import make_listing, quote_listing
from trade.services import order_place

MY_BUYER = {
    "kind": "business",
    "name": "Kedai Runcit Sdn Bhd",
    "registration_number": "201901000005",
    "address_line1": "1 Jalan Ampang",
    "city": "Kuala Lumpur",
    "country": "MY",
}


def line(gross, vat="0.13", refund="0.13", position=1):
    return {"position": position, "gross": str(gross), "vat_rate": vat, "refund_rate": refund}


def test_the_reference_examples():
    assert trading_refund([line("113000.00")], "CNY")[0] == Decimal("13000.00")
    refund, why = manufacturer_refund([line("71000.00", refund="0.09")], Decimal("5000.00"), "CNY")
    assert refund == Decimal("5000.00")
    assert "Limit CNY 6390.00" in why
    assert "not creditable CNY 2840.00" in why
    assert "credited CNY 1390.00" in why


@given(
    st.lists(st.decimals("0.01", "1000000", places=2), min_size=1, max_size=5),
    st.sampled_from(["0", "0.09", "0.13"]),
    st.decimals("0", "100000", places=2),
)
def test_a_manufacturer_is_refunded_at_most_its_limit_and_its_uncredited_vat(values, rate, uncredited):
    lines = [line(value, refund=rate, position=n) for n, value in enumerate(values, start=1)]
    refund, _ = manufacturer_refund(lines, uncredited, "CNY")
    limit, _ = manufacturer_refund(lines, Decimal("1e12"), "CNY")
    assert Decimal(0) <= refund == min(uncredited, limit)
    assert refund == refund.quantize(Decimal("0.01"))


@pytest.fixture
def exported(hgh, mys, rules, ecb_rates, committed):
    """A Hangzhou seller's handbags sold to a Malaysian business, paid and released at export (green)."""
    listing = make_listing(hgh, price="1130.00", stock=10)
    quote = quote_listing(hgh, mys, listing, quantity=10, consumer_id="")
    order = order_place(actor=actor_for(hgh.seller_admin.user), quote=quote, buyer=MY_BUYER)
    with committed():
        pay(hgh, order)
    order.refresh_from_db()
    return order


def test_a_released_export_is_refunded_at_the_hubs_rate_filed_approved_and_paid_once(exported, hgh, mys):
    export = Declaration.objects.get(order=exported, direction=Direction.EXPORT)
    assert export.procedure == Procedure.CBEC_B2B
    claim = refund_claim_compute(order=exported)
    assert refund_claim_compute(order=exported) == claim  # once
    rate = Decimal(claim.lines[0]["refund_rate"])
    assert rate > 0
    expected, _ = trading_refund(claim.lines, "CNY")
    assert claim.amount == Money(expected, "CNY")
    assert claim.status == RefundClaimStatus.COMPUTED

    with pytest.raises(PermissionDenied):
        refund_claim_file(actor=actor_for(mys.seller_admin.user), claim=claim)
    with pytest.raises(DomainError):
        refund_claim_file(actor=actor_for(hgh.seller_admin.user), claim=claim, taxpayer=Taxpayer.MANUFACTURER)
    filed = refund_claim_file(
        actor=actor_for(hgh.seller_admin.user),
        claim=claim,
        taxpayer=Taxpayer.MANUFACTURER,
        uncredited_input_vat=Decimal("100.00"),
    )
    assert filed.amount == Money("100.00", "CNY")

    with pytest.raises(PermissionDenied):
        refund_claim_decide(actor=actor_for(mys.officer.user), claim=filed, approve=True)
    paid = refund_claim_decide(actor=actor_for(hgh.officer.user), claim=filed, approve=True, reason="Invoices held")
    assert paid.status == RefundClaimStatus.PAID
    with pytest.raises(DomainError):
        refund_claim_decide(actor=actor_for(hgh.officer.user), claim=paid, approve=True)
    assert LedgerTransaction.objects.filter(key=f"export-refund:{claim.public_id}").count() == 1
    seller = Account.objects.get(kind=AccountKind.COMPANY, company=hgh.company, currency="CNY")
    assert seller.balance == Money("100.00", "CNY")
    assert reconcile() == []


def test_market_procurement_and_general_exports_get_no_claim(exported):
    Declaration.objects.filter(order=exported).update(procedure=Procedure.MARKET_PROCUREMENT)
    assert refund_claim_compute(order=exported) is None


def test_the_seller_files_in_the_portal_and_the_officer_decides_in_the_console(exported, hgh, mys):
    claim = refund_claim_compute(order=exported)
    seller = session_client(hgh.seller_admin)
    assert claim.public_id in seller.get("/customs/refunds/").content.decode()
    filed = seller.post(f"/customs/refunds/{claim.public_id}/", {"taxpayer": "trading"})
    assert filed.status_code == 302
    claim.refresh_from_db()
    assert claim.status == RefundClaimStatus.FILED
    assert session_client(mys.seller_admin).get(f"/customs/refunds/{claim.public_id}/").status_code == 404

    officer = session_client(hgh.officer)
    changelist = "/admin/customs/refundclaim/"
    assert claim.public_id in officer.get(changelist).content.decode()
    officer.post(changelist, {"action": "approve", "_selected_action": [claim.pk], "index": 0})
    claim.refresh_from_db()
    assert claim.status == RefundClaimStatus.PAID
    api = seller.get(f"/api/v1/refund-claims/{claim.public_id}/").json()
    assert api["status"] == "paid"
    assert api["amount"]["currency"] == "CNY"


def test_where_the_rates_grant_none_the_claim_says_no_refund_is_due_once(exported):
    exported.lines.update(hs_code="740311")  # copper: no export refund since 2024-12-01
    claim = refund_claim_compute(order=exported)
    assert claim.status == RefundClaimStatus.NOT_DUE
    assert claim.amount == Money("0.00", "CNY")
    assert "grant no refund" in claim.explanation
    assert refund_claim_compute(order=exported) == claim
    with pytest.raises(DomainError):
        refund_claim_file(actor=actor_for(exported.company.memberships.first().user), claim=claim)
