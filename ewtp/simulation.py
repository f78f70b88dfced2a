"""A simulation of demo orders through the whole journey: the platform's steps run as they do in production (Celery
tasks, in-process when `eager`), and the simulation plays everybody else, round after round: buyers pay, officers
decide the yellow and red lanes (a hold is answered by the seller with a document), fulfilment centres receive the
parcels, supervisors schedule and close departures, and the carrier reports each shipment on its way and delivered.

It runs on the demo data (`manage.py seed_demo`) and adds, where a hub has none, demo risk rules (random selection
to the yellow and red lanes), so that every lane is walked.
"""

import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from djmoney.money import Money

from customs.models import Declaration, DeclarationStatus, Direction, Lane, RiskRule, RiskRuleKind
from customs.services import declaration_answer, declaration_decide
from hubs.kernel.errors import DomainError
from hubs.kernel.money import AmountSum
from hubs.models import Hub, Membership, Role
from hubs.scoping import actor_for
from logistics.models import Parcel, Shipment, ShipmentStatus, UnitType
from logistics.services import departure_close, departure_schedule, parcel_receive, tracking_event_record
from payments.models import LedgerTransaction, Tranche, TrancheStatus
from payments.services import payment_start
from trade.models import Listing, ListingStatus, Order, OrderStatus
from trade.services import QuoteLineRequest, listing_restock, order_place, quote_create

# Where an order's journey ends: delivered (and settled from escrow), or refunded.
FINAL = [OrderStatus.DELIVERED, OrderStatus.COMPLETED, OrderStatus.REFUNDED, OrderStatus.CANCELLED]
# The demo's hub pairs that trade (a corridor pays their sellers), origin → destination.
DEMO_PAIRS = [("HGH", "MYS"), ("YIW", "MYS"), ("MYS", "HGH"), ("MYS", "YIW"), ("YIW", "LOS")]
# Demo selectivity where a hub has none: shares of declarations sent to the yellow and red lanes at random.
DEMO_RISK = {Lane.YELLOW: Decimal("0.15"), Lane.RED: Decimal("0.05")}
PDF = b"%PDF-1.4\n% a scanned commercial invoice\n%%EOF\n"


@dataclass
class Summary:
    orders: list[int] = field(default_factory=list)
    rounds: int = 0
    seconds: float = 0.0

    def report(self) -> dict:
        """Per lane and per hub pair: orders final, time to import release, duties collected, payouts settled."""
        orders = Order.objects.filter(pk__in=self.orders).select_related("origin_hub", "destination_hub")
        lanes = {
            d.order_id: d.lane for d in Declaration.objects.filter(order__in=self.orders, direction=Direction.IMPORT)
        }
        released = {
            d.order_id: d.decided_at
            for d in Declaration.objects.filter(
                order__in=self.orders, direction=Direction.IMPORT, status=DeclarationStatus.RELEASED
            )
        }
        duties = defaultdict(Counter)  # order ref → {currency: duties posted to its hub}
        posted = (
            LedgerTransaction.objects.filter(key__startswith="duties:", order_ref__in=[o.public_id for o in orders])
            .values_list("order_ref", "postings__amount_currency")
            .annotate(amount=AmountSum("postings__amount"))
        )
        for order_ref, currency, amount in posted:
            duties[order_ref][currency] += amount / 2  # each amount is posted on both sides
        settled = Counter(
            Tranche.objects.filter(payout__order__in=self.orders, status=TrancheStatus.SETTLED).values_list(
                "payout__order_id", flat=True
            )
        )
        rows = defaultdict(lambda: {"orders": 0, "final": 0, "release_minutes": [], "duties": Counter(), "tranches": 0})
        for order in orders:
            for key in (f"lane {lanes.get(order.pk, '-')}", f"{order.origin_hub.code}→{order.destination_hub.code}"):
                row = rows[key]
                row["orders"] += 1
                row["final"] += order.status in FINAL
                if order.pk in released:
                    row["release_minutes"].append((released[order.pk] - order.placed_at).total_seconds() / 60)
                row["duties"].update(duties[order.public_id])
                row["tranches"] += settled[order.pk]
        return dict(rows)


