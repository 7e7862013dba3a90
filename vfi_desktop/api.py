"""The one public entry to the engine.

    from vfi_desktop.api import load_interpolator
    interp = load_interpolator("unet")            # or "flow", "dis", "blend", "unet-direct"
    middle = interp.interpolate(frame0, frame1, t=0.5)   # HxWx3 uint8 RGB in and out

    from vfi_desktop.api import ExportSettings, check_export, export
    check_export("slow.mov", ExportSettings(slowmo=4, codec="prores"))   # VfiError now, not after the work
    export("clip.mp4", "slow.mov", ExportSettings(slowmo=4, codec="prores"), method="flow")
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from .core.errors import VfiError
from .core.export import ExportResult, ExportSettings
from .core.methods.base import Interpolator
from .core.preflight import Preflight, check_export
from .core.progress import CancelToken, ProgressCallback
from .core.video_io import DEFAULT_IMAGE_FPS

__all__ = ["METHODS", "ExportResult", "ExportSettings", "Preflight", "check_export", "export", "load_interpolator"]

METHODS = ("unet", "flow", "dis", "blend", "unet-direct")
_ARCH_OF_METHOD = {"unet": "fusion_unet", "unet-direct": "direct_unet"}


def load_interpolator(method: str = "unet", weights: Optional[str | Path] = None, device: str = "auto") -> Interpolator:
    """An interpolator by method name. `weights` picks a safetensors file for the neural methods
    (default: the bundled one); any weights file also works with method="unet" whatever its
    architecture says, so fine-tuned files can be passed without knowing what they hold."""
    if method == "blend":
        from .core.methods.blend import BlendInterpolator

        return BlendInterpolator()
    if method == "flow":
        from .core.methods.flow import FlowInterpolator

        return FlowInterpolator()
    if method == "dis":
        from .core.methods.dis import DisInterpolator

        return DisInterpolator()
    if method in _ARCH_OF_METHOD:
        import torch

        from .model.interpolator import NeuralInterpolator
        from .model.weights import load_model
        from .paths import bundled_weights

        path = Path(weights) if weights is not None else bundled_weights(method)
        if weights is None and not path.exists():
            raise VfiError(f"the bundled weights for '{method}' are missing ({path}); reinstall or pass --weights")
        model, meta = load_model(path, expect_arch=None if weights is not None else _ARCH_OF_METHOD[method])
        # oneDNN's convolutions are quicker on channels-last tensors (the U-Net ~15%, the whole
        # FlowUNet ~9% at 720p on this CPU); the outputs are the same to float rounding.
        model = model.to(memory_format=torch.channels_last)
        name = method if weights is None else f"{method}:{path.stem}"
        return NeuralInterpolator(model, name=name, device=device, weights_path=path, meta=meta)
    raise VfiError(f"unknown method '{method}' (choose from {', '.join(METHODS)})")


def export(
    input: str | Path,
    output: str | Path,
    settings: ExportSettings,
    *,
    method: str = "unet",
    weights: Optional[str | Path] = None,
    device: str = "auto",
    image_fps: float = DEFAULT_IMAGE_FPS,
    progress: Optional[ProgressCallback] = None,
    cancel: Optional[CancelToken] = None,
) -> ExportResult:
    """Export `input` (a video or a folder of images) to `output` as the CLI's `interpolate` does:
    `check_export` first (nothing is opened if the output cannot be written), then the work."""
    from .core.batch import ExportJob, export_file

    job = ExportJob(Path(input), Path(output), image_fps=image_fps)
    return export_file(job, settings, lambda source: load_interpolator(method, weights=weights, device=device), progress, cancel)
