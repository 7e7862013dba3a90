"""Preview: a short stretch around the current frame, retimed, computed in the background and looped."""

from __future__ import annotations

from typing import Optional

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ..core.progress import Progress
from .tasks import PreviewResult
from .viewer import Pane, Viewer

PREVIEW_FACTORS = (2.0, 3.0, 4.0, 8.0)
PREVIEW_MODES = (("Smoother (x the frame rate)", False), ("Slow motion (x the frames, same rate)", True))


class PreviewDialog(QDialog):
    """Non-modal. `render_requested(factor, span, slowmo)` asks the main window to compute; it hands
    back progress and the result through `show_progress` / `show_result`."""

    render_requested = Signal(float, int, bool)
    cancel_requested = Signal()
    ready = Signal(object)  # PreviewResult, once shown

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setObjectName("previewDialog")
        self.setWindowTitle("Preview")
        self.resize(760, 520)
        self.result: Optional[PreviewResult] = None
        self.position = 0
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._next_frame)

        self.viewer = Viewer(self)
        self.factor_combo = QComboBox(self)
        self.factor_combo.setObjectName("previewFactorCombo")
        for f in PREVIEW_FACTORS:
            self.factor_combo.addItem(f"{f:g}x", f)
        self.mode_combo = QComboBox(self)
        self.mode_combo.setObjectName("previewModeCombo")
        for label, slowmo in PREVIEW_MODES:
            self.mode_combo.addItem(label, slowmo)
        self.mode_combo.setToolTip("Smoother: the same length at a higher frame rate. Slow motion: longer, at the clip's rate")
        self.span_spin = QSpinBox(self)
        self.span_spin.setObjectName("previewSpanSpin")
        self.span_spin.setRange(1, 60)
        self.span_spin.setValue(6)
        self.span_spin.setPrefix("± ")
        self.span_spin.setSuffix(" frames")
        self.span_spin.setToolTip("How many source frames before and after the current one")
        self.render_button = QPushButton("Compute", self)
        self.render_button.setObjectName("previewComputeButton")
        self.render_button.setToolTip("Compute the retimed stretch around the current frame")
        self.render_button.clicked.connect(self.request_render)
        self.play_button = QPushButton("Pause", self)
        self.play_button.setObjectName("previewPlayButton")
        self.play_button.setCheckable(True)
        self.play_button.toggled.connect(self._on_play_toggled)
        self.progress = QProgressBar(self)
        self.progress.setObjectName("previewProgress")
        self.info_label = QLabel("", self)
        self.info_label.setObjectName("previewInfo")
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setObjectName("previewCancelButton")
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.cancel_button.setEnabled(False)

        top = QHBoxLayout()
        top.addWidget(self.mode_combo)
        top.addWidget(self.factor_combo)
        top.addWidget(self.span_spin)
        top.addWidget(self.render_button)
        top.addStretch(1)
        top.addWidget(self.play_button)
        bottom = QHBoxLayout()
        bottom.addWidget(self.progress, 1)
        bottom.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.viewer, 1)
        layout.addWidget(self.info_label)
        layout.addLayout(bottom)
        self.viewer.set_panes([Pane("", placeholder="Computing…")])

    def request_render(self) -> None:
        self.stop()
        self.progress.setValue(0)
        self.cancel_button.setEnabled(True)
        self.render_button.setEnabled(False)
        self.info_label.setText("Computing…")
        self.render_requested.emit(self.factor_combo.currentData(), self.span_spin.value(), bool(self.mode_combo.currentData()))

    def show_progress(self, p: Progress) -> None:
        self.progress.setMaximum(max(1, p.total))
        self.progress.setValue(p.done)

    def show_result(self, result: PreviewResult) -> None:
        self._job_over()
        self.result = result
        self.position = 0
        mode = "slow motion, " if result.slowmo else ""
        self.info_label.setText(
            f"Frames {result.start}–{result.stop - 1}, {mode}at {result.fps:.3g} fps: {len(result.frames)} frames "
            f"({len(result.frames) / result.fps:.2f} s), {result.interpolated} in-between ({result.label}), "
            f"computed in {result.elapsed_s:.1f} s"
        )
        self.progress.setValue(self.progress.maximum())
        self._next_frame()
        self.play_button.setChecked(True)
        self._on_play_toggled(True)
        self.ready.emit(result)

    def show_message(self, text: str) -> None:
        self._job_over()
        self.info_label.setText(text)

    def _job_over(self) -> None:
        self.cancel_button.setEnabled(False)
        self.render_button.setEnabled(True)

    def _on_play_toggled(self, playing: bool) -> None:
        self.play_button.setText("Pause" if playing else "Play")
        if playing and self.result and self.result.frames:
            self._timer.start(max(1, round(1000.0 / self.result.fps)))
        else:
            self._timer.stop()

    def _next_frame(self) -> None:
        if not self.result or not self.result.frames:
            return
        frames = self.result.frames
        self.viewer.set_panes([Pane(f"{self.position + 1}/{len(frames)}", frames[self.position])])
        self.position = (self.position + 1) % len(frames)

    def stop(self) -> None:
        self.play_button.setChecked(False)
        self._timer.stop()

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt override
        self.stop()
        self.cancel_requested.emit()
        super().closeEvent(event)

