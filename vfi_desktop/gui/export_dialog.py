"""The export dialog: what to write and where; runs the core export (or a queue of them) in a worker
with progress and Cancel. Start is guarded by the core's preflight checks, the reason beside it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Callable, Optional

from PySide6.QtCore import Qt, QTimer, QUrl, Signal
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

from ..core.batch import BatchProgress, BatchResult, ExportJob, JobOutcome, batch_outputs
from ..core.errors import VfiError
from ..core.export import ExportResult, ExportSettings
from ..core.formats import CODECS, DEFAULT_CODEC, QUALITY_RANGE, codecs_for_container, encoder_for, jpeg_quality
from ..core.preflight import MAX_SLOWMO, Preflight, check_export
from ..core.progress import Progress, format_eta
from ..core.video_io import VideoInfo
from ..core.writers import GifWriter
from .export_queue import CANCELLED, DONE, FAILED, RUNNING, WAITING, ExportQueue, QueueEntry
from .method_combo import MethodCombo
from .settings import AppSettings
from .tasks import ExportJobSpec, MethodChoice, QueueSpec, export_summary
from .workers import Job

# format key -> (menu label, extension; a folder of frames has none)
FORMATS = {
    "mp4": ("MP4 video", ".mp4"),
    "mkv": ("Matroska video (MKV)", ".mkv"),
    "mov": ("QuickTime video (MOV)", ".mov"),
    "webm": ("WebM video", ".webm"),
    "gif": ("Animated GIF", ".gif"),
    "png": ("PNG frames (folder)", ""),
    "jpg": ("JPEG frames (folder)", ""),
}
FRAME_FORMATS = ("png", "jpg")
_KNOWN_SUFFIXES = (".mp4", ".m4v", ".mkv", ".mov", ".webm", ".gif", ".png", ".jpg")
SLOWMO_AUDIO = (("Drop the audio", "drop"), ("Stretch the audio (pitch kept)", "stretch"))


def output_for_format(path: Path, fmt: str) -> Path:
    """`path` with the suffix of the format (a folder of frames has no suffix)."""
    stem = path.with_suffix("") if path.suffix.lower() in _KNOWN_SUFFIXES else path
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
    job (an ExportJobSpec, or a QueueSpec for the queue; given by the main window); the dialog
    follows it through the job's signals."""

    export_finished = Signal(object)  # ExportResult
    export_failed = Signal(str)
    export_cancelled = Signal()
    queue_finished = Signal(object)  # BatchResult

    CHECK_DELAY_MS = 150  # the checks touch the disk: run them once the user pauses

    def __init__(
        self, start_export: Callable[[ExportJobSpec | QueueSpec], Job], settings: AppSettings, parent: Optional[QWidget] = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("exportDialog")
        self.setWindowTitle("Export")
        self._start_export = start_export
        self.settings = settings
        self.job: Optional[Job] = None
        self.result: Optional[ExportResult] = None
        self.queue_result: Optional[BatchResult] = None
        self.source_path: Optional[Path] = None
        self.info: Optional[VideoInfo] = None
        self.image_fps = 12.0
        self.check_reason = ""
        self._queue_rows: list[int] = []  # the list rows of the running queue's jobs
        self._running = False
        self._running_queue = False
        self._check_timer = QTimer(self)
        self._check_timer.setSingleShot(True)
        self._check_timer.timeout.connect(self.refresh_checks)
        self._build()
        self._load_settings()

    # -- layout --------------------------------------------------------------------------------------

    def _build(self) -> None:
        self.factor_radio = QRadioButton("Multiply the frame rate by", self)
        self.factor_radio.setObjectName("exportFactorRadio")
        self.factor_spin = self._double_spin("exportFactorSpin", (1.0, 16.0), 2, " x", 0.5)
        self.fps_radio = QRadioButton("Target frame rate", self)
        self.fps_radio.setObjectName("exportFpsRadio")
        self.fps_spin = self._double_spin("exportFpsSpin", (1.0, 1000.0), 3, " fps", 1.0)
        self.slowmo_radio = QRadioButton("Slow motion", self)
        self.slowmo_radio.setObjectName("exportSlowmoRadio")
        self.slowmo_radio.setToolTip("N times as many frames at the clip's own frame rate: the result lasts N times as long")
        self.slowmo_spin = self._double_spin("exportSlowmoSpin", (1.1, MAX_SLOWMO), 2, " x slower", 0.5)
        self.slowmo_audio_combo = QComboBox(self)
        self.slowmo_audio_combo.setObjectName("exportSlowmoAudioCombo")
        for label, key in SLOWMO_AUDIO:
            self.slowmo_audio_combo.addItem(label, key)
        self.slowmo_audio_combo.setToolTip("Slowed audio keeps its pitch (FFmpeg's atempo); it lasts as long as the video")
        group = QButtonGroup(self)
        for radio in (self.factor_radio, self.fps_radio, self.slowmo_radio):
            group.addButton(radio)
            radio.toggled.connect(self._update_enabled)
        self.result_fps_label = QLabel(self)
        self.result_fps_label.setObjectName("exportResultLabel")

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
        self.audio_check = QCheckBox("Keep the audio (video files)", self)
        self.audio_check.setObjectName("exportAudioCheck")

        self.format_combo = QComboBox(self)
        self.format_combo.setObjectName("exportFormatCombo")
        for key, (label, _suffix) in FORMATS.items():
            self.format_combo.addItem(label, key)
        self.format_combo.currentIndexChanged.connect(self._on_format)
        self.codec_combo = QComboBox(self)
        self.codec_combo.setObjectName("exportCodecCombo")
        self.codec_combo.currentIndexChanged.connect(self._update_enabled)
        self.quality_spin = QSpinBox(self)
        self.quality_spin.setObjectName("exportQualitySpin")
        self.quality_spin.setRange(*QUALITY_RANGE)
        self.path_edit = QLineEdit(self)
        self.path_edit.setObjectName("exportPathEdit")
        self.browse_button = QPushButton("Browse…", self)
        self.browse_button.setObjectName("exportBrowseButton")
        self.browse_button.clicked.connect(self._browse)

        self.queue = ExportQueue(self)
        self.queue.add_clip_requested.connect(self.add_open_clip_to_queue)
        self.queue.run_requested.connect(self.run_queue)
        self.queue.changed.connect(self.schedule_checks)

        self.progress = QProgressBar(self)
        self.progress.setObjectName("exportProgress")
        self.status_label = QLabel("", self)
        self.status_label.setObjectName("exportStatusLabel")
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.check_label = QLabel("", self)
        self.check_label.setObjectName("exportCheckLabel")
        self.check_label.setWordWrap(True)
        self.check_label.setMinimumWidth(280)  # room for the one-line reason beside Export
        self.check_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.check_label.setStyleSheet("color: #c0392b")
        self.start_button = QPushButton("Export", self)
        self.start_button.setObjectName("exportStartButton")
        self.start_button.setDefault(True)
        self.start_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setObjectName("exportCancelButton")
        self.cancel_button.setToolTip("Stop the export (in a queue: this one and the rest)")
        self.cancel_button.clicked.connect(self.cancel)
        self.show_folder_button = QPushButton("Show in folder", self)
        self.show_folder_button.setObjectName("exportShowFolderButton")
        self.show_folder_button.clicked.connect(self.show_in_folder)
        self.close_button = QPushButton("Close", self)
        self.close_button.setObjectName("exportCloseButton")
        self.close_button.clicked.connect(self.close)

        for w in (self.factor_spin, self.fps_spin, self.slowmo_spin):
            w.valueChanged.connect(self._update_enabled)
        for w in (self.start_spin, self.end_spin, self.quality_spin):
            w.valueChanged.connect(self.schedule_checks)
        for w in (self.scene_check, self.dedupe_check, self.audio_check):
            w.toggled.connect(self._update_enabled)
        self.slowmo_audio_combo.currentIndexChanged.connect(self.schedule_checks)
        self.path_edit.textChanged.connect(self.schedule_checks)

        rate = QGroupBox("Frame rate", self)
        rate_form = QFormLayout(rate)
        rate_form.addRow(self.factor_radio, self.factor_spin)
        rate_form.addRow(self.fps_radio, self.fps_spin)
        slowmo_row = QHBoxLayout()
        slowmo_row.addWidget(self.slowmo_spin)
        slowmo_row.addWidget(self.slowmo_audio_combo, 1)
        rate_form.addRow(self.slowmo_radio, slowmo_row)
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
        format_row = QHBoxLayout()
        format_row.addWidget(self.format_combo, 1)
        format_row.addWidget(QLabel("codec"))
        format_row.addWidget(self.codec_combo, 1)
        out_form.addRow("Format", format_row)
        out_form.addRow("Quality", self.quality_spin)
        out_form.addRow(self.audio_check)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(self.browse_button)
        out_form.addRow("Save as", path_row)
        buttons = QHBoxLayout()
        buttons.addWidget(self.show_folder_button)
        buttons.addWidget(self.check_label, 1)
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        for w in (rate, frames, out):
            layout.addWidget(w)
        layout.addLayout(buttons)
        layout.addWidget(self.queue)
        layout.addWidget(self.progress)
        layout.addWidget(self.status_label)
        self._set_running(False)
        self.show_folder_button.setEnabled(False)

    def _double_spin(self, name: str, span: tuple[float, float], decimals: int, suffix: str, step: float) -> QDoubleSpinBox:
        spin = QDoubleSpinBox(self)
        spin.setObjectName(name)
        spin.setRange(*span)
        spin.setDecimals(decimals)
        spin.setSingleStep(step)
        spin.setSuffix(suffix)
        return spin

    # -- settings ------------------------------------------------------------------------------------

    def _load_settings(self) -> None:
        s = self.settings
        mode = s.get("export/mode", "fps" if s.get("export/useFps", False) else "factor")
        {"fps": self.fps_radio, "slowmo": self.slowmo_radio}.get(mode, self.factor_radio).setChecked(True)
        self.factor_spin.setValue(s.get("export/factor", 2.0))
        self.fps_spin.setValue(s.get("export/fps", 60.0))
        self.slowmo_spin.setValue(s.get("export/slowmo", 4.0))
        self.slowmo_audio_combo.setCurrentIndex(max(0, self.slowmo_audio_combo.findData(s.get("export/slowmoAudio", "drop"))))
        self.scene_check.setChecked(s.get("export/sceneCuts", True))
        self.dedupe_check.setChecked(s.get("export/dedupe", False))
        self.audio_check.setChecked(s.get("export/audio", True))
        self.quality_spin.setValue(s.get("export/quality", 18))
        self.format_combo.setCurrentIndex(max(0, self.format_combo.findData(s.get("export/format", "mp4"))))
        self._fill_codecs(s.get("export/codec", ""))
        self.queue.folder_edit.setText(s.get("export/queueFolder", ""))
        self._update_enabled()

    def _save_settings(self) -> None:
        s = self.settings
        s.set("export/mode", self.mode())
        s.set("export/factor", self.factor_spin.value())
        s.set("export/fps", self.fps_spin.value())
        s.set("export/slowmo", self.slowmo_spin.value())
        s.set("export/slowmoAudio", self.slowmo_audio_combo.currentData())
        s.set("export/sceneCuts", self.scene_check.isChecked())
        s.set("export/dedupe", self.dedupe_check.isChecked())
        s.set("export/audio", self.audio_check.isChecked())
        s.set("export/quality", self.quality_spin.value())
        s.set("export/format", self.format_combo.currentData())
        s.set("export/codec", self.codec_combo.currentData() or "")
        if self.path_edit.text():
            s.set("export/folder", str(Path(self.path_edit.text()).parent))
        s.set("export/queueFolder", self.queue.folder_edit.text())

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
        self.queue.image_fps = image_fps
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
            self.path_edit.setText(str(unused_path(output_for_format(folder / f"{source_path.stem}{self._name_tag()}", fmt))))
        if not self.queue.folder_edit.text():
            self.queue.folder_edit.setText(str(default_folder))
        self._update_enabled()
        self.refresh_checks()

    def _whole_clip(self) -> None:
        self.start_spin.setValue(0)
        self.end_spin.setValue(self.end_spin.maximum())

    def _name_tag(self) -> str:
        return "_slowmo" if self.slowmo_radio.isChecked() else "_smooth"

    def _retag_path(self) -> None:
        """A suggested name follows the mode: clip_smooth.mp4 <-> clip_slowmo.mp4."""
        path = Path(self.path_edit.text())
        tag = self._name_tag()
        for old in ("_smooth", "_slowmo"):
            if old != tag and path.stem.endswith(old):
                self.path_edit.setText(str(path.with_name(path.stem[: -len(old)] + tag + path.suffix)))

    def _on_format(self) -> None:
        if self.path_edit.text():
            self.path_edit.setText(str(output_for_format(Path(self.path_edit.text()), self.format_combo.currentData())))
        self._fill_codecs(self.codec_combo.currentData() or self.settings.get("export/codec", ""))
        self._update_enabled()

    def _fill_codecs(self, wanted: str) -> None:
        """The codecs the chosen container holds; those the bundled FFmpeg lacks are listed, disabled."""
        fmt = self.format_combo.currentData()
        suffix = FORMATS[fmt][1]
        self.codec_combo.blockSignals(True)
        self.codec_combo.clear()
        for codec in codecs_for_container(suffix) if suffix in (".mp4", ".mkv", ".mov", ".webm") else []:
            have = encoder_for(codec) is not None
            self.codec_combo.addItem(codec.label + ("" if have else " (not in this FFmpeg)"), codec.key)
            item = self.codec_combo.model().item(self.codec_combo.count() - 1)
            item.setEnabled(have)
            item.setToolTip(codec.note)
        if self.codec_combo.count() == 0:
            self.codec_combo.addItem({"gif": "GIF palette", "png": "PNG (lossless)", "jpg": "JPEG"}[fmt], None)
        i = self.codec_combo.findData(wanted) if wanted else -1
        if i < 0 or not self.codec_combo.model().item(i).isEnabled():
            i = max(0, self.codec_combo.findData(DEFAULT_CODEC.get(suffix, "h264")))
        self.codec_combo.setCurrentIndex(i)
        self.codec_combo.blockSignals(False)

    def _update_enabled(self) -> None:
        if self.running:
            return
        mode = self.mode()
        self._retag_path()
        self.factor_spin.setEnabled(mode == "factor")
        self.fps_spin.setEnabled(mode == "fps")
        self.slowmo_spin.setEnabled(mode == "slowmo")
        fmt = self.format_combo.currentData()
        video = fmt not in FRAME_FORMATS and fmt != "gif"
        self.slowmo_audio_combo.setEnabled(mode == "slowmo" and video and self.audio_check.isChecked())
        self.codec_combo.setEnabled(video)
        codec = CODECS.get(self.codec_combo.currentData() or "")
        uses_quality = (codec is not None and codec.has_quality) or fmt == "jpg"
        self.quality_spin.setEnabled(uses_quality)
        self.quality_spin.setToolTip(self._quality_tip(codec, fmt))
        self._show_result(None)  # at once; the checks add the frame count when they have run
        self.schedule_checks()

    def _quality_tip(self, codec, fmt: str) -> str:
        q = self.quality_spin.value()
        if fmt == "jpg":
            return f"0 best .. 51 smallest (JPEG quality {jpeg_quality(q)} at {q})"
        if codec is None:
            return "Not used by this format"
        if not codec.has_quality:
            return f"Not used by {codec.label}: {codec.note}"
        return (f"0 best .. 51 smallest, on the H.264 CRF scale (18 looks lossless); "
                f"{codec.label} CRF {codec.quality_value(q)} at {q}")

    def mode(self) -> str:
        return "slowmo" if self.slowmo_radio.isChecked() else "fps" if self.fps_radio.isChecked() else "factor"

    def _result_fps(self) -> float:
        mode = self.mode()
        if mode == "factor":
            return self.info.fps * self.factor_spin.value()
        return self.fps_spin.value() if mode == "fps" else self.info.fps

    def _browse(self) -> None:
        fmt = self.format_combo.currentData()
        suffix = FORMATS[fmt][1]
        flt = f"{FORMATS[fmt][0]} (*{suffix})" if suffix else "Folder for the frames (*)"
        path, _ = QFileDialog.getSaveFileName(self, "Export to", self.path_edit.text(), flt)
        if path:
            self.path_edit.setText(str(output_for_format(Path(path), fmt)))

    # -- checks before work --------------------------------------------------------------------------

    def schedule_checks(self) -> None:
        self._check_timer.start(self.CHECK_DELAY_MS)

    def output_path(self) -> Optional[Path]:
        text = self.path_edit.text().strip()
        return output_for_format(Path(text).expanduser(), self.format_combo.currentData()) if text else None

    def refresh_checks(self) -> str:
        """Run the core's checks for the current settings; Start is enabled only if they pass, and the
        reason shows beside it. Returns the reason ('' when all is well)."""
        self._check_timer.stop()
        reason, pre = self._single_reason()
        self.check_reason = reason
        self.check_label.setText(reason)
        self.start_button.setEnabled(not self.running and self.source_path is not None and not reason)
        self._show_result(pre)
        self.queue.set_check(self._queue_reason())
        return reason

    def _single_reason(self) -> tuple[str, Optional[Preflight]]:
        if self.info is None:
            return "Open a clip first.", None
        output = self.output_path()
        if output is None:
            return "Choose where to save the export.", None
        if self.end_spin.value() <= self.start_spin.value():
            return "The range needs at least two frames: 'to' must be after 'from'.", None
        try:
            return "", check_export(output, self.export_settings(), self.info)
        except VfiError as exc:
            return str(exc), None

    def _show_result(self, pre: Optional[Preflight]) -> None:
        if self.info is None:
            return
        fps = self._result_fps()
        text = f"{self.info.fps:.3f} fps → {fps:.3f} fps"
        if self.mode() == "slowmo":
            text += f", {self.slowmo_spin.value():g}x slower"
        if self.format_combo.currentData() == "gif" and fps > GifWriter.MAX_FPS:
            text += f" (a GIF plays at most {GifWriter.MAX_FPS:g} fps)"
        if pre is not None and pre.frames:
            text += f" · {pre.frames} frames, {pre.duration_s:.2f} s"
        self.result_fps_label.setText(text)

    def _queue_reason(self) -> str:
        rows = self.queue.pending()
        if not rows:
            return "Add clips or files to the queue." if not self.queue.entries() else "Everything in the queue is done."
        if self.queue.folder() is None:
            return "Choose the folder for the outputs."
        try:
            for job in self._queue_jobs(rows):
                check_export(job.output, self._queue_settings(job))
        except VfiError as exc:
            return str(exc)
        return ""

    # -- running -------------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """From Export until the outcome arrives (the job's thread may linger a moment after)."""
        return self._running

    def export_settings(self) -> ExportSettings:
        mode = self.mode()
        start, end = self.start_spin.value(), self.end_spin.value()
        whole = start == 0 and end == self.end_spin.maximum()
        fmt = self.format_combo.currentData()
        return ExportSettings(
            factor=self.factor_spin.value() if mode == "factor" else None,
            fps=self.fps_spin.value() if mode == "fps" else None,
            slowmo=self.slowmo_spin.value() if mode == "slowmo" else None,
            slowmo_audio=self.slowmo_audio_combo.currentData(),
            frame_range=None if whole else (start, end + 1),
            scene_cuts=self.scene_check.isChecked(),
            dedupe_held=self.dedupe_check.isChecked(),
            quality=self.quality_spin.value(),
            keep_audio=self.audio_check.isChecked(),
            codec=self.codec_combo.currentData() if fmt not in FRAME_FORMATS and fmt != "gif" else None,
            frames=fmt if fmt in FRAME_FORMATS else None,
        )

    def start(self) -> None:
        if self.running or self.source_path is None:
            return
        if self.refresh_checks():
            return
        output = self.output_path()
        if output.is_file():
            answer = QMessageBox.question(self, "Replace file?", f"{output.name} exists. Replace it?")
            if answer != QMessageBox.StandardButton.Yes:
                return
        self._save_settings()
        self.result = None
        self.show_folder_button.setEnabled(False)
        self.progress.setRange(0, 0)  # busy until the first report (scene analysis runs first)
        self.status_label.setText("Analysing scenes…" if self.scene_check.isChecked() else "Starting…")
        spec = ExportJobSpec(self.source_path, self.image_fps, output, self.method_combo.current_choice(), self.export_settings(),
                             self._auto_candidates())
        self._run(spec, queue=False)

    def _auto_candidates(self) -> list[MethodChoice]:
        """What Auto races: every other method of the menu, fine-tuned models included."""
        return [c for c in self.method_combo.choices() if not c.is_auto]

    # -- the queue -----------------------------------------------------------------------------------

    def add_open_clip_to_queue(self) -> None:
        if self.source_path is None:
            return
        settings = self.export_settings()
        self.queue.add(QueueEntry(self.source_path, self.image_fps, settings.frame_range))

    def add_to_queue(self, paths: list[Path]) -> None:
        """Files or image folders, whole (what *Add files…* and *Add image folder…* do)."""
        self.queue.add_paths([Path(p) for p in paths], self.image_fps)

    def _queue_jobs(self, rows: list[int]) -> list[ExportJob]:
        entries = self.queue.entries()
        picked = [entries[r] for r in rows]
        fmt = self.format_combo.currentData()
        outputs = batch_outputs([e.path for e in picked], self.queue.folder(), "frames" if fmt in FRAME_FORMATS else fmt,
                                tag=self._name_tag())
        return [ExportJob(e.path, out, e.image_fps, e.frame_range) for e, out in zip(picked, outputs)]

    def _queue_settings(self, job: ExportJob) -> ExportSettings:
        return replace(self.export_settings(), frame_range=job.frame_range)

    def run_queue(self) -> None:
        if self.running:
            return
        reason = self._queue_reason()
        self.queue.set_check(reason)
        if reason:
            return
        self._save_settings()
        self._queue_rows = self.queue.pending()
        jobs = self._queue_jobs(self._queue_rows)
        for row in self._queue_rows:
            self.queue.set_state(row, WAITING)
        self.queue_result = None
        self.progress.setRange(0, 0)
        self.status_label.setText(f"Queue: {len(jobs)} to export…")
        settings = self.export_settings()
        settings.frame_range = None  # each job carries its own range
        self._run(QueueSpec(jobs, self.method_combo.current_choice(), settings, self._auto_candidates()), queue=True)

    def _run(self, spec, queue: bool) -> None:
        self._running_queue = queue
        self.job = self._start_export(spec)
        self.job.progress.connect(self._on_queue_report if queue else self._on_progress)
        self.job.succeeded.connect(self._on_queue_done if queue else self._on_done)
        self.job.failed.connect(self._on_failed)
        self.job.cancelled.connect(self._on_cancelled)
        self._set_running(True)

    def _on_queue_report(self, item) -> None:
        if isinstance(item, BatchProgress):
            row = self._queue_rows[item.index]
            name = self.queue.entries()[row].path.name
            if item.progress is None:
                self.queue.set_state(row, RUNNING)
                self.progress.setRange(0, 0)
                self.status_label.setText(f"{item.index + 1}/{item.count} {name}: starting…")
                return
            p = item.progress
            self.queue.set_state(row, RUNNING, f"{p.done}/{p.total}")
            self.progress.setRange(0, max(1, p.total))
            self.progress.setValue(p.done)
            self.status_label.setText(
                f"{item.index + 1}/{item.count} {name}: {p.done} / {p.total} frames · {p.rate:.1f} frames/s · ETA {format_eta(p.eta_s)}"
            )
        elif isinstance(item, JobOutcome):
            row = self._queue_rows[item.index]
            if item.result is not None:
                self.queue.set_state(row, DONE, f"{item.result.path.name}, {item.result.frames} frames")
            elif item.cancelled:
                self.queue.set_state(row, CANCELLED)
            else:
                self.queue.set_state(row, FAILED, item.error or "")

    def _on_queue_done(self, result: BatchResult) -> None:
        self._set_running(False)
        self.queue_result = result
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        failed = "; ".join(o.reason() for o in result.failed)
        self.status_label.setText(
            f"Queue: {len(result.done)} done, {len(result.failed)} failed" + (f" ({failed})" if failed else "") + "."
        )
        if result.done:
            self.result = result.done[-1].result
            self.show_folder_button.setEnabled(True)
        self.queue_finished.emit(result)

    def cancel(self) -> None:
        if self.running:
            self.status_label.setText("Cancelling…")
            self.job.cancel()

    def _set_running(self, running: bool) -> None:
        self._running = running
        self.cancel_button.setEnabled(running)
        for w in (self.factor_spin, self.fps_spin, self.slowmo_spin, self.factor_radio, self.fps_radio, self.slowmo_radio,
                  self.slowmo_audio_combo, self.start_spin, self.end_spin, self.whole_button, self.method_combo,
                  self.scene_check, self.dedupe_check, self.audio_check, self.format_combo, self.codec_combo,
                  self.quality_spin, self.path_edit, self.browse_button):
            w.setEnabled(not running)
        self.queue.set_running(running)
        if running:
            self.start_button.setEnabled(False)
            self.queue.run_button.setEnabled(False)
        else:
            self._update_enabled()
            self.audio_check.setEnabled(self.info is not None and self.info.has_audio)
            self.refresh_checks()

    def _on_progress(self, p: Progress) -> None:
        self.progress.setRange(0, max(1, p.total))
        self.progress.setValue(p.done)
        if p.message.startswith("Auto"):  # the Auto method choosing, before the export proper
            self.status_label.setText(f"{p.message} ({p.done} / {p.total})")
        else:
            self.status_label.setText(f"{p.done} / {p.total} frames · {p.rate:.1f} frames/s · ETA {format_eta(p.eta_s)}")

    def _on_done(self, result: ExportResult) -> None:
        self._set_running(False)
        self.result = result
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self.status_label.setText(export_summary(result).replace("wrote ", "Done: wrote ", 1))
        self.show_folder_button.setEnabled(True)
        self.export_finished.emit(result)

    def _on_failed(self, message: str) -> None:
        self._set_running(False)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.status_label.setText(f"{'Queue' if self._running_queue else 'Export'} failed: {message}")
        self.export_failed.emit(message)

    def _on_cancelled(self) -> None:
        self._set_running(False)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        if self._running_queue:
            done = sum(e.state == DONE for e in self.queue.entries())
            self.status_label.setText(f"Queue cancelled: the export running was removed, the rest skipped ({done} done in the list).")
        else:
            self.status_label.setText("Cancelled; nothing was written.")
        self.export_cancelled.emit()

    def show_in_folder(self) -> None:
        if self.result is None:
            return
        path = Path(self.result.path)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(path if path.is_dir() else path.parent)))

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        self.refresh_checks()  # the disk may have changed while the dialog was hidden
