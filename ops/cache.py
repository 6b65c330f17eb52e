"""The shared cache: Redis when it answers, the database when it does not.

Sessions (`cached_db`) and allauth's rate limits live in the default cache, so a Redis that is
down or hung must never slow a request or lose a log-in. `FailoverCache` sends every operation
to its primary (Redis, with socket timeouts of a fraction of a second) and, on the first error,
opens a per-process circuit: for `RETRY_AFTER` seconds every operation goes straight to the
fallback (the database cache, shared by every process) without touching Redis. After that one
operation tries Redis again. So a hung Redis costs each process one short timeout per
`RETRY_AFTER` seconds, and rate limits still hold across processes in the meantime.

A cache must never answer with something older than the truth, so both transitions forget:
- opening the circuit clears the fallback, which may hold entries from an earlier outage;
- closing it deletes the primary's keys (`waymark:*`), which missed every change made during
  the outage (a log-out, say: its session would otherwise come back from Redis).
Sessions themselves are in the database (`cached_db`): a cleared cache logs nobody out.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from django.core.cache import caches
from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient

logger = logging.getLogger("waymark.cache")

try:  # the errors that mean "this cache server is unreachable or not answering"
    from redis.exceptions import RedisError

    UNAVAILABLE: tuple[type[BaseException], ...] = (RedisError, OSError)
except ImportError:  # pragma: no cover - redis is a dependency
    UNAVAILABLE = (OSError,)


@dataclass
class Circuit:
    """One per primary cache per process, shared by its threads."""

    retry_after: float
    open_until: float = 0.0  # monotonic time; 0 when closed
    lock: threading.Lock = field(default_factory=threading.Lock)
    opened: int = 0  # how many times it opened (for tests and /healthz)

    @property
    def is_open(self) -> bool:
        return self.open_until != 0.0

    def should_try_primary(self) -> bool:
        return self.open_until == 0.0 or time.monotonic() >= self.open_until


_circuits: dict[str, Circuit] = {}
_circuits_lock = threading.Lock()


def circuit_for(alias: str, retry_after: float = 10.0) -> Circuit:
    with _circuits_lock:
        if alias not in _circuits:
            _circuits[alias] = Circuit(retry_after=retry_after)
        return _circuits[alias]


def reset_circuits() -> None:
    """Close every circuit (tests, and a process that knows Redis is back)."""
    with _circuits_lock:
        _circuits.clear()


class FailoverCache(BaseCache):
    """CACHES entry: {"BACKEND": "ops.cache.FailoverCache", "OPTIONS": {"PRIMARY": "redis",
    "FALLBACK": "database", "RETRY_AFTER": 10}}. PRIMARY and FALLBACK name other CACHES
    entries, which keep their own key prefixes, versions and timeouts."""

    def __init__(self, location, params):
        super().__init__(params)
        options = params.get("OPTIONS", {})
        self.primary_alias: str = options["PRIMARY"]
        self.fallback_alias: str = options["FALLBACK"]
        self.circuit = circuit_for(self.primary_alias, float(options.get("RETRY_AFTER", 10)))

    @property
    def primary(self) -> BaseCache:
        return caches[self.primary_alias]

    @property
    def fallback(self) -> BaseCache:
        return caches[self.fallback_alias]

    def _call(self, method: str, *args, **kwargs):
        circuit = self.circuit
        if circuit.should_try_primary():
            try:
                if circuit.is_open:
                    self._recover()  # raises if Redis is still unavailable
                return getattr(self.primary, method)(*args, **kwargs)
            except UNAVAILABLE as exc:
                self._open(exc)
        return getattr(self.fallback, method)(*args, **kwargs)

    def _open(self, exc: BaseException) -> None:
        circuit = self.circuit
        with circuit.lock:
            was_open = circuit.is_open
            circuit.open_until = time.monotonic() + circuit.retry_after
            if was_open:
                return  # still down: wait again, nothing to forget
            circuit.opened += 1
        logger.warning(
            "cache %r unavailable (%s: %s); using %r for %.0f s",
            self.primary_alias,
            type(exc).__name__,
            exc,
            self.fallback_alias,
            circuit.retry_after,
        )
        self.fallback.clear()

    def _recover(self) -> None:
        """Redis answers again: forget what it holds (it missed every change made during the
        outage) before serving from it, then close the circuit."""
        deleted = purge_primary(self.primary)
        with self.circuit.lock:
            self.circuit.open_until = 0.0
        logger.warning("cache %r answers again; %d stale keys deleted", self.primary_alias, deleted)

    # The cache API, each operation through `_call`.
    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("add", key, value, timeout, version)

    def get(self, key, default=None, version=None):
        return self._call("get", key, default, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set", key, value, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("touch", key, timeout, version)

    def delete(self, key, version=None):
        return self._call("delete", key, version)

    def get_many(self, keys, version=None):
        return self._call("get_many", keys, version)

    def has_key(self, key, version=None):
        return self._call("has_key", key, version)

    def incr(self, key, delta=1, version=None):
        return self._call("incr", key, delta, version)

    def decr(self, key, delta=1, version=None):
        return self._call("decr", key, delta, version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set_many", data, timeout, version)

    def delete_many(self, keys, version=None):
        return self._call("delete_many", keys, version)

    def clear(self):
        """Both caches, and on Redis only our keys: Django's RedisCache.clear() is FLUSHDB,
        which would also empty the Celery queue sharing the database."""
        self.fallback.clear()
        if self.circuit.should_try_primary():
            try:
                purge_primary(self.primary)
            except UNAVAILABLE as exc:
                self._open(exc)

    def close(self, **kwargs):
        for alias in (self.primary_alias, self.fallback_alias):
            caches[alias].close(**kwargs)


class SharedClientRedisCacheClient(RedisCacheClient):
    """Django's client builds a new `redis.Redis` for every operation, and redis-py 8 fills
    some 170 response callbacks in each: about 200 µs, more than the GET it then sends (100 µs
    here). A `redis.Redis` is safe to share between threads (each command borrows a
    connection from the pool), so one is kept per connection pool."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))  # pools live as long as this object
        if client is None:
            client = self._clients.setdefault(id(pool), self._client(connection_pool=pool))
        return client


class RedisCache(DjangoRedisCache):
    """CACHES entry for Redis: Django's, with one `redis.Redis` per pool."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = SharedClientRedisCacheClient


def purge_primary(cache: BaseCache) -> int:
    """Delete every key of a Redis cache (its KEY_PREFIX; never the broker's keys in the same
    database). Returns how many were deleted."""
    client = cache._cache.get_client(write=True)  # django's RedisCache client
    pattern = f"{cache.key_prefix}:*" if cache.key_prefix else ":*"
    deleted = 0
    batch: list[bytes] = []
    for key in client.scan_iter(match=pattern, count=1000):
        batch.append(key)
        if len(batch) == 500:
            deleted += client.unlink(*batch)
            batch.clear()
    if batch:
        deleted += client.unlink(*batch)
    return deleted


def create_cache_tables(**kwargs) -> None:
    """post_migrate: create the database cache's table (idempotent, like `createcachetable`)."""
    from django.core.management import call_command

    call_command("createcachetable", database=kwargs.get("using", "default"), verbosity=0)
