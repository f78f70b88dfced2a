"""Customs' writes: file an order's declaration (scored, matched, released at once when green), an officer's
decisions and re-routes, and an SME's answer to a hold. Each move of a declaration is a kernel transition, and
moves its order alike, so that every decision is on the order's timeline."""

import hashlib
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from djmoney.money import Money

from customs.matching import three_document_match
from customs.models import (
    DECLARATION_FILED,
    DECLARATION_REROUTED,
    DOCUMENT_ATTACHED,
    REFUND_COMPUTED,
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
    RefundClaim,
    RefundClaimStatus,
    RiskRule,
    Taxpayer,
)
from customs.refunds import manufacturer_refund, trading_refund
from customs.risk import score
from hubs.kernel.audit import audit_event_record
from hubs.kernel.errors import DomainError
from hubs.kernel.money import round_money
from hubs.kernel.transitions import transition
from hubs.models import COMPANY_ROLES, OFFICER_ROLES, QuotaEntry, QuotaYear
from hubs.scoping import require_role
from hubs.selectors import consumer_year_usage, rule_set_in_force
from hubs.tariff import ExportRegime, ImportRules, Regime
from payments.models import AccountKind
from payments.services import account_for, credit, debit, ledger_post
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


def _lines(order: Order, direction: str) -> list[dict]:
    """The order's lines as declared; the quote's duties and taxes are the import's (an export owes none here)."""
    return [
        {
            "position": line.position,
            "hs_code": line.hs_code,
            "description": line.description,
            "quantity": line.quantity,
            "value": str(line.value.amount),
            "currency": line.value.currency.code,
            "origin": str(line.listing.origin_country) if line.listing else "",
            "taxes": str(line.taxes_total.amount if direction == Direction.IMPORT else 0 * line.taxes_total.amount),
        }
        for line in order.lines.select_related("listing").order_by("position")
    ]


def declaration_parts(lines: list[dict], split: list[list[dict]], currency: str) -> list[dict]:
    """The declarations a market-procurement export above its cap is lodged as, as its quote split its lines' units
    (in the origin hub's currency, against the cap): each part's lines and value at the order's prices. A line's
    pieces are cut at its running total, so that they add up to the line to the cent."""
    by_position = {line["position"]: line for line in lines}
    declared: dict[int, int] = defaultdict(int)
    parts = []
    for number, part in enumerate(split, start=1):
        part_lines = []
        for piece in part:
            line = by_position[piece["position"]]
            value, quantity = Decimal(line["value"]), line["quantity"]
            before = declared[line["position"]]
            declared[line["position"]] += piece["quantity"]
            after = declared[line["position"]]
            share = round_money(value * after / quantity, currency) - round_money(value * before / quantity, currency)
            part_lines.append(
                {
                    "position": line["position"],
                    "hs_code": line["hs_code"],
                    "quantity": piece["quantity"],
                    "value": str(share),
                }
            )
        total = sum((Decimal(line["value"]) for line in part_lines), Decimal(0))
        parts.append({"number": number, "lines": part_lines, "value": str(total)})
    return parts


def declaration_file(*, order: Order, direction: str) -> Declaration:
    """File the order's declaration in `direction` (export once paid, import once shipped): its procedure, parties
    and lines with the binding quote's figures; at import, the three-document match first, and the pre-arrival
    message applied for the order (its id and pre-score). Scored into a lane by the hub's rules (at import, with
    what the pre-score found): green is released at once; a mismatch is held, naming each differing field; yellow
    and red wait in the officers' queue. Filing again returns the declaration filed before."""
    with transaction.atomic():
        order = (
            Order.objects.select_for_update(no_key=True, of=("self",))
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
            parties=declaration_parties(order),
            lines=_lines(order, direction),
            value=order.goods,
            duties_and_taxes=order.duties_and_taxes if direction == Direction.IMPORT else order.goods * 0,
            lane=Lane.GREEN,
        )
        if direction == Direction.EXPORT and len(order.quote.export_parts) > 1:
            declaration.parts = declaration_parts(
                declaration.lines, order.quote.export_parts, order.goods.currency.code
            )
        if direction == Direction.IMPORT:
            _, declaration.mismatches = three_document_match(order)
            declaration.pre_arrival = _pre_arrival(order)
        declaration.save()  # its public id draws the random rule
        declaration.lane, declaration.risk = score(declaration, declaration.pre_arrival or None)
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
        QuotaYear.objects.select_for_update(no_key=True).get_or_create(
            hub=hub, consumer_hash=order.consumer_hash, year=year
        )
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
        declaration = Declaration.objects.select_for_update(no_key=True, of=("self",)).get(pk=declaration.pk)
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
        declaration = Declaration.objects.select_for_update(no_key=True, of=("self",)).get(pk=declaration.pk)
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
        declaration = Declaration.objects.select_for_update(no_key=True, of=("self",)).get(pk=declaration.pk)
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


