"""The training panel: fine-tune the bundled U-Net on your own clips and see, with numbers, whether it helped.

Training runs in a child process (see core/finetune.py for why); this dock adds clips, sets up a
run, draws its curves, shows before/after on a held-out frame and keeps the results in the user's
model library. The main window connects `use_model_requested(str)` (a weights path; the bundled
file means "back to bundled") and `models_changed()`, and calls `set_current_source(path)`.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from PySide6.QtCore import QCoreApplication, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QDockWidget, QFileDialog, QGridLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QListWidget, QListWidgetItem,
    QProgressBar, QPushButton, QStyle, QVBoxLayout, QWidget,
)
from superqt.utils import create_worker

from ...core.errors import VfiError
from ...core.finetune import TrainSettings, train_command
from ...core.progress import format_eta
from ...model.library import LibraryModel, ModelCard, ModelLibrary
from ... import paths
from ...paths import DATA_DIR_ENV, bundled_weights  # noqa: F401 - DATA_DIR_ENV: the tests' handle on the folder
from ..fitting_scroll_area import VerticalScrollArea
from .charts import TrainingCharts
from .data import ClipSummary, summarize_clip
from .form import TrainingForm
from .models import ModelLibraryView
from .preview import BeforeAfterView
from .process import TrainingProcess

KEEP_RUNS = 3  # older run folders (checkpoints) are removed when a new run starts
SOURCE_NAME_PX = 110  # "Add <open clip>": a longer name is shortened in the middle (whole in the tooltip)
PATH_ROLE = Qt.ItemDataRole.UserRole


def user_data_dir() -> Path:
    """`$VFI_DESKTOP_DATA_DIR`, else the platform's per-user application data folder (the same
    folder the CLI and the Auto method read the fine-tuned models from: `paths.user_data_dir`)."""
    return paths.user_data_dir()


@dataclass
class TrainingRun:
    """One run's files and what its events said (enough to save it even after a crash)."""

    folder: Path
    clips: list[str]
    init_label: str
    init_weights: Path
    settings: TrainSettings
    command: list[str] = field(default_factory=list)
    step: int = 0
    total_steps: int = 0
    elapsed_s: float = 0.0
    start_psnr: Optional[float] = None
    best_psnr: Optional[float] = None
    best_step: int = 0
    note: str = ""  # what the trainer said about its settings (e.g. a smaller crop for a small clip)
    result: Optional[dict] = None
    saved_as: Optional[str] = None

    @property
    def weights(self) -> Path:
        return self.folder / "best.safetensors"

    @property
    def checkpoint(self) -> Path:
        return self.folder / "run.ckpt"

    def card(self, name: str) -> ModelCard:
        return ModelCard(
            name=name,
            source_clips=[Path(c).name for c in self.clips],
            steps=self.best_step,
            train_seconds=round(self.elapsed_s, 1),
            psnr_before=self.start_psnr,
            psnr_after=self.best_psnr,
            init=self.init_label,
            settings={**self.settings.as_dict(), "steps_run": self.step},
        )


