"""The double-entry ledger: accounts of one currency each, and transactions made of postings that balance
per currency. Postings are never changed or deleted (a correction is a reversing transaction); an account's
totals are kept on its row by the posting service, in the transaction that posts, and always equal the sum of
its postings (tests/payments prove it). A transaction may be pending (two-phase: its amounts reserved), then
posted or voided once."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_countries.fields import CountryField
from djmoney.money import Money

from hubs.kernel.audit import transition_verbs, verb
from hubs.kernel.ids import PublicIdField
from hubs.kernel.money import DECIMAL_PLACES, MAX_DIGITS, money_field
from hubs.kernel.transitions import StateMachine
from hubs.models import Company, Hub
from hubs.scoping import TenantQuerySet


class AccountKind(models.TextChoices):
    COMPANY = "company", "Company"  # an SME's proceeds, until paid out to its bank
    HUB_TAX = "hub_tax", "Hub tax authority"  # duties and taxes collected for a hub
    ESCROW = "escrow", "Escrow"  # buyers' money, held until delivery
    FEES = "fees", "Platform fees"
    FX = "fx", "FX spread"
    TRADING = "trading", "Currency trading"  # the other side of each conversion, one account per currency
    PROVIDER = "provider", "Payment provider"  # money in, from buyers through the payment provider
    RAIL = "rail", "Bank rail"  # money out, to sellers' banks


# The platform's own accounts belong to no company or hub: only staff see them.
PLATFORM_KINDS = [
    AccountKind.ESCROW,
    AccountKind.FEES,
    AccountKind.FX,
    AccountKind.TRADING,
    AccountKind.PROVIDER,
    AccountKind.RAIL,
]


def _total():
    return models.DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, default=0)


class Account(models.Model):
    """An account of one currency, owned by a company (kind company), a hub (hub_tax) or the platform."""

    public_id = PublicIdField(prefix="ACC")
    kind = models.CharField(max_length=16, choices=AccountKind.choices)
    company = models.ForeignKey(Company, null=True, blank=True, on_delete=models.PROTECT, related_name="accounts")
    hub = models.ForeignKey(Hub, null=True, blank=True, on_delete=models.PROTECT, related_name="accounts")
    currency = models.CharField(max_length=3)
    # Sums of its postings by side, posted and pending: kept by `payments.services`, never written elsewhere.
    debits_posted = _total()
    credits_posted = _total()
    debits_pending = _total()
    credits_pending = _total()
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()
    tenant_company = "company"
    tenant_hub = "hub"

    class Meta:
        ordering = ["kind", "currency", "pk"]
        constraints = [
            models.CheckConstraint(
                name="account_owner_fits_kind",
                condition=(
                    Q(kind=AccountKind.COMPANY, company__isnull=False, hub__isnull=True)
                    | Q(kind=AccountKind.HUB_TAX, company__isnull=True, hub__isnull=False)
                    | Q(kind__in=PLATFORM_KINDS, company__isnull=True, hub__isnull=True)
                ),
            ),
            models.UniqueConstraint(
                fields=["company", "currency"], condition=Q(kind=AccountKind.COMPANY), name="one_company_account"
            ),
            models.UniqueConstraint(
                fields=["hub", "currency"], condition=Q(kind=AccountKind.HUB_TAX), name="one_hub_tax_account"
            ),
            models.UniqueConstraint(
                fields=["kind", "currency"], condition=Q(kind__in=PLATFORM_KINDS), name="one_platform_account"
            ),
        ]

    def __str__(self):
        owner = self.company or self.hub or "Platform"
        return f"{owner} — {self.get_kind_display()} {self.currency}"

    @property
    def balance(self) -> Money:
        """What the platform owes the owner: credits less debits, posted."""
        return Money(self.credits_posted - self.debits_posted, self.currency)

    @property
    def pending(self) -> Money:
        """What pending transactions would add to the balance once posted."""
        return Money(self.credits_pending - self.debits_pending, self.currency)


class Side(models.TextChoices):
    DEBIT = "debit", "Debit"
    CREDIT = "credit", "Credit"


class TransactionStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    POSTED = "posted", "Posted"
    VOIDED = "voided", "Voided"


transition_verbs("ledger_transaction", {"posted": "Posted by {actor}", "voided": "Voided by {actor}"})


class LedgerTransaction(StateMachine, models.Model):
    """Postings made together under one idempotency key: posting the same key twice posts once."""

    public_id = PublicIdField(prefix="LTX")
    key = models.CharField(max_length=200, unique=True, help_text="The idempotency key: one transaction per key.")
    fingerprint = models.CharField(max_length=64, help_text="A hash of what was posted, to refuse a reused key.")
    description = models.CharField(max_length=300)
    order_ref = models.CharField(max_length=16, blank=True, db_index=True, help_text="The order it concerns.")
    status = models.CharField(max_length=10, choices=TransactionStatus.choices, default=TransactionStatus.POSTED)
    reverses = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by")
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    audit_name = "ledger_transaction"
    TRANSITIONS = {TransactionStatus.PENDING: {TransactionStatus.POSTED, TransactionStatus.VOIDED}}

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.public_id} {self.description}"


class Posting(models.Model):
    """One side of a transaction on one account: an amount above zero in the account's currency."""

    transaction = models.ForeignKey(LedgerTransaction, on_delete=models.PROTECT, related_name="postings")
    # Indexed by posting_account_newest, which leads with the account.
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="postings", db_index=False)
    side = models.CharField(max_length=6, choices=Side.choices)
    amount = money_field()

    objects = TenantQuerySet.as_manager()
    tenant_company = "account__company"
    tenant_hub = "account__hub"

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["account", "-id"], name="posting_account_newest")]
        constraints = [
            models.CheckConstraint(name="posting_amount_above_zero", condition=Q(amount__gt=0)),
            models.CheckConstraint(name="posting_side_known", condition=Q(side__in=Side.values)),
        ]

    def __str__(self):
        return f"{self.get_side_display()} {self.amount} — {self.account}"


