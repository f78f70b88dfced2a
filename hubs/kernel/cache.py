"""Caches of what every request reads, kept right across processes (web workers, Celery workers).

- `Generation`: a token in the shared Django cache (`CACHE_URL`: Redis in production) that names the current
  state of something that may change (hubs, the published rule sets, API keys). A change draws a new token at
  once and again when its transaction commits; whatever a process made under the old token is dropped. A token
  that is missing (evicted, the cache cleared) is drawn anew, so losing the shared cache invalidates, never revives.
- `Snapshot`: a process's copy of something a generation guards, made again when the token changes.
- `Memo`: a process's bounded map of values that never change once made (the `Rules` of a published rule set),
  kept under the key that identifies them.
- `tokens_read_once()`: within it (a web request), every generation's token is read from the shared cache once,
  all of them in one round trip, with whatever else the first reader asks for (`read_with_tokens`). A request
  then sees the state as it was when it began, and its own changes at once.
"""

import threading
import uuid
from collections import OrderedDict
from contextlib import contextmanager
from contextvars import ContextVar

from django.core.cache import cache
from django.db import transaction

# Every generation by its cache key, so that a scope reads all their tokens together.
_generations: dict[str, "Generation"] = {}
# The tokens read in the open `tokens_read_once` scope; None outside one (a worker's task reads each time).
_scope_tokens: ContextVar[dict | None] = ContextVar("generation_tokens", default=None)


@contextmanager
def tokens_read_once():
    reset = _scope_tokens.set({})
    try:
        yield
    finally:
        _scope_tokens.reset(reset)


def read_with_tokens(keys: list[str]) -> dict:
    """`cache.get_many(keys)`, which in a `tokens_read_once` scope also reads, in the same round trip, the tokens
    the scope has not read yet."""
    tokens = _scope_tokens.get()
    unread = [] if tokens is None else [key for key in _generations if key not in tokens]
    values = cache.get_many([*keys, *unread])
    for key in unread:
        token = values.pop(key, None)
        tokens[key] = token if token is not None else _generations[key].read()
    return values


class Generation:
    def __init__(self, name: str):
        self.name = name
        self.key = f"generation:{name}"
        _generations[self.key] = self

    def current(self) -> str:
        """The token now (in a `tokens_read_once` scope, as the scope read it). Read it before reading what it
        guards: a change committed after that bumps it again."""
        tokens = _scope_tokens.get()
        if tokens is None:
            return self.read()
        if self.key not in tokens:
            read_with_tokens([])
        return tokens[self.key]

    def read(self) -> str:
        """The token in the shared cache, drawn anew if it is missing."""
        token = cache.get(self.key)
        if token is None:
            cache.add(self.key, uuid.uuid4().hex, timeout=None)
            token = cache.get(self.key) or uuid.uuid4().hex
        return token

    def bump(self) -> None:
        """Something it guards changed: every process drops what it made, now and once the change commits."""
        connection = transaction.get_connection()
        if connection.in_atomic_block:
            if self.changing():
                return  # bumped already in this transaction; the bump on commit is on its way
            transaction.on_commit(self._after_commit)
        self._draw()

    def _after_commit(self) -> None:
        self._draw()

    def _draw(self) -> None:
        token = uuid.uuid4().hex
        cache.set(self.key, token, timeout=None)
        tokens = _scope_tokens.get()
        if tokens is not None:  # the scope that changed it sees its change at once
            tokens[self.key] = token

    def changing(self) -> bool:
        """Whether the open transaction of this process changed what the token guards (its bump on commit is
        pending). What is read then is not to be kept: a rollback would leave it wrong, with no bump to say so."""
        connection = transaction.get_connection()
        return connection.in_atomic_block and any(func == self._after_commit for _, func, _ in connection.run_on_commit)


class Snapshot:
    """A process's copy of `load()`, made again when `generation` has a new token; read from the database,
    never kept, while this process's own transaction changes it."""

    def __init__(self, generation: Generation, load):
        self.generation, self.load = generation, load
        self._held = (None, None)  # (token, value), replaced whole so that threads never see half of it

    def get(self):
        if self.generation.changing():
            return self.load()
        token = self.generation.current()
        held_token, value = self._held
        if held_token != token:
            value = self.load()
            self._held = (token, value)
        return value

    def clear(self) -> None:
        self._held = (None, None)


class Memo:
    """The values of a pure, expensive `make()` by key, the `size` most recently used kept."""

    def __init__(self, size: int = 256):
        self.size = size
        self._values = OrderedDict()
        self._lock = threading.Lock()

    def __contains__(self, key) -> bool:
        with self._lock:
            return key in self._values

    def get_or_make(self, key, make):
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
        value = make()
        with self._lock:
            self._values[key] = value
            while len(self._values) > self.size:
                self._values.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
