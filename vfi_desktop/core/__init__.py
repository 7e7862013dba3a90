"""The Qt-free engine: video I/O, interpolation methods, retiming, export, metrics.

Nothing under this package may import Qt or vfi_desktop.gui (checked by tests/test_architecture.py).
"""
