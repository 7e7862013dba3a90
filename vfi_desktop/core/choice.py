"""Which interpolator to use: a method name (`api.METHODS`), plus a weights file for fine-tuned
models, or "auto" (pick per clip with a sampled self-check, see `core/auto_method.py`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

AUTO = "auto"


@dataclass(frozen=True)
class MethodChoice:
    """One entry of a method menu or of `--methods`: what the user sees (`label`), the core method
    name and, for fine-tuned models, the weights file."""

    label: str
    method: str
    weights: Optional[str] = None

    @property
    def is_auto(self) -> bool:
        return self.method == AUTO
