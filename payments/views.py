"""The SME portal's money: balances, payouts with their tranches and when they complete, and statements (CSV too).
Reads through the scoped selectors; the ledger is written only by the payment services."""

import csv

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, render

from hubs.scoping import actor_for_request
from payments.selectors import accounts_for, payouts_for, postings_for

PAGE_SIZE = 25
STATEMENT_COLUMNS = ["date", "transaction", "description", "order", "side", "amount", "currency", "status"]


@login_required
def money(request):
    actor = actor_for_request(request)
    payouts = Paginator(payouts_for(actor), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "payments/money.html", {"accounts": accounts_for(actor), "page": payouts})


@login_required
def payout_detail(request, public_id):
    payout = get_object_or_404(payouts_for(actor_for_request(request)), public_id=public_id)
    return render(request, "payments/payout_detail.html", {"payout": payout, "tranches": payout.tranches.all()})


@login_required
def account_statement(request, public_id):
    actor = actor_for_request(request)
    account = get_object_or_404(accounts_for(actor), public_id=public_id)
    postings = postings_for(actor).filter(account=account).order_by("-id")
    if request.GET.get("format") == "csv":
        return _statement_csv(account, postings)
    page = Paginator(postings, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "payments/statement.html", {"account": account, "page": page})


class _Echo:
    def write(self, value):
        return value


def _statement_csv(account, postings):
    """The whole statement as CSV, streamed row by row: a long one is never held in memory."""
    writer = csv.writer(_Echo())

    def rows():
        yield writer.writerow(STATEMENT_COLUMNS)
        for posting in postings.iterator(chunk_size=2000):
            transaction = posting.transaction
            yield writer.writerow(
                [
                    transaction.created_at.isoformat(),
                    transaction.public_id,
                    transaction.description,
                    transaction.order_ref,
                    posting.side,
                    f"{posting.amount.amount:.2f}",
                    posting.amount.currency.code,
                    transaction.status,
                ]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="statement-{account.kind}-{account.currency}-{account.pk}.csv"'
    )
    return response
