"""Running work off the UI thread: `Job` (one call into the core, via superqt's thread pool) and
`FrameFetcher` (decoding for the viewer, newest request first)."""

from __future__ import annotations

import sys
import threading
import traceback
from typing import Any, Callable, Optional

from PySide6.QtCore import QObject, QThreadPool, Signal
from superqt.utils import create_worker

from ..core.errors import Cancelled, VfiError
from ..core.progress import CancelToken
from ..core.video_io import FrameSource

JobFunction = Callable[[Callable[[Any], None], CancelToken], Any]


class Job(QObject):
    """Runs fn(report, cancel) in a worker thread; every outcome arrives as a signal on the UI thread.

    VfiError becomes `failed(message)` (a one-line message for the user), Cancelled becomes
    `cancelled()`, anything else `failed("unexpected error: ...")` with the traceback on stderr.
    """

    progress = Signal(object)
    succeeded = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    finished = Signal()

    def __init__(self, fn: JobFunction, name: str, parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self.name = name
        self.cancel_token = CancelToken()
        self.running = False
        self._fn = fn
        self._worker = None
        self._detached = False  # set on shutdown: the receivers are going away, report nothing more

    def start(self) -> "Job":
        self._worker = create_worker(self._work, _start_thread=False, _ignore_errors=True)
        self._worker.returned.connect(self._on_returned)
        self._worker.errored.connect(self._on_errored)
        self._worker.finished.connect(self._on_finished)
        self.running = True
        self._worker.start()
        return self

    def cancel(self) -> None:
        self.cancel_token.cancel()

    def detach(self) -> None:
        """Cancel, and from now on emit only `finished`."""
        self._detached = True
        self.cancel()

    def _work(self) -> Any:
        return self._fn(self._report, self.cancel_token)

    def _report(self, value: Any) -> None:
        if not self._detached:
            self.progress.emit(value)

    def _on_returned(self, value: Any) -> None:
        if self._detached:
            return
        if self.cancel_token.cancelled:
            self.cancelled.emit()  # finished anyway, but the user no longer wants it
        else:
            self.succeeded.emit(value)

    def _on_errored(self, exc: BaseException) -> None:
        if self._detached:
            return
        if isinstance(exc, Cancelled) or self.cancel_token.cancelled:
            self.cancelled.emit()
        elif isinstance(exc, VfiError):
            self.failed.emit(str(exc))
        else:
            traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
            self.failed.emit(f"unexpected error in {self.name}: {exc.__class__.__name__}: {exc}")

    def _on_finished(self) -> None:
        self.running = False
        self.finished.emit()


class JobPool(QObject):
    """Keeps running jobs alive and can cancel and wait for all of them (on close)."""

    def __init__(self, parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self._jobs: set[Job] = set()
        pool = QThreadPool.globalInstance()
        # export, preview, thumbnails and an interpolation may all run at once on a 2-core machine
        pool.setMaxThreadCount(max(pool.maxThreadCount(), 8))

    def start(
        self,
        fn: JobFunction,
        name: str,
        *,
        succeeded: Optional[Callable[[Any], None]] = None,
        failed: Optional[Callable[[str], None]] = None,
        progress: Optional[Callable[[Any], None]] = None,
        cancelled: Optional[Callable[[], None]] = None,
        finished: Optional[Callable[[], None]] = None,
    ) -> Job:
        job = Job(fn, name, self)
        for signal, slot in (
            (job.succeeded, succeeded),
            (job.failed, failed),
            (job.progress, progress),
            (job.cancelled, cancelled),
            (job.finished, finished),
        ):
            if slot is not None:
                signal.connect(slot)
        job.finished.connect(lambda: self._jobs.discard(job))
        self._jobs.add(job)
        return job.start()

    @property
    def running(self) -> list[Job]:
        return [j for j in self._jobs if j.running]

    def shutdown(self, timeout_s: float = 15.0) -> bool:
        """Cancel everything, silence the callbacks (their widgets are going away) and wait."""
        for job in list(self._jobs):
            job.detach()
        return QThreadPool.globalInstance().waitForDone(int(timeout_s * 1000))


class FrameFetcher(QObject):
    """Decodes frames for the viewer in one background thread.

    `request([n, n+1, n-1])` replaces whatever was still waiting, so while scrubbing only the newest
    position is decoded; the first index is decoded first.
    """

    frame_ready = Signal(int, int, object)  # generation, index, HxWx3 frame
    failed = Signal(int, str)  # generation, message

    def __init__(self, parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self._cond = threading.Condition()
        self._pending: list[int] = []
        self._source: Optional[FrameSource] = None
        self._generation = 0
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="frame-fetcher", daemon=True)
        self._thread.start()

    def set_source(self, source: Optional[FrameSource], generation: int) -> None:
        with self._cond:
            self._source, self._generation, self._pending = source, generation, []

    def request(self, indices: list[int]) -> None:
        with self._cond:
            n = len(self._source) if self._source is not None else 0
            self._pending = [i for i in dict.fromkeys(indices) if 0 <= i < n]
            self._cond.notify()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopped and not self._pending:
                    self._cond.wait()
                if self._stopped:
                    return
                index = self._pending.pop(0)
                source, generation = self._source, self._generation
            try:
                frame = source.read(index)
            except VfiError as exc:
                self.failed.emit(generation, str(exc))
                continue
            except Exception as exc:  # noqa: BLE001 - e.g. a source closed under us; never kill the thread
                self.failed.emit(generation, f"frame {index} could not be read ({exc.__class__.__name__})")
                continue
            self.frame_ready.emit(generation, index, frame)
