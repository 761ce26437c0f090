"""Training: configuration, the trainer and the run folders it writes (FERNB_HOME/runs)."""

from fernb.train.callbacks import Callback, StopAfterEpoch
from fernb.train.config import DataSpec, TrainConfig
from fernb.train.run import Run, list_runs, load_run, predict
from fernb.train.strategies import resolve_device
from fernb.train.trainer import Trainer, TrainState, fit

__all__ = ["Callback", "DataSpec", "Run", "StopAfterEpoch", "TrainConfig", "TrainState", "Trainer", "fit",
           "list_runs", "load_run", "predict", "resolve_device"]
