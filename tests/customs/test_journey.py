"""An order's journey through customs: declared at export once paid, scored, released when green; shipped when
the carrier has it; declared at import with the three-document match; released (the CBEC quota used, the duties to
the hub); delivered when the carrier says so. A lost message is sent on by the sweeper."""

from decimal import Decimal

from customs.models import DeclarationStatus, Direction, Lane, Procedure, RiskRuleKind
from customs.services import declaration_decide, quota_restore
from ewtp.lifecycle import journey_sweep_task
from hubs.models import AuditEvent, QuotaEntry
from hubs.scoping import actor_for
from payments.models import LedgerTransaction
from payments.reconciliation import reconcile
from tests.conftest import past_sweep_grace
from tests.customs.conftest import declaration, pay, rule, track
from tests.tenants import session_client
from trade.models import OrderStatus
from trade.selectors import journey_steps, order_timeline
from trade.services import order_cancel


def test_the_whole_journey_on_green_lanes(journey, hgh):
    order = journey.paid()
    export = declaration(order, Direction.EXPORT)
    assert (export.hub, export.lane, export.status) == (order.origin_hub, Lane.GREEN, DeclarationStatus.RELEASED)
    assert order.status == OrderStatus.EXPORT_RELEASED

    order = journey.shipped(order)
    imported = declaration(order, Direction.IMPORT)
    assert imported.procedure == Procedure.CBEC_DIRECT
    assert imported.mismatches == []
    assert imported.duties_and_taxes == order.duties_and_taxes
    assert imported.lines[0]["hs_code"] == "420221"
    assert order.status == OrderStatus.IMPORT_RELEASED
    assert QuotaEntry.objects.get(reference=order.public_id).amount == order.quota_counted
    assert LedgerTransaction.objects.filter(key=f"duties:{order.public_id}").exists()

    order = journey.delivered(order)
    assert order.status == OrderStatus.DELIVERED
    assert reconcile() == []
    sentences = [event.sentence for event in order_timeline(order)]
    assert any("declaration" in sentence and "green lane" in sentence for sentence in sentences), sentences


def test_a_payer_who_is_not_the_buyer_holds_the_import_naming_the_field(journey):
    order = journey.shipped(journey.paid(payer_name="Somebody Else"))
    imported = declaration(order, Direction.IMPORT)
    assert imported.status == DeclarationStatus.HELD
    assert [m["field"] for m in imported.mismatches] == ["buyerName"]
    assert imported.mismatches[0]["payment"] == "Somebody Else"
    assert order.status == OrderStatus.IMPORT_HELD
    assert not QuotaEntry.objects.filter(reference=order.public_id).exists()
    assert "buyerName" in AuditEvent.objects.filter(verb="declaration.held").get().reason


def test_risk_rules_send_a_declaration_to_the_most_severe_lane_and_say_why(journey, hkg):
    rule(hkg, RiskRuleKind.RANDOM, lane=Lane.YELLOW, threshold=Decimal(1))
    rule(hkg, RiskRuleKind.RESTRICTED_GOODS, lane=Lane.RED, hs_prefixes="4202, 9303")
    rule(hkg, RiskRuleKind.NEW_SELLER, lane=Lane.YELLOW, threshold=Decimal(3))
    rule(hkg, RiskRuleKind.LOW_VALUE, lane=Lane.RED, threshold=Decimal("0.5"))  # the price is the listing's
    rule(hkg, RiskRuleKind.RANDOM, lane=Lane.RED, direction=Direction.IMPORT, threshold=Decimal(1))
    order = journey.paid()
    export = declaration(order, Direction.EXPORT)
    assert export.lane == Lane.RED
    assert export.status == DeclarationStatus.FILED
    assert order.status == OrderStatus.EXPORT_DECLARED
    assert [hit["kind"] for hit in export.risk] == ["random", "restricted_goods", "new_seller"]
    assert "420221 is restricted goods (4202)" in export.risk[1]["why"]
    assert "0 declarations released here" in export.risk[2]["why"]


