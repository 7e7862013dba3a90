"""A combo box of interpolation methods: the built-in ones and any fine-tuned weights added later."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QWidget

from ..api import METHODS
from ..core.choice import AUTO, MethodChoice

METHOD_LABELS = {
    AUTO: "Auto (best on this clip)",
    "unet": "U-Net (neural)",
    "flow": "Optical flow (classical)",
    "dis": "Optical flow, plain (DIS)",
    "blend": "Cross-fade (blend)",
    "unet-direct": "U-Net direct (no flow input)",
}
METHOD_TIPS = {
    AUTO: "Rebuilds about 12 frames of the clip (or of the export range) with every method, your "
    "fine-tuned models included, and uses the one that scores best",
    "unet": "The bundled network: refines classical optical flow (slower on CPU)",
    "flow": "DIS optical flow both ways; two estimates of the in-between motion, averaged",
    "dis": "The plainest strong classical method: DIS flow, straight-line motion, a blend (the baseline)",
    "blend": "A plain cross-fade of the two frames: the baseline to beat",
    "unet-direct": "A network that predicts the frame without the classical flow as input",
}


AUTO_CHOICE = MethodChoice(METHOD_LABELS[AUTO], AUTO)


def builtin_choices() -> list[MethodChoice]:
    """Auto first, then every method of the engine."""
    return [AUTO_CHOICE] + [MethodChoice(METHOD_LABELS.get(m, m), m) for m in METHODS]


def fine_tuned_choice(name: str, path: str | Path) -> MethodChoice:
    # any weights file loads with method "unet" (api.load_interpolator reads its architecture)
    return MethodChoice(f"{name} (fine-tuned)", "unet", str(path))


class MethodCombo(QComboBox):
    """Items carry a MethodChoice; `add_choice` takes extra entries (fine-tuned weights)."""

    def __init__(self, choices: Optional[list[MethodChoice]] = None, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        for choice in choices if choices is not None else builtin_choices():
            self.add_choice(choice)

    def choices(self) -> list[MethodChoice]:
        return [self.itemData(i) for i in range(self.count())]

    def current_choice(self) -> MethodChoice:
        return self.currentData()

    def add_choice(self, choice: MethodChoice) -> int:
        """Add (or find) an entry; returns its row."""
        for i, existing in enumerate(self.choices()):
            if existing == choice:
                return i
        self.addItem(choice.label, choice)
        row = self.count() - 1
        tip = METHOD_TIPS.get(choice.method) if choice.weights is None else f"Weights: {choice.weights}"
        self.setItemData(row, tip, Qt.ItemDataRole.ToolTipRole)
        return row

    def remove_choice(self, choice: MethodChoice) -> None:
        for i, existing in enumerate(self.choices()):
            if existing == choice:
                self.removeItem(i)
                return

    def select(self, choice: MethodChoice) -> bool:
        for i, existing in enumerate(self.choices()):
            if existing == choice:
                self.setCurrentIndex(i)
                return True
        return False

    def select_key(self, key: str) -> bool:
        """Select by `choice_key` (what settings store)."""
        for i, existing in enumerate(self.choices()):
            if choice_key(existing) == key:
                self.setCurrentIndex(i)
                return True
        return False


def choice_key(choice: MethodChoice) -> str:
    return choice.method if choice.weights is None else f"{choice.method}|{choice.weights}"
