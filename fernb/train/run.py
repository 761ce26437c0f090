"""A run folder: what it holds, what it knows about its data, and the one inference loop. (The registry of run
folders is ``FERNB_HOME/runs``, found by :func:`run_dir` and listed by :func:`list_runs`; what chapters report and
record is :mod:`fernb.results`.)

A run folder (named by a hash of the configuration and the data) holds ``config.json`` (the
:class:`~fernb.train.config.TrainConfig`, the :class:`~fernb.train.config.DataSpec` it trained on and its class
count), ``history.jsonl``, ``checkpoint.pt``, ``model.pt``, ``metrics.json``, ``test_probs.npy``, ``labels.npy`` when
the labels were overridden, and ``status``. :class:`Run` rebuilds the run's exact data from that record, so
``run.predict("test")`` scores the images the trainer tested, at its resolution and normalisation, against its labels.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from fernb import paths
from fernb.train.config import DataSpec, TrainConfig


def input_norm(cfg: TrainConfig) -> tuple:
    """(mean, std) the model of ``cfg`` is fed with (:func:`fernb.models.registry.normalization`)."""
    from fernb.models.registry import normalization

    return normalization(cfg.model, cfg.model_kwargs.get("pretrained", False))


def split_indices(ds, labels: np.ndarray, cfg: TrainConfig):
    """(train, val, test) row indices as the trainer uses them: the dataset's own validation split when it has one
    (FER2013's PublicTest, the leakage protocols), otherwise a stratified ``val_share`` of train (seeded by
    ``cfg.seed``)."""
    if len(ds.split("val")):
        return ds.split("train"), ds.split("val"), ds.split("test")
    train = ds.split("train")
    if cfg.val_share == 0 or len(train) == 0:
        return train, np.array([], dtype=np.int64), ds.split("test")
    from sklearn.model_selection import train_test_split

    tr, va = train_test_split(train, test_size=cfg.val_share, random_state=cfg.seed, stratify=labels[train])
    return np.sort(tr), np.sort(va), ds.split("test")


@torch.no_grad()
def predict(model: nn.Module, loader, autocast=None, logits: bool = False) -> np.ndarray:
    """Softmax probabilities (or raw logits) of ``model`` over a loader, in its order: the one inference loop used
    by the trainer's evaluation, :meth:`Run.predict`, the noisy-label ranking and deployment checks. ``autocast``:
    an optional context-manager factory (the run's precision)."""
    import contextlib

    model.eval()
    out = []
    for x, *_ in loader:
        with (autocast() if autocast is not None else contextlib.nullcontext()):
            z = model(x).float()
        out.append((z if logits else torch.softmax(z, 1)).cpu())
    return torch.cat(out).numpy() if out else np.zeros((0, 0), np.float32)


def labels_sha(labels: np.ndarray) -> str:
    return hashlib.sha256(np.asarray(labels, np.int64).tobytes()).hexdigest()[:12]


@dataclass
class Run:
    """A finished (or stored) training run, able to rebuild the data it trained on."""

    dir: Path
    config: TrainConfig
    metrics: dict
    history: list
    data: DataSpec = None
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def _record(self) -> dict:
        return json.loads((self.dir / "config.json").read_text())

    @property
    def num_classes(self) -> int:
        return int(self._record().get("num_classes", 7))

    @property
    def informative(self) -> dict:
        """Whether this run learned anything on its test split (:func:`fernb.eval.metrics.informative`): at least
        three classes predicted and accuracy more than two points above the commonest class's share."""
        from fernb.eval.metrics import informative

        return informative(self.metrics["confusion_matrix"])

    @property
    def test_probs(self) -> np.ndarray:
        return np.load(self.dir / "test_probs.npy")

    def load_model(self, device="cpu") -> nn.Module:
        from fernb.models import create

        kwargs = {k: v for k, v in self.config.model_kwargs.items() if k != "pretrained"}  # model.pt holds them all
        model = create(self.config.model, num_classes=self.num_classes, in_chans=self.config.in_chans,
                       img_size=self.config.img_size, **kwargs)
        state = torch.load(self.dir / "model.pt", map_location=device, weights_only=True)
        model.load_state_dict(state)
        return model.to(device).eval()

    def dataset(self, data_root=None):
        """The dataset exactly as trained on: same source, options and fold (``data_root`` if the copy moved).
        Raises naming the path or option that cannot be found again."""
        if "ds" not in self._cache or data_root is not None:
            ds = self.data.load(data_root=data_root)
            if data_root is None and "dataset_fingerprint" in self._record() and ds.fingerprint != self._record()["dataset_fingerprint"]:
                raise ValueError(f"run {self.dir.name}: the data at {self.data.data_root or 'FERNB_HOME'} are not the "
                                 f"records this run trained on (fingerprint {ds.fingerprint} != "
                                 f"{self._record()['dataset_fingerprint']})")
            self._cache["ds"] = ds
        return self._cache["ds"]

    def labels(self) -> np.ndarray:
        """The labels trained and scored on: the ``labels=`` override when there was one, else the dataset's."""
        path = self.dir / "labels.npy"
        if path.exists():
            labels = np.load(path)
            if self.data.labels_sha and labels_sha(labels) != self.data.labels_sha:
                raise ValueError(f"{path} does not hold the labels this run trained on (hash mismatch)")
            return labels
        if self.data.labels_sha:
            raise FileNotFoundError(f"run {self.dir.name} trained on overridden labels but {path} is missing")
        return self.dataset().records["label"].to_numpy()

    def split(self, name: str) -> np.ndarray:
        """Row indices of ``train``/``val``/``test`` exactly as the trainer used them."""
        names = ("train", "val", "test")
        if name not in names:
            raise ValueError(f"unknown split {name!r}; expected one of {names}")
        return split_indices(self.dataset(), self.labels(), self.config)[names.index(name)]

    def rows(self, split_or_rows, limit: int | None = None, seed: int = 0, dataset=None) -> np.ndarray:
        """Record indices of a split (as trained), or given rows checked against the dataset's size."""
        if isinstance(split_or_rows, str):
            if dataset is not None:
                raise ValueError("a split name refers to the run's own data; give record rows with dataset=")
            rows = self.split(split_or_rows)
            if len(rows) == 0:
                raise ValueError(f"run {self.dir.name} has no {split_or_rows!r} split "
                                 f"(dataset {self.config.dataset!r})")
        else:
            rows = np.asarray(split_or_rows, dtype=np.int64)
            n = len((dataset if dataset is not None else self.dataset()).records)
            if rows.ndim != 1 or (len(rows) and (rows.min() < 0 or rows.max() >= n)):
                raise ValueError(f"rows must be record indices in 0..{n - 1}, got shape {rows.shape}")
        if limit is not None and limit < len(rows):
            rows = np.sort(np.random.default_rng(seed).choice(rows, limit, replace=False))
        return rows

    def loader(self, split_or_rows="test", batch_size: int = 256, device="cpu", limit: int | None = None,
               seed: int = 0, dataset=None):
        """The images of a split (or record rows) as the trainer evaluates them: its resolution, channels and
        normalisation, in order, without augmentation; ``limit`` takes a seeded subset (e.g. calibration).
        ``dataset`` feeds rows of another dataset (with its own labels) the same way, e.g. another protocol's."""
        from fernb.data.loader import BatchLoader
        from fernb.data.store import ImageStore

        cfg = self.config
        rows = self.rows(split_or_rows, limit, seed, dataset)
        ds = dataset if dataset is not None else self.dataset()
        labels = self.labels() if dataset is None else ds.records["label"].to_numpy()
        store = ImageStore.build(ds, cfg.img_size, 3 if cfg.in_chans == 3 else 1, progress=False)
        mean, std = input_norm(cfg)
        from fernb.data.loader import cpu_policy

        dev = torch.device(device)
        _, prefetch = cpu_policy(dev, torch.get_num_threads())  # the trainer's CPU policy (CPU_LOADER)
        return BatchLoader(store, rows, labels, batch_size, in_chans=cfg.in_chans, device=dev, mean=mean, std=std,
                           **({} if prefetch is None else {"prefetch": prefetch}))

    def autocast(self, device="cpu"):
        """The autocast the run trained and evaluated with (its recorded precision), on a device of the same type;
        ``None`` (fp32) otherwise."""
        rec = self._record().get("precision", {})
        dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(rec.get("precision"))
        dev = torch.device(device)
        if dtype is None or (dev.type != "cuda" and dtype == torch.float16):
            return None
        return lambda: torch.autocast(dev.type, dtype=dtype)

    def predict(self, split_or_rows="test", logits: bool = False, batch_size: int = 256, device="cpu",
                dataset=None):
        """Class probabilities (or logits) of the run's model over a split or record rows, streamed in batches,
        in the precision the run was evaluated with."""
        loader = self.loader(split_or_rows, batch_size, device, dataset=dataset)
        return predict(self.load_model(device), loader, autocast=self.autocast(device), logits=logits)


def run_dir(cfg: TrainConfig, data_fingerprint: str, runs_root: Path | None = None) -> Path:
    h = hashlib.sha256(f"{cfg.key()}:{data_fingerprint}".encode()).hexdigest()[:12]
    return Path(runs_root or paths.runs_root()) / f"{cfg.dataset}-{cfg.model}-{h}"


def load_run(folder: Path) -> Run:
    folder = Path(folder)
    record = json.loads((folder / "config.json").read_text())
    cfg = TrainConfig.from_dict(record["config"])
    data = DataSpec.from_dict(record["data"]) if "data" in record else DataSpec.of(cfg)
    history = [json.loads(line) for line in (folder / "history.jsonl").read_text().splitlines() if line.strip()]
    return Run(folder, cfg, json.loads((folder / "metrics.json").read_text()), history, data)


def list_runs(runs_root=None):
    """Every finished run under ``runs_root`` as a DataFrame: its configuration, headline metrics and folder.
    Chapters use it to collect what other chapters trained (e.g. the model-zoo accuracy-MACs scatter)."""
    import pandas as pd

    root = Path(runs_root) if runs_root else paths.runs_root()
    rows = []
    for status in sorted(root.glob("*/status")) if root.exists() else []:
        if status.read_text().strip() != "done":
            continue
        run = load_run(status.parent)
        m = run.metrics
        rows.append({**run.config.to_dict(), "accuracy": m.get("accuracy"), "macro_f1": m.get("macro_f1"),
                     "mean_class_accuracy": m.get("mean_class_accuracy"), "n_test": m.get("n"), "dir": str(run.dir)})
    return pd.DataFrame(rows)

