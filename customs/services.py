"""Customs' writes: file an order's declaration (scored, matched, released at once when green), an officer's
decisions and re-routes, and an SME's answer to a hold. Each move of a declaration is a kernel transition, and
moves its order alike, so that every decision is on the order's timeline."""

import hashlib

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from customs.matching import three_document_match
from customs.models import (
    DECLARATION_FILED,
    DECLARATION_REROUTED,
    DOCUMENT_ATTACHED,
    RISK_RULE_CHANGED,
    Declaration,
    DeclarationDocument,
    DeclarationStatus,
    Direction,
    HubMessage,
    HubMessageKind,
    HubMessageStatus,
    Lane,
    Procedure,
    RiskRule,
)
from customs.risk import score
from hubs.kernel.audit import audit_event_record
from hubs.kernel.errors import DomainError
from hubs.kernel.transitions import transition
from hubs.models import COMPANY_ROLES, OFFICER_ROLES, QuotaEntry, QuotaYear
from hubs.scoping import require_role
from hubs.selectors import consumer_year_usage
from hubs.tariff import ExportRegime, ImportRules, Regime
from trade.models import BuyerKind, Order, OrderStatus
from trade.services import order_declare, order_hold, order_reject, order_release

S = DeclarationStatus

# Where an order is declared, and which state of the order allows it.
DECLARABLE = {Direction.EXPORT: OrderStatus.PAID, Direction.IMPORT: OrderStatus.SHIPPED}


def procedure_for(order: Order, direction: str) -> str:
    """The customs procedure of an order's declaration: China's supervision codes where the hub's rules are the
    CBEC ones (an export's regime says so too: only they refund VAT by CBEC export), else low-value goods or
    general."""
    if direction == Direction.EXPORT:
        export_regime = order.quote.export_regime
        if export_regime == ExportRegime.MARKET_PROCUREMENT:
            return Procedure.MARKET_PROCUREMENT
        if export_regime == ExportRegime.CBEC_EXPORT:
            return Procedure.CBEC_B2B if order.buyer.kind == BuyerKind.BUSINESS else Procedure.CBEC_DIRECT
        return Procedure.GENERAL
    if order.regime == Regime.CBEC_RETAIL:
        return Procedure.CBEC_DIRECT
    if order.regime == Regime.LOW_VALUE_GOODS:
        return Procedure.LOW_VALUE_GOODS
    chinese = order.quote.rule_set.import_rules == ImportRules.CHINA_CBEC
    return Procedure.GENERAL_TRADE if chinese else Procedure.GENERAL


def declaration_parties(order: Order) -> dict:
    """Exporter, importer and declarant of the order's declarations (and of its pre-arrival message)."""
    company, buyer = order.company, order.buyer
    return {
        "exporter": {
            "name": company.legal_name,
            "registration": company.registration_number,
            "country": str(company.country),
        },
        "importer": {
            "name": buyer.name,
            "kind": buyer.kind,
            "id": buyer.id_number_masked or buyer.registration_number,
            "address": ", ".join(part for part in (buyer.address_line1, buyer.city) if part),
            "country": str(buyer.country),
        },
        "declarant": {"name": "eHub platform", "for": company.legal_name},
    }


def _lines(order: Order) -> list[dict]:
    return [
        {
            "position": line.position,
            "hs_code": line.hs_code,
            "description": line.description,
            "quantity": line.quantity,
            "value": str(line.value.amount),
            "currency": line.value.currency.code,
            "origin": str(line.listing.origin_country) if line.listing else "",
            "taxes": str(line.taxes_total.amount),
        }
        for line in order.lines.select_related("listing").order_by("position")
    ]


