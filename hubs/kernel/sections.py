"""Sections that apps downstream of a page's own app add to it (an order's page shows its declarations and its
payout, which trade does not know): each a template and a function giving its context for the page's objects,
or None when it has nothing to show. Registered in the apps' `ready`, read by the page's view."""

from collections import defaultdict
from collections.abc import Callable

_SECTIONS: dict[str, list[tuple[str, Callable]]] = defaultdict(list)


def section(page: str, template: str, context: Callable[..., dict | None]) -> None:
    """Show `template` on `page`, with what `context(**objects)` gives (nothing when it gives None)."""
    if (template, context) not in _SECTIONS[page]:
        _SECTIONS[page].append((template, context))


def sections(page: str, **objects) -> list[dict]:
    """The page's sections that have something to show: [{template, context}], in the order they were added."""
    shown = []
    for template, context in _SECTIONS[page]:
        if (found := context(**objects)) is not None:
            shown.append({"template": template, "context": found})
    return shown
