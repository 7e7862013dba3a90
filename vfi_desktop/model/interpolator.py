"""The neural methods: a trained network (from a safetensors file) behind the Interpolator interface.

It lives in model/ because it needs both the networks and the core's motion estimation
(layers point one way: api -> model -> core).
"""

from __future__ import annotations

import cv2
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


def pad_to(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Replicate edges out to (H, W) (cropped back after inference). cv2.copyMakeBorder: 2.5x
    quicker than np.pad at 720p."""
    h, w = image.shape[:2]
    if (h, w) == tuple(size):
        return image
    return cv2.copyMakeBorder(np.ascontiguousarray(image), 0, size[0] - h, 0, size[1] - w, cv2.BORDER_REPLICATE)


def pad_to_multiple(frame: np.ndarray, multiple: int) -> np.ndarray:
    """Replicate edges so both sides are multiples of `multiple`."""
    h, w = frame.shape[:2]
    return pad_to(frame, (h + (-h) % multiple, w + (-w) % multiple))


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
    f01, f10 = (pad_to(f, padded_size) for f in unpadded_flows(frame0, frame1))
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
        if self.uses_flows:  # the same grid as the CPU pipeline: the same picture on either device
            kwargs["scale"], size = self.model.inference_grid(h, w)
            p0, p1 = pad_to(frame0, size), pad_to(frame1, size)
            f01, f10 = (flow_tensor(f, self.torch_device) for f in padded_flows(frame0, frame1, size))
            kwargs.update(flow01=f01, flow10=f10)
        else:
            p0, p1 = pad_to_multiple(frame0, self.model.multiple), pad_to_multiple(frame1, self.model.multiple)
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