class PaymentStatus(models.TextChoices):
    PENDING = "pending", "Awaiting the provider"
    CAPTURED = "captured", "Captured into escrow"
    DECLINED = "declined", "Declined"
    REFUNDED = "refunded", "Refunded"


transition_verbs(
    "payment",
    {
        "captured": "Payment captured into escrow",
        "declined": "Payment declined by the provider",
        "refunded": "Payment refunded to the buyer by {actor}",
    },
)


class Payment(StateMachine, models.Model):
    """The buyer's payment of an order's total, in the destination hub's currency, through the payment provider.

    Captured, it is held in escrow: the seller's share waits as a pending transfer (`release`), posted on
    delivery or voided on cancellation or rejection; the duties go to the destination hub at import release."""

    public_id = PublicIdField(prefix="PAY")
    order = models.ForeignKey("trade.Order", on_delete=models.PROTECT, related_name="payments")
    amount = money_field()
    payer_name = models.CharField(max_length=200, blank=True, help_text="Who paid: customs check it is the buyer.")
    method = models.CharField(max_length=64, help_text="The provider's token of the buyer's payment method.")
    provider = models.CharField(max_length=32)
    provider_ref = models.CharField(max_length=100, blank=True, help_text="The provider's id of the charge.")
    status = models.CharField(max_length=10, choices=PaymentStatus.choices, default=PaymentStatus.PENDING)
    decline_reason = models.CharField(max_length=300, blank=True)
    release = models.OneToOneField(LedgerTransaction, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    duties = models.OneToOneField(LedgerTransaction, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    captured_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()
    tenant_company = "order__company"
    tenant_hub = ("order__origin_hub", "order__destination_hub")

    audit_name = "payment"
    TRANSITIONS = {
        PaymentStatus.PENDING: {PaymentStatus.CAPTURED, PaymentStatus.DECLINED},
        PaymentStatus.CAPTURED: {PaymentStatus.REFUNDED},
    }

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One payment of an order reaches escrow: a second capture is refused by the database too.
            models.UniqueConstraint(
                fields=["order"],
                condition=Q(status__in=["captured", "refunded"]),
                name="one_captured_payment_per_order",
            ),
            models.UniqueConstraint(
                fields=["provider", "provider_ref"], condition=~Q(provider_ref=""), name="one_payment_per_charge"
            ),
        ]

    def __str__(self):
        return self.public_id

    @property
    def order_ref(self):
        return self.order.public_id


class ReconciliationRun(models.Model):
    """One run of the reconciliation (`manage.py reconcile`, or beat's nightly task), with what it found."""

    ran_at = models.DateTimeField(default=timezone.now)
    period_from = models.DateField(null=True, blank=True)
    period_to = models.DateField(null=True, blank=True)
    differences = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-ran_at", "-id"]

    def __str__(self):
        return f"Reconciliation of {self.ran_at:%Y-%m-%d %H:%M}"

    @property
    def clean(self) -> bool:
        return not self.differences


def _amount(**kwargs):
    return models.DecimalField(
        max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, validators=[MinValueValidator(0)], **kwargs
    )


def _share(help_text):
    return models.DecimalField(
        max_digits=6,
        decimal_places=5,
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(Decimal("0.5"))],
        help_text=help_text,
    )


