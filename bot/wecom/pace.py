"""WeCom's cap on app messages to one member: 30 a minute and 1,000 an hour, and the excess is
silently dropped. The sender keeps each member under both; a notice over the cap waits in the
outbox (a transient failure with the seconds to wait) instead of vanishing.

The count is per process: several bot processes sending to one member could together exceed it.
"""

import threading
import time
from collections import deque
from collections.abc import Callable

WINDOWS = ((60.0, 30), (3600.0, 1000))  # (seconds, messages) — WeCom's per-member caps


class MemberPace:
    def __init__(self, now: Callable[[], float] = time.monotonic, windows=WINDOWS) -> None:
        self.now = now
        self.windows = windows
        self._sent: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def reserve(self, member: str) -> float:
        """0, and a message counted, when ``member`` may get one now; else the seconds to wait."""
        with self._lock:
            now = self.now()
            sent = self._sent.setdefault(member.lower(), deque())
            horizon = max(window for window, _ in self.windows)
            while sent and sent[0] <= now - horizon:
                sent.popleft()
            wait = 0.0
            for window, cap in self.windows:
                recent = [t for t in sent if t > now - window]
                if len(recent) >= cap:  # free again when the cap-th latest leaves the window
                    wait = max(wait, recent[-cap] + window - now)
            if not wait:
                sent.append(now)
            return wait