# The export procedures whose exports are refunded VAT where the hub grants it (1039 and the rest: exempt).
REFUNDED_PROCEDURES = {Procedure.CBEC_DIRECT, Procedure.CBEC_B2B, Procedure.CBEC_OVERSEAS_WAREHOUSE}


def _refund_lines(order: Order, rules, currency: str) -> list[dict] | None:
    """The order's lines at the export's rates, each at its gross value in the origin hub's currency: the price the
    seller quoted, before the quote converted it (its `conversions` keep it). None when a line was priced in
    another currency."""
    quoted = {c["figure"]: c for c in order.quote.conversions}
    lines = []
    for i, line in enumerate(order.lines.order_by("position")):
        converted = quoted.get(f"lines.{i}.unit_price")
        price = Money(converted["amount"], converted["from"]) if converted else line.unit_price
        if price.currency.code != currency:
            return None
        rate = rules.rate_for(line.hs_code)
        lines.append(
            {
                "position": line.position,
                "hs_code": line.hs_code,
                "gross": str(price.amount * line.quantity),
                "vat_rate": str(rate.vat_rate),
                "refund_rate": str(rate.export_refund_rate),
            }
        )
    return lines


def refund_claim_compute(*, order: Order) -> RefundClaim | None:
    """The order's export VAT refund claim, computed (as a trading company's) once its export is released and its
    seller settled, where the procedure is one that is refunded: at the origin hub's rates in force on the export
    date, on the price the seller quoted in the hub's currency. Where none is due (no rules then, another currency,
    a rate of zero), the claim says so and why. None for the other procedures. Once."""
    export = order.declarations.filter(direction=Direction.EXPORT, status=S.RELEASED).first()
    if export is None or export.procedure not in REFUNDED_PROCEDURES:
        return None
    hub = export.hub
    export_date = timezone.localdate(export.decided_at, timezone=ZoneInfo(hub.timezone))
    rule_set = rule_set_in_force(hub, export_date)
    lines = _refund_lines(order, rule_set.as_rules(), hub.currency) if rule_set else None
    amount, explanation = trading_refund(lines, hub.currency) if lines else (Decimal(0), "")
    if rule_set is None:
        explanation = f"{hub.code} had no rules in force on {export_date}: no refund is due."
    elif lines is None:
        explanation = f"The goods were priced in another currency than {hub.currency}: no refund is computed here."
    elif not amount:
        explanation = f"{explanation} The rates in force grant no refund."
    with transaction.atomic():
        claim, created = RefundClaim.objects.get_or_create(
            order=order,
            defaults={
                "hub": hub,
                "company": order.company,
                "export_date": export_date,
                "rule_set_version": rule_set.version if rule_set else 0,
                "lines": lines or [],
                "amount": Money(amount, hub.currency),
                "explanation": explanation,
                "status": RefundClaimStatus.COMPUTED if amount else RefundClaimStatus.NOT_DUE,
            },
        )
        if created:
            audit_event_record(
                actor=None,
                verb=REFUND_COMPUTED,
                target=claim,
                data={"amount": str(claim.amount), "claim": claim.public_id},
            )
    return claim


