"""The timeline: thumbnail strip, quality strip, scrubber, frame number and timecode, play/pause,
in/out marks."""

from __future__ import annotations

from typing import Optional, Sequence

from PySide6.QtCore import QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QSlider, QSpinBox, QToolButton, QVBoxLayout, QWidget
from superqt.utils import signals_blocked

from .icons import icon
from .quality_strip import QualityLegend, QualityStrip


def format_timecode(seconds: float) -> str:
    """12.5 -> '00:00:12.500'."""
    ms = int(round(seconds * 1000))
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    return f"{h:02d}:{m:02d}:{rem / 1000:06.3f}"


class ThumbnailStrip(QWidget):
    """Small pictures of the clip along its length, the in/out range and the playhead; click to seek."""

    frame_clicked = Signal(int)

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setObjectName("thumbnailStrip")
        self.setFixedHeight(48)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("Click or drag to seek")
        self.frame_count = 0
        self.current = 0
        self.marks: tuple[Optional[int], Optional[int]] = (None, None)
        self.thumbnails: dict[int, QImage] = {}

    def reset(self, frame_count: int) -> None:
        self.frame_count = frame_count
        self.current = 0
        self.marks = (None, None)
        self.thumbnails = {}
        self.update()

    def add_thumbnail(self, index: int, image: QImage) -> None:
        self.thumbnails[index] = image
        self.update()

    def _x_of(self, frame: float) -> float:
        return (frame + 0.5) * self.width() / max(1, self.frame_count)

    def _frame_at(self, x: float) -> int:
        return int(min(max(x * self.frame_count / max(1, self.width()), 0), self.frame_count - 1))

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt override
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#22262d"))
        if self.frame_count:
            self._paint_thumbnails(p)
            a, b = self.marks
            if a is not None or b is not None:
                x0 = self._x_of(a if a is not None else 0) - self.width() / (2 * self.frame_count)
                x1 = self._x_of(b if b is not None else self.frame_count - 1) + self.width() / (2 * self.frame_count)
                p.fillRect(QRectF(0, 0, x0, self.height()), QColor(0, 0, 0, 150))
                p.fillRect(QRectF(x1, 0, self.width() - x1, self.height()), QColor(0, 0, 0, 150))
                p.setPen(QPen(QColor("#f2c14e"), 2))
                p.drawRect(QRectF(x0, 1, x1 - x0, self.height() - 2))
            x = self._x_of(self.current)
            p.setPen(QPen(QColor("#4da3ff"), 2))
            p.drawLine(int(x), 0, int(x), self.height())
        p.end()

    def _paint_thumbnails(self, p: QPainter) -> None:
        if not self.thumbnails:
            return
        first = next(iter(self.thumbnails.values()))
        h = self.height()
        w = max(8, round(first.width() * h / max(1, first.height())))
        keys = sorted(self.thumbnails)
        for left in range(0, self.width(), w):
            wanted = self._frame_at(left + w / 2)
            nearest = min(keys, key=lambda k: abs(k - wanted))  # fills in while thumbnails arrive
            p.drawImage(QRectF(left, 0, w, h), self.thumbnails[nearest])

    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt override
        if self.frame_count:
            self.frame_clicked.emit(self._frame_at(event.position().x()))

    def mouseMoveEvent(self, event) -> None:  # noqa: N802 - Qt override
        if self.frame_count and event.buttons() & Qt.MouseButton.LeftButton:
            self.frame_clicked.emit(self._frame_at(event.position().x()))