def test_the_consumer_near_the_annual_limit_and_a_weight_far_from_the_listing_go_yellow(journey, hgh):
    rule(hgh, RiskRuleKind.CONSUMER_NEAR_LIMIT, threshold=Decimal("0.0001"))
    rule(hgh, RiskRuleKind.WEIGHT_MISMATCH, threshold=Decimal("0.25"))
    order = journey.shipped(journey.paid())  # a 14 kg carton for a 0.8 kg handbag
    imported = declaration(order, Direction.IMPORT)
    assert imported.lane == Lane.YELLOW
    assert [hit["kind"] for hit in imported.risk] == ["consumer_near_limit", "weight_mismatch"]
    assert "the parcels weigh 14.000 kg" in imported.risk[1]["why"]
    assert order.status == OrderStatus.IMPORT_DECLARED


def test_a_lost_message_is_sent_on_by_the_sweeper(journey, place_order, hkg, committed):
    order = place_order()
    pay(hkg, order)  # its reactions are lost: nothing is declared
    assert not order.declarations.exists()
    with committed():
        journey_sweep_task()  # too early: its reaction may still be in the queue
    assert not order.declarations.exists()
    past_sweep_grace(order)
    with committed():
        journey_sweep_task()
    order.refresh_from_db()
    assert order.status == OrderStatus.EXPORT_RELEASED
    with committed():
        journey_sweep_task()  # twice: nothing moves twice
    assert order.declarations.count() == 1


def test_delivery_waits_for_the_import_release(journey, hgh, committed):
    rule(hgh, RiskRuleKind.RANDOM, threshold=Decimal(1))  # every import goes yellow
    order = journey.delivered(journey.shipped(journey.paid()))  # the carrier is ahead of customs
    assert order.status == OrderStatus.IMPORT_DECLARED
    with committed():
        declaration_decide(
            actor=actor_for(hgh.officer.user),
            declaration=declaration(order, Direction.IMPORT),
            decision="release",
            reason="Invoice checked.",
        )
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED


def test_the_order_page_shows_the_journey_and_where_the_order_is_now(journey, hkg, hgh):
    rule(hgh, RiskRuleKind.RANDOM, threshold=Decimal(1))
    order = journey.shipped(journey.paid(payer_name="Somebody Else"))  # held at import
    page = session_client(hkg.seller_admin).get(f"/orders/{order.public_id}/")
    steps = page.context["journey"]
    assert [step["state"] for step in steps].count("now") == 1
    now = next(step for step in steps if step["state"] == "now")
    assert now["label"] == "Held at import"
    assert [step["label"] for step in steps if step["state"] == "done"][-1] == "Shipped"
    assert 'aria-current="step"' in page.content.decode()

    # Beside the journey, its declarations with their lanes (never the rules) and its payment
    customs, money = (section["context"] for section in page.context["sections"])
    lanes = [(d.direction, d.lane, d.status) for d in customs["declarations"]]
    assert lanes == [("export", "green", "released"), ("import", "yellow", "held")]
    assert (money["payment"].status, money["payout"]) == ("captured", None)
    html = page.content.decode()
    assert f'href="/customs/{customs["declarations"][1].public_id}/"' in html
    assert '<td class="lane lane-yellow">Yellow</td>' in html
    assert "selected at random" not in html


def test_a_cancelled_order_ends_its_journey_where_it_left_the_road(place_order, hkg):
    order = order_cancel(actor=actor_for(hkg.seller_admin.user), order=place_order(), reason="Changed mind")
    assert journey_steps(order) == [{"label": "Placed", "state": "done"}, {"label": "Cancelled", "state": "now"}]


def test_goods_returned_within_the_window_give_the_consumer_quota_back_once(journey, committed, settings):
    order = journey.delivered(journey.shipped(journey.paid()))
    used = QuotaEntry.objects.get(reference=order.public_id)
    with committed():
        track(order, "returned", minutes=2)
    assert QuotaEntry.objects.get(reference=order.public_id, amount__lt=0).amount == -used.amount
    assert quota_restore(order=order) is None  # once

    late = journey.delivered(journey.shipped(journey.paid()))
    settings.CBEC_RETURN_WINDOW_DAYS = 0
    with committed():
        track(late, "returned", minutes=2)
    assert not QuotaEntry.objects.filter(reference=late.public_id, amount__lt=0).exists()
