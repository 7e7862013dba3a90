"""The neural methods: a trained network (from a safetensors file) behind the Interpolator interface.

It lives in model/ because it needs both the networks and the core's motion estimation
(layers point one way: api -> model -> core).
"""

from __future__ import annotations

import numpy as np
import torch

from ..core import motion
from ..core.errors import VfiError
from ..core.methods.base import Interpolator


def pick_device(device: str = "auto") -> torch.device:
    """"auto": the GPU when torch sees one, else the CPU. A device asked for by name must exist."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except RuntimeError:
        raise VfiError(f"unknown device '{device}' (use auto, cpu or cuda)") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise VfiError(f"device '{device}': this torch sees no CUDA GPU (use auto or cpu)")
    if dev.type not in ("cpu", "cuda"):
        raise VfiError(f"device '{device}' is not supported (use auto, cpu or cuda)")
    return dev


def pad_to_multiple(frame: np.ndarray, multiple: int) -> np.ndarray:
    """Replicate edges so both sides are multiples of `multiple` (cropped back after inference)."""
    h, w = frame.shape[:2]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph == 0 and pw == 0:
        return frame
    return np.pad(frame, ((0, ph), (0, pw), (0, 0)), mode="edge")


def to_tensor(frame: np.ndarray, device: torch.device) -> torch.Tensor:
    # Planar (N,C,H,W-contiguous) from the start: every full-resolution op after it is quicker.
    planar = np.ascontiguousarray(frame.transpose(2, 0, 1))
    return torch.from_numpy(planar)[None].to(device=device, dtype=torch.float32).div_(255.0)


def unpadded_flows(frame0: np.ndarray, frame1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The shared motion (core.motion.motion_flows) on the frames as they are: padding first
    changes what DIS finds (up to 0.4 dB on a triplet)."""
    return motion.motion_flows(frame0, frame1)


def padded_flows(frame0: np.ndarray, frame1: np.ndarray, padded_size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """unpadded_flows, then padded like the frames (edges replicated)."""
    h, w = frame0.shape[:2]
    pad = ((0, padded_size[0] - h), (0, padded_size[1] - w), (0, 0))
    f01, f10 = (np.pad(f, pad, mode="edge") for f in unpadded_flows(frame0, frame1))
    return f01, f10


def flow_tensor(flow: np.ndarray, device: torch.device) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(flow.transpose(2, 0, 1)))[None].to(device)


def to_image(tensor: torch.Tensor) -> np.ndarray:
    return (tensor[0].clamp(0, 1) * 255.0 + 0.5).to(torch.uint8).permute(1, 2, 0).cpu().numpy()


class NeuralInterpolator(Interpolator):
    """FusionUNet: on a CPU the OpenCV pipeline (fusion_inference.py), on a GPU the network's own
    forward pass. DirectUNet: its forward pass."""

    def __init__(self, model: torch.nn.Module, name: str, device: str = "auto", weights_path=None, meta=None) -> None:
        from .fusion_unet import FusionUNet

        self.torch_device = pick_device(device)
        self.device = self.torch_device.type
        self.model = model.to(self.torch_device).eval()
        self.name = name
        self.weights_path = weights_path
        self.meta = meta or {}
        self.uses_flows = isinstance(model, FusionUNet)  # DIS flows both ways
        self._fast = None

    def _pipeline(self):
        from .fusion_inference import FusionPipeline

        if self._fast is None:
            self._fast = FusionPipeline(self.model)
        return self._fast

    def begin_batch(self) -> None:
        self._pipeline().use_traced_graph = True

    def prepare(self, frame0: np.ndarray, frame1: np.ndarray):
        if self.uses_flows and self.torch_device.type == "cpu":
            return self._pipeline().prepare(frame0, frame1, unpadded_flows(frame0, frame1))
        h, w = frame0.shape[:2]
        kwargs: dict = {}
        multiple = self.model.multiple
        if self.uses_flows:  # the same grid as the CPU pipeline: the same picture on either device
            kwargs["scale"] = self.model.grid_scale(h, w)
            multiple = self.model.multiple_at(kwargs["scale"])
        p0, p1 = pad_to_multiple(frame0, multiple), pad_to_multiple(frame1, multiple)
        if self.uses_flows:
            f01, f10 = (flow_tensor(f, self.torch_device) for f in padded_flows(frame0, frame1, p0.shape[:2]))
            kwargs.update(flow01=f01, flow10=f10)
        with torch.inference_mode():
            t0, t1 = to_tensor(p0, self.torch_device), to_tensor(p1, self.torch_device)
        return (h, w), t0, t1, kwargs

    def synthesize(self, state, t: float) -> np.ndarray:
        if isinstance(state, dict):  # the CPU pipeline's state
            return self._pipeline().synthesize(state, t)
        (h, w), img0, img1, kwargs = state
        with torch.inference_mode():
            tt = torch.tensor([t], dtype=torch.float32, device=self.torch_device)
            out = self.model(img0, img1, tt, **kwargs)["pred"]
        return to_image(out)[:h, :w]
