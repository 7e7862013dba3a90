"""The side panel: method, t or number of in-betweens, Interpolate, Check, Preview, Export."""

from __future__ import annotations

from typing import Optional

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from .method_combo import MethodCombo, builtin_choices


def action_button(action: QAction, name: str, parent: QWidget) -> QToolButton:
    """A wide button showing the action's icon and text; its tooltip carries the shortcut."""
    b = QToolButton(parent)
    b.setDefaultAction(action)
    b.setObjectName(name)
    b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    b.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
    return b


class ControlsPanel(QWidget):
    """Widgets only: the main window connects the actions and reads the values."""

    settings_changed = Signal()  # method, t, count or comparison changed

    def __init__(self, interpolate: QAction, check: QAction, preview: QAction, export: QAction, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setObjectName("controlsPanel")
        self.method_combo = MethodCombo(parent=self)
        self.method_combo.setObjectName("methodCombo")
        self.method_combo.setToolTip("How the in-between frames are made")

        self.count_spin = QSpinBox(self)
        self.count_spin.setObjectName("inbetweenCount")
        self.count_spin.setRange(1, 7)
        self.count_spin.setToolTip("How many in-betweens to make (1: at the time t below; more: evenly spaced)")

        self.t_slider = QSlider(Qt.Orientation.Horizontal, self)
        self.t_slider.setObjectName("tSlider")
        self.t_slider.setRange(1, 99)
        self.t_slider.setValue(50)
        self.t_slider.setToolTip("Where the in-between lies between frame N (0) and frame N+1 (1)")
        self.t_label = QLabel(self)
        self.t_label.setObjectName("tLabel")
        self.t_label.setMinimumWidth(48)

        self.compare_combo = MethodCombo(builtin_choices(), self)
        self.compare_combo.setObjectName("compareCombo")
        self.compare_combo.setToolTip("What the wipe view compares the in-between with")
        self.compare_combo.select_key("blend")

        self.time_label = QLabel("", self)
        self.time_label.setObjectName("interpolateTimeLabel")
        self.time_label.setWordWrap(True)
        self.check_label = QLabel("", self)
        self.check_label.setObjectName("checkMetricsLabel")
        self.check_label.setWordWrap(True)
        self.check_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        t_row = QHBoxLayout()
        t_row.addWidget(self.t_slider, 1)
        t_row.addWidget(self.t_label)
        form = QFormLayout()
        form.addRow("Method", self.method_combo)
        form.addRow("In-betweens", self.count_spin)
        form.addRow("Time t", t_row)
        form.addRow("Wipe against", self.compare_combo)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        self.interpolate_button = action_button(interpolate, "interpolateButton", self)
        layout.addWidget(self.interpolate_button)
        layout.addWidget(self.time_label)
        layout.addWidget(self._separator())
        self.check_button = action_button(check, "checkButton", self)
        layout.addWidget(self.check_button)
        layout.addWidget(self.check_label)
        layout.addWidget(self._separator())
        self.preview_button = action_button(preview, "previewButton", self)
        layout.addWidget(self.preview_button)
        self.export_button = action_button(export, "exportPanelButton", self)
        layout.addWidget(self.export_button)
        layout.addStretch(1)

        self.method_combo.currentIndexChanged.connect(self.settings_changed)
        self.compare_combo.currentIndexChanged.connect(self.settings_changed)
        self.count_spin.valueChanged.connect(self._on_count)
        self.t_slider.valueChanged.connect(self._on_t)
        self._on_t()

    def _separator(self) -> QFrame:
        line = QFrame(self)
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)
        return line

    def ts(self) -> list[float]:
        """The times to interpolate at."""
        n = self.count_spin.value()
        if n == 1:
            return [self.t_slider.value() / 100.0]
        return [k / (n + 1) for k in range(1, n + 1)]

    def _on_count(self) -> None:
        self.t_slider.setEnabled(self.count_spin.value() == 1)
        self._on_t()

    def _on_t(self) -> None:
        ts = self.ts()
        self.t_label.setText(f"{ts[0]:.2f}" if len(ts) == 1 else "even")
        self.settings_changed.emit()
