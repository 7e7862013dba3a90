"""The export dialog: what to write and where; runs the core export in a worker with progress and Cancel."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ..core.export import ExportResult, ExportSettings
from ..core.progress import Progress, format_eta
from ..core.video_io import VideoInfo
from ..core.writers import GifWriter
from .method_combo import MethodCombo
from .settings import AppSettings
from .tasks import ExportJobSpec, MethodChoice
from .workers import Job

FORMATS = {"mp4": ("MP4 video (H.264)", ".mp4"), "png": ("PNG sequence (folder)", ""), "gif": ("Animated GIF", ".gif")}


def output_for_format(path: Path, fmt: str) -> Path:
    """`path` with the suffix of the format (a PNG sequence is a folder: no suffix)."""
    stem = path.with_suffix("") if path.suffix.lower() in (".mp4", ".gif", ".png", ".mov", ".mkv") else path
    return stem.with_name(stem.name + FORMATS[fmt][1])


def unused_path(path: Path) -> Path:
    """`path`, or `name_2`, `name_3`… if it already exists."""
    if not path.exists():
        return path
    for k in range(2, 10_000):
        candidate = path.with_name(f"{path.stem}_{k}{path.suffix}")
        if not candidate.exists():
            return candidate
    return path


class ExportDialog(QDialog):
    """Non-modal: the main window stays usable while an export runs. `start_export(spec)` runs the
    job (given by the main window); the dialog follows it through the job's signals."""

    export_finished = Signal(object)  # ExportResult
    export_failed = Signal(str)
    export_cancelled = Signal()

    def __init__(self, start_export: Callable[[ExportJobSpec], Job], settings: AppSettings, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setObjectName("exportDialog")
        self.setWindowTitle("Export")
        self._start_export = start_export
        self.settings = settings
        self.job: Optional[Job] = None
        self.result: Optional[ExportResult] = None
        self.source_path: Optional[Path] = None
        self.info: Optional[VideoInfo] = None
        self.image_fps = 12.0
        self._build()
        self._load_settings()

    # -- layout --------------------------------------------------------------------------------------

    def _build(self) -> None:
        self.factor_radio = QRadioButton("Multiply the frame rate by", self)
        self.factor_radio.setObjectName("exportFactorRadio")
        self.factor_spin = QDoubleSpinBox(self)
        self.factor_spin.setObjectName("exportFactorSpin")
        self.factor_spin.setRange(1.0, 16.0)
        self.factor_spin.setDecimals(2)
        self.factor_spin.setSingleStep(0.5)
        self.factor_spin.setSuffix(" x")
        self.fps_radio = QRadioButton("Target frame rate", self)
        self.fps_radio.setObjectName("exportFpsRadio")
        self.fps_spin = QDoubleSpinBox(self)
        self.fps_spin.setObjectName("exportFpsSpin")
        self.fps_spin.setRange(1.0, 1000.0)
        self.fps_spin.setDecimals(3)
        self.fps_spin.setSuffix(" fps")
        group = QButtonGroup(self)
        group.addButton(self.factor_radio)
        group.addButton(self.fps_radio)
        self.factor_radio.toggled.connect(self._update_enabled)
        self.result_fps_label = QLabel(self)
        self.factor_spin.valueChanged.connect(self._update_enabled)
        self.fps_spin.valueChanged.connect(self._update_enabled)

        self.start_spin = QSpinBox(self)
        self.start_spin.setObjectName("exportStartSpin")
        self.end_spin = QSpinBox(self)
        self.end_spin.setObjectName("exportEndSpin")
        self.whole_button = QPushButton("Whole clip", self)
        self.whole_button.setObjectName("exportWholeClipButton")
        self.whole_button.clicked.connect(self._whole_clip)

        self.method_combo = MethodCombo(parent=self)
        self.method_combo.setObjectName("exportMethodCombo")
        self.scene_check = QCheckBox("Keep scene cuts sharp (repeat a frame instead of morphing two shots)", self)
        self.scene_check.setObjectName("exportSceneCutsCheck")
        self.dedupe_check = QCheckBox("Remove held frames first (stop motion shot on twos)", self)
        self.dedupe_check.setObjectName("exportDedupeCheck")
        self.audio_check = QCheckBox("Keep the audio (MP4 only)", self)
        self.audio_check.setObjectName("exportAudioCheck")

        self.format_combo = QComboBox(self)
        self.format_combo.setObjectName("exportFormatCombo")
        for key, (label, _suffix) in FORMATS.items():
            self.format_combo.addItem(label, key)
        self.format_combo.currentIndexChanged.connect(self._on_format)
        self.quality_spin = QSpinBox(self)
        self.quality_spin.setObjectName("exportQualitySpin")
        self.quality_spin.setRange(0, 51)
        self.quality_spin.setToolTip("H.264 CRF: 0 is lossless, 18 looks lossless, 28 is small; lower is better")
        self.path_edit = QLineEdit(self)
        self.path_edit.setObjectName("exportPathEdit")
        self.browse_button = QPushButton("Browse…", self)
        self.browse_button.setObjectName("exportBrowseButton")
        self.browse_button.clicked.connect(self._browse)

        self.progress = QProgressBar(self)
        self.progress.setObjectName("exportProgress")
        self.status_label = QLabel("", self)
        self.status_label.setObjectName("exportStatusLabel")
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.start_button = QPushButton("Export", self)
        self.start_button.setObjectName("exportStartButton")
        self.start_button.setDefault(True)
        self.start_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setObjectName("exportCancelButton")
        self.cancel_button.clicked.connect(self.cancel)
        self.show_folder_button = QPushButton("Show in folder", self)
        self.show_folder_button.setObjectName("exportShowFolderButton")
        self.show_folder_button.clicked.connect(self.show_in_folder)
        self.close_button = QPushButton("Close", self)
        self.close_button.setObjectName("exportCloseButton")
        self.close_button.clicked.connect(self.close)

        rate = QGroupBox("Frame rate", self)
        rate_form = QFormLayout(rate)
        rate_form.addRow(self.factor_radio, self.factor_spin)
        rate_form.addRow(self.fps_radio, self.fps_spin)
        rate_form.addRow("Result", self.result_fps_label)
        frames = QGroupBox("Frames", self)
        frames_form = QFormLayout(frames)
        range_row = QHBoxLayout()
        range_row.addWidget(QLabel("from"))
        range_row.addWidget(self.start_spin)
        range_row.addWidget(QLabel("to"))
        range_row.addWidget(self.end_spin)
        range_row.addWidget(self.whole_button)
        range_row.addStretch(1)
        frames_form.addRow("Range", range_row)
        frames_form.addRow("Method", self.method_combo)
        frames_form.addRow(self.scene_check)
        frames_form.addRow(self.dedupe_check)
        out = QGroupBox("Output", self)
        out_form = QFormLayout(out)
        out_form.addRow("Format", self.format_combo)
        out_form.addRow("Quality (CRF)", self.quality_spin)
        out_form.addRow(self.audio_check)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(self.browse_button)
        out_form.addRow("Save as", path_row)
        buttons = QHBoxLayout()
        buttons.addWidget(self.show_folder_button)
        buttons.addStretch(1)
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        for w in (rate, frames, out, self.progress, self.status_label):
            layout.addWidget(w)
        layout.addLayout(buttons)
        self._set_running(False)
        self.show_folder_button.setEnabled(False)

    # -- settings ------------------------------------------------------------------------------------

    def _load_settings(self) -> None:
        s = self.settings
        (self.fps_radio if s.get("export/useFps", False) else self.factor_radio).setChecked(True)
        self.factor_spin.setValue(s.get("export/factor", 2.0))
        self.fps_spin.setValue(s.get("export/fps", 60.0))
        self.scene_check.setChecked(s.get("export/sceneCuts", True))
        self.dedupe_check.setChecked(s.get("export/dedupe", False))
        self.audio_check.setChecked(s.get("export/audio", True))
        self.quality_spin.setValue(s.get("export/quality", 18))
        i = self.format_combo.findData(s.get("export/format", "mp4"))
        self.format_combo.setCurrentIndex(max(0, i))
        self._update_enabled()

    def _save_settings(self) -> None:
        s = self.settings
        s.set("export/useFps", self.fps_radio.isChecked())
        s.set("export/factor", self.factor_spin.value())
        s.set("export/fps", self.fps_spin.value())
        s.set("export/sceneCuts", self.scene_check.isChecked())
        s.set("export/dedupe", self.dedupe_check.isChecked())
        s.set("export/audio", self.audio_check.isChecked())
        s.set("export/quality", self.quality_spin.value())
        s.set("export/format", self.format_combo.currentData())
        s.set("export/folder", str(Path(self.path_edit.text()).parent))

    # -- set up for a clip ---------------------------------------------------------------------------

    def prepare(
        self,
        source_path: Path,
        info: VideoInfo,
        image_fps: float,
        frame_range: Optional[tuple[int, int]],
        methods: list[MethodChoice],
        method: MethodChoice,
        default_folder: Path,
    ) -> None:
        """Fill in the clip, the range (from the in/out marks) and the method before showing."""
        if self.running:
            return  # the running export keeps its settings on screen
        new_clip = source_path != self.source_path
        self.source_path, self.info, self.image_fps = source_path, info, image_fps
        last = info.frame_count - 1
        for spin in (self.start_spin, self.end_spin):
            spin.setRange(0, last)
        start, stop = frame_range or (0, info.frame_count)
        self.start_spin.setValue(start)
        self.end_spin.setValue(stop - 1)
        self.method_combo.clear()
        for c in methods:
            self.method_combo.add_choice(c)
        self.method_combo.select(method)
        self.audio_check.setEnabled(info.has_audio)
        if new_clip or not self.path_edit.text():
            folder = Path(self.settings.get("export/folder", str(default_folder)))
            folder = folder if folder.is_dir() else default_folder
            fmt = self.format_combo.currentData()
            self.path_edit.setText(str(unused_path(output_for_format(folder / f"{source_path.stem}_smooth", fmt))))
        self._update_enabled()

    def _whole_clip(self) -> None:
        self.start_spin.setValue(0)
        self.end_spin.setValue(self.end_spin.maximum())

    def _on_format(self) -> None:
        if self.path_edit.text():
            self.path_edit.setText(str(output_for_format(Path(self.path_edit.text()), self.format_combo.currentData())))
        self._update_enabled()

    def _update_enabled(self) -> None:
        by_factor = self.factor_radio.isChecked()
        self.factor_spin.setEnabled(by_factor)
        self.fps_spin.setEnabled(not by_factor)
        fmt = self.format_combo.currentData()
        self.quality_spin.setEnabled(fmt == "mp4")
        if self.info is not None:
            fps = self._result_fps()
            too_fast = fmt == "gif" and fps > GifWriter.MAX_FPS
            self.result_fps_label.setText(
                f"{self.info.fps:.3f} fps → {fps:.3f} fps" + (f" (a GIF plays at most {GifWriter.MAX_FPS:g} fps)" if too_fast else "")
            )

    def _result_fps(self) -> float:
        return self.info.fps * self.factor_spin.value() if self.factor_radio.isChecked() else self.fps_spin.value()

    def _browse(self) -> None:
        fmt = self.format_combo.currentData()
        filters = {"mp4": "MP4 video (*.mp4)", "gif": "GIF (*.gif)", "png": "Folder for the PNG frames (*)"}
        path, _ = QFileDialog.getSaveFileName(self, "Export to", self.path_edit.text(), filters[fmt])
        if path:
            self.path_edit.setText(str(output_for_format(Path(path), fmt)))

    # -- running -------------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """From Export until the outcome arrives (the job's thread may linger a moment after)."""
        return self._running

    def export_settings(self) -> ExportSettings:
        by_factor = self.factor_radio.isChecked()
        start, end = self.start_spin.value(), self.end_spin.value()
        whole = start == 0 and end == self.end_spin.maximum()
        return ExportSettings(
            factor=self.factor_spin.value() if by_factor else None,
            fps=None if by_factor else self.fps_spin.value(),
            frame_range=None if whole else (start, end + 1),
            scene_cuts=self.scene_check.isChecked(),
            dedupe_held=self.dedupe_check.isChecked(),
            quality=self.quality_spin.value(),
            keep_audio=self.audio_check.isChecked(),
        )

    def start(self) -> None:
        if self.running or self.source_path is None:
            return
        text = self.path_edit.text().strip()
        if not text:
            self.status_label.setText("Choose where to save the export.")
            return
        output = output_for_format(Path(text).expanduser(), self.format_combo.currentData())
        if self.format_combo.currentData() == "gif" and self._result_fps() > GifWriter.MAX_FPS:
            self.status_label.setText(f"A GIF plays at most {GifWriter.MAX_FPS:g} fps: lower the rate, or export MP4.")
            return
        if self.end_spin.value() <= self.start_spin.value():
            self.status_label.setText("The range needs at least two frames: 'to' must be after 'from'.")
            return
        if output.is_file():
            answer = QMessageBox.question(self, "Replace file?", f"{output.name} exists. Replace it?")
            if answer != QMessageBox.StandardButton.Yes:
                return
        self._save_settings()
        self.result = None
        self.show_folder_button.setEnabled(False)
        self.progress.setRange(0, 0)  # busy until the first report (scene analysis runs first)
        self.status_label.setText("Analysing scenes…" if self.scene_check.isChecked() else "Starting…")
        spec = ExportJobSpec(self.source_path, self.image_fps, output, self.method_combo.current_choice(), self.export_settings())
        self.job = self._start_export(spec)
        self.job.progress.connect(self._on_progress)
        self.job.succeeded.connect(self._on_done)
        self.job.failed.connect(self._on_failed)
        self.job.cancelled.connect(self._on_cancelled)
        self._set_running(True)

    def cancel(self) -> None:
        if self.running:
            self.status_label.setText("Cancelling…")
            self.job.cancel()

    def _set_running(self, running: bool) -> None:
        self._running = running
        self.start_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        for w in (self.factor_spin, self.fps_spin, self.factor_radio, self.fps_radio, self.start_spin, self.end_spin,
                  self.whole_button, self.method_combo, self.scene_check, self.dedupe_check, self.audio_check,
                  self.format_combo, self.quality_spin, self.path_edit, self.browse_button):
            w.setEnabled(not running)
        if not running:
            self._update_enabled()
            self.audio_check.setEnabled(self.info is not None and self.info.has_audio)

    def _on_progress(self, p: Progress) -> None:
        self.progress.setRange(0, max(1, p.total))
        self.progress.setValue(p.done)
        self.status_label.setText(f"{p.done} / {p.total} frames · {p.rate:.1f} frames/s · ETA {format_eta(p.eta_s)}")

    def _on_done(self, result: ExportResult) -> None:
        self._set_running(False)
        self.result = result
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self.status_label.setText(result.summary().replace("wrote ", "Done: wrote ", 1))
        self.show_folder_button.setEnabled(True)
        self.export_finished.emit(result)

    def _on_failed(self, message: str) -> None:
        self._set_running(False)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.status_label.setText(f"Export failed: {message}")
        self.export_failed.emit(message)

    def _on_cancelled(self) -> None:
        self._set_running(False)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.status_label.setText("Cancelled; nothing was written.")
        self.export_cancelled.emit()

    def show_in_folder(self) -> None:
        if self.result is None:
            return
        path = Path(self.result.path)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(path if path.is_dir() else path.parent)))
