"""Interpolation methods. Each turns two RGB frames and a time t into the frame between them."""

from .base import Interpolator

__all__ = ["Interpolator"]
