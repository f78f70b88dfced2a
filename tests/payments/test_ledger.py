"""The ledger: every transaction balances per currency, postings never change, a key posts once, balances are
the sums of the postings and cost one query to read, pending amounts are posted or voided once."""

import threading
from decimal import Decimal

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from djmoney.money import Money
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hubs.kernel.errors import DomainError
from hubs.models import AuditEvent
from hubs.scoping import actor_for
from payments.models import Account, AccountKind, LedgerTransaction, Posting, TransactionStatus
from payments.selectors import accounts_for, postings_for
from payments.services import (
    account_for,
    credit,
    debit,
    ledger_post,
    ledger_post_pending,
    ledger_reverse,
    ledger_void,
    platform_account,
)

PLATFORM = None  # the platform itself acts: no actor


def cny(amount):
    return Money(Decimal(amount), "CNY")


@pytest.fixture
def accounts(hgh):
    return {
        "seller": account_for(kind=AccountKind.COMPANY, company=hgh.company, currency="CNY"),
        "tax": account_for(kind=AccountKind.HUB_TAX, hub=hgh.hub, currency="CNY"),
        "escrow": platform_account(AccountKind.ESCROW, "CNY"),
        "provider": platform_account(AccountKind.PROVIDER, "CNY"),
        "fees": platform_account(AccountKind.FEES, "CNY"),
        "escrow_usd": platform_account(AccountKind.ESCROW, "USD"),
        "provider_usd": platform_account(AccountKind.PROVIDER, "USD"),
    }


def capture(accounts, amount="100.00", key="capture-1", **kwargs):
    return ledger_post(
        actor=PLATFORM,
        key=key,
        description="Buyer's payment",
        legs=[debit(accounts["provider"], cny(amount)), credit(accounts["escrow"], cny(amount))],
        **kwargs,
    )


def totals(account):
    """An account's sums, recomputed from its postings."""
    sums = {"debit": Decimal(0), "credit": Decimal(0)}
    pending = {"debit": Decimal(0), "credit": Decimal(0)}
    for posting in Posting.objects.filter(account=account).select_related("transaction"):
        if posting.transaction.status == TransactionStatus.POSTED:
            sums[posting.side] += posting.amount.amount
        elif posting.transaction.status == TransactionStatus.PENDING:
            pending[posting.side] += posting.amount.amount
    return sums["credit"] - sums["debit"], pending["credit"] - pending["debit"]


def assert_kept_totals_are_the_sums(*accounts):
    for account in accounts:
        account.refresh_from_db()
        assert (account.balance.amount, account.pending.amount) == totals(account), account


def test_a_transaction_posts_balanced_legs_and_moves_balances(accounts):
    posted = capture(accounts)
    assert posted.status == TransactionStatus.POSTED
    assert posted.postings.count() == 2
    assert_kept_totals_are_the_sums(*accounts.values())
    accounts["escrow"].refresh_from_db()
    assert accounts["escrow"].balance == cny("100.00")


@pytest.mark.parametrize(
    ("legs", "code"),
    [
        (lambda a: [debit(a["provider"], cny("100.00")), credit(a["escrow"], cny("99.99"))], "unbalanced"),
        (lambda a: [debit(a["provider"], cny("100.00"))], "unbalanced"),
        (lambda a: [debit(a["provider"], cny("0")), credit(a["escrow"], cny("0"))], "invalid_amount"),
        (lambda a: [debit(a["provider"], cny("-5")), credit(a["escrow"], cny("-5"))], "invalid_amount"),
        (lambda a: [debit(a["provider"], cny("1.005")), credit(a["escrow"], cny("1.005"))], "too_many_decimals"),
        (
            lambda a: [debit(a["provider"], Money("5", "USD")), credit(a["escrow"], Money("5", "USD"))],
            "wrong_currency",
        ),
        # balanced in sum, not per currency
        (
            lambda a: [
                debit(a["provider"], cny("10")),
                credit(a["escrow_usd"], Money("10", "USD")),
            ],
            "unbalanced",
        ),
    ],
)
def test_a_bad_transaction_is_refused_and_nothing_is_posted(accounts, legs, code):
    with pytest.raises(DomainError) as refused:
        ledger_post(actor=PLATFORM, key="bad", description="Bad", legs=legs(accounts))
    assert refused.value.code == code
    assert not LedgerTransaction.objects.exists()
    assert not Posting.objects.exists()
    assert_kept_totals_are_the_sums(*accounts.values())


def test_a_currency_without_minor_units_takes_whole_amounts(hgh):
    yen_escrow, yen_provider = (
        platform_account(AccountKind.ESCROW, "JPY"),
        platform_account(AccountKind.PROVIDER, "JPY"),
    )
    with pytest.raises(DomainError) as refused:
        ledger_post(
            actor=PLATFORM,
            key="yen",
            description="Yen",
            legs=[debit(yen_provider, Money("100.50", "JPY")), credit(yen_escrow, Money("100.50", "JPY"))],
        )
    assert refused.value.code == "too_many_decimals"


