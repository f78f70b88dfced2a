"""Hub to hub ("e-road"): once an order's export is released, its origin hub sends the destination hub a pre-arrival
message (the ACDD / WCO PLACI data set), so that the import is pre-scored by the destination's risk rules before the
goods arrive, and its import declaration is filed with it.

- Durable: the message is an outbox row written in the release's own transaction, delivered by a task on commit,
  sent again after a doubling back-off when delivery fails, and by beat's sweeper when a worker died mid-send.
- Signed per hub pair: `Hub-Key` names the pair's key, `Hub-Signature` is the kernel's `t=<unix>,v1=<HMAC>`, refused
  outside its window. Keys rotate: the newest signs, the older ones verify until they are retired.
- Applied once and in order: the destination claims the message id (a replay changes nothing), and applies a pair's
  messages strictly in sequence. A number already passed is refused; so is one ahead of a gap, which its origin
  sends again once its predecessor is applied: no message is skipped, so none is lost.
"""

import json
import logging
import secrets
from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Max, QuerySet
from django.utils import timezone
from django.utils.module_loading import import_string

from customs.models import (
    HUB_KEY_RETIRED,
    HUB_KEY_ROTATED,
    HUB_MESSAGE_QUEUED,
    HUB_MESSAGE_REFUSED,
    Declaration,
    Direction,
    HubKey,
    HubMessage,
    HubMessageKind,
    HubMessageStatus,
)
from customs.risk import score
from customs.services import declaration_parties
from hubs.kernel.audit import audit_event_record
from hubs.kernel.background import enqueue_on_commit
from hubs.kernel.errors import DomainError
from hubs.kernel.idempotency import claim
from hubs.kernel.signatures import sign, verify
from hubs.kernel.transitions import transition
from hubs.models import Hub, Role
from logistics.models import Departure, DepartureStatus, Shipment
from trade.models import Order

logger = logging.getLogger(__name__)

KEY_HEADER = "Hub-Key"
SIGNATURE_HEADER = "Hub-Signature"
ENVELOPE = {"id": str, "kind": str, "origin": str, "destination": str, "sequence": int, "order": str, "data": dict}
M = HubMessageStatus
UNDELIVERED = (M.PENDING, M.FAILED)


class TransportError(Exception):
    """The destination did not take the message (unreachable, or it refused it): it is sent again later."""


class InProcessTransport:
    """The embedded default: every hub is on this platform, so a message is handed to the destination's receiving
    service directly (as the simulated carrier and rail answer in process); a refusal is a failed delivery."""

    def send(self, *, destination: Hub, headers: Mapping[str, str], body: bytes) -> None:
        try:
            pre_arrival_receive(headers=headers, body=body)
        except DomainError as refused:
            raise TransportError(f"{refused.code}: {refused.detail}") from refused


def transport():
    """The transport of hub messages: a dotted class path in `HUB_MESSAGE_TRANSPORT`."""
    return import_string(settings.HUB_MESSAGE_TRANSPORT)()


# --- keys -------------------------------------------------------------------------------------------------------


def hub_key_current(origin_hub: Hub, destination_hub: Hub) -> HubKey:
    """The key the pair signs with now: the newest one not due to retire. A pair without one gets one (its hubs are
    on this platform, which keeps the secret for both ends)."""
    key = (
        HubKey.objects.filter(
            origin_hub=origin_hub, destination_hub=destination_hub, retired_at=None, active_from__lte=timezone.now()
        )
        .order_by("-active_from", "-pk")
        .first()
    )
    if key is None:
        key = HubKey.objects.create(
            origin_hub=origin_hub, destination_hub=destination_hub, secret=secrets.token_hex(32)
        )
    return key


def _require_supervisor_of_pair(actor, key: HubKey) -> None:
    roles = actor.roles_at(key.origin_hub) | actor.roles_at(key.destination_hub)
    if not (actor.is_superuser or Role.HUB_SUPERVISOR in roles):
        raise PermissionDenied("Only a supervisor of one of the pair's hubs manages its keys.")


def _key_data(key: HubKey) -> dict:
    return {"key": key.key_id, "origin": key.origin_hub.code, "destination": key.destination_hub.code}