def refund_claim_file(
    *, actor, claim: RefundClaim, taxpayer: str = Taxpayer.TRADING, uncredited_input_vat: Decimal | None = None
) -> RefundClaim:
    """The seller files its claim, as a trading company or as a manufacturer with its uncredited input VAT (the
    refund is then the smaller of that and the limit)."""
    require_role(actor, claim.company, *COMPANY_ROLES)
    currency = claim.hub.currency
    if taxpayer == Taxpayer.MANUFACTURER:
        if uncredited_input_vat is None or uncredited_input_vat < 0:
            raise DomainError(
                "A manufacturer states its uncredited input VAT at the period's end (zero or more).",
                code="required",
                attr="uncredited_input_vat",
            )
        amount, explanation = manufacturer_refund(claim.lines, uncredited_input_vat, currency)
    elif taxpayer == Taxpayer.TRADING:
        amount, explanation = trading_refund(claim.lines, currency)
    else:
        raise DomainError(f"No taxpayer kind {taxpayer!r}.", code="invalid", attr="taxpayer")
    with transaction.atomic():
        claim = RefundClaim.objects.select_for_update(no_key=True, of=("self",)).get(pk=claim.pk)
        if claim.status != RefundClaimStatus.COMPUTED:
            raise DomainError(f"{claim.public_id} is {claim.get_status_display().lower()}.", code="invalid_transition")
        claim.taxpayer, claim.amount, claim.explanation = taxpayer, Money(amount, currency), explanation
        if uncredited_input_vat is not None:
            claim.uncredited_input_vat = Money(uncredited_input_vat, currency)
        claim.save(
            update_fields=["taxpayer", "amount", "explanation", "uncredited_input_vat", "uncredited_input_vat_currency"]
        )
        return transition(claim, RefundClaimStatus.FILED, actor=actor, data={"amount": str(claim.amount)})


def refund_claim_decide(*, actor, claim: RefundClaim, approve: bool, reason: str = "") -> RefundClaim:
    """An officer of the origin hub approves a filed claim, which is paid at once from the hub's tax account to the
    seller's account (one ledger transaction, under the claim's key: never twice), or rejects it."""
    require_role(actor, claim.hub, *OFFICER_ROLES)
    with transaction.atomic():
        claim = (
            RefundClaim.objects.select_for_update(no_key=True, of=("self",))
            .select_related("hub", "company")
            .get(pk=claim.pk)
        )
        to = RefundClaimStatus.PAID if approve else RefundClaimStatus.REJECTED
        if not claim.can_become(to):
            raise DomainError(
                f"{claim.public_id} is {claim.get_status_display().lower()}: it cannot be decided now.",
                code="invalid_transition",
            )
        if approve and claim.amount.amount:
            currency = claim.amount.currency.code
            seller = account_for(kind=AccountKind.COMPANY, company=claim.company, currency=currency)
            ledger_post(
                actor=actor,
                key=f"export-refund:{claim.public_id}",
                description=f"{claim.public_id}: export VAT refund of {claim.order_ref} from {claim.hub.code}",
                legs=[
                    debit(account_for(kind=AccountKind.HUB_TAX, hub=claim.hub, currency=currency), claim.amount),
                    credit(seller, claim.amount),
                ],
                order_ref=claim.order_ref,
            )
        RefundClaim.objects.filter(pk=claim.pk).update(decided_at=timezone.now())
        return transition(claim, to, actor=actor, reason=reason)


def quota_restore(*, order: Order) -> QuotaEntry | None:
    """A CBEC order's goods returned within the window after their import release give the consumer's annual quota
    back: a negative movement, once. None when nothing was used, it was given back before, or the window passed."""
    used = QuotaEntry.objects.filter(reference=order.public_id, amount__gt=0).first()
    released = order.declarations.filter(direction=Direction.IMPORT, status=S.RELEASED).first()
    if used is None or released is None:
        return None
    if timezone.now() - released.decided_at > timedelta(days=settings.CBEC_RETURN_WINDOW_DAYS):
        return None
    with transaction.atomic():
        QuotaYear.objects.select_for_update(no_key=True).get_or_create(
            hub=used.hub, consumer_hash=used.consumer_hash, year=used.year
        )
        if QuotaEntry.objects.filter(reference=order.public_id, amount__lt=0).exists():
            return None
        return QuotaEntry.objects.create(
            hub=used.hub,
            consumer_hash=used.consumer_hash,
            year=used.year,
            amount=-used.amount,
            reference=used.reference,
        )
