"""Training: configuration, the trainer and the results registry of runs."""

from fernb.train.config import TrainConfig
from fernb.train.trainer import Run, fit, list_runs, load_run, predict, resolve_device, split_arrays, teacher_distributions

__all__ = ["TrainConfig", "Run", "fit", "list_runs", "load_run", "predict", "resolve_device", "split_arrays",
           "teacher_distributions"]
