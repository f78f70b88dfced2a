"""CBEC direct-mail exports declared in summary: once a month is over at the hub, its released 9610 exports are summed
up per HS code in one summary declaration per seller, destination country and currency, each export in one summary
only; the hub's officers accept or reject it, and the seller follows it in the portal and the API."""

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied
from hypothesis import given
from hypothesis import strategies as st

from customs.documents import summary_pdf
from customs.models import Declaration, Direction, Procedure, SummaryDeclaration, SummaryStatus
from customs.summaries import _summary_file, _TakenMeanwhile, summaries_file, summary_decide, summary_lines
from hubs.kernel.errors import DomainError
from hubs.models import AuditEvent
from hubs.scoping import actor_for
from tests.customs.test_documents import CHINESE
from tests.customs.test_refunds import exported  # noqa: F401 (fixture)
from tests.pdfs import text_of
from tests.tenants import session_client
from trade.models import Order

SHANGHAI = ZoneInfo("Asia/Shanghai")


def export_of(order, released_at, procedure=Procedure.CBEC_DIRECT):
    """The order's released export, as if released at `released_at` under `procedure`."""
    Declaration.objects.filter(order=order, direction=Direction.EXPORT).update(
        procedure=procedure, decided_at=released_at
    )
    return Declaration.objects.get(order=order, direction=Direction.EXPORT)


def test_a_months_exports_are_summed_up_per_hs_code_once_the_month_is_over_at_the_hub(exported, hgh):  # noqa: F811
    november = export_of(exported, datetime(2026, 11, 30, 15, tzinfo=UTC))  # 23:00 in Shanghai
    line = november.lines[0]

    assert summaries_file(now=datetime(2026, 11, 30, 15, 30, tzinfo=UTC)) == []  # 23:30: November is not over
    [summary] = summaries_file(now=datetime(2026, 11, 30, 16, 5, tzinfo=UTC))  # 00:05 on 1 December in Shanghai
    assert (summary.hub, summary.company, summary.month) == (hgh.hub, hgh.company, date(2026, 11, 1))
    assert summary.destination_country == "MY"
    assert summary.status == SummaryStatus.FILED
    assert summary.value == november.value
    assert summary.lines == [
        {
            "hs_code": line["hs_code"],
            "description": line["description"],
            "quantity": line["quantity"],
            "value": line["value"],
            "orders": 1,
        }
    ]
    november.refresh_from_db()
    assert november.summary == summary
    assert AuditEvent.objects.filter(verb="summary_declaration.filed", target_id=str(summary.pk)).count() == 1

    assert summaries_file(now=datetime(2027, 1, 5, tzinfo=SHANGHAI)) == []  # each export in one summary only


def test_an_export_is_in_the_month_of_its_release_at_the_hub(exported):  # noqa: F811
    export_of(exported, datetime(2026, 11, 30, 16, 30, tzinfo=UTC))  # 00:30 on 1 December in Shanghai
    assert summaries_file(now=datetime(2026, 12, 31, 15, tzinfo=UTC)) == []
    [summary] = summaries_file(now=datetime(2026, 12, 31, 16, tzinfo=UTC))
    assert summary.month == date(2026, 12, 1)


def test_only_released_cbec_direct_exports_are_summarised(exported):  # noqa: F811
    export_of(exported, datetime(2026, 11, 10, tzinfo=SHANGHAI), procedure=Procedure.CBEC_B2B)
    assert summaries_file(now=datetime(2026, 12, 2, tzinfo=SHANGHAI)) == []
    export_of(exported, datetime(2026, 11, 10, tzinfo=SHANGHAI))
    Declaration.objects.filter(order=exported).update(status="held")
    assert summaries_file(now=datetime(2026, 12, 2, tzinfo=SHANGHAI)) == []


def test_exports_another_run_took_first_leave_the_summary_unfiled(exported, hgh):  # noqa: F811
    export = export_of(exported, datetime(2026, 11, 10, tzinfo=SHANGHAI))
    [first] = summaries_file(now=datetime(2026, 12, 2, tzinfo=SHANGHAI))
    with pytest.raises(_TakenMeanwhile):
        _summary_file(hgh.hub, hgh.company.pk, first.month, "MY", "CNY", [(export.pk, export.lines)])
    assert SummaryDeclaration.objects.count() == 1
    export.refresh_from_db()
    assert export.summary == first


lines = st.lists(
    st.fixed_dictionaries(
        {
            "hs_code": st.sampled_from(["420221", "610910", "851830"]),
            "description": st.just("Goods"),
            "quantity": st.integers(1, 1000),
            "value": st.decimals("0.01", "100000", places=2).map(str),
        }
    ),
    min_size=1,
    max_size=4,
)


@given(st.lists(lines, min_size=1, max_size=6))
def test_a_summary_keeps_every_unit_and_every_cent_once_per_hs_code(exports):
    summed = summary_lines(list(enumerate(exports)))
    everything = [line for export in exports for line in export]
    assert [line["hs_code"] for line in summed] == sorted({line["hs_code"] for line in everything})
    assert sum(Decimal(line["value"]) for line in summed) == sum(Decimal(line["value"]) for line in everything)
    assert sum(line["quantity"] for line in summed) == sum(line["quantity"] for line in everything)
    for line in summed:
        assert line["orders"] == sum(any(ln["hs_code"] == line["hs_code"] for ln in export) for export in exports)


