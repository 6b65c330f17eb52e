"""ops.cache.RedisCache keeps one redis.Redis per connection pool (Django's builds one per
operation, which cost more than the operation). The shared client must still be right from
many threads at once, as gunicorn's threads or Celery's would use it."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.core.cache.backends.redis import RedisCacheClient

from ops.cache import RedisCache, SharedClientRedisCacheClient, purge_primary


def private_cache() -> RedisCache:
    return RedisCache(settings.CELERY_BROKER_URL, {"KEY_PREFIX": f"test-{uuid.uuid4().hex}"})


def test_every_operation_uses_the_same_client(redis_client):
    cache = private_cache()
    cache.set("greeting", "hello")
    client = cache._cache.get_client(write=True)
    assert cache.get("greeting") == "hello"
    assert cache._cache.get_client() is client
    assert isinstance(cache._cache, SharedClientRedisCacheClient)
    # Django's own client builds a new one each time: the reason this class exists.
    plain = RedisCacheClient([settings.CELERY_BROKER_URL])
    assert plain.get_client() is not plain.get_client()
    purge_primary(cache)  # never FLUSHDB: other tests share this Redis database


def test_threads_sharing_the_client_each_read_their_own_values(redis_client):
    cache = private_cache()

    def writer(thread: int) -> list[tuple[str, object]]:
        wrong = []
        for n in range(200):
            key, value = f"t{thread}-{n}", {"thread": thread, "n": n}
            cache.set(key, value)
            if (got := cache.get(key)) != value:
                wrong.append((key, got))
        return wrong

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(writer, range(8)))
    assert results == [[]] * 8
    assert cache.get_many([f"t3-{n}" for n in range(5)]) == {
        f"t3-{n}": {"thread": 3, "n": n} for n in range(5)
    }
    purge_primary(cache)  # never FLUSHDB: other tests share this Redis database
