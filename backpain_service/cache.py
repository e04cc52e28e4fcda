"""The Redis cache backend: Django's, with one Redis client object per connection pool.

Django's RedisCacheClient builds a new redis.Redis for every cache call; building one costs
about as much CPU as the GET it then sends, and the webhook makes one such call on every text
(the content version, triage/selectors.py). The client holds no connection of its own (its
pool does, and the pool notices a fork) and may be shared by threads, so one is kept.
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends import redis as django_redis


class RedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(django_redis.RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient
