"""vfi-desktop: make in-between frames with a small neural network you can inspect and retrain."""

import os

# OpenMP threads that spin while they wait fight everything else on a busy 2-core machine: with
# the default policy one 2-thread torch op took 3.6 ms instead of 0.02 ms while other work ran,
# and a 720p U-Net in-between 889 ms instead of 420 ms. Sleeping waiters cost nothing measurable
# on an idle machine. Must be set before torch is first imported (every entry point imports
# this package first).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
