"""The one public entry to the engine.

    from vfi_desktop.api import load_interpolator
    interp = load_interpolator("unet")            # or "flow", "dis", "blend", "unet-direct"
    middle = interp.interpolate(frame0, frame1, t=0.5)   # HxWx3 uint8 RGB in and out

    from vfi_desktop.api import ExportSettings, check_export, export
    check_export("slow.mov", ExportSettings(slowmo=4, codec="prores"))   # VfiError now, not after the work
    export("clip.mp4", "slow.mov", ExportSettings(slowmo=4, codec="prores"), method="flow")
    export("clip.mp4", "smooth.mp4", ExportSettings(factor=2), method="auto")   # the best method for this clip

    interp, report = resolve_auto_method(source, settings=export_settings)   # Auto on an open clip
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable, Optional, Sequence

from .core.choice import AUTO, MethodChoice
from .core.errors import VfiError
from .core.export import ExportResult, ExportSettings
from .core.methods.base import Interpolator
from .core.preflight import Preflight, check_export
from .core.progress import CancelToken, ProgressCallback
from .core.selfcheck_cache import SelfCheckCache, default_cache
from .core.video_io import DEFAULT_IMAGE_FPS

if TYPE_CHECKING:
    from .core.auto_method import AutoReport
    from .core.video_io import FrameSource

__all__ = [
    "METHODS", "ExportResult", "ExportSettings", "Preflight", "check_export", "export", "load_interpolator",
    "available_methods", "interpolator_for", "resolve_auto_method",
]

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
    if method == AUTO:
        raise VfiError("'auto' picks a method per clip: use resolve_auto_method(source, ...)")
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
    `check_export` first (nothing is opened if the output cannot be written), then the work.
    method="auto" picks the method on the clip first: the report is in `result.extra["auto"]`."""
    from .core.batch import ExportJob, export_file

    picks: list = []
    job = ExportJob(Path(input), Path(output), image_fps=image_fps)
    for_clip = interpolator_for(method, weights, device, settings=settings, on_auto=picks.append, cancel=cancel)
    result = export_file(job, settings, for_clip, progress, cancel)
    if picks:
        result.extra["auto"] = picks[-1]
    return result


def interpolator_for(
    method: str = "unet",
    weights: Optional[str | Path] = None,
    device: str = "auto",
    *,
    settings: Optional[ExportSettings] = None,
    candidates: Optional[Sequence[MethodChoice]] = None,
    load: Optional[Callable[[MethodChoice], Interpolator]] = None,
    on_auto: Optional[Callable[[AutoReport], None]] = None,
    progress: Optional[ProgressCallback] = None,
    cancel: Optional[CancelToken] = None,
) -> Callable[[FrameSource], Interpolator]:
    """What `core.batch.export_file` / `export_many` take: the interpolator for each clip. A named
    method is loaded once; "auto" races `candidates` (default: every method available) on each
    clip's export range (`settings`) and hands each report to `on_auto` before the export starts.
    `load`: how to load a method (default: `load_interpolator`, each once)."""
    loaded: dict[MethodChoice, Interpolator] = {}

    def load_once(choice: MethodChoice) -> Interpolator:
        if choice not in loaded:
            loaded[choice] = load(choice) if load is not None else load_interpolator(choice.method, weights=choice.weights, device=device)
        return loaded[choice]

    def for_clip(source: FrameSource) -> Interpolator:
        if method != AUTO:
            return load_once(MethodChoice(method, method, None if weights is None else str(weights)))
        interp, report = resolve_auto_method(
            source, settings=settings, candidates=candidates, load=load_once, progress=progress, cancel=cancel
        )
        if on_auto is not None:
            on_auto(report)
        return interp

    return for_clip
# -- every method a user has, and the Auto method ------------------------------------------------


def weights_file(method: str, weights: Optional[str | Path] = None) -> Optional[Path]:
    """The weights file a method uses (the bundled one unless `weights` is given); None for
    methods without weights."""
    from .paths import bundled_weights

    if weights is not None:
        return Path(weights)
    return bundled_weights(method) if method in _ARCH_OF_METHOD else None


def method_id(choice: MethodChoice) -> str:
    """The self-check cache's key of a method (its name, weights file and the engine's code),
    without loading it."""
    from .core.selfcheck_cache import method_key

    return method_key(choice.method, weights_file(choice.method, choice.weights))


def fine_tuned_models() -> list[MethodChoice]:
    """The user's fine-tuned models (the training panel's library), as method choices."""
    from .paths import user_data_dir

    folder = user_data_dir() / "models"
    if not any(folder.glob("*.safetensors")):
        return []  # reading the library imports torch: not for nothing
    from .model.library import ModelLibrary

    models = ModelLibrary(folder).list().models
    # a model named like a built-in method keeps a distinct label
    return [MethodChoice(m.name if m.name not in METHODS else f"{m.name} (fine-tuned)", "unet", str(m.weights)) for m in models]


def available_methods(fine_tuned: bool = True) -> list[MethodChoice]:
    """Every method this installation offers: `METHODS`, then the user's fine-tuned models."""
    choices = [MethodChoice(m, m) for m in METHODS]
    return choices + (fine_tuned_models() if fine_tuned else [])


def resolve_auto_method(
    source: FrameSource,
    frame_range: Optional[tuple[int, int]] = None,
    *,
    settings=None,
    candidates: Optional[Sequence[MethodChoice]] = None,
    device: str = "auto",
    load: Optional[Callable[[MethodChoice], Interpolator]] = None,
    cache: Optional[SelfCheckCache] = None,
    progress: Optional[ProgressCallback] = None,
    cancel: Optional[CancelToken] = None,
) -> tuple[Interpolator, AutoReport]:
    """The Auto method: race `candidates` (default: `available_methods()`) on about 12 frames of
    the export range and return the best one, loaded, with the report. `settings` (ExportSettings)
    is the export this serves: its range (unless `frame_range` is given) and its size, which
    bounds the time spent here to 10% of it."""
    import time

    from .core.auto_method import choose_method, planned_pairs

    # Importing torch (about 2 s, once per process; the window has it already) is start-up, not
    # Auto: `flow` and the networks need it, and an export with them pays it outside its own time.
    import torch  # noqa: F401

    started = time.perf_counter()
    if settings is not None and frame_range is None:
        frame_range = settings.frame_range
    pairs = planned_pairs(source, settings) if settings is not None else None
    loader = load or (lambda c: load_interpolator(c.method, weights=c.weights, device=device))
    choices = list(candidates) if candidates is not None else available_methods()
    # the race tries the classical methods first (`flow` leads: its time sets a fair budget; a
    # cross-fade leading would shrink it to nothing), the networks after: they cost more
    choices.sort(key=lambda c: c.weights is not None or c.method in _ARCH_OF_METHOD)
    return choose_method(
        source,
        choices,
        loader,
        frame_range,
        export_pairs=pairs,
        cache=cache if cache is not None else default_cache(),
        progress=progress,
        cancel=cancel,
        started=started,
    )
