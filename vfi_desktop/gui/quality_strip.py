"""The quality strip under the timeline's thumbnails: one cell per checked frame, coloured by how
well the method rebuilt it from its neighbours (PSNR, on a fixed scale), scene cuts marked."""

from __future__ import annotations

import html
from typing import Optional, Sequence

from PySide6.QtCore import QEvent, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPainter, QPen
from PySide6.QtWidgets import QLabel, QToolTip, QWidget

from ..core.selfcheck import PESSIMISTIC_NOTE
from ..core.selfcheck_cache import FrameScore

# (lower bound in dB, colour, legend text): fixed, so colours mean the same on every clip
SCALE = (
    (40.0, "#1a9850", "40+"),
    (35.0, "#66bd63", "35–40"),
    (30.0, "#d9ef8b", "30–35"),
    (25.0, "#fee08b", "25–30"),
    (20.0, "#fc8d59", "20–25"),
    (float("-inf"), "#d73027", "<20"),
)
CUT_COLOUR = "#b8bcc6"
PENDING_COLOUR = "#2c313a"


def colour_of(psnr: float) -> str:
    return next(colour for lower, colour, _ in SCALE if psnr >= lower)


def legend_html() -> str:
    """The scale as rich text for a label: swatches from worst to best, then cuts."""
    swatch = '<span style="color:{}">&#9632;</span>&nbsp;{}'
    items = [swatch.format(colour, html.escape(text)) for _, colour, text in reversed(SCALE)]
    # Short, so the whole scale fits beside the status at the default window size; the tooltip says
    # why it is pessimistic (frames rebuilt across twice a 2x export's motion).
    head = "Pessimistic guide, PSNR dB: "
    return head + " ".join(items) + " &nbsp;" + swatch.format(CUT_COLOUR, "cut")


class QualityStrip(QWidget):
    """Cells tile the clip: each checked frame owns the span up to halfway to its neighbours.
    Click a cell to go to its frame; hover for its figures."""

    frame_clicked = Signal(int)

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setObjectName("qualityStrip")
        self.setFixedHeight(16)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setMouseTracking(True)
        self.frame_count = 0
        self.current = 0
        self.label = ""
        self.frames: list[int] = []
        self.scores: dict[int, FrameScore] = {}
        self._edges: list[float] = []

    def reset(self, frame_count: int, frames: Sequence[int] = (), label: str = "") -> None:
        """A new clip or method: the frames that will be checked, none scored yet."""
        self.frame_count, self.frames, self.label = frame_count, list(frames), label
        self.scores = {}
        # cell i spans frames edges[i]..edges[i+1]: halfway to the neighbouring checked frames
        f = self.frames
        self._edges = [0.0] + [(a + b + 1) / 2 for a, b in zip(f, f[1:])] + [float(frame_count)] if f else []
        self.update()

    def add_scores(self, scores: Sequence[FrameScore]) -> None:
        for s in scores:
            self.scores[s.index] = s
        self.update()

    @property
    def filled(self) -> int:
        return sum(1 for f in self.frames if f in self.scores)

    # -- geometry ------------------------------------------------------------------------------------

    def _x(self, frame: float) -> float:
        return frame * self.width() / max(1, self.frame_count)

    def cell_at(self, x: float) -> Optional[int]:
        """The checked frame whose cell is under x (None if there is none)."""
        if not self.frames:
            return None
        frame = x * self.frame_count / max(1, self.width())
        lo, hi = 0, len(self.frames) - 1
        while lo < hi:  # the last cell whose left edge is at or before `frame`
            mid = (lo + hi + 1) // 2
            if self._edges[mid] <= frame:
                lo = mid
            else:
                hi = mid - 1
        return self.frames[lo]

    def cell_rect(self, frame: int) -> QRectF:
        i = self.frames.index(frame)
        x0, x1 = self._x(self._edges[i]), self._x(self._edges[i + 1])
        return QRectF(x0, 0, max(1.0, x1 - x0), self.height())

    def tooltip_at(self, x: float) -> str:
        frame = self.cell_at(x)
        if frame is None:
            return "Quality strip: nothing to check yet"
        s = self.scores.get(frame)
        if s is None:
            return f"Frame {frame}: not checked yet"
        if s.cut:
            return f"Frame {frame}: a scene cut lies beside it, so it is not scored (an export keeps cuts sharp)"
        text = f"Frame {frame} rebuilt from {frame - 1} and {frame + 1} (t = {s.t:.2f}) with {self.label}: PSNR {s.psnr:.2f} dB"
        if s.ssim is not None:
            text += f", SSIM {s.ssim:.4f}"
        return f"{text}\n{PESSIMISTIC_NOTE}"

    # -- painting and input --------------------------------------------------------------------------

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt override
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(PENDING_COLOUR))
        hatch = QBrush(QColor("#4a505c"), Qt.BrushStyle.BDiagPattern)
        for i, frame in enumerate(self.frames):
            s = self.scores.get(frame)
            if s is None:
                continue
            x0, x1 = self._x(self._edges[i]), self._x(self._edges[i + 1])
            rect = QRectF(x0, 0, max(1.0, x1 - x0), self.height())
            if s.cut:
                p.fillRect(rect, QColor(CUT_COLOUR))
                p.fillRect(rect, hatch)
            else:
                p.fillRect(rect, QColor(colour_of(s.psnr)))
        if self.frame_count:
            x = (self.current + 0.5) * self.width() / self.frame_count
            p.setPen(QPen(QColor("#4da3ff"), 2))
            p.drawLine(int(x), 0, int(x), self.height())
        p.end()

    def event(self, e) -> bool:  # noqa: D401 - Qt override
        if e.type() == QEvent.Type.ToolTip:
            QToolTip.showText(e.globalPos(), self.tooltip_at(e.pos().x()), self)
            return True
        return super().event(e)

    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt override
        frame = self.cell_at(event.position().x())
        if frame is not None:
            self.frame_clicked.emit(frame)


class QualityLegend(QLabel):
    """The fixed colour scale, labelled."""

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(legend_html(), parent)
        self.setObjectName("qualityLegend")
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setToolTip(
            "How well each frame is rebuilt from the frames either side of it (PSNR against the real "
            "frame; higher is better, above 35 dB differences are hard to see).\n" + PESSIMISTIC_NOTE
        )
