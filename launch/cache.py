"""Django's Redis cache, with one client per connection pool instead of one per call.

Django's `RedisCacheClient.get_client` builds a new `redis.Redis` on every cache
operation; redis-py's constructor fills its table of ~170 response callbacks each time,
about 0.2 ms of CPU (measured on the reference machine under load), which every
authenticated request paid at least once (launch/rights_cache.py reads the user and its
rights from the cache). A `redis.Redis` is safe to share between threads (each command
takes a connection from the pool), so one per pool is kept. Settings swap this class in
for Django's whenever the cache is Django's Redis backend (config/settings/base.py).
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient

DJANGO_BACKEND = "django.core.cache.backends.redis.RedisCache"
BACKEND = "launch.cache.RedisCache"


class RedisCacheClient(DjangoRedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        django: Any = self  # Django's private attributes, which its stubs do not declare
        index = django._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            # A race here builds two clients (or pools) for one server and keeps one:
            # harmless, as Django's own lazy pools are.
            if index not in django._pools:
                django._pools[index] = django._pool_class.from_url(
                    django._servers[index], **django._pool_options
                )
            client = self._clients[index] = django._client(connection_pool=django._pools[index])
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient
