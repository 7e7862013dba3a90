"""Self-check results kept between runs: in memory, and on disk in the user's cache folder.

A result belongs to a clip (its path, size and modification time: an edited file is a new clip),
a method (its name, the identity of its weights file, and the engine's code) and a frame. Scene
cuts belong to a clip and a frame range. Everything here can be computed again, so a damaged or
missing cache file is simply a miss; files are replaced atomically, so two processes writing at
once (the window and its background check) lose at most each other's newest scores.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional

from .. import __version__
from .video_io import IMAGE_EXTENSIONS

FORMAT = 1  # bump when the meaning of a cached figure changes
MAX_FILES = 400  # oldest files beyond this are removed (each is a few KB)


@dataclass(frozen=True)
class FrameScore:
    """Frame `index` rebuilt from index-1 and index+1 at time t, scored against the real frame.
    `cut`: a scene cut lies inside the triplet, so it is marked and not scored (psnr is None)."""

    index: int
    t: float
    psnr: Optional[float]
    ssim: Optional[float]  # None when only PSNR was asked for (the Auto method's sample)
    seconds: float = 0.0  # time the interpolation took (the Auto method's cost estimate)
    cut: bool = False


def file_identity(path: Path) -> dict:
    """Path, size and modification time of a file; for an image folder, of its images together."""
    path = Path(path).resolve()
    if path.is_dir():
        size, mtime, count = 0, 0, 0
        for p in path.iterdir():
            if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS:
                st = p.stat()
                size, mtime, count = size + st.st_size, max(mtime, st.st_mtime_ns), count + 1
        return {"path": str(path), "size": size, "mtime_ns": mtime, "images": count}
    st = path.stat()
    return {"path": str(path), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


# What the scores depend on: the methods, the motion code, the networks and their inference, the metrics.
_CODE_FILES = ("core/methods", "core/motion.py", "core/flow_ops.py", "core/metrics.py", "core/selfcheck.py", "model")
_code_identity: Optional[str] = None


def code_identity() -> str:
    """A hash of the engine's source (methods, motion, metrics, the network), so a changed
    algorithm never shows old scores; the version alone where the sources are not files (frozen app)."""
    global _code_identity
    if _code_identity is None:
        root = Path(__file__).resolve().parents[1]
        h = hashlib.sha1(__version__.encode())
        for name in _CODE_FILES:
            p = root / name
            for f in sorted(p.glob("*.py")) if p.is_dir() else [p]:
                with contextlib.suppress(OSError):
                    h.update(f.name.encode() + f.read_bytes())
        _code_identity = h.hexdigest()[:16]
    return _code_identity


def _key(data: dict) -> str:
    return hashlib.sha1(json.dumps(data, sort_keys=True).encode()).hexdigest()[:24]


def clip_key(path: Path, frame_count: int) -> str:
    return _key({"clip": file_identity(path), "frames": frame_count, "format": FORMAT})


def method_key(method: str, weights: Optional[Path]) -> str:
    """`weights`: the weights file the method really uses (the bundled one included), None for
    methods without one."""
    return _key({
        "method": method,
        "weights": file_identity(weights) if weights is not None else None,
        "code": code_identity(),
        "format": FORMAT,
    })


class SelfCheckCache:
    """Per (clip, method): frame -> FrameScore; per (clip, range): the scene cuts. Thread-safe."""

    def __init__(self, folder: Optional[Path] = None, disk: bool = True) -> None:
        self.folder = Path(folder) if folder is not None else None
        self.disk = disk and self.folder is not None
        self._scores: dict[tuple[str, str], dict[int, FrameScore]] = {}
        self._cuts: dict[str, dict[str, list[int]]] = {}
        self._dirty: set[tuple[str, str]] = set()
        self._dirty_cuts: set[str] = set()
        self._lock = threading.Lock()

    # -- scores ------------------------------------------------------------------------------------

    def scores(self, clip: str, method: str) -> dict[int, FrameScore]:
        """What is known for this clip and method (a copy)."""
        with self._lock:
            return dict(self._load_scores(clip, method))

    def add(self, clip: str, method: str, scores: Iterable[FrameScore], persist: bool = True) -> None:
        """Remember scores; `persist=False` for scores another process is writing to disk already."""
        with self._lock:
            known = self._load_scores(clip, method)
            for s in scores:
                if s.cut:
                    continue  # cuts depend on the range, not on the method: kept apart
                old = known.get(s.index)
                if old is None or (old.ssim is None and s.ssim is not None):
                    known[s.index] = s
                    if persist:
                        self._dirty.add((clip, method))

    def _load_scores(self, clip: str, method: str) -> dict[int, FrameScore]:
        entry = self._scores.get((clip, method))
        if entry is None:
            entry = {}
            data = self._read(self._scores_file(clip, method))
            for k, v in (data or {}).get("frames", {}).items():
                with contextlib.suppress(TypeError, ValueError, IndexError):
                    entry[int(k)] = FrameScore(int(k), float(v[0]), float(v[1]), None if v[2] is None else float(v[2]), float(v[3]))
            self._scores[(clip, method)] = entry
        return entry

    # -- cuts --------------------------------------------------------------------------------------

    def cuts(self, clip: str, start: int, stop: int) -> Optional[list[int]]:
        with self._lock:
            found = self._load_cuts(clip).get(f"{start}:{stop}")
            return list(found) if found is not None else None

    def set_cuts(self, clip: str, start: int, stop: int, cuts: Iterable[int], persist: bool = True) -> None:
        with self._lock:
            self._load_cuts(clip)[f"{start}:{stop}"] = sorted(int(c) for c in cuts)
            if persist:
                self._dirty_cuts.add(clip)

    def _load_cuts(self, clip: str) -> dict[str, list[int]]:
        entry = self._cuts.get(clip)
        if entry is None:
            data = self._read(self._cuts_file(clip)) or {}
            ranges = data.get("ranges", {})
            entry = {k: [int(c) for c in v] for k, v in ranges.items() if isinstance(v, list)}
            self._cuts[clip] = entry
        return entry

    # -- disk --------------------------------------------------------------------------------------

    def flush(self) -> None:
        """Write what changed since the last flush (merged with what another process wrote)."""
        if not self.disk:
            self._dirty.clear()
            self._dirty_cuts.clear()
            return
        with self._lock:
            dirty, self._dirty = self._dirty, set()
            dirty_cuts, self._dirty_cuts = self._dirty_cuts, set()
            for clip, method in dirty:
                path = self._scores_file(clip, method)
                frames = (self._read(path) or {}).get("frames", {})
                for i, s in self._scores[(clip, method)].items():
                    old = frames.get(str(i))
                    old_has_ssim = isinstance(old, list) and len(old) > 2 and old[2] is not None
                    if s.ssim is not None or not old_has_ssim:
                        frames[str(i)] = [s.t, s.psnr, s.ssim, round(s.seconds, 4)]
                self._write(path, {"frames": frames})
            for clip in dirty_cuts:
                path = self._cuts_file(clip)
                ranges = (self._read(path) or {}).get("ranges", {})
                ranges.update(self._cuts[clip])
                self._write(path, {"ranges": ranges})
        self._prune()

    def _scores_file(self, clip: str, method: str) -> Optional[Path]:
        return self.folder / f"{clip}-{method}.json" if self.disk else None

    def _cuts_file(self, clip: str) -> Optional[Path]:
        return self.folder / f"{clip}-cuts.json" if self.disk else None

    @staticmethod
    def _read(path: Optional[Path]) -> Optional[dict]:
        if path is None:
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None  # missing or damaged: a miss
        return data if isinstance(data, dict) else None

    @staticmethod
    def _write(path: Path, data: dict) -> None:
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.part")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps(data), encoding="utf-8")
            os.replace(tmp, path)
        except OSError:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            # a cache that cannot be written (read-only home, full disk) only costs recomputation

    def _prune(self) -> None:
        with contextlib.suppress(OSError):
            files = sorted(self.folder.glob("*.json"), key=lambda p: p.stat().st_mtime)
            for p in files[: max(0, len(files) - MAX_FILES)]:
                p.unlink(missing_ok=True)


_default: Optional[SelfCheckCache] = None
_default_lock = threading.Lock()


def default_cache() -> SelfCheckCache:
    """The process-wide cache in the user's cache folder (`paths.user_cache_dir()`/selfcheck)."""
    global _default
    from ..paths import user_cache_dir

    folder = user_cache_dir() / "selfcheck"
    with _default_lock:
        if _default is None or _default.folder != folder:
            _default = SelfCheckCache(folder)
        return _default
