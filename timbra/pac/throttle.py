"""Failed logins, counted per client address and per username in a sliding window (the injectable clock's),
so that guessing passwords costs the guesser time instead of costing the server argon2 runs. The same
counter, per client address only, refuses an address that sends many wrong API keys (T224)."""
from __future__ import annotations

import math
import threading
from collections import OrderedDict, deque
from datetime import datetime, timedelta

from timbra.clock import SYSTEM, Clock
from timbra.codes import error

WINDOW_SECONDS = 15 * 60
PER_USER = 10  # failed logins of one username in the window; then T150 until the oldest leaves it
PER_CLIENT = 50  # failed logins from one client address in the window, whatever the usernames
KEYS_PER_CLIENT = 50  # wrong API keys from one client address in the window; then T224 for that address
MAX_KEYS = 100_000  # addresses and usernames remembered (the oldest are forgotten first)


class LoginThrottle:
    def __init__(self, clock: Clock = SYSTEM, *, per_user: int = PER_USER, per_client: int = PER_CLIENT,
                 window_seconds: float = WINDOW_SECONDS, max_keys: int = MAX_KEYS, code: str = "T150") -> None:
        self.clock = clock
        self.code = code
        self.per_user = per_user
        self.per_client = per_client
        self.window = timedelta(seconds=window_seconds)
        self._max_keys = max_keys
        self._failures: OrderedDict[tuple[str, str], deque[datetime]] = OrderedDict()
        self._lock = threading.Lock()

    def check(self, *, client: str | None = None, username: str | None = None) -> None:
        """T150 (or this throttle's `code`: 429, `retry_after` seconds in its detail) when the client or the
        username is over its limit."""
        now = self.clock.now()
        waits = []
        with self._lock:
            user = ("user", username_key(username))
            for key, limit in ((("client", client), self.per_client), (user, self.per_user)):
                if key[1] is None:
                    continue
                times = self._recent(key, now)
                if times is not None and len(times) >= limit:
                    waits.append((times[len(times) - limit] + self.window - now).total_seconds())
        if waits:
            raise error(self.code, detail={"retry_after": max(1, math.ceil(max(waits)))})

    def failed(self, *, client: str | None = None, username: str | None = None) -> None:
        now = self.clock.now()
        with self._lock:
            for key in (("client", client), ("user", username_key(username))):
                if key[1] is None:
                    continue
                times = self._recent(key, now)
                if times is None:
                    times = self._failures[key] = deque()
                times.append(now)
                self._failures.move_to_end(key)
            while len(self._failures) > self._max_keys:
                self._failures.popitem(last=False)

    def succeeded(self, username: str) -> None:
        """A right password clears the username's count (not the address's)."""
        with self._lock:
            self._failures.pop(("user", username_key(username)), None)

    def _recent(self, key: tuple[str, str], now: datetime) -> deque[datetime] | None:
        times = self._failures.get(key)
        if times is None:
            return None
        while times and times[0] <= now - self.window:
            times.popleft()
        return times


def username_key(username: str | None) -> str | None:
    """The username as the throttle counts it (spaces around and case do not make another username)."""
    return None if username is None else username.strip().lower()
