"""Before/after on a held-out frame: the starting weights' in-between, the fine-tuned one, and the truth.

Inference runs on a superqt worker (thread pool), never on the UI thread. Requests made while one
is computing collapse into one follow-up: the newest weights win.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QGridLayout, QLabel, QSizePolicy, QWidget
from superqt.utils import create_worker

from .data import compare_on_held_out

THUMB_WIDTH = 220


def to_pixmap(frame: np.ndarray, width: int = THUMB_WIDTH) -> QPixmap:
    frame = np.ascontiguousarray(frame)
    h, w = frame.shape[:2]
    image = QImage(frame.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()  # copy: own the pixels
    return QPixmap.fromImage(image).scaledToWidth(width, Qt.TransformationMode.SmoothTransformation)


class BeforeAfterView(QWidget):
    computed = Signal(dict)  # the comparison shown (images and PSNRs)
    failed = Signal(str)

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        self.images: dict[str, QLabel] = {}
        self.captions: dict[str, QLabel] = {}
        for col, (key, title) in enumerate((("before", "Starting weights"), ("after", "Fine-tuned"), ("truth", "Truth (held out)"))):
            img = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
            img.setMinimumSize(120, 90)
            img.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            cap = QLabel(title, alignment=Qt.AlignmentFlag.AlignCenter)
            grid.addWidget(img, 0, col)
            grid.addWidget(cap, 1, col)
            self.images[key], self.captions[key] = img, cap
        self.status = QLabel("Before/after appears here when training has produced weights.")
        self.status.setWordWrap(True)
        grid.addWidget(self.status, 2, 0, 1, 3)
        self._worker = None
        self._pending: Optional[tuple] = None
        self.last: Optional[dict] = None

    @property
    def busy(self) -> bool:
        return self._worker is not None

    def request(self, clip: str, holdout: float, before: str | Path, after: str | Path) -> None:
        args = (str(clip), holdout, str(before), str(after))
        if self._worker is not None:
            self._pending = args
            return
        self.status.setText("Computing before/after on a held-out frame…")
        self._worker = create_worker(
            compare_on_held_out, *args, _start_thread=True,
            _connect={"returned": self._show, "errored": self._on_error, "finished": self._on_finished},
        )

    def _show(self, result: dict) -> None:
        self.last = result
        for key in ("before", "after", "truth"):
            self.images[key].setPixmap(to_pixmap(result[key]))
        self.captions["before"].setText(f"Starting weights: {result['before_psnr']:.2f} dB")
        self.captions["after"].setText(f"Fine-tuned: {result['after_psnr']:.2f} dB")
        self.captions["truth"].setText(f"Truth: {result['clip']} frame {result['index']}")
        gain = result["after_psnr"] - result["before_psnr"]
        self.status.setText(f"On held-out frame {result['index']}: {gain:+.2f} dB")
        self.computed.emit(result)

    def _on_error(self, exc: Exception) -> None:
        self.status.setText(f"Before/after failed: {exc}")
        self.failed.emit(str(exc))

    def _on_finished(self) -> None:
        self._worker = None
        if self._pending is not None:
            args, self._pending = self._pending, None
            self.request(*args)