def button_grid(*buttons: QPushButton, columns: int = 2) -> QGridLayout:
    """Buttons in rows of two, equal widths: four in a row do not fit a dock of a sensible width."""
    grid = QGridLayout()
    for i, b in enumerate(buttons):
        grid.addWidget(b, i // columns, i % columns)
    for c in range(columns):
        grid.setColumnStretch(c, 1)
    return grid


class TrainingPanel(QDockWidget):
    use_model_requested = Signal(str)
    models_changed = Signal()
    running_changed = Signal(bool)

    def __init__(self, parent: Optional[QWidget] = None, data_dir: Optional[str | Path] = None) -> None:
        super().__init__("Fine-tune", parent)
        self.setObjectName("TrainingPanel")
        self.data_dir = Path(data_dir) if data_dir is not None else user_data_dir()
        self.models_dir = self.data_dir / "models"
        self.runs_dir = self.data_dir / "runs"
        self.library = ModelLibrary(self.models_dir)
        self.bundled = bundled_weights("unet")
        self.clips: dict[str, Optional[ClipSummary]] = {}  # path -> summary (None while analysing)
        self.clip_errors: dict[str, str] = {}
        self.current_source: Optional[str] = None
        self.run: Optional[TrainingRun] = None
        self.paused = False
        self.stopping = False
        self._workers: list = []
        self._last_step_event: Optional[dict] = None

        self.process = TrainingProcess(self)
        self.process.event.connect(self._on_event)
        self.process.finished.connect(self._on_finished)
        self._build_ui()
        self._label_timer = QTimer(self, interval=250)  # progress text at a calm rate
        self._label_timer.timeout.connect(self._update_progress_text)
        self._label_timer.start()
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        self._refresh_models()
        self._update_controls()

    # -- layout ------------------------------------------------------------------------------------------

    def _build_ui(self) -> None:
        body = QWidget()
        layout = QVBoxLayout(body)

        clips_box = QGroupBox("Clips to learn from")
        self.clip_list = QListWidget()
        self.clip_list.setToolTip("Each clip's last part is held out (never trained on) to measure the gain honestly.")
        self.add_current_button = QPushButton("Add open clip")
        self.add_current_button.setToolTip("Add the clip or image folder open in the main window.")
        self.add_files_button = QPushButton("Add clips…")
        self.add_folder_button = QPushButton("Add image folder…")
        self.remove_clip_button = QPushButton("Remove")
        self.triplets_label = QLabel("Add a clip or an image folder.")
        self.triplets_label.setWordWrap(True)
        box = QVBoxLayout(clips_box)
        box.addWidget(self.clip_list)
        box.addLayout(button_grid(self.add_current_button, self.add_files_button, self.add_folder_button, self.remove_clip_button))
        box.addWidget(self.triplets_label)

        settings_box = QGroupBox("Settings")
        self.form = TrainingForm(self.bundled)
        QVBoxLayout(settings_box).addWidget(self.form)

        run_box = QGroupBox("Training")
        self.start_button = QPushButton("Start")
        self.start_button.setToolTip("Start a new run with these clips and settings.")
        self.pause_button = QPushButton("Pause")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop now; the best weights so far and the checkpoint are kept.")
        self.continue_button = QPushButton("Continue run")
        self.continue_button.setToolTip("Carry on a stopped or interrupted run from its last checkpoint.")
        self.progress = QProgressBar()
        self.progress_label = QLabel("Not running.")
        self.progress_label.setWordWrap(True)
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.charts = TrainingCharts()
        box = QVBoxLayout(run_box)
        box.addLayout(button_grid(self.start_button, self.continue_button, self.pause_button, self.stop_button))
        box.addWidget(self.progress)
        box.addWidget(self.progress_label)
        box.addWidget(self.status_label)
        box.addWidget(self.charts)

        compare_box = QGroupBox("Before / after (held-out frame)")
        self.preview = BeforeAfterView()
        self.compare_button = QPushButton("Compare now")
        self.compare_button.setToolTip("Interpolate a held-out frame with the starting and the best weights so far.")
        box = QVBoxLayout(compare_box)
        box.addWidget(self.preview)
        box.addWidget(self.compare_button)

        library_box = QGroupBox("Your models")
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("Name for the fine-tuned model")
        self.save_button = QPushButton("Save")
        self.save_button.setToolTip(f"Keep the best weights of this run in {self.models_dir}")
        self.models_view = ModelLibraryView(self.library, self.bundled)
        row = QHBoxLayout()
        row.addWidget(self.name_edit)
        row.addWidget(self.save_button)
        box = QVBoxLayout(library_box)
        box.addLayout(row)
        box.addWidget(self.models_view)

        for w in (clips_box, settings_box, run_box, compare_box, library_box):
            layout.addWidget(w)
        layout.addStretch(1)
        # Vertical scrolling only: the dock is never narrower than its buttons and fields.
        self.scroll_area = VerticalScrollArea(body)
        self.scroll_area.setObjectName("trainingScrollArea")
        self.setWidget(self.scroll_area)
        self._name_widgets()

        self.add_current_button.clicked.connect(lambda: self.current_source and self.add_clip(self.current_source))
        self.add_files_button.clicked.connect(self._choose_files)
        self.add_folder_button.clicked.connect(self._choose_folder)
        self.remove_clip_button.clicked.connect(self._remove_selected_clip)
        self.form.holdout_changed.connect(self._on_holdout_changed)
        self.start_button.clicked.connect(self._start_clicked)
        self.pause_button.clicked.connect(lambda: self.resume() if self.paused else self.pause())
        self.stop_button.clicked.connect(self.stop)
        self.continue_button.clicked.connect(self._continue_clicked)
        self.compare_button.clicked.connect(self.compare)
        self.save_button.clicked.connect(self._save_clicked)
        self.name_edit.returnPressed.connect(self._save_clicked)
        self.models_view.use_requested.connect(self.use_model_requested)
        self.models_view.changed.connect(self._on_models_changed)

    # -- clips ---------------------------------------------------------------------------------------------

    def _name_widgets(self) -> None:
        """Stable objectNames for scripts and tests (listed in the README)."""
        for name, widget in (
            ("trainingClipList", self.clip_list), ("trainingAddOpenClipButton", self.add_current_button),
            ("trainingAddClipsButton", self.add_files_button), ("trainingAddFolderButton", self.add_folder_button),
            ("trainingRemoveClipButton", self.remove_clip_button), ("trainingPresetCombo", self.form.preset),
            ("trainingStartButton", self.start_button), ("trainingPauseButton", self.pause_button),
            ("trainingStopButton", self.stop_button), ("trainingContinueButton", self.continue_button),
            ("trainingProgress", self.progress), ("trainingStatusLabel", self.status_label),
            ("trainingCompareButton", self.compare_button), ("trainingModelNameEdit", self.name_edit),
            ("trainingSaveButton", self.save_button), ("trainingModelList", self.models_view.list),
            ("trainingUseModelButton", self.models_view.use_button), ("trainingUseBundledButton", self.models_view.bundled_button),
            ("trainingRenameModelButton", self.models_view.rename_button), ("trainingDeleteModelButton", self.models_view.delete_button),
        ):
            widget.setObjectName(name)

    def set_current_source(self, path: Optional[str]) -> None:
        """The clip or folder open in the main window (None: nothing open)."""
        self.current_source = str(path) if path else None
        name = Path(path).name if path else ""
        metrics = self.add_current_button.fontMetrics()
        short = metrics.elidedText(name, Qt.TextElideMode.ElideMiddle, SOURCE_NAME_PX)
        self.add_current_button.setText(f"Add {short}" if name else "Add open clip")
        self.add_current_button.setToolTip(f"Add {path}" if path else "Add the clip or image folder open in the main window.")
        self._update_controls()

    def add_clip(self, path: str | Path) -> None:
        path = str(path)
        if path in self.clips:
            return
        self.clips[path] = None
        self.clip_errors.pop(path, None)
        worker = create_worker(summarize_clip, path, self.form.settings().holdout, _start_thread=False,
                               _connect={"returned": self._on_summary, "errored": lambda exc, p=path: self._on_summary_error(p, exc)})
        self._keep_worker(worker)
        worker.start()
        self._refresh_clip_list()

    def remove_clip(self, path: str) -> None:
        self.clips.pop(str(path), None)
        self.clip_errors.pop(str(path), None)
        self._refresh_clip_list()

    def ready_clips(self) -> list[str]:
        return [p for p, s in self.clips.items() if s is not None]

    def _on_summary(self, summary: ClipSummary) -> None:
        if summary.path in self.clips:  # not removed meanwhile
            holdout = self.form.settings().holdout
            self.clips[summary.path] = summary if summary.holdout == holdout else summary.with_holdout(holdout)
            self._refresh_clip_list()

    def _on_summary_error(self, path: str, exc: Exception) -> None:
        if path in self.clips:
            del self.clips[path]
            self.clip_errors[path] = str(exc) if isinstance(exc, VfiError) else f"cannot read {Path(path).name}: {exc}"
            self._refresh_clip_list()

    def _on_holdout_changed(self, holdout: float) -> None:
        for path, s in self.clips.items():
            if s is not None:
                try:
                    self.clips[path] = s.with_holdout(holdout)
                except VfiError as exc:
                    self.clip_errors[path] = str(exc)
        self._refresh_clip_list()

    def _refresh_clip_list(self) -> None:
        self.clip_list.clear()
        warn = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        for path, s in self.clips.items():
            item = QListWidgetItem(s.describe() if s else f"{Path(path).name}: analysing…")
            item.setData(PATH_ROLE, path)
            item.setToolTip(path)
            self.clip_list.addItem(item)
        for path, err in self.clip_errors.items():
            item = QListWidgetItem(warn, err)
            item.setData(PATH_ROLE, path)
            self.clip_list.addItem(item)
        ready = [s for s in self.clips.values() if s is not None]
        if ready:
            total = sum(s.triplets for s in ready)
            held = sum(len(s.held_out) for s in ready)
            self.triplets_label.setText(f"{total} training triplets from {len(ready)} clip(s); {held} frames held out for checking.")
        elif self.clips:
            self.triplets_label.setText("Analysing…")
        else:
            self.triplets_label.setText("Add a clip or an image folder.")
        self._update_controls()

    def _remove_selected_clip(self) -> None:
        item = self.clip_list.currentItem()
        if item is not None:
            self.remove_clip(item.data(PATH_ROLE))

    def _choose_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Add clips", "", "Videos (*.mp4 *.mov *.avi *.mkv *.webm *.gif *.m4v);;All files (*)")
        for f in files:
            self.add_clip(f)

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a folder of images")
        if folder:
            self.add_clip(folder)

    # -- running -------------------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.process.running

    def start(self) -> TrainingRun:
        """Start a new run on the analysed clips with the form's settings."""
        if self.running:
            raise VfiError("training is already running")
        clips = self.ready_clips()
        if not clips:
            raise VfiError("add at least one clip (and wait for it to be analysed)")
        settings = self.form.settings()
        init_label, init_weights = self.form.init_weights()
        self._remove_old_runs()
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix=time.strftime("run-%Y%m%d-%H%M%S-"), dir=self.runs_dir))
        run = TrainingRun(folder, clips, init_label, init_weights, settings)
        run.command = train_command(settings, clips, init_weights, run.weights, run.checkpoint)
        self.run = run
        self.charts.clear()
        self._launch()
        return run

    def continue_run(self) -> None:
        """Resume the last run from its checkpoint (the engine picks it up from the same command)."""
        if self.running or self.run is None or not self.run.checkpoint.exists():
            raise VfiError("there is no stopped run to continue")
        self._launch()

    def pause(self) -> None:
        if self.running and not self.paused:
            self.process.pause()
            self.paused = True
            self.status_label.setText("Paused.")
            self._update_controls()

    def resume(self) -> None:
        if self.running and self.paused:
            self.process.resume()
            self.paused = False
            self.status_label.setText("Training…")
            self._update_controls()

    def stop(self) -> None:
        if self.running:
            self.process.stop()
            self.paused = False
            self.stopping = True
            self.status_label.setText("Stopping after this step…")
            self._update_controls()

    def shutdown(self) -> None:
        """Stop a run cleanly before the application quits (the checkpoint survives)."""
        if self.running:
            self.process.stop()
            if not self.process.wait(5000):
                self.process.kill()
                self.process.wait(2000)

    def _launch(self) -> None:
        self.paused = self.stopping = False
        self.run.result = None
        self._last_step_event = None
        self.status_label.setText("Starting (loading clips and measuring the starting weights)…")
        self.process.start(self.run.command)
        self.running_changed.emit(True)
        self._update_controls()

    def _on_event(self, ev: dict) -> None:
        run, kind = self.run, ev.get("event")
        if run is None:
            return
        if kind in ("step", "validation", "checkpoint", "done"):
            run.step, run.total_steps = int(ev.get("step", 0)), int(ev.get("total_steps", 0))
            run.elapsed_s = float(ev.get("elapsed_s", 0.0))
        if kind == "step":
            self._last_step_event = ev
            if ev.get("loss") is not None:
                self.charts.add_loss(run.step, float(ev["loss"]))
        elif kind == "validation" and ev.get("val_psnr") is not None:
            value = float(ev["val_psnr"])
            if run.start_psnr is None:
                run.start_psnr = value
            if run.best_psnr is None or value > run.best_psnr:
                run.best_psnr, run.best_step = value, run.step
            self.charts.add_psnr(run.step, value)
            if self.status_label.text().startswith("Starting"):
                self.status_label.setText(f"Training ({run.note})…" if run.note else "Training…")
        elif kind == "note" and ev.get("message"):
            run.note = str(ev["message"])
            self.status_label.setText(f"Starting ({run.note})…")
        elif kind == "result":
            run.result = ev
            run.start_psnr = ev.get("start_psnr", run.start_psnr)
            run.best_psnr = ev.get("best_psnr", run.best_psnr)
            run.best_step = int(ev.get("best_step", run.best_step) or 0)
            run.step = int(ev.get("steps_done", run.step))
            run.elapsed_s = float(ev.get("elapsed_s", run.elapsed_s))

    def _on_finished(self, result: Optional[dict], error: str) -> None:
        run = self.run
        self.paused = self.stopping = False
        self.running_changed.emit(False)
        if error:
            kept = " The best weights so far are kept: you can save them or continue the run." if run and run.weights.exists() else ""
            self.status_label.setText(f"⚠ {error}.{kept}")
        elif run is not None:
            gain = (run.best_psnr - run.start_psnr) if run.best_psnr is not None and run.start_psnr is not None else None
            how = "Stopped" if result and result.get("stopped_early") else "Finished"
            text = f"{how}: {run.step} steps in {run.elapsed_s / 60:.1f} min."
            if gain is not None:
                text += f" Held-out PSNR {run.start_psnr:.2f} → {run.best_psnr:.2f} dB ({gain:+.2f}, best at step {run.best_step})."
            if run.best_step == 0 and run.step > 0:
                # The engine keeps the best weights by held-out PSNR, the start included: say so plainly.
                text += " No gain on the held-out frames yet: the best weights are still the starting ones."
            self.status_label.setText(text)
        if run is not None and run.weights.exists():
            if not self.name_edit.text():
                self.name_edit.setText(f"{Path(run.clips[0]).stem} fine-tuned")
            self.compare()
        self._update_progress_text()
        self._update_controls()

    def _update_progress_text(self) -> None:
        run, ev = self.run, self._last_step_event
        if run is None or ev is None:
            return
        total = max(1, int(ev.get("total_steps", 1)))
        self.progress.setRange(0, total)
        self.progress.setValue(min(total, run.step))
        eta = format_eta(ev.get("eta_s")) if self.running else "—"
        parts = [f"step {run.step}/{total}", f"{float(ev.get('steps_per_s', 0.0)):.2f} steps/s", f"ETA {eta}"]
        if ev.get("loss") is not None:
            parts.append(f"loss {float(ev['loss']):.4f}")
        if run.best_psnr is not None and run.start_psnr is not None:
            parts.append(f"held-out best {run.best_psnr:.2f} dB (start {run.start_psnr:.2f})")
        self.progress_label.setText(" · ".join(parts))

    def compare(self) -> None:
        """Before/after on a held-out frame of the first clip, with the best weights so far."""
        run = self.run
        if run is None or not run.weights.exists():
            return
        self.preview.request(run.clips[0], run.settings.holdout, run.init_weights, run.weights)

    def _remove_old_runs(self) -> None:
        if not self.runs_dir.is_dir():
            return
        old = sorted((p for p in self.runs_dir.iterdir() if p.is_dir()), key=lambda p: p.name)
        for folder in old[: max(0, len(old) - (KEEP_RUNS - 1))]:
            shutil.rmtree(folder, ignore_errors=True)

    # -- results and models ----------------------------------------------------------------------------

    def save_result(self, name: str) -> LibraryModel:
        """Keep the run's best weights in the library under `name`, with a card."""
        run = self.run
        if run is None or not run.weights.exists():
            raise VfiError("there is no trained result to save yet")
        if self.running:
            raise VfiError("stop the training before saving")
        model = self.library.save(run.weights, run.card(name))
        run.saved_as = model.name
        self.status_label.setText(f"Saved '{model.name}' to {model.weights.parent}.")
        self._on_models_changed()
        return model

    def use_model(self, name: str) -> Path:
        return self.models_view.use_model(name)

    def use_bundled(self) -> None:
        self.models_view.use_bundled()

    def rename_model(self, old: str, new: str) -> None:
        self.models_view.rename_model(old, new)

    def delete_model(self, name: str) -> None:
        self.models_view.delete_model(name)

    def _on_models_changed(self) -> None:
        self._refresh_models()
        self.models_changed.emit()

    def _refresh_models(self) -> None:
        self.models_view.refresh()
        self.form.set_models([(m.name, m.weights) for m in self.models_view.models])

    # -- UI glue ---------------------------------------------------------------------------------------

    def _start_clicked(self) -> None:
        self._report(self.start)

    def _continue_clicked(self) -> None:
        self._report(self.continue_run)

    def _save_clicked(self) -> None:
        self._report(lambda: self.save_result(self.name_edit.text()))

    def _report(self, action) -> None:
        try:
            action()
        except VfiError as exc:
            self.status_label.setText(f"⚠ {exc}")

    def _keep_worker(self, worker) -> None:
        # superqt workers must outlive their run; drop them when finished.
        self._workers.append(worker)
        worker.finished.connect(lambda w=worker: self._workers.remove(w) if w in self._workers else None)

    def _update_controls(self) -> None:
        running = self.running
        stopping = running and self.stopping
        self.add_current_button.setEnabled(bool(self.current_source) and self.current_source not in self.clips)
        self.start_button.setEnabled(not running and bool(self.ready_clips()))
        self.pause_button.setEnabled(running and not stopping)
        self.pause_button.setText("Resume" if self.paused else "Pause")
        self.stop_button.setEnabled(running and not stopping)
        run = self.run
        can_continue = not running and run is not None and run.checkpoint.exists() and run.step < run.total_steps
        self.continue_button.setEnabled(can_continue)
        has_weights = self.run is not None and self.run.weights.exists()
        self.save_button.setEnabled(not running and has_weights)
        self.compare_button.setEnabled(has_weights)
        self.form.setEnabled(not running)
