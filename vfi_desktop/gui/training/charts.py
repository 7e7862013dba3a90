"""Live curves of a training run: training loss, and held-out PSNR against the starting model's line.

Events can arrive many times a second; points are collected as they come and drawn at most a few
times a second, so a fast run never floods the UI thread with redraws.
"""

from __future__ import annotations

from typing import Optional

import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QVBoxLayout, QWidget

REDRAW_MS = 250
LOSS_SMOOTHING = 0.9  # exponential moving average: the raw per-batch loss is very noisy


class TrainingCharts(QWidget):
    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.loss_steps: list[int] = []
        self.loss_values: list[float] = []  # smoothed
        self.psnr_steps: list[int] = []
        self.psnr_values: list[float] = []
        self.start_psnr: Optional[float] = None
        self._dirty = False

        self.loss_plot = pg.PlotWidget()
        self.loss_plot.setTitle("Training loss")
        self.loss_plot.setLabel("bottom", "step")
        self.loss_plot.showGrid(x=True, y=True, alpha=0.3)
        self.loss_curve = self.loss_plot.plot(pen=pg.mkPen("#4a90d9", width=1.5))

        self.psnr_plot = pg.PlotWidget()
        self.psnr_plot.setTitle("Held-out PSNR (dB)")
        self.psnr_plot.setLabel("bottom", "step")
        self.psnr_plot.showGrid(x=True, y=True, alpha=0.3)
        self.psnr_curve = self.psnr_plot.plot(pen=pg.mkPen("#3aa655", width=2), symbol="o", symbolSize=6, symbolBrush="#3aa655")
        self.start_line = pg.InfiniteLine(angle=0, movable=False, pen=pg.mkPen("#d9534f", width=1.5, style=pg.QtCore.Qt.PenStyle.DashLine),
                                          label="start", labelOpts={"position": 0.1, "color": "#d9534f"})
        self.start_line.setVisible(False)
        self.psnr_plot.addItem(self.start_line)
        for plot in (self.loss_plot, self.psnr_plot):
            plot.setMinimumHeight(120)
            plot.setMouseEnabled(x=False, y=False)
            plot.setDownsampling(auto=True, mode="peak")  # long runs: thousands of loss points
            plot.setClipToView(True)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.loss_plot)
        layout.addWidget(self.psnr_plot)
        self._timer = QTimer(self, interval=REDRAW_MS)
        self._timer.timeout.connect(self._redraw)
        self._timer.start()

    def clear(self) -> None:
        self.loss_steps.clear()
        self.loss_values.clear()
        self.psnr_steps.clear()
        self.psnr_values.clear()
        self.start_psnr = None
        self.start_line.setVisible(False)
        self._dirty = True
        self._redraw()

    def add_loss(self, step: int, loss: float) -> None:
        if self.loss_values and step > self.loss_steps[-1]:
            loss = LOSS_SMOOTHING * self.loss_values[-1] + (1 - LOSS_SMOOTHING) * loss
        elif self.loss_steps and step <= self.loss_steps[-1]:
            return  # a resumed run repeats nothing, but never draw backwards
        self.loss_steps.append(step)
        self.loss_values.append(loss)
        self._dirty = True

    def add_psnr(self, step: int, value: float) -> None:
        if self.start_psnr is None:
            self.set_start_psnr(value)
        self.psnr_steps.append(step)
        self.psnr_values.append(value)
        self._dirty = True

    def set_start_psnr(self, value: float) -> None:
        self.start_psnr = value
        self.start_line.setValue(value)
        self.start_line.label.setFormat(f"start {value:.2f} dB")
        self.start_line.setVisible(True)

    def _redraw(self) -> None:
        if not self._dirty:
            return
        self._dirty = False
        self.loss_curve.setData(self.loss_steps, self.loss_values)
        self.psnr_curve.setData(self.psnr_steps, self.psnr_values)