def hub_key_rotate(*, actor, key: HubKey, grace: timedelta | None = None) -> HubKey:
    """A supervisor of either hub of `key`'s pair rotates the pair's keys: a new key signs from now on, and those
    that signed until now still verify for `grace` (the setting's hours by default), messages in flight with them."""
    _require_supervisor_of_pair(actor, key)
    grace = timedelta(hours=settings.HUB_KEY_GRACE_HOURS) if grace is None else grace
    with transaction.atomic():
        pair = HubKey.objects.select_for_update(no_key=True).filter(
            origin_hub=key.origin_hub_id, destination_hub=key.destination_hub_id
        )
        now = timezone.now()
        retiring = [old.key_id for old in pair if old.retired_at is None]
        pair.filter(retired_at=None).update(retired_at=now + grace)
        new = HubKey.objects.create(
            origin_hub=key.origin_hub, destination_hub=key.destination_hub, secret=secrets.token_hex(32)
        )
        audit_event_record(
            actor=actor,
            verb=HUB_KEY_ROTATED,
            target=new,
            data={**_key_data(new), "retiring": retiring, "retired_at": (now + grace).isoformat()},
        )
    return new


def hub_key_retire(*, actor, key: HubKey) -> HubKey:
    """A supervisor of either hub of the pair retires a key at once (its secret leaked): it verifies nothing from
    now on. The pair's next message is signed with a newer key, made if none is left."""
    _require_supervisor_of_pair(actor, key)
    with transaction.atomic():
        key = (
            HubKey.objects.select_for_update(no_key=True).select_related("origin_hub", "destination_hub").get(pk=key.pk)
        )
        now = timezone.now()
        if key.retired_at is not None and key.retired_at <= now:
            raise DomainError(f"{key} is retired already.", code="invalid_transition")
        key.retired_at = now
        key.save(update_fields=["retired_at"])
        audit_event_record(actor=actor, verb=HUB_KEY_RETIRED, target=key, data=_key_data(key))
    return key


# --- sending ----------------------------------------------------------------------------------------------------


def pre_arrival_data(order: Order) -> dict:
    """The ACDD's fields (exporter, consignee, declarant, departure date, HS codes, quantities, origins, transport
    mode, port of discharge, item numbers, permit number) and WCO PLACI's 7+1 (shipper and consignee, pieces,
    weight, goods description, house waybill), as known when the export is released: the parcels' weight once they
    are received, else the listings'; the next departure on the route."""
    export = order.declarations.filter(direction=Direction.EXPORT).first()
    lines = list(order.lines.select_related("listing").order_by("position"))
    parcels = list(order.parcels.all())
    if parcels:
        weight = sum((parcel.weight_kg for parcel in parcels), Decimal(0))
    else:
        weight = sum((line.listing.unit_weight_kg * line.quantity for line in lines if line.listing), Decimal(0))
    departure = (
        Departure.objects.filter(
            origin_hub=order.origin_hub_id, destination_hub=order.destination_hub_id, status=DepartureStatus.OPEN
        )
        .select_related("unit_type")
        .order_by("departs_at", "pk")
        .first()
    )
    shipment = Shipment.objects.filter(order=order).first()
    parties = declaration_parties(order)
    return {
        "exporter": parties["exporter"],
        "consignee": parties["importer"],
        "declarant": parties["declarant"],
        "permit_number": export.public_id if export else "",
        "procedure": export.procedure if export else "",
        "departure_date": departure.departs_at.date().isoformat() if departure else None,
        "transport_mode": departure.unit_type.mode if departure else "",
        "port_of_discharge": order.destination_hub.code,
        "items": [
            {
                "item_number": line.position,
                "hs_code": line.hs_code,
                "description": line.description,
                "quantity": line.quantity,
                "measure": {"quantity": str(line.measure_quantity), "unit": line.measure_unit},
                "origin": str(line.listing.origin_country) if line.listing else "",
                "value": str(line.value.amount),
                "currency": line.value.currency.code,
            }
            for line in lines
        ],
        "goods_description": "; ".join(line.description for line in lines),
        "pieces": len(parcels),
        "gross_weight_kg": str(weight),
        "house_waybill": shipment.waybill if shipment else "",
        "declared_value": {"amount": str(order.goods.amount), "currency": order.goods.currency.code},
    }