class Simulation:
    def __init__(self, *, orders: int, pairs=None, seed: int = 0, log=print):
        self.count, self.random, self.log = orders, random.Random(seed), log
        codes = pairs or DEMO_PAIRS
        hubs = {hub.code: hub for hub in Hub.objects.filter(code__in={code for pair in codes for code in pair})}
        missing = sorted({code for pair in codes for code in pair} - set(hubs))
        if missing:
            raise DomainError(f"No hub {', '.join(missing)}: load the demo data first (seed_demo).", code="not_found")
        self.pairs = [(hubs[a], hubs[b]) for a, b in codes]
        self.summary = Summary()

    # --- the people ------------------------------------------------------------------------------------------

    def _member(self, role, **where):
        return actor_for(Membership.objects.filter(role=role, **where).select_related("user").first().user)

    def prepare(self) -> None:
        """Demo risk rules where a hub has none, so that the yellow and red lanes are walked too."""
        for hub in {hub for pair in self.pairs for hub in pair}:
            if not RiskRule.objects.filter(hub=hub).exists():
                for lane, rate in DEMO_RISK.items():
                    RiskRule.objects.create(
                        hub=hub, kind=RiskRuleKind.RANDOM, lane=lane, threshold=rate, note="Demo selectivity"
                    )
                self.log(f"{hub.code}: demo risk rules added (random: yellow 15%, red 5%).")

    def place(self) -> None:
        """Each order: a listing of a seller of the origin hub, quoted into the destination, placed and paid."""
        for n in range(self.count):
            origin, destination = self.pairs[n % len(self.pairs)]
            listing = self.random.choice(
                list(Listing.objects.filter(hub=origin, status=ListingStatus.ACTIVE).select_related("company"))
            )
            seller = self._member(Role.SELLER_ADMIN, company=listing.company)
            if listing.stock < 5:
                listing_restock(actor=seller, listing=listing, delta=100)
            consumer = destination.country == "CN"
            consumer_id = f"3301061990{n:08d}" if consumer else ""
            quote = quote_create(
                actor=seller,
                company=listing.company,
                origin_hub=origin,
                destination_hub=destination,
                consumer_id=consumer_id,
                lines=[QuoteLineRequest(quantity=self.random.randint(1, 3), listing=listing)],
            )
            buyer = {
                "kind": "consumer" if consumer else "business",
                "name": f"Demo buyer {n}",
                "address_line1": f"{n} Market Street",
                "city": destination.name.split()[0],
                "country": destination.country,
                **({"id_number": consumer_id} if consumer else {"registration_number": f"REG{n:06d}"}),
            }
            order = order_place(actor=seller, quote=quote, buyer=buyer)
            payment_start(actor=seller, order=order, method="sim_ok")
            self.summary.orders.append(order.pk)

    def officers(self) -> None:
        """Officers decide the yellow and red lanes: a first look holds for an invoice (red: sends to inspection),
        the answer or the inspection is then released."""
        open_ones = Declaration.objects.filter(
            order__in=self.summary.orders,
            status__in=[DeclarationStatus.FILED, DeclarationStatus.INSPECTION],
        ).select_related("hub", "order__company")
        for declaration in open_ones:
            if declaration.lane == Lane.GREEN and not declaration.mismatches:
                continue  # the platform releases it
            officer = self._member(Role.HUB_OFFICER, hub=declaration.hub)
            first_look = not declaration.documents.exists() and declaration.status == DeclarationStatus.FILED
            if first_look and declaration.lane == Lane.RED:
                declaration_decide(actor=officer, declaration=declaration, decision="inspect", reason="Open it")
            elif first_look:
                declaration_decide(
                    actor=officer, declaration=declaration, decision="hold", reason="Check", documents="Invoice"
                )
            else:
                declaration_decide(actor=officer, declaration=declaration, decision="release", reason="Checked")
        held = Declaration.objects.filter(order__in=self.summary.orders, status=DeclarationStatus.HELD)
        for declaration in held.select_related("order__company"):
            seller = self._member(Role.SELLER_ADMIN, company=declaration.order.company)
            invoice = SimpleUploadedFile("invoice.pdf", PDF, content_type="application/pdf")
            declaration_answer(actor=seller, declaration=declaration, files=[invoice], note="Invoice attached")

    def fulfilment(self) -> None:
        """Each released export's parcel received at its origin hub, then a departure per route, closed."""
        waiting = Order.objects.filter(
            pk__in=self.summary.orders, status=OrderStatus.EXPORT_RELEASED, parcels__isnull=True
        ).select_related("origin_hub")
        for order in waiting:
            weight = sum((line.listing.unit_weight_kg * line.quantity for line in order.lines.all()), Decimal(0))
            parcel_receive(
                actor=self._member(Role.HUB_OFFICER, hub=order.origin_hub),
                order=order,
                weight_kg=max(weight, Decimal("0.1")),
                length_cm=Decimal(30),
                width_cm=Decimal(20),
                height_cm=Decimal(15),
            )
        unit = UnitType.objects.get(code="LD3")
        for origin, destination in self.pairs:
            riding = Parcel.objects.filter(
                consignment=None,
                order__origin_hub=origin,
                order__destination_hub=destination,
                order__status=OrderStatus.EXPORT_RELEASED,
            )
            if riding.exists():
                cut_off = timezone.now() + timedelta(milliseconds=50)
                departure = departure_schedule(
                    actor=self._member(Role.HUB_SUPERVISOR, hub=origin),
                    origin_hub=origin,
                    destination_hub=destination,
                    unit_type=unit,
                    units=4,
                    unit_cost=Money("1200.00", "USD"),
                    cut_off_at=cut_off,
                    departs_at=cut_off + timedelta(hours=6),
                )
                time.sleep(0.06)
                departure_close(departure=departure)

    def carrier(self) -> None:
        """The carrier reports each booked shipment on its way, and delivers those released at import."""
        shipments = Shipment.objects.filter(order__in=self.summary.orders).exclude(waybill="")
        moves = [
            (shipments.filter(status=ShipmentStatus.BOOKED), ShipmentStatus.IN_TRANSIT),
            (
                shipments.filter(status=ShipmentStatus.IN_TRANSIT, order__status=OrderStatus.IMPORT_RELEASED),
                ShipmentStatus.DELIVERED,
            ),
        ]
        for rows, status in moves:
            for shipment in rows:
                tracking_event_record(
                    carrier_name=shipment.carrier,
                    event_id=f"sim-{shipment.waybill}-{status}",
                    waybill=shipment.waybill,
                    status=status,
                    occurred_at=timezone.now(),
                )

    # --- the run ---------------------------------------------------------------------------------------------

    def final(self) -> int:
        return Order.objects.filter(pk__in=self.summary.orders, status__in=FINAL).count()

    def run(self, *, timeout: float = 600, pause: float = 0.5, progress=None) -> Summary:
        began = time.monotonic()
        self.prepare()
        self.place()
        done = 0
        while done < len(self.summary.orders) and time.monotonic() - began < timeout:
            self.summary.rounds += 1
            for step in (self.officers, self.fulfilment, self.carrier):
                try:
                    step()
                except DomainError as refused:  # a worker moved the row meanwhile: the next round sees it
                    self.log(f"round {self.summary.rounds}, {step.__name__}: {refused.detail}")
            now = self.final()
            if progress is not None:
                progress(now - done)
            done = now
            if done < len(self.summary.orders):
                time.sleep(pause)
        self.summary.seconds = time.monotonic() - began
        return self.summary
