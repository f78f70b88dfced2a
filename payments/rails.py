"""Bank rails behind one interface: send a transfer under an idempotency key (the rail makes one transfer per key,
however often it is asked), and read the rail's statement of transfers for reconciliation.

`SimulatedRail` is the embedded default's and the tests' rail: it keeps its statement in a table of its own, and
fails, times out (after making the transfer: the answer is lost) and acknowledges twice as `SIMULATED_RAIL` says.
"""

import random
import time
from dataclasses import dataclass

from django.conf import settings
from django.utils.crypto import get_random_string
from django.utils.module_loading import import_string
from djmoney.money import Money


class RailTimeout(Exception):
    """No answer in time: whether the transfer was made is known by asking again with the same key."""


class RailRefused(Exception):
    """The rail refused the transfer (a failure on its side): nothing was sent; it may be tried again."""


@dataclass(frozen=True)
class Ack:
    ref: str
    amount: Money
    duplicate: bool  # the transfer of this key was made before: this is its acknowledgement again


@dataclass(frozen=True)
class Transfer:
    key: str
    ref: str
    amount: Money


class BankRail:
    name = ""

    def send(self, *, key: str, amount: Money, beneficiary: str) -> Ack:
        raise NotImplementedError

    def statement(self) -> list[Transfer]:
        raise NotImplementedError


class SimulatedRail(BankRail):
    name = "simulated"

    def send(self, *, key: str, amount: Money, beneficiary: str) -> Ack:
        from payments.models import SimulatedRailTransfer

        behaviour = settings.SIMULATED_RAIL
        time.sleep(behaviour.get("latency_seconds", 0))
        if random.random() < behaviour.get("failure_rate", 0):
            raise RailRefused("The simulated rail is unavailable.")
        made, new = SimulatedRailTransfer.objects.get_or_create(  # a concurrent call with the key finds it made
            key=key, defaults={"ref": f"sim_tr_{get_random_string(16)}", "amount": amount, "beneficiary": beneficiary}
        )
        duplicate = not new
        if random.random() < behaviour.get("timeout_rate", 0):
            raise RailTimeout(key)  # made, but the answer is lost
        return Ack(ref=made.ref, amount=made.amount, duplicate=duplicate)

    def statement(self) -> list[Transfer]:
        from payments.models import SimulatedRailTransfer

        return [Transfer(t.key, t.ref, t.amount) for t in SimulatedRailTransfer.objects.order_by("pk")]


def bank_rail() -> BankRail:
    """The configured rail (`BANK_RAIL`, a dotted class path)."""
    return import_string(settings.BANK_RAIL)()
