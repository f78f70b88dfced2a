from django.utils.functional import SimpleLazyObject

from hubs.scoping import actor_for_request


def actor(request):
    """`actor` in every template: the signed-in user with its memberships (companies and hubs)."""
    return {"actor": SimpleLazyObject(lambda: actor_for_request(request))}
