"""Export VAT refunds, as the reference facts give them (§3.5): a trading company's is its gross invoice ÷ (1 + VAT
rate) × refund rate; a manufacturer's (exempt, credit, refund) is its uncredited input VAT up to the limit of the
FOB value × refund rate, the rest of the limit credited. Each line at its own rates, rounded to the currency."""

from decimal import Decimal

from hubs.kernel.money import round_money
from hubs.tariff import export_vat_refund, pct


def trading_refund(lines: list[dict], currency: str) -> tuple[Decimal, str]:
    """The refund of `lines` ({position, gross, vat_rate, refund_rate}) to a trading company, and why."""
    total, steps = Decimal(0), []
    for line in lines:
        amount, why = export_vat_refund(
            Decimal(line["gross"]),
            vat_rate=Decimal(line["vat_rate"]),
            refund_rate=Decimal(line["refund_rate"]),
            currency=currency,
        )
        total += amount
        steps.append(f"line {line['position']}: {why}")
    return total, "; ".join(steps) + f". Refund {currency} {total}."


def manufacturer_refund(lines: list[dict], uncredited_input_vat: Decimal, currency: str) -> tuple[Decimal, str]:
    """The refund of `lines` (their FOB values, tax exclusive) to a manufacturer with `uncredited_input_vat` at the
    period's end, and why: the smaller of that and the limit; what is left of the limit is credited."""
    limit = sum(
        (round_money(Decimal(line["gross"]) * Decimal(line["refund_rate"]), currency) for line in lines), Decimal(0)
    )
    not_creditable = sum(
        (
            round_money(Decimal(line["gross"]) * (Decimal(line["vat_rate"]) - Decimal(line["refund_rate"])), currency)
            for line in lines
        ),
        Decimal(0),
    )
    refund = min(uncredited_input_vat, limit)
    rates = ", ".join(f"line {line['position']}: FOB × {pct(Decimal(line['refund_rate']))}" for line in lines)
    return refund, (
        f"Limit {currency} {limit} ({rates}); not creditable {currency} {not_creditable}, charged to cost; "
        f"uncredited input VAT {currency} {uncredited_input_vat}: refund {currency} {refund}, "
        f"credited {currency} {limit - refund}."
    )
