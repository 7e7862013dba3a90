"""What each view mode shows: the panes for frame N, from what has been decoded and computed so far.
Missing pieces become placeholders that say what happens next."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from ..core.metrics import error_map
from .tasks import CheckResult, InterpolationResult
from .view_images import heat_map, onion_skin, wipe
from .viewer import Pane

# key, menu text, shortcut
VIEW_MODES = (
    ("single", "Single frame", "Ctrl+1"),
    ("side", "Side by side", "Ctrl+2"),
    ("wipe", "Wipe", "Ctrl+3"),
    ("difference", "Difference map", "Ctrl+4"),
    ("onion", "Onion skin", "Ctrl+5"),
    ("check", "Check against real frame", "Ctrl+6"),
)
DECODING = "Decoding…"
PRESS_INTERPOLATE = "Press Interpolate (Ctrl+Return)"


def short_label(label: str) -> str:
    """'Optical flow (classical)' -> 'Optical flow', for pane titles."""
    return label.split(" (")[0]


def frames_needed(mode: str, n: int) -> list[int]:
    """Source frames a mode shows at frame n, the most important first."""
    return {"single": [n], "onion": [n, n + 1, n - 1], "check": [n, n - 1, n + 1]}.get(mode, [n, n + 1])


@dataclass
class ViewState:
    n: int  # current frame
    last: int  # index of the last frame
    frames: dict[int, np.ndarray] = field(default_factory=dict)  # decoded so far
    inbetween: Optional[InterpolationResult] = None  # only if made for frame n
    check: Optional[CheckResult] = None  # only if made for frame n
    wipe_split: float = 0.5


def compose(mode: str, s: ViewState) -> list[Pane]:
    n, f, ib = s.n, s.frames.get, s.inbetween
    if mode == "single":
        return [Pane(f"Frame {n}", f(n), DECODING)]
    if mode == "check":
        return _check(s)
    if n >= s.last:
        return [Pane(f"Frame {n}", f(n), DECODING), Pane("", None, "The last frame has no next frame to interpolate towards")]
    if mode == "side":
        if ib is None:
            middle = [Pane("In-between", None, PRESS_INTERPOLATE)]
        else:
            middle = [Pane(f"t = {t:.2f} · {short_label(ib.label)}", img) for t, img in zip(ib.ts, ib.frames)]
        return [Pane(f"Frame {n}", f(n), DECODING), *middle, Pane(f"Frame {n + 1}", f(n + 1), DECODING)]
    k = len(ib.frames) // 2 if ib else 0  # with several in-betweens, the middle one
    if mode == "wipe":
        if ib is None:
            return [Pane("Wipe", None, PRESS_INTERPOLATE)]
        title = f"◀ {short_label(ib.label)} | {short_label(ib.compare_label)} ▶   (t = {ib.ts[k]:.2f})"
        return [Pane(title, wipe(ib.frames[k], ib.compare[k], s.wipe_split), split=s.wipe_split)]
    if mode == "difference":
        a, b = f(n), f(n + 1)
        motion = Pane(f"|frame {n + 1} − frame {n}|", heat_map(error_map(b, a)) if a is not None and b is not None else None, DECODING)
        if ib is None:
            return [motion, Pane("|in-between − comparison|", None, PRESS_INTERPOLATE)]
        title = f"|{short_label(ib.label)} − {short_label(ib.compare_label)}|"
        return [motion, Pane(title, heat_map(error_map(ib.frames[k], ib.compare[k])))]
    if mode == "onion":
        if ib is not None and f(n) is not None and f(n + 1) is not None:
            title = f"In-between t = {ib.ts[k]:.2f} over red: frame {n}, cyan: frame {n + 1}"
            return [Pane(title, onion_skin(ib.frames[k], f(n), f(n + 1)))]
        if f(n) is None:
            return [Pane("Onion skin", None, DECODING)]
        return [Pane(f"Frame {n} over red: frame {n - 1}, cyan: frame {n + 1}", onion_skin(f(n), f(n - 1), f(n + 1)))]
    raise ValueError(f"unknown view mode {mode!r}")


def _check(s: ViewState) -> list[Pane]:
    n, c = s.n, s.check
    if not 0 < n < s.last:
        return [Pane(f"Frame {n}", s.frames.get(n), DECODING), Pane("", None, "Checking needs a frame on both sides: pick one between the first and the last")]
    if c is None:
        busy = f"Predicting frame {n} from {n - 1} and {n + 1}…"
        return [Pane(f"Predicted frame {n}", None, busy), Pane(f"Real frame {n}", s.frames.get(n), DECODING), Pane("Error", None, busy)]
    return [
        Pane(f"Predicted frame {n} · {short_label(c.label)}", c.predicted),
        Pane(f"Real frame {n}", c.truth),
        Pane(f"Error · PSNR {c.psnr:.2f} dB · SSIM {c.ssim:.4f}", heat_map(c.error)),
    ]
