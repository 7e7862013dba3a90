"""vfi-desktop: make in-between frames with a small neural network you can inspect and retrain."""

__version__ = "0.1.0"
