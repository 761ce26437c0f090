"""Hooks into the :class:`~fernb.train.trainer.Trainer`'s steps. A callback overrides what it needs; the trainer
calls ``on_epoch_end(trainer, record)`` after each epoch's checkpoint is written."""

from __future__ import annotations


class Callback:
    def on_epoch_end(self, trainer, record: dict):
        pass


class StopAfterEpoch(Callback):
    """Ends the process's work after ``epoch`` epochs, as a crash would, leaving a resumable run (used to test
    resume). Raises ``KeyboardInterrupt`` unless the run has finished anyway."""

    def __init__(self, epoch: int):
        self.epoch = epoch

    def on_epoch_end(self, trainer, record: dict):
        if trainer.state.epoch >= self.epoch and not trainer.finished:
            raise KeyboardInterrupt(f"stopped after epoch {trainer.state.epoch} as asked")