class Corridor(models.Model):
    """How money goes from one country to another: the currency it travels in, the caps of one transfer and of a
    day, how long a transfer takes to arrive, its fees, and the spread on converting into it. Data, edited in
    the console (each change an audit event)."""

    from_country = CountryField()
    to_country = CountryField()
    currency = models.CharField(max_length=3, help_text="The currency the transfers travel in (their caps and fees).")
    per_transfer_cap = _amount(help_text="The most one transfer carries.")
    daily_cap = _amount(null=True, blank=True, help_text="The most sent in one day; empty: no daily cap.")
    settlement_days = models.PositiveSmallIntegerField(default=1, help_text="Days a transfer takes to arrive.")
    flat_fee = _amount(default=0, help_text="Charged on each transfer.")
    percent_fee = _share("Charged on each transfer, as a share of it (0.01 is 1%).")
    fx_spread = _share("Taken off the reference rate when converting into the corridor's currency (0.005 is 0.5%).")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["from_country", "to_country"]
        constraints = [models.UniqueConstraint(fields=["from_country", "to_country"], name="one_corridor_per_route")]

    def __str__(self):
        return f"{self.from_country.code} → {self.to_country.code} in {self.currency}"


CORRIDOR_CHANGED = verb("corridor.changed", "Corridor {corridor} changed by {actor}")
PAYOUT_NOT_SCHEDULED = verb(
    "payout.not_scheduled", "Not paid out: the proceeds of {proceeds} would not cover the {corridor} fee of {fee}"
)


class PayoutStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    SETTLED = "settled", "Settled"


class Payout(models.Model):
    """A seller's proceeds of one order, sent home through its corridor in tranches under the caps."""

    public_id = PublicIdField(prefix="PO")
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="payouts")
    order = models.OneToOneField("trade.Order", on_delete=models.PROTECT, related_name="payout")
    corridor = models.ForeignKey(Corridor, on_delete=models.PROTECT, related_name="payouts")
    gross = money_field(help_text="The proceeds, converted into the corridor's currency.")
    fees = money_field()
    net = money_field(help_text="What reaches the seller: the gross less the fees.")
    conversion = models.JSONField(default=dict, blank=True, help_text="The rate, its snapshots and the spread.")
    status = models.CharField(max_length=10, choices=PayoutStatus.choices, default=PayoutStatus.SCHEDULED)
    expected_completion = models.DateField()
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()
    tenant_company = "company"
    tenant_hub = ("order__origin_hub", "order__destination_hub")

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.public_id

    @property
    def order_ref(self):
        return self.order.public_id

    @property
    def progress(self) -> tuple[int, int]:
        """(tranches settled, tranches), from the tranches as loaded (`payouts_for` prefetches them)."""
        tranches = self.tranches.all()
        return sum(tranche.status == TrancheStatus.SETTLED for tranche in tranches), len(tranches)


class TrancheStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    SENDING = "sending", "Sending"
    SETTLED = "settled", "Settled"


class Tranche(StateMachine, models.Model):
    """One transfer of a payout over the bank rail, at most the corridor's cap, sent on its day."""

    payout = models.ForeignKey(Payout, on_delete=models.PROTECT, related_name="tranches")
    number = models.PositiveSmallIntegerField()
    amount = money_field(help_text="What the seller receives from this transfer.")
    fee = money_field()
    send_on = models.DateField()
    status = models.CharField(max_length=10, choices=TrancheStatus.choices, default=TrancheStatus.SCHEDULED)
    attempts = models.PositiveSmallIntegerField(default=0)
    sending_since = models.DateTimeField(null=True, blank=True)
    rail_ref = models.CharField(max_length=100, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()
    tenant_company = "payout__company"
    tenant_hub = ("payout__order__origin_hub", "payout__order__destination_hub")

    audit_name = "tranche"
    TRANSITIONS = {
        TrancheStatus.SCHEDULED: {TrancheStatus.SENDING},
        TrancheStatus.SENDING: {TrancheStatus.SETTLED, TrancheStatus.SCHEDULED},  # back to scheduled: a retry
    }

    class Meta:
        ordering = ["payout", "number"]
        constraints = [models.UniqueConstraint(fields=["payout", "number"], name="one_tranche_number_per_payout")]
        indexes = [models.Index(fields=["status", "send_on"], name="tranche_due")]

    def __str__(self):
        return f"{self.payout.public_id} #{self.number}"

    @property
    def key(self) -> str:
        """The idempotency key of its rail transfer: the rail pays one transfer per key."""
        return f"tranche:{self.payout.public_id}:{self.number}"

    @property
    def order_ref(self):
        return self.payout.order.public_id


transition_verbs(
    "tranche",
    {
        "sending": "Tranche sent to the bank rail",
        "settled": "Tranche settled",
        "scheduled": "Tranche scheduled again: {reason}",
    },
)


class SimulatedRailTransfer(models.Model):
    """The simulated bank rail's own record of the transfers it made: its statement, one transfer per key."""

    key = models.CharField(max_length=200, unique=True)
    ref = models.CharField(max_length=100, unique=True)
    amount = money_field()
    beneficiary = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"{self.ref} {self.amount}"
