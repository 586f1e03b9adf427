"""Per-client token buckets, in this process's memory.

Each key (a client IP, or a document for the identity check) has a bucket of ``burst`` tokens that
refills at ``per_minute`` tokens a minute; a request takes one token or is refused with the
seconds to wait. Buckets live in one bounded dict (least recently used dropped first), so a flood
of distinct addresses costs bounded memory; a dropped bucket comes back full, which errs towards
letting a client through, never towards locking one out.

With several processes (``xibu serve --workers N``, or several machines) each process limits
separately: a client may get up to N times the configured rate. The limits guard the service
against scraping and guessing, not a contract; put a shared limiter (the reverse proxy, or Redis)
in front if an exact global rate is needed.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Decision", "RateLimiter"]


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: int = 0
    """Whole seconds until a token is available (0 when allowed)."""


class RateLimiter:
    """Token buckets keyed by any string. Thread-safe: sync routes run in a thread pool."""

    def __init__(
        self,
        per_minute: float,
        burst: int,
        *,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if per_minute <= 0 or burst < 1:
            raise ValueError("a limiter needs a positive rate and a burst of at least one")
        self.rate = per_minute / 60.0  # tokens per second
        self.burst = float(burst)
        self.max_keys = max_keys
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key → (tokens, at)
        self._lock = threading.Lock()

    def take(self, key: str) -> Decision:
        """Take one token from ``key``'s bucket, or say how long to wait for one."""
        now = self._clock()
        with self._lock:
            tokens, at = self._buckets.pop(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - at) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                decision = Decision(True)
            else:
                self._buckets[key] = (tokens, now)
                decision = Decision(False, max(1, math.ceil((1.0 - tokens) / self.rate)))
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        return decision

    def __len__(self) -> int:
        return len(self._buckets)

    def reset(self) -> None:
        """Forget every bucket (tests, and a settings change)."""
        with self._lock:
            self._buckets.clear()
