"""The seller's money in the portal: balances, payouts with their progress and when they complete, statements and
their CSV export."""

import csv
import io

from tests.payments.test_payouts import delivered  # noqa: F401 (fixture)
from tests.tenants import session_client


def test_the_money_page_shows_balances_and_payouts_with_progress(delivered, yiw):  # noqa: F811
    payout = delivered.payout
    page = session_client(yiw.seller_admin).get("/money/").content.decode()
    assert payout.public_id in page
    assert '<progress value="1" max="20">' in page  # the tranche of the day of delivery has gone
    assert payout.expected_completion.isoformat() in page
    assert f"/money/accounts/{delivered.company.accounts.get(currency='USD').public_id}/" in page


def test_the_payout_page_lists_its_tranches_and_when_it_completes(delivered, yiw):  # noqa: F811
    payout = delivered.payout
    page = session_client(yiw.seller_admin).get(f"/money/payouts/{payout.public_id}/").content.decode()
    assert f"by {payout.expected_completion.isoformat()}" in page
    assert page.count('class="status status-scheduled"') == 19
    assert "You receive</dt><dd>$199,500.00" in page


def test_a_statement_downloads_as_csv_with_every_posting(delivered, yiw):  # noqa: F811
    client = session_client(yiw.seller_admin)
    account = delivered.company.accounts.get(currency="USD")
    assert account.public_id in client.get("/money/").content.decode()
    response = client.get(f"/money/accounts/{account.public_id}/?format=csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row["side"] for row in rows] == ["debit", "credit"]  # the first tranche out, the conversion in
    assert rows[1]["amount"] == "200000.00"
    assert rows[0]["order"] == delivered.public_id
    assert "Download as CSV" in client.get(f"/money/accounts/{account.public_id}/").content.decode()
