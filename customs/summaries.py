"""CBEC direct-mail exports declared in summary (GACC Ann. 2018 No. 194): each 9610 export is released by its own
list, its declaration; once the month is over at the hub, the hub receives one summary declaration per seller,
destination country and currency that adds the month's released lists up per HS code (message 701), and accepts or
rejects it (792). An export is in one summary only: a summary takes only exports no summary has taken, and is not
filed when another run took one first, so that two runs at once file each export once."""

import logging
from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from djmoney.money import Money

from customs.models import (
    SUMMARY_FILED,
    Declaration,
    DeclarationStatus,
    Direction,
    Procedure,
    SummaryDeclaration,
    SummaryStatus,
)
from hubs.kernel.audit import audit_event_record
from hubs.kernel.errors import DomainError
from hubs.kernel.transitions import transition
from hubs.models import OFFICER_ROLES, Hub
from hubs.scoping import require_role
from hubs.selectors import hub_today

logger = logging.getLogger(__name__)

# The export procedures declared in summary after their month.
SUMMARISED_PROCEDURES = [Procedure.CBEC_DIRECT]
# Exports a summary takes per statement (SQLite's limit on a statement's parameters).
TAKE_BATCH = 500


class _TakenMeanwhile(Exception):
    """Another run summarised some of the exports first: this summary is not filed."""


def _month_of(moment: datetime, hub: Hub) -> date:
    return hub_today(hub, moment).replace(day=1)


def summaries_due(hub: Hub, now: datetime | None = None) -> QuerySet[Declaration]:
    """The hub's released exports still to declare in summary, from the months over at the hub."""
    this_month = _month_of(now or timezone.now(), hub)
    month_start = datetime.combine(this_month, datetime.min.time(), tzinfo=ZoneInfo(hub.timezone))
    return Declaration.objects.filter(
        hub=hub,
        direction=Direction.EXPORT,
        procedure__in=SUMMARISED_PROCEDURES,
        status=DeclarationStatus.RELEASED,
        summary__isnull=True,
        decided_at__lt=month_start,
    )


def summaries_file(*, now: datetime | None = None) -> list[SummaryDeclaration]:
    """File the summary declarations due at every hub: one per seller, month, destination country and currency."""
    filed = []
    for hub in Hub.objects.all():
        groups = defaultdict(list)
        rows = summaries_due(hub, now).values_list(
            "pk", "order__company_id", "decided_at", "order__buyer__country", "value_currency", "lines"
        )
        for pk, company_id, decided_at, country, currency, lines in rows.order_by("pk").iterator(chunk_size=2000):
            groups[company_id, _month_of(decided_at, hub), country, currency].append((pk, lines))
        for (company_id, month, country, currency), exports in groups.items():
            try:
                filed.append(_summary_file(hub, company_id, month, country, currency, exports))
            except _TakenMeanwhile:
                continue
            except Exception:  # the other groups are filed all the same; this one is tried again at the next run
                logger.exception(
                    "Summary of %s exports at %s for %s in %s not filed", len(exports), hub, company_id, month
                )
    return filed


def summary_lines(exports: list[tuple[int, list[dict]]]) -> list[dict]:
    """The exports' lines added up per HS code: quantity, value and how many exports carry it."""
    by_code: dict[str, dict] = {}
    for _, lines in exports:
        for code in {line["hs_code"] for line in lines}:
            by_code.setdefault(code, {"quantity": 0, "value": Decimal(0), "orders": 0})["orders"] += 1
        for line in lines:
            total = by_code[line["hs_code"]]
            total.setdefault("description", line["description"])
            total["quantity"] += line["quantity"]
            total["value"] += Decimal(line["value"])
    return [{"hs_code": code, **total, "value": str(total["value"])} for code, total in sorted(by_code.items())]


def _summary_file(hub, company_id, month, country, currency, exports) -> SummaryDeclaration:
    lines = summary_lines(exports)
    with transaction.atomic():
        summary = SummaryDeclaration.objects.create(
            hub=hub,
            company_id=company_id,
            month=month,
            destination_country=country,
            lines=lines,
            value=Money(sum((Decimal(line["value"]) for line in lines), Decimal(0)), currency),
        )
        pks = [pk for pk, _ in exports]
        for batch in (pks[start : start + TAKE_BATCH] for start in range(0, len(pks), TAKE_BATCH)):
            taken = Declaration.objects.filter(pk__in=batch, summary__isnull=True).update(summary=summary)
            if taken != len(batch):
                raise _TakenMeanwhile
        audit_event_record(
            actor=None,
            verb=SUMMARY_FILED,
            target=summary,
            data={"summary": summary.public_id, "hub": hub.code, "count": len(exports), "month": f"{month:%Y-%m}"},
        )
    return summary


def summary_decide(*, actor, summary: SummaryDeclaration, accept: bool, reason: str = "") -> SummaryDeclaration:
    """An officer of the summary's hub accepts it, or rejects it saying why (the seller reads it on the summary's
    page). A rejected summary lets its exports go: the next run declares them again, in a summary of their own."""
    require_role(actor, summary.hub, *OFFICER_ROLES)
    if not accept and not reason.strip():
        raise DomainError("Say why the summary is rejected: the seller reads it.", code="required", attr="reason")
    with transaction.atomic():
        summary = SummaryDeclaration.objects.select_for_update(no_key=True).get(pk=summary.pk)
        to = SummaryStatus.ACCEPTED if accept else SummaryStatus.REJECTED
        if not summary.can_become(to):
            raise DomainError(
                f"{summary.public_id} is {summary.get_status_display().lower()}: it cannot be decided now.",
                code="invalid_transition",
            )
        SummaryDeclaration.objects.filter(pk=summary.pk).update(decided_at=timezone.now())
        if not accept:
            Declaration.objects.filter(summary=summary).update(summary=None)
        return transition(summary, to, actor=actor, reason=reason)
