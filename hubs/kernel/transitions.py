"""The one transition service: every state change of every app (orders, declarations, shipments,
payouts, API keys, rule sets) locks its row, checks the model's map, saves, and is an audit event."""

from collections import defaultdict

from django.db import transaction
from django.utils import timezone

from hubs.kernel.audit import audit_event_record, tenant_paths
from hubs.kernel.background import enqueue_on_commit
from hubs.kernel.errors import DomainError


class StateMachine:
    """A model whose `state_field` moves only along `TRANSITIONS` ({from: {to, ...}}), through `transition`.

    The audit verb of a move is `<audit_name>.<to>` (`order.cancelled`); `STATE_NAMES` names the states
    of a field without choices (a flag: {True: "verified", False: "not verified"}). A model whose sweepers
    ask how long a row has been in its state names the field that keeps when it got there
    (`state_changed_field`).
    """

    state_field = "status"
    state_changed_field = ""
    audit_name = ""
    TRANSITIONS: dict = {}
    STATE_NAMES: dict = {}

    @property
    def state(self):
        return getattr(self, self.state_field)

    def can_become(self, to) -> bool:
        return to in self.TRANSITIONS.get(self.state, ())

    @classmethod
    def state_name(cls, value) -> str:
        if value in cls.STATE_NAMES:
            return cls.STATE_NAMES[value]
        return str(dict(cls._meta.get_field(cls.state_field).flatchoices).get(value, value)).lower()

    @classmethod
    def transition_verb(cls, to) -> str:
        return f"{cls.audit_name}.{cls.STATE_NAMES.get(to, to)}"


# (model label, state) → the tasks sent, with the row's pk, whenever a row of the model reaches the state. An app
# downstream of the model's own registers them (payments reacts to an order's import release and delivery), so
# that whoever drives the transition (a service, the console, the journey's tasks) need not know them.
_REACTIONS: dict[tuple[str, str], list] = defaultdict(list)
# (model label, state) → the writes made inside the transition's own transaction, with the locked row: those that
# must commit or roll back with it (an outbox row, so that a message is never lost nor sent for a move undone).
_WRITES: dict[tuple[str, str], list] = defaultdict(list)


def react_to(model, state, task) -> None:
    """Send `task` (taking the row's pk) on commit of every transition of a `model` row to `state`."""
    if task not in _REACTIONS[model._meta.label, state]:
        _REACTIONS[model._meta.label, state].append(task)


def react_within(model, state, write) -> None:
    """Call `write` (taking the locked row) inside the transaction of every transition of a `model` row to `state`."""
    if write not in _WRITES[model._meta.label, state]:
        _WRITES[model._meta.label, state].append(write)


def transition(obj, to, *, actor, reason: str = "", data: dict | None = None, then=None):
    """Move `obj` to state `to`: lock its row, check the model's map, save only the state, record an
    audit event (from, to, actor, reason), make the writes that react within it (`react_within`), and send
    `then` (a task taking the row's pk) and the tasks that react to the state (`react_to`) on commit.

    Returns the locked, updated row. Runs in the caller's transaction, or in one of its own.
    """
    model = type(obj)
    with transaction.atomic():
        rows = model.objects.select_for_update(no_key=True, of=("self",))
        if paths := tenant_paths(model):  # what its audit event is filed under, read in the locking query
            rows = rows.select_related(*paths)
        obj = rows.get(pk=obj.pk)
        current = obj.state
        if not obj.can_become(to):
            already = current == to
            raise DomainError(
                f"{obj} is already {model.state_name(to)}."
                if already
                else f"{obj} is {model.state_name(current)}: it cannot become {model.state_name(to)}.",
                code="invalid_transition",
            )
        setattr(obj, model.state_field, to)
        changed = [model.state_field]
        if model.state_changed_field:
            setattr(obj, model.state_changed_field, timezone.now())
            changed.append(model.state_changed_field)
        obj.save(update_fields=changed)
        audit_event_record(
            actor=actor,
            verb=model.transition_verb(to),
            target=obj,
            reason=reason,
            data={"from": current, "to": to, **(data or {})},
        )
        for write in _WRITES.get((model._meta.label, to), []):
            write(obj)
        for task in ([then] if then is not None else []) + _REACTIONS.get((model._meta.label, to), []):
            enqueue_on_commit(task, obj.pk)
    return obj
