"""The export dialog's queue: clips and files to export one after another with the dialog's
settings, each with its state (waiting, exporting, done, failed and why, cancelled)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ..core.video_io import DEFAULT_IMAGE_FPS, VIDEO_EXTENSIONS

WAITING, RUNNING, DONE, FAILED, CANCELLED = "waiting", "exporting", "done", "failed", "cancelled"


@dataclass
class QueueEntry:
    path: Path
    image_fps: float
    frame_range: Optional[tuple[int, int]] = None  # None: the whole clip
    state: str = WAITING
    detail: str = ""  # progress, the output, or why it failed

    def text(self) -> str:
        rng = f" [{self.frame_range[0]}–{self.frame_range[1] - 1}]" if self.frame_range else ""
        detail = f": {self.detail}" if self.detail else ""
        return f"{self.path.name or self.path}{rng} · {self.state}{detail}"


class ExportQueue(QGroupBox):
    """The list, its buttons and the output folder. The dialog decides what runs (`run_requested`)
    and fills in the open clip (`add_clip_requested`)."""

    changed = Signal()
    run_requested = Signal()
    add_clip_requested = Signal()

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__("Queue: several clips, one after another", parent)
        self.setObjectName("exportQueueGroup")
        self._running = False
        self.image_fps = DEFAULT_IMAGE_FPS  # for image folders added here (the window's setting)
        self.list = QListWidget(self)
        self.list.setObjectName("exportQueueList")
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)  # reorder by dragging
        self.list.setMinimumHeight(70)
        self.list.setMaximumHeight(120)
        self.list.itemSelectionChanged.connect(self._update_buttons)
        self.list.model().rowsMoved.connect(lambda *_: self.changed.emit())
        self.add_clip_button = self._button("Add open clip", "exportQueueAddClipButton", self.add_clip_requested.emit,
                                            "The clip open in the window, with its in/out range")
        self.add_files_button = self._button("Add files…", "exportQueueAddFilesButton", self._add_files_dialog, "Video files")
        self.add_folder_button = self._button("Add image folder…", "exportQueueAddFolderButton", self._add_folder_dialog,
                                              "A folder of stop-motion photos")
        self.remove_button = self._button("Remove", "exportQueueRemoveButton", self.remove_selected, "Remove the selected entries")
        self.folder_edit = QLineEdit(self)
        self.folder_edit.setObjectName("exportQueueFolderEdit")
        self.folder_edit.setPlaceholderText("folder for the outputs")
        self.folder_edit.textChanged.connect(lambda _: self.changed.emit())
        self.folder_button = self._button("Browse…", "exportQueueFolderButton", self._browse_folder, "Choose the output folder")
        self.run_button = self._button("Run queue", "exportQueueRunButton", self.run_requested.emit,
                                       "Export every entry not done yet, with the settings above")
        self.check_label = QLabel("", self)
        self.check_label.setObjectName("exportQueueCheckLabel")
        self.check_label.setWordWrap(True)
        self.check_label.setStyleSheet("color: #c0392b")

        buttons = QHBoxLayout()
        for b in (self.add_clip_button, self.add_files_button, self.add_folder_button, self.remove_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        folder_row = QHBoxLayout()
        folder_row.addWidget(QLabel("Into"))
        folder_row.addWidget(self.folder_edit, 1)
        folder_row.addWidget(self.folder_button)
        run_row = QHBoxLayout()
        run_row.addWidget(self.check_label, 1)
        run_row.addWidget(self.run_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.list)
        layout.addLayout(buttons)
        layout.addLayout(folder_row)
        layout.addLayout(run_row)
        self._update_buttons()

    def _button(self, text: str, name: str, slot, tip: str) -> QPushButton:
        b = QPushButton(text, self)
        b.setObjectName(name)
        b.setToolTip(tip)
        b.clicked.connect(slot)
        return b

    # -- contents ------------------------------------------------------------------------------------

    def add(self, entry: QueueEntry) -> None:
        item = QListWidgetItem(entry.text())
        item.setData(Qt.ItemDataRole.UserRole, entry)
        item.setToolTip(str(entry.path))
        self.list.addItem(item)
        self._update_buttons()
        self.changed.emit()

    def add_paths(self, paths: list[Path], image_fps: float) -> None:
        for p in paths:
            self.add(QueueEntry(Path(p), image_fps))

    def entries(self) -> list[QueueEntry]:
        return [self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())]

    def pending(self) -> list[int]:
        """Rows to run: every entry not done yet."""
        return [i for i, e in enumerate(self.entries()) if e.state != DONE]

    def remove_selected(self) -> None:
        if self._running:
            return
        for item in self.list.selectedItems():
            self.list.takeItem(self.list.row(item))
        self._update_buttons()
        self.changed.emit()

    def set_state(self, row: int, state: str, detail: str = "") -> None:
        item = self.list.item(row)
        entry: QueueEntry = item.data(Qt.ItemDataRole.UserRole)
        entry.state, entry.detail = state, detail
        item.setData(Qt.ItemDataRole.UserRole, entry)
        item.setText(entry.text())

    def folder(self) -> Optional[Path]:
        text = self.folder_edit.text().strip()
        return Path(text).expanduser() if text else None

    def set_running(self, running: bool) -> None:
        self._running = running
        self.list.setDragDropMode(
            QAbstractItemView.DragDropMode.NoDragDrop if running else QAbstractItemView.DragDropMode.InternalMove
        )
        for w in (self.add_clip_button, self.add_files_button, self.add_folder_button, self.folder_edit, self.folder_button):
            w.setEnabled(not running)
        self._update_buttons()

    def set_check(self, reason: str) -> None:
        """Why the queue cannot run now ('' if it can): shown beside Run, which it disables."""
        self.check_label.setText(reason)
        self.run_button.setEnabled(not self._running and not reason)

    def _update_buttons(self) -> None:
        self.remove_button.setEnabled(not self._running and bool(self.list.selectedItems()))

    # -- file dialogs --------------------------------------------------------------------------------

    def _start_folder(self) -> str:
        return str(self.folder() or Path.home())

    def _add_files_dialog(self) -> None:
        pattern = " ".join(f"*{e}" for e in VIDEO_EXTENSIONS)
        paths, _ = QFileDialog.getOpenFileNames(self, "Add to the queue", self._start_folder(), f"Videos ({pattern});;All files (*)")
        self.add_paths([Path(p) for p in paths], self.image_fps)

    def _add_folder_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add an image folder to the queue", self._start_folder())
        if folder:
            self.add_paths([Path(folder)], self.image_fps)

    def _browse_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export the queue into", self._start_folder())
        if folder:
            self.folder_edit.setText(folder)
