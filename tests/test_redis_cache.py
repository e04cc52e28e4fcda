"""Tests that REDIS_URL really puts Django's cache (and Celery's broker) in Redis."""

from __future__ import annotations

import uuid

import redis
from django.conf import settings
from django.core.cache import cache


def test_it_stores_the_default_cache_in_redis(redis_url: str) -> None:
    key = f"tests:redis-cache:{uuid.uuid4().hex}"
    cache.set(key, 42, timeout=30)
    try:
        client = redis.Redis.from_url(redis_url)
        # Django stores plain ints unpickled, so the raw value is readable.
        assert client.get(cache.make_key(key)) == b"42"
    finally:
        cache.delete(key)


def test_it_uses_redis_as_the_celery_broker(redis_url: str) -> None:
    assert settings.CELERY_BROKER_URL == redis_url
