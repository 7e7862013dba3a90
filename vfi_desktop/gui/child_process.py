"""Long jobs (export, preview) in a child process. They are seconds to minutes of Python-heavy work
(decode, interpolate, encode threads); in the GUI's own process that work competes with the UI
thread for the GIL, and on a busy machine a worker preempted while holding it keeps the UI thread
waiting. In a child it cannot.

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
from ..core.progress import CancelToken

POLL_S = 0.1


def run_in_child(function: Callable[..., Any], *args: Any, report: Callable[[Any], None], cancel: CancelToken) -> Any:
    """`function(*args, report, cancel)` in a fresh process (a module-level, Qt-free function);
    returns its result, or raises VfiError or Cancelled like the core does."""
    ctx = multiprocessing.get_context("spawn")  # fork is unsafe with threads (Qt, decoders) in the parent
    results_in, results_out = ctx.Pipe(duplex=False)
    control_in, control_out = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_child, args=(function, args, results_out, control_in), name=f"vfi-{function.__name__}", daemon=True)
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
                raise VfiError(f"the background process stopped unexpectedly (exit code {process.exitcode})") from None
            if kind == "progress":
                report(payload)
            elif kind == "done":
                return payload
            elif kind == "cancelled":
                raise Cancelled()
            elif kind == "error":
                raise VfiError(payload)
            else:
                raise RuntimeError(f"{function.__name__} failed in the child process:\n{payload}")
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


def _child(function: Callable[..., Any], args: tuple, results: Any, control: Any) -> None:
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
        send("done", function(*args, lambda p: send("progress", p), token))
    except Cancelled:
        send("cancelled", None)
    except VfiError as exc:
        send("error", str(exc))
    except BaseException:  # noqa: BLE001 - reported to the parent, which shows it
        send("crash", traceback.format_exc())
