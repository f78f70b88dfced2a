"""A Yiwu seller, paid by a Lagos buyer, follows its payout in the portal on a phone: its balances, the payout's
progress bar and the day it completes, its 20 tranches, and its statement downloaded as CSV."""

import csv
import io

import pytest
from playwright.sync_api import expect

from payments.services import escrow_release, payout_schedule
from tests.e2e.test_login import log_in
from tests.e2e.test_portal_mobile import WIDTH, Walk, phone  # noqa: F401 (fixture)
from tests.payments.conftest import deliver, lagos, paid_lagos_order, yiw  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_seller_follows_its_payout_and_downloads_its_statement(phone, lagos, yiw):  # noqa: F811
    # given a USD 200,000 order from Lagos, delivered, its proceeds on their way in 20 tranches
    order = paid_lagos_order(yiw, lagos)
    deliver(order)
    escrow_release(order=order)  # what the reactions to delivery do, here without a worker
    payout = payout_schedule(order=order)
    walk = Walk(phone)

    # when the seller opens Money
    log_in(phone, "/login/", yiw.seller_admin.user.username)
    phone.get_by_role("link", name="Money").click()
    walk.check()
    expect(phone.locator("progress")).to_have_attribute("max", "20")
    expect(phone.get_by_text(payout.expected_completion.isoformat())).to_be_visible()

    # then its payout shows its tranches and the day it completes
    phone.get_by_role("link", name=payout.public_id).click()
    walk.check()
    expect(phone.get_by_text(f"by {payout.expected_completion.isoformat()}")).to_be_visible()
    expect(phone.locator("tbody tr")).to_have_count(20)

    # and its NGN statement downloads as CSV
    phone.get_by_role("link", name="Money").click()
    phone.get_by_role("link", name="NGN", exact=True).click()
    walk.check()
    with phone.expect_download() as download:
        phone.get_by_role("link", name="Download as CSV").click()
    rows = list(csv.DictReader(io.StringIO(open(download.value.path(), encoding="utf-8").read())))
    assert {row["order"] for row in rows} == {order.public_id}
    assert {row["currency"] for row in rows} == {"NGN"}
    assert not walk.too_wide, f"pages wider than {WIDTH}px: {walk.too_wide}"