def test_posting_the_same_key_twice_posts_once(accounts):
    first = capture(accounts)
    again = capture(accounts)
    assert again.pk == first.pk
    assert Posting.objects.count() == 2
    accounts["escrow"].refresh_from_db()
    assert accounts["escrow"].balance == cny("100.00")


def test_the_same_key_with_other_postings_is_refused(accounts):
    capture(accounts)
    with pytest.raises(DomainError) as refused:
        capture(accounts, amount="90.00")
    assert refused.value.code == "ledger_key_reused"
    assert Posting.objects.count() == 2


def test_a_reversal_mirrors_a_transaction_once(accounts):
    posted = capture(accounts)
    reversal = ledger_reverse(actor=PLATFORM, posted=posted, reason="captured twice by mistake")
    assert ledger_reverse(actor=PLATFORM, posted=posted, reason="again").pk == reversal.pk
    assert reversal.reverses == posted
    assert {(p.account_id, p.side) for p in reversal.postings.all()} == {
        (accounts["provider"].pk, "credit"),
        (accounts["escrow"].pk, "debit"),
    }
    accounts["escrow"].refresh_from_db()
    assert accounts["escrow"].balance == cny("0")
    assert_kept_totals_are_the_sums(*accounts.values())
    with pytest.raises(DomainError) as refused:  # a pending transaction is voided, not reversed
        ledger_reverse(actor=PLATFORM, posted=capture(accounts, key="pending", pending=True), reason="x")
    assert refused.value.code == "invalid_transition"


def test_a_pending_amount_is_reserved_then_posted_once(accounts, hgh):
    held = capture(accounts, pending=True)
    escrow = Account.objects.get(pk=accounts["escrow"].pk)
    assert (escrow.balance, escrow.pending) == (cny("0"), cny("100.00"))
    posted = ledger_post_pending(actor=actor_for(hgh.supervisor.user), pending=held, reason="delivered")
    assert posted.status == TransactionStatus.POSTED
    escrow.refresh_from_db()
    assert (escrow.balance, escrow.pending) == (cny("100.00"), cny("0"))
    with pytest.raises(DomainError) as again:
        ledger_post_pending(actor=PLATFORM, pending=held)
    assert again.value.code == "invalid_transition"
    with pytest.raises(DomainError):
        ledger_void(actor=PLATFORM, pending=held)
    assert_kept_totals_are_the_sums(*accounts.values())
    assert AuditEvent.objects.filter(verb="ledger_transaction.posted", target_id=str(held.pk)).count() == 1


def test_a_pending_amount_voided_is_released_and_never_posted(accounts):
    held = capture(accounts, pending=True)
    ledger_void(actor=PLATFORM, pending=held, reason="order cancelled")
    escrow = Account.objects.get(pk=accounts["escrow"].pk)
    assert (escrow.balance, escrow.pending) == (cny("0"), cny("0"))
    with pytest.raises(DomainError):
        ledger_post_pending(actor=PLATFORM, pending=held)
    assert_kept_totals_are_the_sums(*accounts.values())


def test_a_balance_is_one_query_whatever_the_postings(accounts, django_assert_num_queries):
    for n in (1, 200):
        for i in range(n if n == 1 else n - 1):
            capture(accounts, amount="1.00", key=f"many-{n}-{i}")
        with django_assert_num_queries(1):
            balance = Account.objects.get(pk=accounts["escrow"].pk).balance
        assert balance == cny(Posting.objects.filter(account=accounts["escrow"]).count())


def test_an_account_belongs_to_the_owner_its_kind_names(hgh):
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.create(kind=AccountKind.COMPANY, hub=hgh.hub, currency="CNY")
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.create(kind=AccountKind.ESCROW, company=hgh.company, currency="CNY")
    assert account_for(kind=AccountKind.HUB_TAX, hub=hgh.hub, currency="CNY") == account_for(
        kind=AccountKind.HUB_TAX, hub=hgh.hub, currency="CNY"
    )


def test_people_see_their_own_accounts_and_postings_only(accounts, hgh, mys):
    ledger_post(
        actor=PLATFORM,
        key="proceeds",
        description="Proceeds and duties",
        legs=[
            debit(accounts["escrow"], cny("100.00")),
            credit(accounts["seller"], cny("80.00")),
            credit(accounts["tax"], cny("20.00")),
        ],
    )
    seller, officer, outsider = (actor_for(m.user) for m in (hgh.seller_admin, hgh.officer, mys.seller_admin))
    assert list(accounts_for(seller)) == [accounts["seller"]]
    assert list(accounts_for(officer)) == [accounts["tax"]]
    assert not accounts_for(outsider).exists()
    assert [p.amount for p in postings_for(seller)] == [cny("80.00")]
    assert [p.amount for p in postings_for(officer)] == [cny("20.00")]
    assert not postings_for(outsider).exists()


# --- the database's own guard (PostgreSQL) -----------------------------------------------------------------


def post_raw(key, *postings):
    """A transaction and its postings written in raw SQL, below the posting service, in one transaction."""
    with transaction.atomic():
        row = LedgerTransaction.objects.create(key=key, fingerprint="-", description="Raw SQL")
        with connection.cursor() as cursor:
            for account, side, amount in postings:
                cursor.execute(
                    "INSERT INTO payments_posting (transaction_id, account_id, side, amount, amount_currency) "
                    "VALUES (%s, %s, %s, %s, %s)",
                    [row.pk, account.pk, side, amount, account.currency],
                )
    return row


