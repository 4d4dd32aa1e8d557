"""Pacing: at most ``rate`` messages per second from each sender, across every worker.

A US long code sends one SMS segment per second; Twilio queues the excess and
eventually fails it. Each sender gets a schedule of evenly spaced slots (the
generic cell rate algorithm): a send reserves the next free slot and waits for
it. Replies to a worker mid-conversation may wait a few seconds for their slot;
broadcasts take a slot only when one is free now, so they fill the gaps and
never push a reply back.

With Redis the schedule lives there (one Lua call, Redis's own clock), so all
workers share it; without Redis it lives in the process.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

# KEYS[1]: the sender's next free slot (seconds, Redis clock). ARGV: interval, max wait.
_RESERVE = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) + tonumber(now_parts[2]) / 1000000
local interval = tonumber(ARGV[1])
local max_wait = tonumber(ARGV[2])
local slot = tonumber(redis.call('GET', KEYS[1]) or '0')
if slot < now then slot = now end
local wait = slot - now
if wait > max_wait then return {0, tostring(wait)} end
local ttl = math.ceil((slot + interval - now) * 1000) + 1000
redis.call('SET', KEYS[1], string.format('%.6f', slot + interval), 'PX', ttl)
return {1, tostring(wait)}
"""


class Pacer(Protocol):
    """Reserves send slots per sender."""

    def reserve(self, sender: str, rate: float, max_wait: float) -> tuple[bool, float]:
        """Take the sender's next slot if it comes within ``max_wait`` seconds.

        Returns (True, seconds to wait before sending) or, when the slot is
        further away, (False, seconds until it) and reserves nothing.
        """
        ...


class LocalPacer:
    """The schedule in this process (in-process jobs, no Redis)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._slots: dict[str, float] = {}
        self._lock = threading.Lock()
        self._clock = clock

    def reserve(self, sender: str, rate: float, max_wait: float) -> tuple[bool, float]:
        """See :meth:`Pacer.reserve`."""
        now = self._clock()
        with self._lock:
            slot = max(self._slots.get(sender, 0.0), now)
            wait = slot - now
            if wait > max_wait:
                return False, wait
            self._slots[sender] = slot + 1.0 / rate
            return True, wait


class RedisPacer:
    """The schedule in Redis, shared by every worker; falls back to the process if Redis fails."""

    def __init__(self, redis: Any, prefix: str = "grievance:pace:") -> None:
        self._redis = redis
        self._prefix = prefix
        self._script = redis.register_script(_RESERVE)
        self._fallback = LocalPacer()

    def reserve(self, sender: str, rate: float, max_wait: float) -> tuple[bool, float]:
        """See :meth:`Pacer.reserve`."""
        try:
            reserved, wait = self._script(keys=[self._prefix + sender], args=[1.0 / rate, max_wait])
        except Exception:  # Redis down: pace within this process rather than not at all
            return self._fallback.reserve(sender, rate, max_wait)
        return bool(int(reserved)), float(wait)
