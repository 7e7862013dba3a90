"""The list of the user's fine-tuned models: use, rename (edit in place), delete, back to bundled.

Damaged files show as one warning line each and cannot be picked; the rest of the list works.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QGridLayout, QLabel, QListWidget, QListWidgetItem, QMessageBox, QPushButton, QStyle, QVBoxLayout, QWidget,
)

from ...core.errors import VfiError
from ...model.library import LibraryModel, ModelLibrary

NAME_ROLE = Qt.ItemDataRole.UserRole


class ModelLibraryView(QWidget):
    use_requested = Signal(str)  # weights path; the bundled file means "back to bundled"
    changed = Signal()  # saved, renamed or deleted

    def __init__(self, library: ModelLibrary, bundled_weights: Path, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.library = library
        self.bundled = Path(bundled_weights)
        self.active: Optional[Path] = None
        self.models: list[LibraryModel] = []
        self.problems: list[str] = []
        # Asked before deleting; replaceable so tests and scripts need no dialog.
        self.confirm: Callable[[str], bool] = self._ask

        self.list = QListWidget()
        self.list.setToolTip("Your fine-tuned models. Double-click a name to rename it.")
        self.list.setEditTriggers(QListWidget.EditTrigger.DoubleClicked | QListWidget.EditTrigger.EditKeyPressed)
        self.use_button = QPushButton("Use")
        self.use_button.setToolTip("Make the selected model the active one for the unet method.")
        self.rename_button = QPushButton("Rename")
        self.delete_button = QPushButton("Delete")
        self.bundled_button = QPushButton("Use bundled")
        self.bundled_button.setToolTip("Go back to the weights that came with the application.")
        self.status = QLabel()
        self.status.setWordWrap(True)

        buttons = QGridLayout()  # two by two: four in a row would make the dock wide
        for i, b in enumerate((self.use_button, self.bundled_button, self.rename_button, self.delete_button)):
            buttons.addWidget(b, i // 2, i % 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list)
        layout.addLayout(buttons)
        layout.addWidget(self.status)

        self.use_button.clicked.connect(lambda: self._with_selected(self.use_model))
        self.rename_button.clicked.connect(self._edit_selected)
        self.delete_button.clicked.connect(lambda: self._with_selected(self._delete_asked))
        self.bundled_button.clicked.connect(self.use_bundled)
        self.list.itemChanged.connect(self._on_item_edited)
        self.list.itemSelectionChanged.connect(self._update_buttons)
        self.refresh()

    # -- actions ---------------------------------------------------------------------------------------

    def refresh(self) -> None:
        listing = self.library.list()
        self.models, self.problems = listing.models, listing.problems
        warn = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        self.list.blockSignals(True)
        self.list.clear()
        for m in self.models:
            item = QListWidgetItem(m.name)
            item.setData(NAME_ROLE, m.name)
            item.setToolTip(m.card.summary() + (f"\n{m.note}" if m.note else "") + f"\n{m.weights}")
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
            if m.note:
                item.setIcon(warn)
            if self.active is not None and m.weights == self.active:
                font = item.font()
                font.setBold(True)
                item.setFont(font)
            self.list.addItem(item)
        for line in self.problems:
            item = QListWidgetItem(warn, line)
            item.setFlags(Qt.ItemFlag.ItemIsEnabled)  # shown, not selectable
            item.setToolTip("This file is skipped. Delete or replace it in the models folder.")
            self.list.addItem(item)
        self.list.blockSignals(False)
        if self.problems:
            self.status.setText(f"{len(self.problems)} damaged file(s) in {self.library.folder} skipped.")
        self._update_buttons()

    def use_model(self, name: str) -> Path:
        model = self.library.get(name)
        self.active = model.weights
        self.refresh()
        self.status.setText(f"Using '{model.name}'.")
        self.use_requested.emit(str(model.weights))
        return model.weights

    def use_bundled(self) -> None:
        self.active = None
        self.refresh()
        self.status.setText("Using the bundled weights.")
        self.use_requested.emit(str(self.bundled))

    def rename_model(self, old: str, new: str) -> None:
        before = self.library.get(old).weights
        model = self.library.rename(old, new)
        if self.active == before and model.weights != before:
            self.active = model.weights
            self.use_requested.emit(str(model.weights))  # the active file moved
        self.refresh()
        self.status.setText(f"Renamed to '{model.name}'.")
        self.changed.emit()

    def delete_model(self, name: str) -> None:
        model = self.library.get(name)
        self.library.delete(name)
        self.status.setText(f"Deleted '{model.name}'.")
        if self.active == model.weights:
            self.use_bundled()
        self.refresh()
        self.changed.emit()

    # -- UI glue --------------------------------------------------------------------------------------

    def selected_name(self) -> Optional[str]:
        item = self.list.currentItem()
        return item.data(NAME_ROLE) if item is not None and item.isSelected() else None

    def _with_selected(self, action: Callable[[str], object]) -> None:
        name = self.selected_name()
        if name is None:
            return
        try:
            action(name)
        except VfiError as exc:
            self.status.setText(str(exc))
            self.refresh()

    def _edit_selected(self) -> None:
        item = self.list.currentItem()
        if item is not None and item.data(NAME_ROLE):
            self.list.editItem(item)

    def _on_item_edited(self, item: QListWidgetItem) -> None:
        old, new = item.data(NAME_ROLE), item.text()
        if old and new != old:
            # Not now: renaming rebuilds the list, which must not happen inside the item's own signal.
            QTimer.singleShot(0, lambda: self._apply_edit(old, new))

    def _apply_edit(self, old: str, new: str) -> None:
        try:
            self.rename_model(old, new)
        except VfiError as exc:
            self.refresh()  # puts the old name back
            self.status.setText(str(exc))

    def _delete_asked(self, name: str) -> None:
        if self.confirm(f"Delete the model '{name}'? Its weights file is removed."):
            self.delete_model(name)

    def _ask(self, question: str) -> bool:
        answer = QMessageBox.question(self, "Delete model", question)
        return answer == QMessageBox.StandardButton.Yes

    def _update_buttons(self) -> None:
        has = self.selected_name() is not None
        for b in (self.use_button, self.rename_button, self.delete_button):
            b.setEnabled(has)