def declaration_file(*, order: Order, direction: str) -> Declaration:
    """File the order's declaration in `direction` (export once paid, import once shipped): its procedure, parties
    and lines with the binding quote's figures; at import, the three-document match first, and the pre-arrival
    message applied for the order (its id and pre-score). Scored into a lane by the hub's rules: green is released
    at once; a mismatch is held, naming each differing field; yellow and red wait in the officers' queue. Filing
    again returns the declaration filed before."""
    with transaction.atomic():
        order = (
            Order.objects.select_for_update(of=("self",))
            .select_related("company", "buyer", "quote__rule_set", "origin_hub", "destination_hub")
            .get(pk=order.pk)
        )
        filed = order.declarations.filter(direction=direction).first()
        if filed is not None:
            return filed
        if order.status != DECLARABLE[direction]:
            raise DomainError(
                f"{order.public_id} is {order.get_status_display().lower()}: its {direction} declaration is filed "
                f"when it is {OrderStatus(DECLARABLE[direction]).label.lower()}.",
                code="invalid_transition",
            )
        hub = order.origin_hub if direction == Direction.EXPORT else order.destination_hub
        declaration = Declaration(
            order=order,
            direction=direction,
            hub=hub,
            procedure=procedure_for(order, direction),
            parts=(order.quote.export_declarations or 1) if direction == Direction.EXPORT else 1,
            parties=declaration_parties(order),
            lines=_lines(order),
            value=order.goods,
            duties_and_taxes=order.duties_and_taxes if direction == Direction.IMPORT else order.goods * 0,
            lane=Lane.GREEN,
        )
        if direction == Direction.IMPORT:
            _, declaration.mismatches = three_document_match(order)
            declaration.pre_arrival = _pre_arrival(order)
        declaration.save()  # its public id draws the random rule
        declaration.lane, declaration.risk = score(declaration)
        declaration.save(update_fields=["lane", "risk"])
        audit_event_record(
            actor=None,
            verb=DECLARATION_FILED,
            target=declaration,
            data={
                "direction": declaration.get_direction_display(),
                "declaration": declaration.public_id,
                "hub": hub.code,
                "lane": declaration.lane,
                "risk": declaration.risk,
                "pre_arrival": declaration.pre_arrival.get("message", ""),
            },
        )
        order_declare(order=order, reason=f"{declaration.public_id} filed at {hub.code}")
        if declaration.mismatches:
            fields = ", ".join(difference["field"] for difference in declaration.mismatches)
            return _decide(
                declaration,
                S.HELD,
                actor=None,
                reason=f"The order, payment and waybill differ: {fields}.",
                documents="Documents that explain or correct the differing fields.",
            )
        if declaration.lane == Lane.GREEN:
            return _release(declaration, actor=None, reason="Green lane: released at once.")
        return declaration


def _pre_arrival(order: Order) -> dict:
    """The pre-arrival message the destination applied for the order, as an import declaration records it; empty
    when none came (the declaration is filed all the same)."""
    message = HubMessage.objects.filter(
        order=order, kind=HubMessageKind.PRE_ARRIVAL, status=HubMessageStatus.APPLIED
    ).first()
    if message is None:
        return {}
    return {"message": message.public_id, **message.pre_score, "applied_at": message.applied_at.isoformat()}


def _release(declaration: Declaration, *, actor, reason: str) -> Declaration:
    """Release the declaration and its order; at import, the consumer's CBEC quota is used, checked again under
    the lock of the consumer's year (an order over the limit is held instead)."""
    order = declaration.order
    if declaration.direction == Direction.IMPORT and order.regime == Regime.CBEC_RETAIL and order.consumer_hash:
        hub, year = order.destination_hub, order.quota_year
        QuotaYear.objects.select_for_update().get_or_create(hub=hub, consumer_hash=order.consumer_hash, year=year)
        limit = order.quote.rule_set.cbec_annual_limit
        used = consumer_year_usage(hub, order.consumer_hash, year)
        if limit is not None and used + order.quota_counted > limit:
            return _decide(
                declaration,
                S.HELD,
                actor=None,
                reason=f"The consumer's annual CBEC limit of {hub.currency} {limit} is used up ({used} used).",
                documents="",
            )
        QuotaEntry.objects.create(
            hub=hub, consumer_hash=order.consumer_hash, year=year, amount=order.quota_counted, reference=order.public_id
        )
    return _decide(declaration, S.RELEASED, actor=actor, reason=reason)


# How a declaration's move moves its order.
ORDER_MOVES = {S.HELD: order_hold, S.INSPECTION: order_hold, S.RELEASED: order_release, S.REJECTED: order_reject}


def _decide(declaration: Declaration, to: str, *, actor, reason: str, documents: str | None = None) -> Declaration:
    if documents is not None:
        declaration.documents_requested = documents
        declaration.save(update_fields=["documents_requested"])
    declaration = transition(declaration, to, actor=actor, reason=reason)
    if to != S.FILED:
        Declaration.objects.filter(pk=declaration.pk).update(decided_at=timezone.now())
    move = ORDER_MOVES.get(to)
    held = declaration.order.status in (OrderStatus.EXPORT_HELD, OrderStatus.IMPORT_HELD)
    if move is not None and not (move is order_hold and held):  # held for documents, then for inspection
        declaration.order = move(actor=actor, order=declaration.order, reason=reason)
    return declaration


DECISIONS = {"release": S.RELEASED, "hold": S.HELD, "inspect": S.INSPECTION, "reject": S.REJECTED}


