"""Django's Redis cache backend, keeping one redis-py client per connection pool.

Django's ``RedisCacheClient.get_client`` builds a new ``redis.Redis`` for every cache call, and
redis-py ≥ 5 fills a case-insensitive table of ~170 response callbacks in each constructor:
measured here at ~0.28 ms per call (redis 8.1), more than the Redis round trip itself and
most of the seal image's origin cost. A ``redis.Redis`` is only a thin, thread-safe
handle on its pool, so building it once per pool changes nothing else.

The public-read fast path extends this backend with process-local copies
(``fastpath.cache.RedisCache``, named in settings when ``PUBLIC_IMAGE_FASTPATH`` is on).
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient
from redis import ConnectionPool, Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.sentinel import MasterNotFoundError, Sentinel


@dataclass(frozen=True)
class SentinelSettings:
    sentinels: list[tuple[str, int]]
    service_name: str
    sentinel_password: str | None


def _host_port(value: str | tuple[str, int]) -> tuple[str, int]:
    if isinstance(value, tuple):
        return value
    host, _, port = value.rpartition(":")
    return host.strip("[]"), int(port)


class RedisCacheClient(DjangoRedisCacheClient):
    # Django's private state that get_client reuses (the stubs declare public names only);
    # annotations alone, so the attributes stay Django's own.
    _pools: dict[int, ConnectionPool]
    _pool_class: type[ConnectionPool]
    _pool_options: dict[str, Any]
    _servers: list[str]
    _client: type[Redis]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Redis] = {}
        self._primary_reads = threading.local()
        # Sentinel (OPTIONS "sentinels"): every call goes to the master the Sentinels name,
        # found again by redis-py's SentinelConnectionPool after a failover.
        self.sentinel: SentinelSettings | None = None
        if "sentinels" in self._pool_options:
            options = self._pool_options
            self.sentinel = SentinelSettings(
                sentinels=[_host_port(s) for s in options.pop("sentinels")],
                service_name=options.pop("service_name"),
                sentinel_password=options.pop("sentinel_password", None),
            )
            self._pool_options.pop("parser_class", None)

    @contextlib.contextmanager
    def primary(self) -> Iterator[None]:
        """Reads inside go to the first server (the one taking writes), not a replica."""
        depth = getattr(self._primary_reads, "depth", 0)
        self._primary_reads.depth = depth + 1
        try:
            yield
        finally:
            self._primary_reads.depth = depth

    def _get_connection_pool_index(self, write: bool) -> int:
        primary_only: int = getattr(self._primary_reads, "depth", 0)
        if write or primary_only or len(self._servers) == 1:
            return 0
        return random.randrange(1, len(self._servers))  # noqa: S311 (load spreading)

    def sentinel_client(self) -> Sentinel:
        if self.sentinel is None:
            raise ValueError("this cache has no Sentinels configured")
        return Sentinel(
            self.sentinel.sentinels,
            sentinel_kwargs={
                "password": self.sentinel.sentinel_password,
                "socket_timeout": self._pool_options.get("socket_timeout", 0.5),
                "socket_connect_timeout": self._pool_options.get("socket_connect_timeout", 0.5),
            },
            **self._pool_options,
        )

    def get_client(self, key: Any = None, *, write: bool = False) -> Redis:
        if self.sentinel is not None:
            client = self._clients.get(0)
            if client is None:
                client = self._clients[0] = self.sentinel_client().master_for(
                    self.sentinel.service_name, redis_class=self._client
                )
            return client
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            if index not in self._pools:
                self._pools[index] = self._pool_class.from_url(
                    self._servers[index], **self._pool_options
                )
            client = self._clients[index] = self._client(connection_pool=self._pools[index])
        return client


class RedisCache(DjangoRedisCache):
    # Django's private state (a cached property and the parsed server list), as above.
    _cache: RedisCacheClient
    _servers: list[str]

    def __init__(self, server: str | list[str], params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient

    def redis_client(self) -> Redis:
        """The client of the server that takes writes (the primary), for what the cache API
        has no word for: redis-py's token-checked locks (workers/locks.py)."""
        return self._cache.get_client(write=True)

    def ping(self) -> bool:
        """One round trip to the server that takes writes; False (logged) when unreachable."""
        try:
            return bool(self._cache.get_client(write=True).ping())
        except _UNAVAILABLE as exc:
            _warn(exc)
            return False


# --- Degraded mode: the cache is an accelerator, never a dependency (DESIGN §1.1) -----------
# With Redis down every cache call would raise and turn a cache miss into a 500. Each call below
# instead behaves as a miss (get → default, add → False, incr → ValueError as for a missing key)
# and logs at most once a minute; callers already recompute from the database on a miss, and
# the calls succeed again by themselves once Redis is back (redis-py reconnects per call).
_log = logging.getLogger("config.cache")
# MasterNotFoundError: no Sentinel names a master (mid-failover, or all of them down).
_UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, MasterNotFoundError)
_last_warning = 0.0


def _warn(exc: Exception) -> None:
    global _last_warning
    now = time.monotonic()
    if now - _last_warning > 60:
        _last_warning = now
        _log.warning("cache unavailable, answering as a miss: %s", exc)


def _soft(name: str, fallback: Any) -> Any:
    method = getattr(DjangoRedisCache, name)

    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except _UNAVAILABLE as exc:
            _warn(exc)
            if fallback is _MISS:
                return kwargs.get("default", args[1] if len(args) > 1 else None)
            if name == "set_many":  # Django's contract: the keys that were not stored
                return list(args[0]) if args else []
            if isinstance(fallback, type) and issubclass(fallback, Exception):
                raise fallback(f"cache unavailable: {exc}") from exc
            return fallback() if callable(fallback) else fallback

    call.__name__ = name
    return call


_MISS = object()
for _name, _fallback in (
    ("get", _MISS),
    ("get_many", dict),
    ("has_key", False),
    ("add", False),
    ("set", None),
    ("set_many", list),
    ("touch", False),
    ("delete", False),
    ("delete_many", None),
    ("incr", ValueError),
    ("clear", False),
):
    setattr(RedisCache, _name, _soft(_name, _fallback))
