"""The user's fine-tuned models: a folder of `<stem>.safetensors` files, each with a `<stem>.json` card.

Qt-free; the training panel shows it and the main window's method list reads it. The card says
where a model came from (source clips, steps, time, held-out PSNR before and after). A damaged
weights file is reported and skipped, never fatal: one bad file must not hide the others.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Optional

from ..core.errors import VfiError
from ..core.files import atomic_output_path
from .weights import read_metadata

WEIGHTS_SUFFIX = ".safetensors"
CARD_SUFFIX = ".json"
MAX_NAME_LENGTH = 60


@dataclass
class ModelCard:
    name: str
    source_clips: list[str] = field(default_factory=list)
    steps: int = 0
    train_seconds: float = 0.0
    psnr_before: Optional[float] = None  # held-out PSNR of the starting weights
    psnr_after: Optional[float] = None  # held-out PSNR of the saved weights
    init: str = "bundled"  # what the run started from
    created: str = ""  # ISO 8601, local time
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def gain_db(self) -> Optional[float]:
        if self.psnr_before is None or self.psnr_after is None:
            return None
        return self.psnr_after - self.psnr_before

    def summary(self) -> str:
        """One line for a list: gain, steps, minutes, clips."""
        parts = []
        if self.gain_db is not None:
            parts.append(f"{self.gain_db:+.2f} dB ({self.psnr_before:.2f} → {self.psnr_after:.2f})")
        parts.append(f"{self.steps} steps, {self.train_seconds / 60:.1f} min")
        if self.source_clips:
            parts.append(", ".join(self.source_clips))
        return "; ".join(parts)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ModelCard":
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        card = cls(**known)
        if not isinstance(card.name, str) or not isinstance(card.source_clips, list):
            raise ValueError("wrong field types")
        card.steps = int(card.steps)
        card.train_seconds = float(card.train_seconds)
        return card

    @classmethod
    def from_weights_info(cls, name: str, info: dict[str, Any]) -> "ModelCard":
        """A card rebuilt from what the training engine writes into the weights file itself."""
        return cls(
            name=name,
            source_clips=[str(c) for c in info.get("data", [])],
            steps=int(info.get("steps", 0) or 0),
            train_seconds=float(info.get("train_seconds", 0.0) or 0.0),
            psnr_before=info.get("start_psnr"),
            psnr_after=info.get("val_psnr"),
            init=str(info.get("init", "unknown")),
        )


@dataclass
class LibraryModel:
    card: ModelCard
    weights: Path
    note: str = ""  # e.g. "card missing": usable, but worth a look

    @property
    def name(self) -> str:
        return self.card.name


@dataclass
class LibraryListing:
    models: list[LibraryModel]
    problems: list[str]  # one line per skipped file


def file_stem(name: str) -> str:
    """A file-system-safe stem for a display name ("My puppet #2" -> "My-puppet-2")."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")
    return stem[:MAX_NAME_LENGTH] or "model"


def check_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise VfiError("give the model a name")
    if len(name) > MAX_NAME_LENGTH:
        raise VfiError(f"the name is too long (at most {MAX_NAME_LENGTH} characters)")
    if any(ch in name for ch in "/\\") or any(ord(ch) < 32 for ch in name):
        raise VfiError("the name cannot contain slashes or control characters")
    return name


class ModelLibrary:
    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    def list(self) -> LibraryListing:
        models: list[LibraryModel] = []
        problems: list[str] = []
        if not self.folder.is_dir():
            return LibraryListing(models, problems)
        for weights in sorted(self.folder.glob("*" + WEIGHTS_SUFFIX), key=lambda p: p.name.lower()):
            try:
                meta = read_metadata(weights)
            except VfiError as exc:
                problems.append(f"skipped {exc}")
                continue
            card, note = self._read_card(weights, meta["info"])
            models.append(LibraryModel(card, weights, note))
        models.sort(key=lambda m: m.name.lower())
        return LibraryListing(models, problems)

    def get(self, name: str) -> LibraryModel:
        for m in self.list().models:
            if m.name.lower() == name.strip().lower():
                return m
        raise VfiError(f"there is no model named '{name}'")

    def save(self, weights: str | Path, card: ModelCard) -> LibraryModel:
        """Copy a trained weights file into the library under `card.name`, with its card."""
        card.name = check_name(card.name)
        read_metadata(weights)  # refuse to store a damaged file
        self._check_free(card.name)
        if not card.created:
            card.created = time.strftime("%Y-%m-%dT%H:%M:%S")
        stem = self._free_stem(file_stem(card.name))
        target = self.folder / (stem + WEIGHTS_SUFFIX)
        self.folder.mkdir(parents=True, exist_ok=True)
        # Card first: a weights file is what makes a model appear, so it always has its card.
        self._write_card(target, card)
        try:
            with atomic_output_path(target) as tmp:
                shutil.copyfile(weights, tmp)
        except VfiError:
            target.with_suffix(CARD_SUFFIX).unlink(missing_ok=True)
            raise
        return LibraryModel(card, target)

    def rename(self, old_name: str, new_name: str) -> LibraryModel:
        model = self.get(old_name)
        new_name = check_name(new_name)
        if new_name == model.name:
            return model
        if new_name.lower() != model.name.lower():
            self._check_free(new_name)
        stem = file_stem(new_name)
        if stem.lower() != model.weights.stem.lower():
            stem = self._free_stem(stem)
        target = self.folder / (stem + WEIGHTS_SUFFIX)
        old_card = model.weights.with_suffix(CARD_SUFFIX)
        model.card.name = new_name
        try:
            os.replace(model.weights, target)
            self._write_card(target, model.card)
            if old_card != target.with_suffix(CARD_SUFFIX):
                old_card.unlink(missing_ok=True)
        except OSError as exc:
            raise VfiError(f"cannot rename the model: {exc.strerror or exc}") from None
        return LibraryModel(model.card, target)

    def delete(self, name: str) -> None:
        model = self.get(name)
        try:
            model.weights.unlink()
            model.weights.with_suffix(CARD_SUFFIX).unlink(missing_ok=True)
        except OSError as exc:
            raise VfiError(f"cannot delete {model.weights.name}: {exc.strerror or exc}") from None

    # -- helpers -----------------------------------------------------------------------------------

    def _read_card(self, weights: Path, info: dict[str, Any]) -> tuple[ModelCard, str]:
        path = weights.with_suffix(CARD_SUFFIX)
        if not path.exists():
            return ModelCard.from_weights_info(weights.stem, info), "card missing: details from the weights file"
        try:
            return ModelCard.from_dict(json.loads(path.read_text(encoding="utf-8"))), ""
        except (OSError, ValueError, TypeError):
            return ModelCard.from_weights_info(weights.stem, info), f"{path.name} is damaged: details from the weights file"

    def _write_card(self, weights: Path, card: ModelCard) -> None:
        with atomic_output_path(weights.with_suffix(CARD_SUFFIX)) as tmp:
            tmp.write_text(json.dumps(asdict(card), indent=2), encoding="utf-8")

    def _check_free(self, name: str) -> None:
        if any(m.name.lower() == name.lower() for m in self.list().models):
            raise VfiError(f"a model named '{name}' already exists")

    def _free_stem(self, stem: str) -> str:
        """`stem`, or `stem-2`, `stem-3`... if a file (even a damaged one) already uses it."""
        taken = {p.stem.lower() for p in self.folder.glob("*")} if self.folder.is_dir() else set()
        candidate, n = stem, 2
        while candidate.lower() in taken:
            candidate, n = f"{stem}-{n}", n + 1
        return candidate