def pre_arrival_queue(order: Order) -> HubMessage:
    """Write the order's pre-arrival message to the outbox, numbered next in its hub pair, and send it on commit.
    Made within the transaction of the order's export release (`react_within`), so that the release and its
    message commit together or not at all. Queuing again returns the message queued before."""
    queued = HubMessage.objects.filter(order=order, kind=HubMessageKind.PRE_ARRIVAL).first()
    if queued is not None:
        return queued
    Hub.objects.select_for_update(no_key=True).get(pk=order.origin_hub_id)  # the pair's numbers are drawn one at a time
    pair = HubMessage.objects.filter(origin_hub=order.origin_hub_id, destination_hub=order.destination_hub_id)
    message = HubMessage.objects.create(
        origin_hub=order.origin_hub,
        destination_hub=order.destination_hub,
        order=order,
        kind=HubMessageKind.PRE_ARRIVAL,
        sequence=(pair.aggregate(last=Max("sequence"))["last"] or 0) + 1,
        payload=pre_arrival_data(order),
    )
    audit_event_record(
        actor=None,
        verb=HUB_MESSAGE_QUEUED,
        target=message,
        data={"message": message.public_id, "sequence": message.sequence, "destination": order.destination_hub.code},
    )
    from customs.tasks import hub_message_deliver_task  # the tasks call these services

    enqueue_on_commit(hub_message_deliver_task, message.pk)
    return message


def hub_message_body(message: HubMessage) -> bytes:
    """The bytes signed and sent: the envelope (id, kind, hubs, sequence, order) and its data, in canonical JSON."""
    envelope = {
        "id": message.public_id,
        "kind": message.kind,
        "origin": message.origin_hub.code,
        "destination": message.destination_hub.code,
        "sequence": message.sequence,
        "order": message.order.public_id,
        "data": message.payload,
    }
    return json.dumps(envelope, sort_keys=True, separators=(",", ":")).encode()