def run_sql(statement):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)


@pytest.mark.django_db(transaction=True)
def test_postgresql_refuses_an_unbalanced_transaction_at_commit(hgh):
    if connection.vendor != "postgresql":
        pytest.skip("the constraint trigger is PostgreSQL's; the posting service checks on every database")
    provider, escrow = platform_account(AccountKind.PROVIDER, "CNY"), platform_account(AccountKind.ESCROW, "CNY")
    with pytest.raises(IntegrityError, match="does not balance"):
        post_raw("raw", (provider, "debit", "100.00"), (escrow, "credit", "99.00"))  # each row accepted until commit
    assert not LedgerTransaction.objects.filter(key="raw").exists()

    balanced = post_raw("raw-balanced", (provider, "debit", "100.00"), (escrow, "credit", "100.00"))
    assert Posting.objects.filter(transaction=balanced).count() == 2

    for statement in ("UPDATE payments_posting SET amount = 1", "DELETE FROM payments_posting"):
        with pytest.raises(DatabaseError, match="never updated or deleted"):
            run_sql(statement)
    with pytest.raises(DatabaseError, match="never deleted"):
        run_sql("UPDATE payments_ledgertransaction SET description = 'changed'")
    with pytest.raises(DatabaseError, match="never deleted"):
        run_sql("DELETE FROM payments_ledgertransaction")


def in_threads(work, count):
    """Run `work(i)` in `count` threads at once, each on its own connection; what each raised, if anything."""
    barrier, raised = threading.Barrier(count), [None] * count

    def run(i):
        try:
            barrier.wait()
            work(i)
        except Exception as error:  # noqa: BLE001 (reported to the test)
            raised[i] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return raised


@pytest.mark.django_db(transaction=True)
def test_concurrent_posts_of_one_key_post_once_and_opposite_transfers_never_deadlock(hgh):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite takes one writer at a time")
    seller = account_for(kind=AccountKind.COMPANY, company=hgh.company, currency="CNY")
    escrow, provider = platform_account(AccountKind.ESCROW, "CNY"), platform_account(AccountKind.PROVIDER, "CNY")

    def same_key(i):
        with transaction.atomic():
            ledger_post(
                actor=PLATFORM, key="once", description="Race", legs=[debit(provider, cny(5)), credit(escrow, cny(5))]
            )

    assert in_threads(same_key, 6) == [None] * 6
    assert LedgerTransaction.objects.filter(key="once").count() == 1
    escrow.refresh_from_db()
    assert escrow.balance == cny(5)

    def opposite(i):  # half from escrow to the seller, half back, over three accounts in different orders
        for n in range(20):
            first, second = (escrow, seller) if i % 2 else (seller, escrow)
            ledger_post(
                actor=PLATFORM,
                key=f"opposite-{i}-{n}",
                description="Back and forth",
                legs=[debit(first, cny(1)), credit(second, cny("0.50")), credit(provider, cny("0.50"))],
            )

    assert in_threads(opposite, 6) == [None] * 6
    assert_kept_totals_are_the_sums(seller, escrow, provider)
    assert LedgerTransaction.objects.count() == 1 + 6 * 20


# --- property: balances are the sums of the postings, whatever is posted ------------------------------------

AMOUNTS = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("100000"), places=2)
STEP = st.tuples(st.sampled_from(["post", "pending", "post_pending", "void", "reverse", "replay"]), AMOUNTS)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(STEP, min_size=1, max_size=12))
def test_property_kept_balances_always_equal_the_sums_of_postings(accounts, steps):
    with transaction.atomic():
        posted, held, direct = [], [], []
        for i, (step, amount) in enumerate(steps):
            if step in ("post", "pending"):
                made = ledger_post(
                    actor=PLATFORM,
                    key=f"p-{i}",
                    description="Random",
                    legs=[
                        debit(accounts["escrow"], cny(amount)),
                        credit(accounts["seller"], cny(amount)),
                    ],
                    pending=step == "pending",
                )
                (held if step == "pending" else posted).append(made)
                if step == "post":
                    direct.append(made)
            elif step in ("post_pending", "void") and held:
                service = ledger_post_pending if step == "post_pending" else ledger_void
                posted_or_voided = service(actor=PLATFORM, pending=held.pop())
                if posted_or_voided.status == TransactionStatus.POSTED:
                    posted.append(posted_or_voided)
            elif step == "reverse" and posted:
                ledger_reverse(actor=PLATFORM, posted=posted[-1], reason="random")
            elif step == "replay" and direct:
                again = direct[0]
                legs = [(debit if p.side == "debit" else credit)(p.account, p.amount) for p in again.postings.all()]
                assert ledger_post(actor=PLATFORM, key=again.key, description=again.description, legs=legs) == again
        assert_kept_totals_are_the_sums(*accounts.values())
        transaction.set_rollback(True)
