"""The order's journey, written out once: which step follows which state, each an idempotent Celery task sent on
the commit of the transition before it (`react_to`), and a sweeper that sends on whatever a lost message left.

    quote → order placed → paid into escrow (payments) → export declaration at the origin hub, scored, released
    when green or by an officer (customs) → pre-arrival message to the destination hub, pre-scored there (customs,
    hub to hub) → parcels received, consolidated, booked, departed (logistics) → shipped
    → import declaration at the destination hub, three-document match, scored, released (customs) → duties to
    the hub's tax account (payments) → delivered once the carrier says so → escrow released, payout in tranches
    (payments) → export VAT refund claim computed where the origin hub grants one (customs), filed by the seller,
    decided by the hub

The people's steps (paying, receiving parcels, an officer's decision, an SME's answer to a hold) are theirs; every
other step is here or in the apps' own reactions (payments reacts to import release, delivery and rejection).
"""

from celery import shared_task
from django.db.models import Exists, OuterRef

from customs.exchange import pre_arrival_queue
from customs.models import Declaration, Direction
from customs.services import REFUNDED_PROCEDURES, declaration_file, quota_restore, refund_claim_compute
from hubs.kernel.background import resend, swept_before
from hubs.kernel.transitions import react_to, react_within
from logistics.models import Shipment, ShipmentStatus
from trade.models import Order, OrderStatus
from trade.services import order_deliver, order_ship

# Shipment states that say the goods left the origin hub.
DEPARTED = [ShipmentStatus.IN_TRANSIT, ShipmentStatus.DELIVERED]
SWEEP_BATCH = 500


def _declare(order_pk: int, direction: str, when: str) -> None:
    order = Order.objects.get(pk=order_pk)
    if order.status == when:  # else its moment has passed (declared before, cancelled, refunded)
        declaration_file(order=order, direction=direction)


@shared_task
def export_declare_task(order_pk: int) -> None:
    """Paid: the export declaration is filed at the origin hub."""
    _declare(order_pk, Direction.EXPORT, OrderStatus.PAID)


@shared_task
def import_declare_task(order_pk: int) -> None:
    """Shipped: the import declaration is filed at the destination hub."""
    _declare(order_pk, Direction.IMPORT, OrderStatus.SHIPPED)


@shared_task
def ship_task(shipment_pk: int) -> None:
    """The carrier has the goods on their way: the order is shipped (once; its export must be released)."""
    order = Order.objects.get(shipment__pk=shipment_pk)
    if order.status == OrderStatus.EXPORT_RELEASED:
        order_ship(order=order, reason="The carrier reports the goods on their way.")


@shared_task
def deliver_task(order_pk: int) -> None:
    """Delivered once both are true, whichever comes last: released at import, and the carrier delivered."""
    order = Order.objects.get(pk=order_pk)
    delivered = Shipment.objects.filter(order=order, status=ShipmentStatus.DELIVERED).exists()
    if order.status == OrderStatus.IMPORT_RELEASED and delivered:
        order_deliver(order=order, reason="The carrier delivered the goods.")


@shared_task
def delivered_shipment_task(shipment_pk: int) -> None:
    deliver_task(Order.objects.only("pk").get(shipment__pk=shipment_pk).pk)


@shared_task
def returned_shipment_task(shipment_pk: int) -> None:
    """The goods came back: the consumer's CBEC quota is given back, within the return window."""
    quota_restore(order=Order.objects.get(shipment__pk=shipment_pk))


@shared_task
def refund_claim_task(order_pk: int) -> None:
    """Delivered, the seller settled: its export VAT refund is computed where the origin hub grants one."""
    refund_claim_compute(order=Order.objects.select_related("company").get(pk=order_pk))


def wire() -> None:
    """Each step sent on the commit of the transition before it, whoever made that transition; the pre-arrival
    message written with the export's release itself, so that neither commits without the other."""
    react_to(Order, OrderStatus.PAID, export_declare_task)
    react_within(Order, OrderStatus.EXPORT_RELEASED, pre_arrival_queue)
    react_to(Shipment, ShipmentStatus.IN_TRANSIT, ship_task)
    react_to(Order, OrderStatus.SHIPPED, import_declare_task)
    react_to(Order, OrderStatus.IMPORT_RELEASED, deliver_task)
    react_to(Shipment, ShipmentStatus.DELIVERED, delivered_shipment_task)
    react_to(Order, OrderStatus.DELIVERED, refund_claim_task)
    react_to(Shipment, ShipmentStatus.RETURNED, returned_shipment_task)


def _declared(direction: str):
    return Exists(Declaration.objects.filter(order=OuterRef("pk"), direction=direction))


@shared_task
def journey_sweep_task() -> dict[str, int]:
    """Send on the orders a lost message left between two steps: those in their state for longer than its
    reaction takes (a step done twice does nothing more)."""
    before = swept_before()
    waiting = Order.objects.filter(status_changed_at__lt=before)
    stuck = {
        export_declare_task: waiting.filter(status=OrderStatus.PAID).exclude(_declared(Direction.EXPORT)),
        import_declare_task: waiting.filter(status=OrderStatus.SHIPPED).exclude(_declared(Direction.IMPORT)),
        deliver_task: waiting.filter(
            status=OrderStatus.IMPORT_RELEASED,
            shipment__status=ShipmentStatus.DELIVERED,
            shipment__status_changed_at__lt=before,
        ),
        refund_claim_task: waiting.filter(
            status=OrderStatus.DELIVERED,
            refund_claim__isnull=True,
            declarations__direction=Direction.EXPORT,
            declarations__procedure__in=REFUNDED_PROCEDURES,
        ),
    }
    sent = {task.name: resend(task, rows.values_list("pk", flat=True)[:SWEEP_BATCH]) for task, rows in stuck.items()}
    shipped = Shipment.objects.filter(
        order__status=OrderStatus.EXPORT_RELEASED, status__in=DEPARTED, status_changed_at__lt=before
    )
    sent[ship_task.name] = resend(ship_task, shipped.values_list("pk", flat=True)[:SWEEP_BATCH])
    return sent
