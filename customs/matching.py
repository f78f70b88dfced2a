"""The three-document match (三单对碰) before an import declaration is accepted: the order (trade, CEB311), the
payment record (payments, CEB411) and the waybill (logistics, CEB511), joined on the order number, must agree on
parties, amounts and currency, and the payer must be the buyer. Each document is read as its message's fields."""

from decimal import Decimal

from logistics.models import Shipment
from payments.models import PaymentStatus
from trade.models import Order


def _same(text: str) -> str:
    return " ".join(str(text).split()).casefold()


def order_message(order: Order) -> dict:
    """The order's CEB311 fields."""
    buyer = order.buyer
    return {
        "orderNo": order.public_id,
        "ebcCode": order.company.registration_number,
        "ebcName": order.company.legal_name,
        "goodsValue": str(order.goods.amount),
        "freight": str(order.freight.amount),
        "taxTotal": str(order.duties_and_taxes.amount),
        "acturalPaid": str(order.total.amount),  # sic: the message's own spelling
        "currency": order.total.currency.code,
        "buyerName": buyer.name,
        "buyerIdNumber": buyer.id_number_masked or buyer.registration_number,
        "consignee": buyer.name,
        "consigneeAddress": ", ".join(part for part in (buyer.address_line1, buyer.address_line2) if part),
    }


def payment_message(order: Order) -> dict | None:
    """The captured payment's CEB411 fields, or None when the order has no captured payment."""
    payment = order.payments.filter(status__in=[PaymentStatus.CAPTURED, PaymentStatus.REFUNDED]).first()
    if payment is None:
        return None
    return {
        "orderNo": order.public_id,
        "payTransactionId": payment.provider_ref or payment.public_id,
        "payerName": payment.payer_name,
        "amountPaid": str(payment.amount.amount),
        "currency": payment.amount.currency.code,
        "payTime": payment.captured_at.isoformat() if payment.captured_at else "",
    }


def waybill_message(order: Order) -> dict | None:
    """The shipment's CEB511 fields, or None when the order has no booked shipment."""
    shipment = Shipment.objects.filter(order=order).exclude(waybill="").first()
    if shipment is None:
        return None
    weight = sum((parcel.weight_kg for parcel in order.parcels.all()), Decimal(0))
    return {
        "orderNo": order.public_id,
        "logisticsCode": shipment.carrier,
        "logisticsNo": shipment.waybill,
        "consignee": shipment.receiver.get("name", ""),
        "consigneeAddress": shipment.receiver.get("address", ""),
        "weight": str(weight),
    }


# (field of the order, the payment's field or None, the waybill's field or None): what must agree.
AGREEMENTS = [
    ("acturalPaid", "amountPaid", None),
    ("currency", "currency", None),
    ("buyerName", "payerName", None),  # the payer must be the buyer
    ("consignee", None, "consignee"),
    ("consigneeAddress", None, "consigneeAddress"),
]


def three_document_match(order: Order) -> tuple[dict, list[dict]]:
    """The three messages, and each field on which they differ ({field, order, payment, waybill}); a document
    that is missing is a difference too."""
    messages = {"order": order_message(order), "payment": payment_message(order), "waybill": waybill_message(order)}
    differences = [
        {"field": name, "order": order.public_id, "payment": None, "waybill": None, "missing": True}
        for name in ("payment", "waybill")
        if messages[name] is None
    ]
    for ours, payment_field, waybill_field in AGREEMENTS:
        theirs = {"payment": payment_field, "waybill": waybill_field}
        found = {name: messages[name][field] for name, field in theirs.items() if field and messages[name] is not None}
        if any(_same(value) != _same(messages["order"][ours]) for value in found.values()):
            differences.append(
                {
                    "field": ours,
                    "order": messages["order"][ours],
                    "payment": found.get("payment"),
                    "waybill": found.get("waybill"),
                }
            )
    return messages, differences