def retry_after(attempts: int) -> timedelta:
    """How long a message waits after its `attempts`-th sending: doubling from half a minute, an hour at most."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 60 * 60))


def _names(message: HubMessage) -> dict:
    return {
        "message": message.public_id,
        "destination": message.destination_hub.code,
        "lane": message.pre_score.get("lane", ""),
    }


def hub_message_deliver(*, message: HubMessage) -> HubMessage:
    """Send a message not yet delivered, signed with its pair's current key, through the transport. Its next attempt
    is set before it goes, so that a worker dying mid-send leaves it to the sweeper; a failure is kept with its
    reason. The destination takes a pair's messages in order, so one waits while its predecessor is undelivered
    (not an attempt: no back-off grows). A message delivered before is left alone; sent twice at once, the
    destination applies it once."""
    with transaction.atomic():
        message = (
            HubMessage.objects.select_for_update(no_key=True, of=("self",))
            .select_related("origin_hub", "destination_hub", "order")
            .get(pk=message.pk)
        )
        if message.status not in UNDELIVERED or _predecessor_undelivered(message):
            return message
        message.attempts += 1
        message.sent_at = timezone.now()
        message.next_attempt_at = message.sent_at + retry_after(message.attempts)
        message.save(update_fields=["attempts", "sent_at", "next_attempt_at"])
    key = hub_key_current(message.origin_hub, message.destination_hub)
    body = hub_message_body(message)
    headers = {KEY_HEADER: key.key_id, SIGNATURE_HEADER: sign(key.secret, body)}
    try:
        transport().send(destination=message.destination_hub, headers=headers, body=body)
    except TransportError as failed:
        return _failed(message, str(failed))
    with transaction.atomic():
        message = HubMessage.objects.select_for_update(no_key=True, of=("self",)).get(pk=message.pk)
        if message.status in UNDELIVERED:  # else applied already, by a destination on this platform
            message = transition(message, M.SENT, actor=None, data=_names(message))
    return message


def hub_messages_deliver_in_turn(*, message: HubMessage, limit: int = 100) -> HubMessage | None:
    """Deliver `message`, then the pair's next ones behind it, one after the other in this worker (not a trip
    through the queue each), until one is not delivered (it fails, or waits for its predecessor: its back-off or
    that one's delivery sends it) or `limit` are. Returns the pair's next message left waiting after the limit."""
    for _ in range(limit):
        message = hub_message_deliver(message=message)
        if message.status in UNDELIVERED:
            return None
        message = undelivered_numbered(message.origin_hub_id, message.destination_hub_id, message.sequence + 1).first()
        if message is None:
            return None
    return message


def undelivered_numbered(origin_hub, destination_hub, sequence) -> QuerySet[HubMessage]:
    """The pair's message numbered `sequence`, if it is not delivered yet (values, or a subquery's outer refs)."""
    return HubMessage.objects.filter(
        origin_hub=origin_hub, destination_hub=destination_hub, sequence=sequence, status__in=UNDELIVERED
    )


def _predecessor_undelivered(message: HubMessage) -> bool:
    return undelivered_numbered(message.origin_hub_id, message.destination_hub_id, message.sequence - 1).exists()


def _failed(message: HubMessage, error: str) -> HubMessage:
    logger.warning("hub message %s not delivered: %s", message.public_id, error)
    with transaction.atomic():
        message = HubMessage.objects.select_for_update(no_key=True, of=("self",)).get(pk=message.pk)
        if message.status not in UNDELIVERED:  # delivered meanwhile by another worker
            return message
        message.last_error = error[:300]
        message.save(update_fields=["last_error"])
        if message.status == M.PENDING:
            message = transition(message, M.FAILED, actor=None, reason=message.last_error, data=_names(message))
    return message


# --- receiving --------------------------------------------------------------------------------------------------


def _envelope(body: bytes) -> dict:
    try:
        envelope = json.loads(body)
    except ValueError:
        envelope = None
    if not isinstance(envelope, dict) or not all(isinstance(envelope.get(f), kind) for f, kind in ENVELOPE.items()):
        raise DomainError("The body is not a hub message: " + ", ".join(ENVELOPE) + ".", code="malformed_message")
    return envelope


def pre_arrival_receive(*, headers: Mapping[str, str], body: bytes) -> tuple[HubMessage, bool]:
    """Apply a pre-arrival message at its destination hub: the key `Hub-Key` names must still verify, the signature
    match under it within its window, the message be the one its origin queued for the key's pair, its id not
    claimed before, and its number the next of the pair's. The destination's risk rules then pre-score the import.

    Returns the message and whether it was applied now (False: a replay, which changes nothing). A refusal raises
    a DomainError, and is an audit event filed under the key's hubs (a key unknown here has none to file it under).
    """
    key = (
        HubKey.objects.select_related("origin_hub", "destination_hub")
        .filter(key_id=headers.get(KEY_HEADER, ""))
        .first()
    )
    if key is None:
        raise DomainError("The message names no key of this platform.", code="unknown_key")
    try:
        with transaction.atomic():
            return _receive(key, headers, body)
    except DomainError as refused:
        try:
            named = _envelope(body)["id"]
        except DomainError:
            named = ""
        audit_event_record(
            actor=None,
            verb=HUB_MESSAGE_REFUSED,
            target=key,
            reason=refused.detail,
            data={"message": named, "code": refused.code, **_key_data(key)},
        )
        raise


def _receive(key: HubKey, headers: Mapping[str, str], body: bytes) -> tuple[HubMessage, bool]:
    now = timezone.now()
    if not key.verifies_at(now):
        raise DomainError(f"Key {key.key_id} is retired: it verifies nothing.", code="retired_key")
    verify([key.secret], headers.get(SIGNATURE_HEADER, ""), body)
    envelope = _envelope(body)
    message = (
        HubMessage.objects.select_for_update(no_key=True, of=("self",))
        .select_related("order", "origin_hub", "destination_hub")
        .filter(
            public_id=envelope["id"],
            kind=envelope["kind"],
            origin_hub=key.origin_hub,
            destination_hub=key.destination_hub,
            order__public_id=envelope["order"],
            sequence=envelope["sequence"],
        )
        .first()
    )
    if message is None:
        raise DomainError(
            f"No message of {key.origin_hub.code} → {key.destination_hub.code} is this one.", code="unknown_message"
        )
    if claim(f"hub-messages:{key.destination_hub.code}", message.public_id) is None:
        audit_event_record(
            actor=None,
            verb=HUB_MESSAGE_REFUSED,
            target=message,
            reason="Applied before: a replay changes nothing.",
            data={"message": message.public_id, "code": "replayed", "destination": key.destination_hub.code},
        )
        return message, False
    applied = HubMessage.objects.filter(
        origin_hub=key.origin_hub, destination_hub=key.destination_hub, status=M.APPLIED
    )
    expected = (applied.aggregate(last=Max("sequence"))["last"] or 0) + 1
    if message.sequence != expected:
        raise DomainError(
            f"Message #{message.sequence} is out of order: the pair's next is #{expected}.", code="out_of_order"
        )
    lane, risk = score(
        Declaration(
            order=message.order, direction=Direction.IMPORT, hub=key.destination_hub, public_id=message.public_id
        )
    )
    message.pre_score, message.applied_at = {"lane": lane, "risk": risk}, now
    message.save(update_fields=["pre_score", "applied_at"])
    return transition(message, M.APPLIED, actor=None, data=_names(message)), True
