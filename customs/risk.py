"""Risk lanes as ASYCUDA's selectivity does them: each of the hub's active rules that hits a declaration sends it
at least to the rule's lane, with a sentence saying why; no hit is green. The random rule draws from the
declaration's own id, so scoring it again gives the same lane. An import whose pre-arrival message the hub scored
before the goods came keeps what that score found."""

import hashlib
from decimal import Decimal

from customs.models import LANE_ORDER, Declaration, DeclarationStatus, Lane, RiskRule, RiskRuleKind
from hubs.selectors import consumer_year_usage
from hubs.tariff import Regime


def _random(declaration: Declaration, rule: RiskRule) -> str | None:
    """Selected when a number in [0, 1) fixed by the declaration and the rule falls under the rate."""
    digest = hashlib.sha256(f"{declaration.public_id}:{rule.pk}".encode()).hexdigest()
    if Decimal(int(digest[:12], 16)) / Decimal(16**12) < rule.threshold:
        return f"selected at random ({rule.threshold:%} of declarations)"
    return None


def _low_value(declaration: Declaration, rule: RiskRule) -> str | None:
    order = declaration.order
    for line in order.lines.all():
        usual = line.listing.unit_price if line.listing else None
        if usual is not None and usual.currency == line.unit_price.currency:
            if line.unit_price.amount < usual.amount * rule.threshold:
                return (
                    f"line {line.position} is priced {line.unit_price}, under {rule.threshold:%} of the listing's "
                    f"{usual}"
                )
    return None


def _restricted(declaration: Declaration, rule: RiskRule) -> str | None:
    order = declaration.order
    for line in order.lines.all():
        prefix = next((prefix for prefix in rule.prefixes if line.hs_code.startswith(prefix)), None)
        if prefix:
            return f"line {line.position}'s HS {line.hs_code} is restricted goods ({prefix})"
    return None


def _new_seller(declaration: Declaration, rule: RiskRule) -> str | None:
    released = (
        Declaration.objects.filter(
            hub=declaration.hub, order__company=declaration.order.company_id, status=DeclarationStatus.RELEASED
        )
        .exclude(pk=declaration.pk)
        .count()
    )
    if released < rule.threshold:
        return f"the seller has {released} declarations released here, under {rule.threshold:.0f}"
    return None


def _consumer_near_limit(declaration: Declaration, rule: RiskRule) -> str | None:
    order = declaration.order
    if order.regime != Regime.CBEC_RETAIL or not order.consumer_hash:
        return None
    limit = order.quote.rule_set.cbec_annual_limit
    used = consumer_year_usage(order.destination_hub, order.consumer_hash, order.quota_year) + order.quota_counted
    if limit and used >= limit * rule.threshold:
        return f"the consumer will have used {used} of the annual {limit} ({used / limit:.0%})"
    return None


def _weight_mismatch(declaration: Declaration, rule: RiskRule) -> str | None:
    order = declaration.order
    parcels = list(order.parcels.all())
    if not parcels:
        return None
    weighed = sum((parcel.weight_kg for parcel in parcels), Decimal(0))
    expected = sum(
        (line.listing.unit_weight_kg * line.quantity for line in order.lines.all() if line.listing), Decimal(0)
    )
    if expected and abs(weighed - expected) / expected > rule.threshold:
        return f"the parcels weigh {weighed:.3f} kg; the listings say {expected:.3f} kg"
    return None


CHECKS = {
    RiskRuleKind.LOW_VALUE: _low_value,
    RiskRuleKind.RESTRICTED_GOODS: _restricted,
    RiskRuleKind.NEW_SELLER: _new_seller,
    RiskRuleKind.CONSUMER_NEAR_LIMIT: _consumer_near_limit,
    RiskRuleKind.WEIGHT_MISMATCH: _weight_mismatch,
    RiskRuleKind.RANDOM: _random,
}


def score(declaration: Declaration, pre_score: dict | None = None) -> tuple[str, list[dict]]:
    """The declaration's lane and the rules that hit it ([{rule, kind, lane, why}]). With the `pre_score` of its
    pre-arrival message ({lane, risk}), the random draw made then stands (a second one would select twice as
    many) and the rules it hit that are still active count, as found before arrival."""
    hits = []
    rules = list(RiskRule.objects.filter(hub=declaration.hub, active=True).order_by("pk"))
    for rule in rules:
        if (rule.direction and rule.direction != declaration.direction) or (
            pre_score and rule.kind == RiskRuleKind.RANDOM
        ):
            continue
        if why := CHECKS[rule.kind](declaration, rule):
            hits.append({"rule": rule.pk, "kind": rule.kind, "lane": rule.lane, "why": why})
    found, active = {hit["rule"] for hit in hits}, {rule.pk for rule in rules}
    hits += [
        {**hit, "why": f"before arrival, {hit['why']}"}
        for hit in (pre_score or {}).get("risk", [])
        if hit["rule"] in active and hit["rule"] not in found
    ]
    lane = max((hit["lane"] for hit in hits), key=LANE_ORDER.index, default=Lane.GREEN)
    return lane, hits
