"""The Fine-tune dock (`panel.TrainingPanel`) and its parts: clip analysis, settings form, the
training child process, live charts, before/after view and the user's model library.

The recipe it runs (presets, the `train` command line) is Qt-free: `vfi_desktop.core.finetune`.
"""
