"""Caches of what every request reads, kept right across processes (web workers, Celery workers).

- `Generation`: a token in the shared Django cache (`CACHE_URL`: Redis in production) that names the current
  state of something that may change (hubs, the published rule sets, API keys). A change draws a new token at
  once and again when its transaction commits; whatever a process made under the old token is dropped. A token
  that is missing (evicted, the cache cleared) is drawn anew, so losing the shared cache invalidates, never revives.
- `Snapshot`: a process's copy of something a generation guards, made again when the token changes.
- `Memo`: a process's bounded map of values that never change once made (the `Rules` of a published rule set),
  kept under the key that identifies them.
"""

import threading
import uuid
from collections import OrderedDict

from django.core.cache import cache
from django.db import transaction


class Generation:
    def __init__(self, name: str):
        self.name = name
        self.key = f"generation:{name}"

    def current(self) -> str:
        """The token now. Read it before reading what it guards: a change committed after that bumps it again."""
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
        cache.set(self.key, uuid.uuid4().hex, timeout=None)

    def _after_commit(self) -> None:
        cache.set(self.key, uuid.uuid4().hex, timeout=None)

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
