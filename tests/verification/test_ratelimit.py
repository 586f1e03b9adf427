"""Token buckets: burst, refill, per-key independence, bounded memory, threads; and the 429 over HTTP."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from service.verification import limits
from service.verification.ratelimit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class TestBucket:
    def test_burst_then_refused_with_the_wait(self) -> None:
        clock = Clock()
        limiter = RateLimiter(per_minute=6, burst=3, clock=clock)  # one token every 10 s
        assert [limiter.take("a").allowed for _ in range(3)] == [True, True, True]
        refused = limiter.take("a")
        assert not refused.allowed and refused.retry_after == 10

    def test_refills_at_the_rate_and_never_past_the_burst(self) -> None:
        clock = Clock()
        limiter = RateLimiter(per_minute=6, burst=3, clock=clock)
        for _ in range(3):
            limiter.take("a")
        clock.now += 9.9
        assert not limiter.take("a").allowed
        clock.now += 0.2
        assert limiter.take("a").allowed and not limiter.take("a").allowed
        clock.now += 3600
        assert [limiter.take("a").allowed for _ in range(4)] == [True, True, True, False]

    def test_refused_requests_do_not_extend_the_wait(self) -> None:
        clock = Clock()
        limiter = RateLimiter(per_minute=60, burst=1, clock=clock)
        limiter.take("a")
        for _ in range(50):
            limiter.take("a")
        clock.now += 1.0
        assert limiter.take("a").allowed

    def test_keys_are_independent(self) -> None:
        limiter = RateLimiter(per_minute=1, burst=1, clock=Clock())
        assert limiter.take("10.0.0.1").allowed and not limiter.take("10.0.0.1").allowed
        assert limiter.take("10.0.0.2").allowed

    def test_memory_is_bounded_oldest_dropped(self) -> None:
        limiter = RateLimiter(per_minute=1, burst=1, max_keys=100, clock=Clock())
        for i in range(1000):
            limiter.take(f"10.0.{i // 256}.{i % 256}")
        assert len(limiter) == 100
        assert limiter.take("10.0.3.231").allowed is False, "a recent key keeps its bucket"
        assert limiter.take("10.0.0.0").allowed, "the oldest was dropped and comes back full"

    def test_threads_get_exactly_the_burst(self) -> None:
        limiter = RateLimiter(per_minute=0.001, burst=50)
        allowed = []
        lock = threading.Lock()

        def hammer() -> None:
            for _ in range(100):
                ok = limiter.take("k").allowed
                with lock:
                    allowed.append(ok)

        threads = [threading.Thread(target=hammer) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sum(allowed) == 50 and len(allowed) == 800

    @pytest.mark.parametrize(("rate", "burst"), [(0, 1), (-1, 1), (10, 0)])
    def test_nonsense_refused(self, rate: float, burst: int) -> None:
        with pytest.raises(ValueError):
            RateLimiter(rate, burst)


@pytest.fixture()
def tight(settings: Any) -> Iterator[None]:
    """Small limits for one test; the limiters are rebuilt from settings, then restored."""
    saved = {k: getattr(settings, k) for k in ("verify_lookups_per_minute", "verify_lookup_burst",
                                               "verify_identity_per_hour", "verify_identity_burst",
                                               "verify_identity_per_document_per_hour")}  # fmt: skip
    settings.verify_lookups_per_minute, settings.verify_lookup_burst = 6, 3
    settings.verify_identity_per_hour, settings.verify_identity_burst = 60, 2
    settings.verify_identity_per_document_per_hour = 60
    for f in (limits.lookup_limiter, limits.identity_limiter, limits.document_identity_limiter):
        f.cache_clear()
    yield
    for k, v in saved.items():
        setattr(settings, k, v)
    for f in (limits.lookup_limiter, limits.identity_limiter, limits.document_identity_limiter):
        f.cache_clear()


def test_lookups_past_the_limit_get_429_in_chinese_with_retry_after(client: Any, tight: None) -> None:
    codes = ["0000-0000-0000-0000", "not a code", "1111-1111-1111-1111"]
    assert [client.get(f"/api/v1/verify/{c}").status_code for c in codes] == [404, 404, 404]
    refused = client.get("/api/v1/verify/2222-2222-2222-2222")
    assert refused.status_code == 429
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.headers["retry-after"] == "10"
    body = refused.json()
    assert body["code"] == "rate_limited" and body["retry_after"] == 10
    assert "过于频繁" in body["detail"] and "10秒" in body["detail"]
    # The page shares the lookups' bucket.
    page = client.get("/v/2222-2222-2222-2222")
    assert page.status_code == 429 and page.headers["retry-after"] == "10" and "请稍后再试" in page.text


def test_identity_checks_have_their_own_stricter_bucket(client: Any, tight: None) -> None:
    ask = {"name": "张三"}
    answers = [
        client.post("/api/v1/verify/0000-0000-0000-0000/identity", json=ask).status_code for _ in range(3)
    ]
    assert answers == [404, 404, 429]
    assert client.get("/api/v1/verify/0000-0000-0000-0000").status_code == 404, (
        "lookups are a separate bucket"
    )