def declaration_decide(
    *, actor, declaration: Declaration, decision: str, reason: str, documents: str = ""
) -> Declaration:
    """An officer of the declaration's hub releases, holds (naming the documents wanted), sends to inspection or
    rejects it, with a reason."""
    require_role(actor, declaration.hub, *OFFICER_ROLES)
    if decision not in DECISIONS:
        raise DomainError(f"No decision {decision!r}: one of {', '.join(DECISIONS)}.", code="invalid", attr="decision")
    if not reason.strip():
        raise DomainError("Say why: the reason is on the order's timeline.", code="required", attr="reason")
    if decision == "hold" and not documents.strip():
        raise DomainError("Name the documents the seller must send.", code="required", attr="documents")
    with transaction.atomic():
        declaration = Declaration.objects.select_for_update(of=("self",)).get(pk=declaration.pk)
        to = DECISIONS[decision]
        if not declaration.can_become(to):
            raise DomainError(
                f"{declaration.public_id} is {declaration.get_status_display().lower()}: it cannot be {decision}d now.",
                code="invalid_transition",
            )
        if to == S.RELEASED:
            return _release(declaration, actor=actor, reason=reason)
        return _decide(declaration, to, actor=actor, reason=reason, documents=documents if to == S.HELD else None)


def declaration_reroute(*, actor, declaration: Declaration, lane: str, reason: str) -> Declaration:
    """An officer of the hub moves an open declaration to another lane, with a reason (an audit event)."""
    require_role(actor, declaration.hub, *OFFICER_ROLES)
    if lane not in Lane.values:
        raise DomainError(f"No lane {lane!r}.", code="invalid", attr="lane")
    if not reason.strip():
        raise DomainError("Say why the declaration changes lanes.", code="required", attr="reason")
    with transaction.atomic():
        declaration = Declaration.objects.select_for_update(of=("self",)).get(pk=declaration.pk)
        if not declaration.open:
            raise DomainError(f"{declaration.public_id} is decided: it stays in its lane.", code="invalid_transition")
        before, declaration.lane = declaration.lane, lane
        declaration.save(update_fields=["lane"])
        audit_event_record(
            actor=actor, verb=DECLARATION_REROUTED, target=declaration, reason=reason, data={"from": before, "to": lane}
        )
    return declaration


def risk_rule_save(*, actor, rule: RiskRule, changed: list[str]) -> RiskRule:
    """Save one of a hub's risk rules (the console's form has checked it), by an officer of that hub, with an audit
    event naming what changed."""
    require_role(actor, rule.hub, *OFFICER_ROLES)
    with transaction.atomic():
        new = rule.pk is None
        rule.save()
        audit_event_record(
            actor=actor,
            verb=RISK_RULE_CHANGED,
            target=rule,
            data={"rule": str(rule), "changed": {name: str(getattr(rule, name)) for name in changed}, "new": new},
        )
    return rule


# What an SME may send to answer a hold: the type's first bytes, so that a renamed file is refused.
DOCUMENT_SIGNATURES = {"application/pdf": b"%PDF-", "image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff"}


def _checked(upload: UploadedFile) -> tuple[bytes, str]:
    limit = settings.CUSTOMS_DOCUMENT_MAX_BYTES
    if upload.size > limit:
        raise DomainError(
            f"{upload.name} is {upload.size:,} bytes: a document is at most {limit:,}.", code="too_large", attr="files"
        )
    content = upload.read()
    kind = next((kind for kind, magic in DOCUMENT_SIGNATURES.items() if content.startswith(magic)), None)
    if kind is None:
        raise DomainError(f"{upload.name} is not a PDF, PNG or JPEG file.", code="unsupported_document", attr="files")
    return content, kind


def declaration_answer(*, actor, declaration: Declaration, files: list[UploadedFile], note: str = "") -> Declaration:
    """The seller answers a hold with documents (PDF, PNG or JPEG, each at most the size allowed), stored with their
    SHA-256; the declaration goes back to the officers' queue."""
    if not actor.roles_at(declaration.order.company) & set(COMPANY_ROLES) and not actor.is_superuser:
        raise PermissionDenied(f"Only the seller of {declaration.order.public_id} answers its holds.")
    if not files:
        raise DomainError("Attach at least one document.", code="required", attr="files")
    checked = [(upload.name, *_checked(upload)) for upload in files]
    with transaction.atomic():
        declaration = Declaration.objects.select_for_update(of=("self",)).get(pk=declaration.pk)
        if declaration.status != S.HELD:
            raise DomainError(
                f"{declaration.public_id} is {declaration.get_status_display().lower()}: only a hold is answered.",
                code="invalid_transition",
            )
        for name, content, kind in checked:
            document = DeclarationDocument.objects.create(
                declaration=declaration,
                name=name[:200],
                content_type=kind,
                size=len(content),
                sha256=hashlib.sha256(content).hexdigest(),
                content=content,
                uploaded_by=actor.user if actor.user.is_authenticated else None,
            )
            audit_event_record(
                actor=actor,
                verb=DOCUMENT_ATTACHED,
                target=declaration,
                data={"name": document.name, "sha256": document.sha256},
            )
        return transition(declaration, S.FILED, actor=actor, reason=note or "Documents sent.")
