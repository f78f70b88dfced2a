"""Audit events: every state change of every app, filed under its company, every hub it concerns and,
when there is one, the order it belongs to, so that an order's timeline reads across apps and hubs.

Verbs are declared once, with the sentence a timeline shows for them (`verb`). Events are never
updated or deleted: the ORM has no service for it, and on PostgreSQL a trigger refuses it.
"""

import functools

from django.contrib.contenttypes.models import ContentType

from hubs.scoping import tenant_lookups

# verb → the sentence a timeline shows; `{actor}`, `{company}` and the event's data fields fill it in.
SENTENCES: dict[str, str] = {}


def verb(name: str, sentence: str) -> str:
    """Declare an audit verb and how a timeline says it; returns the verb, for use as a constant."""
    SENTENCES[name] = sentence
    return name


def transition_verbs(audit_name: str, sentences: dict[str, str]) -> None:
    """Declare the verbs of a state machine's moves (`<audit_name>.<state>`), each with its sentence."""
    for state, sentence in sentences.items():
        verb(f"{audit_name}.{state}", sentence)


class _Blank(dict):
    def __missing__(self, key):
        return "…"


def event_sentence(event) -> str:
    """The event as a sentence: "Placed by yiwu-crafts for Yiwu Bright Crafts: reason"."""
    template = SENTENCES.get(event.verb, event.verb.replace(".", " ").replace("_", " ").capitalize() + " by {actor}")
    values = {
        **(event.data if isinstance(event.data, dict) else {}),
        "actor": event.actor_label,
        "company": event.company.legal_name if event.company_id else "",
    }
    sentence = template.format_map(_Blank(values))
    return f"{sentence}: {event.reason}" if event.reason else sentence


def _follow(obj, lookup):
    """Follow a model's tenant lookup (`"membership__company"`, `"id"`) from a row to its company or hub."""
    if lookup == "id":
        return obj
    for part in lookup.split("__"):
        obj = getattr(obj, part)
        if obj is None:
            return None
    return obj


@functools.cache
def tenant_paths(model) -> tuple[str, ...]:
    """The model's tenant lookups that follow foreign keys forward (`select_related` reads them with the row)."""
    paths = []
    for lookup in (*tenant_lookups(model, "tenant_company"), *tenant_lookups(model, "tenant_hub")):
        if lookup == "id":
            continue
        current, forward = model, True
        for part in lookup.split("__"):
            field = current._meta.get_field(part)
            if not (field.many_to_one or field.one_to_one) or field.auto_created:
                forward = False
                break
            current = field.related_model
        if forward:
            paths.append(lookup)
    return tuple(paths)


def target_of(obj) -> dict:
    """How an audit event names the row it is about: its model's content type and its primary key."""
    return {"target_type": ContentType.objects.get_for_model(type(obj)), "target_id": str(obj.pk)}


def audit_event_record(*, actor, verb: str, target, reason: str = "", data: dict | None = None, hubs=()):
    """Record one state change of `target`, filed under its company, each of its hubs (and `hubs`),
    and its order; an order's state change is also written out to the company's webhook endpoints, in the
    same transaction (`hubs.partner_webhooks`)."""
    from hubs.models import AuditEvent  # the models import this kernel's state machines

    model = type(target)
    companies = [_follow(target, lookup) for lookup in tenant_lookups(model, "tenant_company")]
    tenant_hubs = [_follow(target, lookup) for lookup in tenant_lookups(model, "tenant_hub")]
    hubs = {hub.pk: hub for hub in [*tenant_hubs, *hubs] if hub}
    event = AuditEvent.objects.create(
        actor=actor.user if actor and actor.user.is_authenticated else None,
        actor_label=actor.label if actor else "system",
        company=next((company for company in companies if company), None),
        order_ref=getattr(target, "order_ref", ""),
        verb=verb,
        **target_of(target),
        reason=reason,
        data=data or {},
    )
    event.hubs.add(*hubs.values())
    if event.company is not None and event.company.has_webhook_endpoints:  # read on the row held: no query
        from hubs.partner_webhooks import webhook_deliveries_create  # it records audit events itself

        webhook_deliveries_create(event=event)
    return event
