"""Export in a child process. An export runs for minutes of Python-heavy work (decode, interpolate,
encode threads); in the GUI's own process that work competes with the UI thread for the GIL, and on
a busy machine the UI thread then waits for it. In a child it cannot.

Two one-way pipes connect them: progress, the result and errors come back on one; Cancel is a
message on the other (the child turns it into its CancelToken). Pipes rather than multiprocessing
Events or Queues: those share locks and semaphores, and a child that dies holding one can hang the
parent. (No Qt here: the child never loads it.)
"""

from __future__ import annotations

import multiprocessing
import threading
import traceback
from typing import Any, Callable

from ..core.errors import Cancelled, VfiError
from ..core.export import ExportResult
from ..core.progress import CancelToken

POLL_S = 0.1


def export_in_child(spec: Any, report: Callable[[Any], None], cancel: CancelToken) -> ExportResult:
    """Run `tasks.run_export(spec)` in a fresh process; raises VfiError or Cancelled like the core."""
    ctx = multiprocessing.get_context("spawn")  # fork is unsafe with threads (Qt, decoders) in the parent
    results_in, results_out = ctx.Pipe(duplex=False)
    control_in, control_out = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_child, args=(spec, results_out, control_in), name="vfi-export", daemon=True)
    process.start()
    results_out.close()  # the child holds the only write end: EOF when it exits
    control_in.close()
    cancel_sent = False
    try:
        while True:
            if cancel.cancelled and not cancel_sent:
                cancel_sent = _send(control_out, "cancel")
            if not results_in.poll(POLL_S):
                continue
            try:
                kind, payload = results_in.recv()
            except EOFError:
                process.join(timeout=5)
                raise VfiError(f"the export process stopped unexpectedly (exit code {process.exitcode})") from None
            if kind == "progress":
                report(payload)
            elif kind == "done":
                return payload
            elif kind == "cancelled":
                raise Cancelled()
            elif kind == "error":
                raise VfiError(payload)
            else:
                raise RuntimeError(f"export process failed:\n{payload}")
    finally:
        control_out.close()  # the child's control thread sees EOF and cancels, if still running
        process.join(timeout=10)
        if process.is_alive():
            process.kill()
            process.join(timeout=5)
        results_in.close()


def _send(conn: Any, message: str) -> bool:
    try:
        conn.send(message)
        return True
    except OSError:  # the child is gone already
        return False


def _child(spec: Any, results: Any, control: Any) -> None:
    from .tasks import InterpolatorCache, run_export

    token = CancelToken()

    def listen() -> None:
        try:
            control.recv()
        except (EOFError, OSError):
            pass  # the parent closed its end: it no longer wants the result
        token.cancel()

    threading.Thread(target=listen, name="export-control", daemon=True).start()
    lock = threading.Lock()  # progress comes from the core's encode thread, the result from this one

    def send(kind: str, payload: Any) -> None:
        with lock:
            results.send((kind, payload))

    try:
        send("done", run_export(spec, InterpolatorCache(), lambda p: send("progress", p), token))
    except Cancelled:
        send("cancelled", None)
    except VfiError as exc:
        send("error", str(exc))
    except BaseException:  # noqa: BLE001 - reported to the parent, which shows it
        send("crash", traceback.format_exc())