class Timeline(QWidget):
    """Owns the current frame index, playback and the in/out marks of a clip."""

    frame_changed = Signal(int)
    marks_changed = Signal()
    playing_changed = Signal(bool)
    quality_toggled = Signal(bool)  # the quality strip shown (and computed) or not
    quality_stop_clicked = Signal()  # Stop / Continue beside the strip

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setObjectName("timeline")
        self.frame_count = 0
        self.fps = 0.0
        self.timestamps: Sequence[float] = ()
        self.in_point: Optional[int] = None
        self.out_point: Optional[int] = None
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._advance)

        self.strip = ThumbnailStrip(self)
        self.strip.frame_clicked.connect(self.set_current)
        self.quality = QualityStrip(self)
        self.quality.frame_clicked.connect(self.set_current)
        self.quality_legend = QualityLegend(self)
        self.quality_status = QLabel("", self)
        self.quality_status.setObjectName("qualityStatusLabel")
        self.quality_stop_button = QToolButton(self)
        self.quality_stop_button.setObjectName("qualityStopButton")
        self.quality_stop_button.setText("Stop")
        self.quality_stop_button.setToolTip("Stop checking (what is done is kept), or continue")
        self.quality_stop_button.clicked.connect(self.quality_stop_clicked)
        self.quality_toggle = QToolButton(self)
        self.quality_toggle.setObjectName("qualityStripToggle")
        self.quality_toggle.setText("Quality")
        self.quality_toggle.setCheckable(True)
        self.quality_toggle.setToolTip(
            "Show the quality strip: every frame rebuilt from its neighbours with the Interpolate "
            "method and scored, computed in the background; off costs nothing (Q)"
        )
        self.quality_toggle.toggled.connect(self._on_quality_toggled)

        self.play_button = self._tool_button("playButton", "play", "Play / pause at the clip's frame rate (Space)")
        self.play_button.setCheckable(True)
        self.play_button.toggled.connect(self.set_playing)
        self.mark_in_button = self._tool_button("markInButton", "mark-in", "Set the export start here (I)")
        self.mark_in_button.clicked.connect(self.mark_in)
        self.mark_out_button = self._tool_button("markOutButton", "mark-out", "Set the export end here (O)")
        self.mark_out_button.clicked.connect(self.mark_out)

        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setObjectName("frameSlider")
        self.slider.setToolTip("Scrub through the clip (Left/Right: one frame, Shift: ten, Home/End)")
        self.slider.valueChanged.connect(self.set_current)
        self.spin = QSpinBox(self)
        self.spin.setObjectName("frameIndex")
        self.spin.setToolTip("Frame number (the first frame is 0)")
        self.spin.setKeyboardTracking(False)
        self.spin.valueChanged.connect(self.set_current)
        self.count_label = QLabel("/ 0", self)
        self.timecode_label = QLabel(format_timecode(0), self)
        self.timecode_label.setObjectName("timecodeLabel")
        self.timecode_label.setToolTip("Time of this frame from the start of the clip")
        self.range_label = QLabel("", self)
        self.range_label.setObjectName("rangeLabel")

        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        for w in (self.play_button, self.mark_in_button, self.mark_out_button):
            row.addWidget(w)
        row.addWidget(self.slider, 1)
        row.addWidget(self.spin)
        row.addWidget(self.count_label)
        row.addSpacing(8)
        row.addWidget(self.timecode_label)
        row.addSpacing(8)
        row.addWidget(self.range_label)
        row.addSpacing(8)
        row.addWidget(self.quality_toggle)
        self.quality_row = QWidget(self)
        quality_row = QHBoxLayout(self.quality_row)
        quality_row.setContentsMargins(0, 0, 0, 0)
        for label in (self.quality_legend, self.quality_status):  # clipped rather than widening the window
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.quality_status.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        # the legend takes what it needs (no more), the status the rest
        self.quality_legend.setMaximumWidth(self.quality_legend.sizeHint().width())
        quality_row.addWidget(self.quality_legend, 11)
        quality_row.addWidget(self.quality_status, 9)
        quality_row.addWidget(self.quality_stop_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(4)
        layout.addWidget(self.strip)
        layout.addWidget(self.quality)
        layout.addWidget(self.quality_row)
        layout.addLayout(row)
        self._on_quality_toggled(False)
        self.set_clip(0, 0.0, ())

    def _tool_button(self, name: str, icon_name: str, tip: str) -> QToolButton:
        b = QToolButton(self)
        b.setObjectName(name)
        b.setIcon(icon(icon_name))
        b.setToolTip(tip)
        b.setAutoRaise(True)
        return b

    # -- clip and position ---------------------------------------------------------------------------

    def set_clip(self, frame_count: int, fps: float, timestamps: Sequence[float]) -> None:
        self.set_playing(False)
        self.frame_count, self.fps, self.timestamps = frame_count, fps, timestamps
        self.in_point = self.out_point = None
        last = max(0, frame_count - 1)
        with signals_blocked(self.slider), signals_blocked(self.spin):
            self.slider.setRange(0, last)
            self.spin.setRange(0, last)
            self.slider.setValue(0)
            self.spin.setValue(0)
            self.slider.setPageStep(max(1, frame_count // 10))
        self.count_label.setText(f"/ {last}")
        self.strip.reset(frame_count)
        self.quality.reset(frame_count)
        self.quality_status.setText("")
        self.setEnabled(frame_count > 0)
        self._show_position(0)
        self._show_marks()

    @property
    def current(self) -> int:
        return self.slider.value()

    def set_current(self, index: int) -> None:
        if not self.frame_count:
            return
        index = min(max(int(index), 0), self.frame_count - 1)
        changed = index != self.current or index != self.spin.value()
        with signals_blocked(self.slider), signals_blocked(self.spin):
            self.slider.setValue(index)
            self.spin.setValue(index)
        self._show_position(index)
        if changed:
            self.frame_changed.emit(index)

    def step(self, delta: int) -> None:
        self.set_current(self.current + delta)

    def go_first(self) -> None:
        self.set_current(0)

    def go_last(self) -> None:
        self.set_current(self.frame_count - 1)

    def _show_position(self, index: int) -> None:
        t = self.timestamps[index] if index < len(self.timestamps) else 0.0
        self.timecode_label.setText(format_timecode(t))
        self.strip.current = self.quality.current = index
        self.strip.update()
        self.quality.update()

    def add_thumbnail(self, index: int, image: QImage) -> None:
        self.strip.add_thumbnail(index, image)

    # -- quality strip -------------------------------------------------------------------------------

    @property
    def quality_shown(self) -> bool:
        return self.quality_toggle.isChecked()

    def set_quality_shown(self, shown: bool) -> None:
        self.quality_toggle.setChecked(shown)  # comes back through _on_quality_toggled

    def _on_quality_toggled(self, shown: bool) -> None:
        self.quality.setVisible(shown)
        self.quality_row.setVisible(shown)
        self.quality_toggled.emit(shown)

    # -- playback ------------------------------------------------------------------------------------

    @property
    def playing(self) -> bool:
        return self._timer.isActive()

    def toggle_play(self) -> None:
        self.set_playing(not self.playing)

    def set_playing(self, playing: bool) -> None:
        playing = bool(playing and self.frame_count > 1 and self.fps > 0)
        if playing == self.playing:
            self._sync_play_button(playing)
            return
        if playing:
            self._timer.start(max(1, round(1000.0 / self.fps)))
        else:
            self._timer.stop()
        self._sync_play_button(playing)
        self.playing_changed.emit(playing)

    def _sync_play_button(self, playing: bool) -> None:
        with signals_blocked(self.play_button):
            self.play_button.setChecked(playing)
        self.play_button.setIcon(icon("pause" if playing else "play"))

    def _advance(self) -> None:
        """Next frame; loops within the in/out marks (or the whole clip)."""
        first = self.in_point if self.in_point is not None else 0
        last = self.out_point if self.out_point is not None else self.frame_count - 1
        nxt = self.current + 1
        self.set_current(first if nxt > last or nxt < first else nxt)

    # -- marks ---------------------------------------------------------------------------------------

    def mark_in(self) -> None:
        self.in_point = self.current
        if self.out_point is not None and self.out_point <= self.in_point:
            self.out_point = None
        self._show_marks()

    def mark_out(self) -> None:
        self.out_point = self.current
        if self.in_point is not None and self.in_point >= self.out_point:
            self.in_point = None
        self._show_marks()

    def clear_marks(self) -> None:
        self.in_point = self.out_point = None
        self._show_marks()

    def export_range(self) -> Optional[tuple[int, int]]:
        """[start, stop) from the marks (stop exclusive, as the core wants), or None for the whole clip."""
        if self.in_point is None and self.out_point is None:
            return None
        start = self.in_point or 0
        stop = (self.out_point + 1) if self.out_point is not None else self.frame_count
        return start, stop

    def _show_marks(self) -> None:
        self.strip.marks = (self.in_point, self.out_point)
        self.strip.update()
        rng = self.export_range()
        self.range_label.setText("" if rng is None else f"In {rng[0]} – Out {rng[1] - 1}")
        self.marks_changed.emit()
