"""Training: configuration, the trainer and the results registry of runs."""

from fernb.train.config import TrainConfig
from fernb.train.trainer import Run, fit, load_run, predict, resolve_device

__all__ = ["TrainConfig", "Run", "fit", "load_run", "predict", "resolve_device"]