def test_the_hubs_officer_decides_and_the_seller_follows_it(exported, hgh, mys):  # noqa: F811
    export_of(exported, datetime(2026, 11, 10, tzinfo=SHANGHAI))
    [summary] = summaries_file(now=datetime(2026, 12, 2, tzinfo=SHANGHAI))

    with pytest.raises(PermissionDenied):
        summary_decide(actor=actor_for(mys.officer.user), summary=summary, accept=True)
    officer = session_client(hgh.officer)
    changelist = "/admin/customs/summarydeclaration/"
    assert summary.public_id in officer.get(changelist).content.decode()
    page = officer.get(f"{changelist}{summary.pk}/change/").content.decode()
    assert summary.lines[0]["hs_code"] in page
    selected = {"action": "reject", "_selected_action": [summary.pk], "index": 0}
    asked = officer.post(changelist, selected)  # asks why first
    assert "The seller reads it" in asked.content.decode()
    officer.post(changelist, {**selected, "apply": "Reject", "reason": ""})  # not without a reason
    summary.refresh_from_db()
    assert summary.status == SummaryStatus.FILED
    officer.post(changelist, {**selected, "apply": "Reject", "reason": "Line 1's HS code is a heading, not a code"})
    summary.refresh_from_db()
    assert summary.status == SummaryStatus.REJECTED
    assert summary.decided_at is not None
    with pytest.raises(DomainError):
        summary_decide(actor=actor_for(hgh.officer.user), summary=summary, accept=True)

    seller = session_client(hgh.seller_admin)
    assert summary.public_id in seller.get("/customs/summaries/").content.decode()
    detail = seller.get(f"/customs/summaries/{summary.public_id}/").content.decode()
    assert "a heading, not a code" in detail
    assert session_client(mys.seller_admin).get(f"/customs/summaries/{summary.public_id}/").status_code == 404

    # The rejected summary let its export go: the next run declares it again, in a summary the seller follows
    assert not Declaration.objects.filter(summary=summary).exists()
    [again] = summaries_file(now=datetime(2026, 12, 2, 1, tzinfo=SHANGHAI))
    assert again.lines == summary.lines
    listed = seller.get(f"/customs/?summary={again.public_id}").content.decode()
    assert exported.public_id in listed
    declaration_page = seller.get(f"/customs/{Declaration.objects.get(order=exported).public_id}/").content.decode()
    assert again.public_id in declaration_page
    assert seller.get("/customs/?summary=a/b").status_code == 404
    assert session_client(mys.seller_admin).get(f"/customs/?summary={again.public_id}").status_code == 404

    api = session_client(hgh.seller_admin)
    body = api.get(f"/api/v1/summary-declarations/{summary.public_id}/").json()
    assert (body["status"], body["month"], body["exports"]) == ("rejected", "2026-11", 0)
    body = api.get(f"/api/v1/summary-declarations/{again.public_id}/").json()
    assert (body["status"], body["exports"]) == ("filed", 1)
    assert body["value"] == {"amount": str(again.value.amount), "currency": again.value.currency.code}
    declarations = api.get(f"/api/v1/declarations/?summary={again.public_id}").json()["results"]
    assert [row["order"] for row in declarations] == [exported.public_id]
    assert declarations[0]["summary"] == again.public_id
    assert Order.objects.count() == 1


def test_a_summary_prints_labelled_for_its_hub_and_downloads_for_its_seller_and_officers_only(
    exported,  # noqa: F811 (fixture)
    hgh,
    mys,
):
    export_of(exported, datetime(2026, 11, 10, tzinfo=SHANGHAI))
    [summary] = summaries_file(now=datetime(2026, 12, 2, tzinfo=SHANGHAI))

    text = text_of(summary_pdf(summary))
    assert "Summary declaration" in text
    assert summary.public_id in text
    assert "2026-11" in text
    assert summary.lines[0]["hs_code"] in text
    assert hgh.company.legal_name in text
    if CHINESE:
        assert "汇总申报单" in text

    pdfs = [
        (session_client(hgh.seller_admin), f"/customs/summaries/{summary.public_id}/summary.pdf"),
        (session_client(hgh.seller_admin), f"/api/v1/summary-declarations/{summary.public_id}/summary-pdf/"),
        (session_client(hgh.officer), f"/admin/customs/summarydeclaration/{summary.pk}/summary.pdf"),
    ]
    for client, url in pdfs:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Content-Type"] == "application/pdf"
        assert summary.public_id in text_of(
            b"".join(response.streaming_content) if response.streaming else response.content
        )
    for client, url in [
        (session_client(mys.seller_admin), pdfs[0][1]),
        (session_client(mys.seller_admin), pdfs[1][1]),
        (session_client(mys.officer), pdfs[2][1]),
    ]:
        assert client.get(url).status_code == 404, url
