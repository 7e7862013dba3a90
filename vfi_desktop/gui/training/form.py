"""The fine-tuning settings form: preset, starting weights, length, learning rate, crop, batch, split."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Optional

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QFormLayout, QSpinBox, QWidget

from ...core.finetune import DEFAULT_PRESET, PRESETS, TrainSettings, preset_label

CUSTOM = "Custom"
CUSTOM_KEY = "custom"  # the combo's data for edited settings (the presets' are their names)
BUNDLED_LABEL = "Bundled weights"


class TrainingForm(QWidget):
    holdout_changed = Signal(float)

    def __init__(self, bundled_weights: Path, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self._bundled = Path(bundled_weights)
        self._applying = False
        self._base = PRESETS[DEFAULT_PRESET]  # holds the settings the form does not show

        self.preset = QComboBox()
        for name in PRESETS:
            self.preset.addItem(preset_label(name), name)
        self.preset.addItem(CUSTOM, CUSTOM_KEY)
        self.preset.setToolTip(
            "Quick: a visible gain in a few minutes on a laptop CPU.\n"
            "Thorough: a longer, gentler run (an hour or more).\n"
            "From a terminal: vfi-desktop train --preset quick|thorough"
        )
        self.init = QComboBox()
        # a long model name must not widen the dock: the box is as wide as "Bundled weights" needs
        self.init.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.init.setMinimumContentsLength(10)
        self.init.setToolTip("Start from the bundled weights, or continue improving a model you fine-tuned before.")
        self.steps = QSpinBox(minimum=10, maximum=200000, singleStep=100)
        self.steps.setToolTip("Training steps (one batch each). The learning rate warms up, then decays over these steps.")
        self.minutes = QDoubleSpinBox(minimum=0.0, maximum=24 * 60, decimals=1, singleStep=1.0, suffix=" min")
        self.minutes.setSpecialValueText("no limit")
        self.minutes.setToolTip("Stop after this long even if the steps are not done (the best weights so far are kept).")
        self.lr = QDoubleSpinBox(minimum=0.000001, maximum=0.01, decimals=6, singleStep=0.00005)
        self.lr.setToolTip("Learning rate. Lower is safer for fine-tuning; raise it if the held-out PSNR barely moves.")
        self.crop = QSpinBox(minimum=64, maximum=512, singleStep=64, suffix=" px")
        self.crop.setToolTip(
            "Side of the square training patches (a multiple of 64). Larger sees larger motion but is slower.\n"
            "Patches are cut at the clip's own scale: a clip smaller than this trains on smaller patches."
        )
        self.batch = QSpinBox(minimum=1, maximum=64)
        self.batch.setToolTip("Patches per step. Larger is steadier but each step takes longer.")
        self.holdout = QDoubleSpinBox(minimum=0.05, maximum=0.5, decimals=2, singleStep=0.05)
        self.holdout.setToolTip("The last part of each clip, kept aside for checking: never trained on.")
        self.val_every = QSpinBox(minimum=1, maximum=100000, singleStep=50)
        self.val_every.setToolTip("Measure held-out PSNR every this many steps (each check takes a few seconds).")

        form = QFormLayout(self)
        form.addRow("Preset", self.preset)
        form.addRow("Start from", self.init)
        form.addRow("Steps", self.steps)
        form.addRow("Time limit", self.minutes)
        form.addRow("Learning rate", self.lr)
        form.addRow("Crop size", self.crop)
        form.addRow("Batch size", self.batch)
        form.addRow("Held out", self.holdout)
        form.addRow("Check every", self.val_every)

        self.set_models([])
        self.set_settings(PRESETS[DEFAULT_PRESET])
        self.preset.currentIndexChanged.connect(self._on_preset)
        for box in (self.steps, self.minutes, self.lr, self.crop, self.batch, self.holdout, self.val_every):
            box.valueChanged.connect(self._on_edited)
        self.holdout.valueChanged.connect(self.holdout_changed)

    # -- settings ------------------------------------------------------------------------------------

    def settings(self) -> TrainSettings:
        crop = max(64, round(self.crop.value() / 64) * 64)
        return replace(
            self._base,
            steps=self.steps.value(), minutes=self.minutes.value(), lr=self.lr.value(), crop=crop,
            batch=self.batch.value(), holdout=self.holdout.value(), val_every=self.val_every.value(),
        )

    def set_settings(self, s: TrainSettings) -> None:
        self._applying = True
        try:
            self._base = s
            self.steps.setValue(s.steps)
            self.minutes.setValue(s.minutes)
            self.lr.setValue(s.lr)
            self.crop.setValue(s.crop)
            self.batch.setValue(s.batch)
            self.holdout.setValue(s.holdout)
            self.val_every.setValue(s.val_every)
            name = next((n for n, p in PRESETS.items() if p == s), CUSTOM_KEY)
            self.preset.setCurrentIndex(self.preset.findData(name))
        finally:
            self._applying = False
        self.holdout_changed.emit(s.holdout)

    def select_preset(self, name: str) -> None:
        self.preset.setCurrentIndex(self.preset.findData(name))

    def _on_preset(self) -> None:
        name = self.preset.currentData()
        if not self._applying and name in PRESETS:
            self.set_settings(PRESETS[name])

    def _on_edited(self) -> None:
        if not self._applying:
            self._applying = True
            self.preset.setCurrentIndex(self.preset.findData(CUSTOM_KEY))
            self._applying = False

    # -- starting weights ----------------------------------------------------------------------------

    def set_models(self, models: list[tuple[str, Path]]) -> None:
        """The fine-tuned models one can start from, as (name, weights path)."""
        current = self.init.currentData()
        self.init.clear()
        self.init.addItem(BUNDLED_LABEL, str(self._bundled))
        for name, path in models:
            self.init.addItem(name, str(path))
        idx = self.init.findData(current) if current else 0
        self.init.setCurrentIndex(max(0, idx))

    def init_weights(self) -> tuple[str, Path]:
        """(label, path) of the weights a run starts from."""
        return self.init.currentText(), Path(self.init.currentData())
