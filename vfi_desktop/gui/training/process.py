"""Supervises one `vfi-desktop train --events` child process: JSON events in, pause/resume/stop out.

QProcess delivers output through the event loop, so the window never blocks on the child; a
crash in training is just a child that exited without a "result" event.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Optional, Sequence

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, QTimer, Signal

STOP_GRACE_MS = 15000  # after "stop": time to finish the step and write the checkpoint
STDERR_TAIL = 4000
CHILD_NICENESS = 5  # on POSIX, added to ours: the window's thread wins the CPU whenever it needs it


class TrainingProcess(QObject):
    event = Signal(dict)  # one parsed JSON line: {"event": "step" | "validation" | ... , ...}
    finished = Signal(object, str)  # (the "result" event or None, error text or "")

    def __init__(self, parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self._proc: Optional[QProcess] = None
        self._buffer = b""
        self._stderr = b""
        self._result: Optional[dict] = None
        self._stopping = False
        self._kill_timer = QTimer(self, singleShot=True, interval=STOP_GRACE_MS)
        self._kill_timer.timeout.connect(self.kill)

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.state() != QProcess.ProcessState.NotRunning

    def start(self, command: Sequence[str]) -> None:
        if self.running:
            raise RuntimeError("a training process is already running")
        self._buffer, self._stderr, self._result, self._stopping = b"", b"", None, False
        proc = QProcess(self)
        env = QProcessEnvironment.systemEnvironment()
        if not getattr(sys, "frozen", False):
            # `python -m vfi_desktop` must find this very package, installed or not.
            root = str(Path(__file__).resolve().parents[3])  # the folder that holds vfi_desktop/
            env.insert("PYTHONPATH", os.pathsep.join(p for p in (root, env.value("PYTHONPATH")) if p))
        env.insert("PYTHONUNBUFFERED", "1")
        proc.setProcessEnvironment(env)
        proc.readyReadStandardOutput.connect(self._read_stdout)
        proc.readyReadStandardError.connect(self._read_stderr)
        proc.finished.connect(self._on_finished)
        proc.errorOccurred.connect(self._on_error)
        proc.started.connect(self._lower_priority)
        self._proc = proc
        proc.start(command[0], list(command[1:]))

    def pause(self) -> None:
        self._send("pause")

    def resume(self) -> None:
        self._send("resume")

    def stop(self) -> None:
        """Finish the current step, keep the checkpoint and the best weights, then exit."""
        if not self.running:
            return
        self._stopping = True
        self._send("stop")
        self._kill_timer.start()

    def kill(self) -> None:
        if self.running:
            self._proc.kill()

    def wait(self, msecs: int) -> bool:
        return self._proc is None or self._proc.waitForFinished(msecs)

    # -- child output --------------------------------------------------------------------------------

    def _send(self, command: str) -> None:
        if self.running:
            self._proc.write((command + "\n").encode())

    def _lower_priority(self) -> None:
        pid = self._proc.processId() if self._proc else 0
        if pid and hasattr(os, "setpriority"):
            try:
                nice = min(19, os.getpriority(os.PRIO_PROCESS, 0) + CHILD_NICENESS)
                os.setpriority(os.PRIO_PROCESS, pid, nice)
            except OSError:
                pass  # not allowed here: training still works, only less politely

    def _read_stdout(self) -> None:
        self._buffer += bytes(self._proc.readAllStandardOutput())
        *lines, self._buffer = self._buffer.split(b"\n")
        for line in lines:
            self._handle_line(line)

    def _handle_line(self, line: bytes) -> None:
        try:
            ev = json.loads(line)
        except ValueError:
            return  # not an event (a library printing to stdout): ignore
        if not isinstance(ev, dict) or "event" not in ev:
            return
        if ev["event"] == "result":
            self._result = ev
        self.event.emit(ev)

    def _read_stderr(self) -> None:
        self._stderr = (self._stderr + bytes(self._proc.readAllStandardError()))[-STDERR_TAIL:]

    def _on_error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self._finish(f"training could not start: {self._proc.errorString()}")

    def _on_finished(self, code: int, status: QProcess.ExitStatus) -> None:
        self._read_stdout()
        if self._buffer.strip():
            self._handle_line(self._buffer)
            self._buffer = b""
        self._read_stderr()
        if self._result is not None and code == 0 and status == QProcess.ExitStatus.NormalExit:
            self._finish("")
        elif self._stopping and status == QProcess.ExitStatus.CrashExit:
            self._finish("training did not stop in time and was ended; the last checkpoint is kept")
        else:
            self._finish(self._crash_reason(code, status))

    def _crash_reason(self, code: int, status: QProcess.ExitStatus) -> str:
        lines = [ln.strip() for ln in self._stderr.decode(errors="replace").splitlines() if ln.strip()]
        # The CLI reports user errors as one line "vfi-desktop: error: ..."; otherwise the last line.
        reason = next((ln.split("error:", 1)[1].strip() for ln in reversed(lines) if "vfi-desktop: error:" in ln), None)
        if reason is None:
            how = "crashed" if status == QProcess.ExitStatus.CrashExit else f"exited with status {code}"
            reason = f"training {how}" + (f": {lines[-1][:200]}" if lines else "")
        return reason

    def _finish(self, error: str) -> None:
        self._kill_timer.stop()
        proc, self._proc = self._proc, None
        if proc is not None:
            proc.deleteLater()
        self.finished.emit(self._result, error)
