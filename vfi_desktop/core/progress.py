"""Progress reporting and cancellation shared by every long job (export, preview, training)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable, Optional

from .errors import Cancelled


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    elapsed_s: float
    eta_s: Optional[float]  # None until there is enough to estimate from
    rate: float  # items per second
    message: str = ""

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0


ProgressCallback = Callable[[Progress], None]


class CancelToken:
    """Set from any thread; checked by the worker between steps."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled()


class ProgressTracker:
    """Turns 'n items done' into Progress with a rate and ETA, throttled to a few reports a second."""

    def __init__(self, total: int, callback: Optional[ProgressCallback], min_interval_s: float = 0.1):
        self.total = total
        self.callback = callback
        self.min_interval_s = min_interval_s
        self.start = time.perf_counter()
        self._last_report = -1.0
        self.done = 0

    def update(self, done: int, message: str = "", force: bool = False) -> None:
        self.done = done
        if self.callback is None:
            return
        now = time.perf_counter()
        if not force and done < self.total and now - self._last_report < self.min_interval_s:
            return
        self._last_report = now
        elapsed = now - self.start
        rate = done / elapsed if elapsed > 0 else 0.0
        eta = (self.total - done) / rate if rate > 0 and done >= 1 else None
        self.callback(Progress(done, self.total, elapsed, eta, rate, message))


def format_eta(seconds: Optional[float]) -> str:
    if seconds is None:
        return "--:--"
    seconds = int(round(seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"
