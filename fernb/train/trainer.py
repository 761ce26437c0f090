"""The trainer: ``fit(cfg)`` is a thin entry over :class:`Trainer`, whose steps are methods.

``prepare_data`` (the run's :class:`~fernb.train.config.DataSpec`, its folder, splits and image store) →
``build`` (model, objective, loaders, precision) → ``start_stage`` (trainable parameters, optimiser, schedule, the
step strategy: plain or SAM) → ``resume`` → per epoch ``train_epoch``, ``evaluate``, ``end_epoch`` (schedule, early
stopping, checkpoint, callbacks) → ``finish`` (the chosen weights on the test split). The training state is a
dataclass saved in every epoch's checkpoint, so an interrupted run resumes exactly where it stopped and ends with the
same weights as an uninterrupted one.

A run folder holds ``config.json``, ``history.jsonl``, ``checkpoint.pt`` (every epoch), ``best.pt``, and when finished
``model.pt``, ``metrics.json`` (with the confusion matrix), ``test_probs.npy`` and ``status = done``. Asking again
for a finished configuration returns the stored run.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from fernb import paths
from fernb.data import loader as _loader
from fernb.data.loader import BatchAugment, BatchLoader
from fernb.data.store import ImageStore
from fernb.eval.metrics import classification_report, mean_nll
from fernb.models import create
from fernb.progress import progress_bar
from fernb.train.callbacks import Callback
from fernb.train.config import DataSpec, TrainConfig
from fernb.train.losses import build_loss
from fernb.train.run import Run, input_norm, labels_sha, list_runs, load_run, predict, run_dir, split_indices
from fernb.train.runlock import RunLock
from fernb.train.strategies import Distributed, Precision, Stages, build_optimizer, build_scheduler, make_step
from fernb.train.strategies import head_parameters, resolve_device
from fernb.train.weighting import class_weights

__all__ = ["Trainer", "TrainState", "fit", "Run", "load_run", "list_runs", "predict", "resolve_device", "run_dir",
           "head_parameters"]


@dataclass
class TrainState:
    """Where training stands; saved in every checkpoint. ``epoch`` counts finished epochs over both stages."""

    epoch: int = 0
    stage: int = 2
    stage_start: int = 0
    bad_epochs: int = 0
    stage_best: float = -float("inf")
    best: float = -float("inf")
    stop: bool = False
    history: list = field(default_factory=list)

    def flags(self) -> dict:
        d = asdict(self)
        d.pop("epoch"), d.pop("history")
        return d


WARM_STEPS = 3
"""Steps of each epoch left out of its steady-state throughput (``steady_images_per_s`` in the history): the first
batches pay for warm-up (allocations, the autotuner's first steps, the loader's start)."""
POSTFIX_EVERY = 10
"""A shown progress bar refreshes its running loss and accuracy every this many steps (each read waits for the
device)."""


def _rng_state():
    np_state = np.random.get_state()
    return {"torch": torch.get_rng_state(), "numpy": np_state[1].tolist(), "numpy_pos": int(np_state[2]),
            "python": random.getstate()[1], "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []}


def _set_rng_state(s):
    torch.set_rng_state(s["torch"])
    np.random.set_state(("MT19937", np.array(s["numpy"], dtype=np.uint32), s["numpy_pos"], 0, 0.0))
    random.setstate((3, tuple(s["python"]), None))
    if s["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(s["cuda"])


def _atomic_save(obj, path: Path):
    tmp = path.with_suffix(".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def _check_labels(labels, n: int, num_classes: int = 7) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.shape != (n,):
        raise ValueError(f"labels= must hold one label per record ({n}), got shape {labels.shape}")
    if labels.dtype.kind not in "iu":
        raise ValueError(f"labels= must be integer class ids, got dtype {labels.dtype}")
    bad = np.flatnonzero((labels < 0) | (labels >= num_classes))
    if len(bad):
        raise ValueError(f"labels= at record {bad[0]} is {labels[bad[0]]}; expected 0..{num_classes - 1}")
    return labels.astype(np.int64)


def _teacher_fingerprint(cfg: TrainConfig) -> str:
    """External data an objective reads joins the run key by content (a teacher's distributions)."""
    if cfg.loss != "kl_teacher":
        return ""
    path = Path(cfg.loss_kwargs["teacher"])
    if not path.exists():
        raise ValueError(f"loss_kwargs['teacher']={str(path)!r} does not exist; make it with "
                         f"fernb.papers.lfer_ldl.teacher_distributions(run, path)")
    return ":teacher=" + hashlib.sha256(path.read_bytes()).hexdigest()[:12]


class _Forward(nn.Module):
    """What the objective consumes: the logits, or ``forward_aux``'s dict. A module holding the model and the
    objective, so DDP wraps the call the gradient flows through and averages the objective's parameters (class
    centres) too."""

    def __init__(self, model, loss_fn, aux: bool):
        super().__init__()
        self.model, self.loss_fn, self.aux = model, loss_fn, aux

    def forward(self, x):
        return self.model.forward_aux(x) if self.aux else self.model(x)


def _probe_aux(model, cfg: TrainConfig, loss_cls, dev):
    """Probe ``forward_aux`` once on two blank images: the objective's inputs exist (a clear error before training
    rather than a KeyError inside it) and the embedding's width sizes the class centres."""
    if not loss_cls.needs_aux:
        return None
    if not hasattr(model, "forward_aux"):
        raise ValueError(f"loss={cfg.loss!r} needs the model's embedding (forward_aux); model {cfg.model!r} has none. "
                         f"Use a model written for it (e.g. scn, dacl, island_cnn, adcorre_resnet50) or loss='ce'")
    model.eval()
    with torch.no_grad():
        out = model.forward_aux(torch.zeros(2, cfg.in_chans, cfg.img_size, cfg.img_size, device=dev))
    model.train()
    missing = [k for k in loss_cls.aux_keys if k not in out]
    if missing:
        raise ValueError(f"loss={cfg.loss!r} needs {missing} from the model's forward_aux; model {cfg.model!r} gives "
                         f"{sorted(out)} (use the model the method defines, e.g. "
                         f"{'scn' if cfg.loss == 'scn' else 'dacl'})")
    return out


class Trainer:
    """Train one configuration into its run folder (see the module docstring for the steps).

    ``labels`` replaces the dataset's published labels (one per record), e.g. labels re-aggregated from the crowd's
    votes (InFER++ Alg. 2 trains on the EM labels): part of the run's key, stored as ``labels.npy``, and the test
    metrics are computed against them. ``dataset_options`` go to :func:`fernb.data.load_dataset` (``lenient``,
    ``detector``, ``variant`` …) and are recorded in the run's :class:`DataSpec`. ``callbacks`` see every epoch.
    ``report`` is the folder of the chapter this run serves (``Chapter.report_dir``): the last step,
    :meth:`log`, notes the run there, whether it was trained now or found stored.

    Under ``torchrun --nproc_per_node N -m fernb.train CONFIG`` every process sees the same shuffled batches and
    takes its part of each, gradients are averaged, and process 0 alone writes the run folder. Exact resume is
    guaranteed for single-process runs.

    One process at a time trains a run folder (:mod:`fernb.train.runlock`, held from ``prepare_data`` to
    ``finish``): another process asking for the same run waits for it and then reuses the finished run, or after
    ``lock_timeout`` seconds (the attribute; default ``$FERNB_RUN_LOCK_TIMEOUT``, else no limit) fails naming the
    holder's pid. The lock of a killed holder is taken over: the run resumes from its checkpoint.
    """

    lock_timeout: float | None = None

    def __init__(self, cfg: TrainConfig | dict, data_root=None, device="auto", runs_root=None, progress: bool = True,
                 labels=None, dataset_options: dict | None = None, callbacks=(), report=None):
        self.cfg = TrainConfig.from_dict(cfg) if isinstance(cfg, dict) else cfg
        self.report = report
        self.dist = Distributed()
        self.dev = self.dist.device(device)
        self.data_root, self.runs_root = data_root, runs_root
        self.progress = progress and self.dist.main
        self.labels_override, self.dataset_options = labels, dict(dataset_options or {})
        self.callbacks: list[Callback] = list(callbacks)
        self.stages = Stages(self.cfg.freeze_epochs, self.cfg.epochs)
        self.state = TrainState(stage=self.stages.first)
        self._lock = None
        self.prefetch = None  # the loaders' prefetch depth (None: their default); set by fernb.data.loader.CPU_LOADER in fit

    # ---- data ---------------------------------------------------------------------------------------------------
    def locate(self):
        """Load the data and key the run folder (``self.folder``) without training or writing anything: the folder
        tells whether this configuration is finished, begun or new (a benchmark's resumption reads it)."""
        cfg = self.cfg
        spec = DataSpec.of(cfg, self.data_root, self.dataset_options)
        ds = spec.load(progress=self.progress)
        fingerprint = ds.fingerprint + _teacher_fingerprint(cfg)
        labels = ds.records["label"].to_numpy()
        if self.labels_override is not None:
            labels = _check_labels(self.labels_override, len(ds.records), ds.num_classes)
            spec = DataSpec(**{**spec.__dict__, "labels_sha": labels_sha(labels)})
            fingerprint += ":labels=" + spec.labels_sha
        self.folder = run_dir(cfg, fingerprint + spec.key_suffix(), self.runs_root)
        self.ds, self.spec, self.labels, self.num_classes = ds, spec, labels, ds.num_classes
        return ds, spec, labels

    def prepare_data(self) -> bool:
        """Load the data, key the run folder; ``False`` when the run is already finished (nothing to do)."""
        cfg, dist = self.cfg, self.dist
        if not dist.main:
            dist.barrier()  # process 0 generates SynthFER and builds the image store first
        ds, spec, labels = self.locate()
        paths.ensure_writable(self.folder, "runs_root")
        if dist.main:
            self.lock_run()
        if (self.folder / "status").exists() and (self.folder / "status").read_text().strip() == "done":
            self.release_run()
            if dist.main:
                dist.barrier()
            return False
        self.train_idx, self.val_idx, self.test_idx = split_indices(ds, labels, cfg)
        if len(self.train_idx) == 0 or len(self.test_idx) == 0:
            raise ValueError(f"dataset {cfg.dataset!r} needs non-empty train and test splits "
                             f"(train={len(self.train_idx)}, test={len(self.test_idx)})")
        self.store = ImageStore.build(ds, cfg.img_size, 3 if cfg.in_chans == 3 else 1, progress=self.progress)
        if dist.main:
            if self.labels_override is not None:
                np.save(self.folder / "labels.npy", labels)
            (self.folder / "config.json").write_text(json.dumps(
                {"config": cfg.to_dict(), "data": spec.to_dict(), "dataset_fingerprint": ds.fingerprint,
                 "num_classes": self.num_classes}, indent=1))
            dist.barrier()
        return True

    def lock_run(self):
        """Own the run folder: wait while another process trains it (up to ``lock_timeout`` seconds)."""
        timeout, env = self.lock_timeout, os.environ.get("FERNB_RUN_LOCK_TIMEOUT")
        if timeout is None and env:
            try:
                timeout = float(env)
            except ValueError:
                raise ValueError(f"FERNB_RUN_LOCK_TIMEOUT={env!r}: expected seconds (a number)") from None

        def waiting(holder):
            if self.progress:
                print(f"{self.folder.name}: {holder} is training this run; waiting for it", flush=True)
        self._lock = RunLock(self.folder, timeout, on_wait=waiting).acquire()

    def release_run(self):
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    # ---- model, objective, loaders ------------------------------------------------------------------------------
    def build(self):
        cfg, dev = self.cfg, self.dev
        from fernb.train.losses import objective_class

        torch.manual_seed(cfg.seed)
        np.random.seed(cfg.seed)
        random.seed(cfg.seed)
        path = self.folder / "checkpoint.pt"
        self._ck = torch.load(path, map_location=dev, weights_only=True) if path.exists() else None
        from fernb.train.analogues import build_kwargs

        kwargs = build_kwargs(cfg.model, cfg.img_size, cfg.model_kwargs)  # an analogue start: made on first use
        model = create(cfg.model, num_classes=self.num_classes, in_chans=cfg.in_chans, img_size=cfg.img_size,
                       **kwargs).to(dev)
        self.precision = self._precision(model)
        self.model = self.precision.prepare(model)
        probe = _probe_aux(self.model, cfg, objective_class(cfg.loss), dev)
        self.class_counts = np.bincount(self.labels[self.train_idx], minlength=self.num_classes)
        weights = class_weights(self.class_counts, cfg.class_weighting)
        embed_dim = int(probe["embedding"].flatten(1).shape[1]) if probe is not None else None
        self.loss_fn = build_loss(cfg.loss, len(self.store), self.num_classes, weight=weights,
                                  label_smoothing=cfg.label_smoothing, embed_dim=embed_dim,
                                  class_weighting=cfg.class_weighting, **cfg.loss_kwargs).to(dev)
        if self.dist.world > 1 and self.loss_fn.per_sample_state:
            raise ValueError(f"loss={cfg.loss!r} keeps a per-sample memory that data-parallel processes do not "
                             f"share; train it in one process (without torchrun)")
        self.train_loader, self.eval_loader = self._loaders()
        self.scaler = self.precision.scaler()

    def _precision(self, model) -> Precision:
        """A resumed run keeps the setting it started with; otherwise forced, measured or the device default. The
        choice is written into ``config.json`` beside the configuration."""
        recorded = (self._ck or {}).get("precision")
        if recorded:
            p = Precision.named(recorded["precision"], recorded["channels_last"], self.dev, "resumed")
        elif self._ck is not None:  # a checkpoint from before precisions were recorded: the default it ran with
            p = Precision.default(self.dev, self.cfg.sam_rho > 0)
            p.source = "resumed"
        else:
            cfg = self.cfg
            per_epoch = max(1, len(self.train_idx) // cfg.batch_size)
            if cfg.max_batches_per_epoch is not None:
                per_epoch = min(per_epoch, cfg.max_batches_per_epoch)
            planned = per_epoch * (cfg.epochs + cfg.freeze_epochs)
            p = Precision.resolve(cfg, self.dev, model, self.num_classes, self.dist.world, planned)
        if self.dist.main:
            record = json.loads((self.folder / "config.json").read_text())
            record["precision"] = p.record()
            (self.folder / "config.json").write_text(json.dumps(record, indent=1))
        return p

    def _loaders(self):
        cfg = self.cfg
        aug = BatchAugment(cfg.img_size, scale=cfg.aug_scale, ratio=cfg.aug_ratio, flip=cfg.aug_flip,
                           brightness=cfg.aug_brightness, contrast=cfg.aug_contrast, rotation=cfg.aug_rotation,
                           shift=cfg.aug_shift, zoom=cfg.aug_zoom)
        mean, std = input_norm(cfg)
        common = dict(in_chans=cfg.in_chans, device=self.dev, mean=mean, std=std,
                      channels_last=self.precision.channels_last,  # batches arrive in the model's layout
                      **({} if self.prefetch is None else {"prefetch": self.prefetch}))
        sample_weights = None
        if cfg.sampler == "balanced":  # every class equally likely per draw
            sample_weights = 1.0 / self.class_counts[self.labels[self.train_idx]]
        train = BatchLoader(self.store, self.train_idx, self.labels, cfg.batch_size, shuffle=True, augment=aug,
                            seed=cfg.seed, drop_last=len(self.train_idx) > cfg.batch_size,
                            with_index=self.loss_fn.needs_rows, sample_weights=sample_weights,
                            shard=(self.dist.rank, self.dist.world), **common)

        def on(idx):  # the store is built once; evaluation batches are large and unaugmented
            return BatchLoader(self.store, idx, self.labels, max(cfg.batch_size, 256), **common)
        return train, on

    def start_stage(self):
        """Trainable parameters, the DDP wrapper, a fresh optimiser and schedule, and the step strategy."""
        self.stages.apply(self.model, self.state.stage)
        self.net = self.dist.wrap(_Forward(self.model, self.loss_fn, self.loss_fn.needs_aux), self.dev)
        self.opt = build_optimizer(self.cfg, self.model, self.loss_fn)
        self.sched = build_scheduler(self.cfg, self.opt, self.stages.length(self.state.stage))
        self.step = make_step(self.opt, self.scaler)

    # ---- checkpoints ---------------------------------------------------------------------------------------------
    def resume(self):
        """Continue from ``checkpoint.pt`` when one exists (the same configuration, or an error)."""
        path, ck = self.folder / "checkpoint.pt", self._ck
        if ck is not None:
            if ck.get("config_key") != self.cfg.key():
                raise ValueError(f"{path} belongs to another configuration; remove it or the folder {self.folder}")
            self.model.load_state_dict(ck["model"])
            flags = ck.get("state", {"best": ck.get("best_score", -float("inf"))})
            self.state = TrainState(**{**self.state.flags(), **flags}, epoch=ck["epoch"] + 1, history=ck["history"])
        self.start_stage()
        if ck is not None:
            self.opt.load_state_dict(ck["optimizer"])
            if self.sched is not None:
                self.sched.load_state_dict(ck["scheduler"])
            self.scaler.load_state_dict(ck["scaler"])
            if "loss" in ck:  # per-sample state (ELR's targets, SCN's relabels) and class centres
                self.loss_fn.load_state_dict(ck["loss"])
            _set_rng_state(ck["rng"])
            if self.progress:
                print(f"resuming {self.folder.name} at epoch {self.state.epoch + 1}")
        if self.dist.main:
            (self.folder / "history.jsonl").write_text("".join(json.dumps(h) + "\n" for h in self.state.history))

    def checkpoint(self, rec: dict, score: float):
        """Process 0 writes ``best.pt`` when the score improved, then the checkpoint (the truth), then the history
        line (rewritten from the checkpoint on resume)."""
        if not self.dist.main:
            return
        s = self.state
        if score > s.best:
            _atomic_save(self.model.state_dict(), self.folder / "best.pt")
        _atomic_save({"model": self.model.state_dict(), "optimizer": self.opt.state_dict(),
                      "scheduler": self.sched.state_dict() if self.sched is not None else None,
                      "scaler": self.scaler.state_dict(), "rng": _rng_state(), "loss": self.loss_fn.state_dict(),
                      "epoch": s.epoch, "history": s.history, "state": {**s.flags(), "best": max(s.best, score)},
                      "config_key": self.cfg.key(),
                      "precision": {"precision": self.precision.name, "channels_last": self.precision.channels_last}},
                     self.folder / "checkpoint.pt")
        with open(self.folder / "history.jsonl", "a") as f:
            f.write(json.dumps(rec) + "\n")

    # ---- the loop --------------------------------------------------------------------------------------------------
    @property
    def finished(self) -> bool:
        s = self.state
        return s.stop or (s.stage == 2 and s.epoch >= s.stage_start + self.cfg.epochs)

    def stage_over(self) -> bool:
        s = self.state
        return s.stop or s.epoch >= s.stage_start + self.stages.length(s.stage)

    def next_stage(self):
        """Stage 2 of BTFER §III-F: the best head-only weights, everything trainable, a fresh optimiser."""
        if (self.folder / "best.pt").exists():
            self.model.load_state_dict(torch.load(self.folder / "best.pt", map_location=self.dev, weights_only=True))
        self.state.stage, self.state.stage_start, self.state.bad_epochs = 2, self.state.epoch, 0
        self.state.stage_best, self.state.stop = -float("inf"), False
        self.start_stage()

    def forward_loss(self, x, y, rows):
        with self.precision.autocast():
            out = self.net(self.precision.batch(x))
            return self.loss_fn(out, y, rows), (out["logits"] if isinstance(out, dict) else out)

    def train_epoch(self) -> dict:
        cfg, epoch = self.cfg, self.state.epoch
        self.model.train()
        Stages.frozen_bn_eval(self.model)
        self.loss_fn.set_epoch(epoch)
        self.train_loader.set_epoch(epoch)
        n_batches = len(self.train_loader)
        if cfg.max_batches_per_epoch is not None:
            n_batches = min(n_batches, cfg.max_batches_per_epoch)
        stage = f" (stage {self.state.stage})" if cfg.freeze_epochs else ""
        bar = progress_bar(total=n_batches, desc=f"epoch {epoch + 1}{stage}", unit="batch", enabled=self.progress,
                           leave=False)
        # running sums stay on the device: no host synchronisation per step (the bar reads them every
        # POSTFIX_EVERY steps, and only when it is shown)
        dev = self.dev
        tot_loss = torch.zeros((), dtype=torch.float32 if dev.type == "mps" else torch.float64, device=dev)
        tot_correct = torch.zeros((), dtype=torch.long, device=dev)
        predicted, terms, tot_n, wait = torch.zeros(self.num_classes, dtype=torch.long, device=dev), {}, 0, 0.0
        t0 = t_wait = time.perf_counter()
        t_warm, n_warm = None, 0  # the steady state: from the end of the WARM_STEPS-th step, loader included
        for i, (x, y, *rows) in enumerate(self.train_loader):
            if i >= n_batches:
                break
            if i == WARM_STEPS:
                t_warm, n_warm = t_wait, tot_n
            wait += time.perf_counter() - t_wait
            self.opt.zero_grad(set_to_none=True)
            loss, logits = self.step(self.forward_loss, self.model, self.loss_fn, x, y, rows[0] if rows else None)
            pred = logits.detach().argmax(1)
            tot_loss += loss.detach().to(tot_loss.dtype) * len(y)
            tot_correct += (pred == y).sum()
            predicted += torch.bincount(pred, minlength=self.num_classes)[:self.num_classes]
            for k, v in getattr(self.loss_fn, "terms", {}).items():
                terms[k] = terms.get(k, 0.0) + v * len(y)
            tot_n += len(y)
            if not bar.disable and (i % POSTFIX_EVERY == 0 or i == n_batches - 1):
                bar.set_postfix(loss=f"{tot_loss.item() / tot_n:.3f}", acc=f"{tot_correct.item() / tot_n:.3f}")
            bar.update()
            t_wait = time.perf_counter()
        bar.close()
        end = time.perf_counter()
        seconds = end - t0
        steady = (tot_n - n_warm) / (end - t_warm) if t_warm is not None and end > t_warm else None
        tot_loss, tot_correct = float(tot_loss), int(tot_correct)
        rec = {"epoch": epoch + 1, "train_loss": tot_loss / max(tot_n, 1), "train_acc": tot_correct / max(tot_n, 1),
               "lr": self.opt.param_groups[0]["lr"], "seconds": seconds, "data_wait_share": wait / max(seconds, 1e-9),
               "steady_images_per_s": steady,
               "top_class_share": predicted.max().item() / max(tot_n, 1),
               **{k: v / max(tot_n, 1) for k, v in terms.items()}}
        if cfg.freeze_epochs:
            rec["stage"] = self.state.stage
        return rec

    def evaluate(self, rec: dict):
        """Validation accuracy and log loss (process 0's BatchNorm statistics in every process)."""
        self.dist.sync_buffers(self.model)
        if len(self.val_idx):
            vp = predict(self.model, self.eval_loader(self.val_idx), self.precision.autocast)
            rec["val_acc"] = float((vp.argmax(1) == self.labels[self.val_idx]).mean())
            rec["val_loss"] = mean_nll(vp, self.labels[self.val_idx])

    def end_epoch(self, rec: dict):
        """Schedule, early stopping, checkpoint, callbacks."""
        cfg, s = self.cfg, self.state
        score = -rec["val_loss"] if cfg.monitor == "val_loss" else rec.get("val_acc", -rec["train_loss"])
        if self.sched is not None:
            self.sched.step(score) if cfg.scheduler == "plateau" else self.sched.step()
        s.history.append(rec)
        if score > s.stage_best:
            s.stage_best, s.bad_epochs = score, 0
        else:
            s.bad_epochs += 1
        if cfg.early_stop_patience and s.bad_epochs >= cfg.early_stop_patience:
            s.stop = rec["early_stop"] = True
        self.checkpoint(rec, score)
        s.best = max(s.best, score)
        if self.progress:
            print(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in rec.items()))
        s.epoch += 1
        for cb in self.callbacks:
            cb.on_epoch_end(self, rec)

    def finish(self) -> Run:
        """Evaluate the weights chosen on validation (the last epoch's when there is no validation split): model.pt
        holds exactly the weights metrics.json describes, checkpoint.pt the last epoch's."""
        if not self.dist.main:
            self.dist.barrier()  # process 0 evaluates and writes the run
            return load_run(self.folder)
        folder = self.folder
        if len(self.val_idx) and (folder / "best.pt").exists():
            self.model.load_state_dict(torch.load(folder / "best.pt", map_location=self.dev, weights_only=True))
        _atomic_save(self.model.state_dict(), folder / "model.pt")
        probs = predict(self.model, self.eval_loader(self.test_idx), self.precision.autocast)
        np.save(folder / "test_probs.npy", probs.astype(np.float32))
        (folder / "metrics.json").write_text(json.dumps(self.test_metrics(probs), indent=1))
        (folder / "status").write_text("done\n")
        self.release_run()
        self.dist.barrier()
        return load_run(folder)

    def test_metrics(self, probs: np.ndarray) -> dict:
        rec = self.ds.records.iloc[self.test_idx]
        groups = {c: rec[c].to_numpy() for c in ("age_group", "gender") if c in rec}
        m = classification_report(self.labels[self.test_idx], probs, groups, num_classes=self.num_classes,
                                  class_names=getattr(self.ds, "class_names", None))
        if "true_label" in rec:  # SynthFER knows the latent truth behind the crowd's labels
            m["accuracy_vs_true_label"] = float((probs.argmax(1) == rec["true_label"].to_numpy()).mean())
        history = self.state.history
        m.update(train_seconds=float(sum(h["seconds"] for h in history)), epochs_run=len(history),
                 n_train=int(len(self.train_idx)), n_val=int(len(self.val_idx)), device=str(self.dev),
                 world_size=self.dist.world, precision=self.precision.name,
                 channels_last=self.precision.channels_last, precision_source=self.precision.source)
        return m

    def log(self, run: Run) -> Run:
        """Note the run in the chapter's report (``report``), so ``--record`` keeps its metrics and history."""
        from fernb import results

        if self.report is not None and self.dist.main:
            results.log_run(Path(self.report), run.dir)
        return run

    def fit(self) -> Run:
        return self.log(self._fit())

    def _fit(self) -> Run:
        threads = torch.get_num_threads()
        compute, self.prefetch = _loader.cpu_policy(self.dev, threads)  # fernb.data.loader.CPU_LOADER
        torch.set_num_threads(compute)
        try:
            return self._train()
        finally:  # after an error the next process takes the folder over and resumes from the checkpoint
            torch.set_num_threads(threads)
            self.release_run()

    def _train(self) -> Run:
        if not self.prepare_data():
            return load_run(self.folder)
        self.build()
        self.resume()
        while True:
            if self.stage_over():
                if self.state.stage == 1:
                    self.next_stage()
                    continue
                break
            rec = self.train_epoch()
            self.evaluate(rec)
            self.end_epoch(rec)
        return self.finish()


def fit(cfg: TrainConfig | dict, data_root=None, device="auto", runs_root=None, progress: bool = True, labels=None,
        dataset_options: dict | None = None, callbacks=(), report=None) -> Run:
    """Train ``cfg`` (or return its stored run); see :class:`Trainer` for the arguments."""
    return Trainer(cfg, data_root, device, runs_root, progress, labels, dataset_options, callbacks, report).fit()
