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

THUMB_WIDTH = 220  # at most: narrower when the dock is (three side by side)


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
            img.setMinimumSize(80, 60)  # three side by side still fit a narrow dock
            img.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            cap = QLabel(title, alignment=Qt.AlignmentFlag.AlignCenter)
            cap.setWordWrap(True)
            grid.addWidget(img, 0, col)
            grid.addWidget(cap, 1, col)
            self.images[key], self.captions[key] = img, cap
        self.status = QLabel("Before/after appears here when training has produced weights.")
        self.status.setWordWrap(True)
        grid.addWidget(self.status, 2, 0, 1, 3)
        self._worker = None
        self._pending: Optional[tuple] = None
        self.last: Optional[dict] = None
        self._frames: dict[str, np.ndarray] = {}

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
        self._frames = {key: result[key] for key in ("before", "after", "truth")}
        self._scale_images()
        # two short lines each: three captions side by side fit a narrow dock
        self.captions["before"].setText(f"Starting weights\n{result['before_psnr']:.2f} dB")
        self.captions["after"].setText(f"Fine-tuned\n{result['after_psnr']:.2f} dB")
        self.captions["truth"].setText(f"Truth\nframe {result['index']}")
        self.images["truth"].setToolTip(f"{result['clip']}, frame {result['index']} (held out)")
        gain = result["after_psnr"] - result["before_psnr"]
        self.status.setText(f"On held-out frame {result['index']}: {gain:+.2f} dB")
        self.computed.emit(result)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._scale_images()

    def _scale_images(self) -> None:
        """Whole frames at the width their column has (a wider picture would be cut at both sides)."""
        for key, frame in self._frames.items():
            label = self.images[key]
            width = max(1, min(THUMB_WIDTH, label.width()))
            if label.pixmap().isNull() or label.pixmap().width() != width:
                label.setPixmap(to_pixmap(frame, width))

    def _on_error(self, exc: Exception) -> None:
        self.status.setText(f"Before/after failed: {exc}")
        self.failed.emit(str(exc))

    def _on_finished(self) -> None:
        self._worker = None
        if self._pending is not None:
            args, self._pending = self._pending, None
            self.request(*args)
