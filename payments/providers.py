"""Payment providers behind one interface: charge a buyer's payment method, look a charge up, refund it.

`SimulatedProvider` is the embedded default's and the tests' provider. The payment method token says what it
does, as card-network test cards do:
- `sim_ok`: confirmed at once;
- `sim_declined`: declined at once;
- `sim_timeout`: the call times out, though the provider did take the money (found when the charge is looked up);
- `sim_async`: accepted, confirmed later by a webhook (or when the charge is looked up);
- `sim_async_declined`: accepted, declined later.
Charges and refunds are idempotent on the key the platform sends, as a real provider's are.
"""

from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.utils.module_loading import import_string
from djmoney.money import Money


class ProviderTimeout(Exception):
    """The provider did not answer in time: whether it charged is not known until the charge is looked up."""


@dataclass(frozen=True)
class Charge:
    """What the provider says of a charge: succeeded, declined or pending (a webhook will say)."""

    ref: str
    status: str
    reason: str = ""


class PaymentProvider:
    name = ""

    def charge(self, *, key: str, amount: Money, method: str) -> Charge:
        raise NotImplementedError

    def retrieve(self, ref: str) -> Charge:
        raise NotImplementedError

    def refund(self, *, key: str, ref: str, amount: Money) -> str:
        """Refund a charge; returns the refund's id. The same key refunds once."""
        raise NotImplementedError


class SimulatedProvider(PaymentProvider):
    name = "simulated"
    OUTCOMES = {
        "sim_ok": ("succeeded", "succeeded"),
        "sim_declined": ("declined", "declined"),
        "sim_timeout": ("timeout", "succeeded"),
        "sim_async": ("pending", "succeeded"),
        "sim_async_declined": ("pending", "declined"),
    }

    def charge(self, *, key: str, amount: Money, method: str) -> Charge:
        if method not in self.OUTCOMES:
            return Charge(ref="", status="declined", reason=f"Unknown payment method “{method}”.")
        now, _ = self.OUTCOMES[method]
        ref = f"sim_ch.{key}.{method}"
        # The same key charges once: a retry gets the first answer, as from a provider's idempotency keys (kept in
        # the shared cache, so that every process of the platform plays the same provider).
        if not cache.add(f"simulated-provider:{key}", ref, timeout=60 * 60 * 24) and now == "timeout":
            return self.retrieve(ref)
        if now == "timeout":
            raise ProviderTimeout(ref)
        return Charge(ref=ref, status=now, reason="Declined by the card issuer." if now == "declined" else "")

    def retrieve(self, ref: str) -> Charge:
        _, later = self.OUTCOMES.get(ref.rpartition(".")[2], ("declined", "declined"))
        return Charge(ref=ref, status=later, reason="Declined by the card issuer." if later == "declined" else "")

    def refund(self, *, key: str, ref: str, amount: Money) -> str:
        return f"sim_re.{key}"


def payment_provider() -> PaymentProvider:
    """The configured provider (`PAYMENT_PROVIDER`, a dotted class path)."""
    return import_string(settings.PAYMENT_PROVIDER)()
