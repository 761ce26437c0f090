"""Trainer and results registry.

``fit(cfg)`` trains a registry model on a dataset and writes a run folder keyed by a hash of the configuration and
the data: ``config.json``, ``history.jsonl``, ``checkpoint.pt`` (every epoch: model, optimiser, scheduler, RNG
states, position), and when finished ``metrics.json`` (with the confusion matrix), ``test_probs.npy`` and
``status = done``.  Asking again for a finished configuration returns the stored run; a half-finished one resumes
from its last checkpoint and ends with the same weights as an uninterrupted run.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from fernb import paths
from fernb.data import load_dataset
from fernb.data.loader import BatchAugment, BatchLoader
from fernb.data.store import ImageStore
from fernb.eval.metrics import classification_report, mean_nll
from fernb.models import create
from fernb.progress import progress_bar
from fernb.train.config import TrainConfig
from fernb.train.losses import build_loss, needs_aux
from fernb.train.weighting import class_weights


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``auto`` picks CUDA, then Apple MPS, then the CPU; anything else must name an available device."""
    if str(device) == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"device={device!r} is not a device; use 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} but CUDA is not available here; use device='auto' or 'cpu'")
    if dev.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ValueError(f"device={device!r} but MPS is not available here; use device='auto' or 'cpu'")
    return dev


@dataclass
class Run:
    """A finished (or stored) training run."""

    dir: Path
    config: TrainConfig
    metrics: dict
    history: list

    @property
    def num_classes(self) -> int:
        return int(json.loads((self.dir / "config.json").read_text()).get("num_classes", 7))

    @property
    def test_probs(self) -> np.ndarray:
        return np.load(self.dir / "test_probs.npy")

    def load_model(self, device="cpu") -> nn.Module:
        model = create(self.config.model, num_classes=self.num_classes, in_chans=self.config.in_chans,
                       img_size=self.config.img_size, **self.config.model_kwargs)
        state = torch.load(self.dir / "model.pt", map_location=device, weights_only=True)
        model.load_state_dict(state)
        return model.eval()


def _rng_state():
    return {"torch": torch.get_rng_state(), "numpy": np.random.get_state()[1].tolist(), "numpy_pos": int(np.random.get_state()[2]),
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


def _stratified_val(labels: np.ndarray, train_idx: np.ndarray, share: float, seed: int):
    if share == 0:
        return train_idx, np.array([], dtype=np.int64)
    from sklearn.model_selection import train_test_split

    tr, va = train_test_split(train_idx, test_size=share, random_state=seed, stratify=labels[train_idx])
    return np.sort(tr), np.sort(va)


def _optimizer(cfg: TrainConfig, params):
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)


@torch.no_grad()
def predict(model: nn.Module, loader: BatchLoader, amp: bool = False) -> np.ndarray:
    """Softmax probabilities over a loader, in its order."""
    model.eval()
    out = []
    for x, *_ in loader:
        with torch.autocast(loader.device.type, enabled=amp):
            out.append(torch.softmax(model(x).float(), 1).cpu())
    return torch.cat(out).numpy() if out else np.zeros((0, 0), np.float32)


def run_dir(cfg: TrainConfig, data_fingerprint: str, runs_root: Path | None = None) -> Path:
    h = hashlib.sha256(f"{cfg.key()}:{data_fingerprint}".encode()).hexdigest()[:12]
    return Path(runs_root or paths.runs_root()) / f"{cfg.dataset}-{cfg.model}-{h}"


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


def _distributed():
    """(rank, world size) of a ``torchrun`` launch, initialising its process group once (NCCL on GPUs, gloo on CPUs);
    (0, 1) in a plain process."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 0, 1
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return dist.get_rank(), dist.get_world_size()


def _barrier(world):
    if world > 1:
        torch.distributed.barrier()


class _Forward(nn.Module):
    """What the objective consumes: the logits, or ``forward_aux``'s dict. A module holding the model and the
    objective, so DDP wraps the call the gradient flows through and averages the objective's parameters (class
    centres) too."""

    def __init__(self, model, loss_fn, aux: bool):
        super().__init__()
        self.model, self.loss_fn, self.aux = model, loss_fn, aux

    def forward(self, x):
        return self.model.forward_aux(x) if self.aux else self.model(x)


def head_parameters(model: nn.Module) -> list:
    """Parameters of the classification head: ``model.head`` (every network written here) or timm's classifier."""
    head = getattr(model, "head", None)
    if isinstance(head, nn.Module):
        return list(head.parameters())
    if hasattr(model, "get_classifier"):
        return list(model.get_classifier().parameters())
    raise ValueError(f"{type(model).__name__} has no 'head' module to train alone; use freeze_epochs=0")


def _freeze_backbone(model: nn.Module, frozen: bool):
    """Stage 1 of BTFER §III-F: only the head trains. Frozen BatchNorm layers are put in inference mode, as Keras
    does for layers with ``trainable=False``."""
    keep = {id(p) for p in head_parameters(model)} if frozen else None
    for p in model.parameters():
        p.requires_grad_(not frozen or id(p) in keep)


def _frozen_bn_eval(model: nn.Module):
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm) and not any(p.requires_grad for p in m.parameters(recurse=False)):
            m.eval()


def _check_aux(model, cfg, dev):
    """Probe ``forward_aux`` once on two blank images: the objective's inputs exist (a clear error before training
    rather than a KeyError inside it) and the embedding's width sizes the class centres."""
    if not needs_aux(cfg.loss):
        return None
    if not hasattr(model, "forward_aux"):
        raise ValueError(f"loss={cfg.loss!r} needs the model's embedding (forward_aux); model {cfg.model!r} has none. "
                         f"Use a model written for it (e.g. scn, dacl, island_cnn, adcorre_resnet50) or loss='ce'")
    was = model.training
    model.eval()
    with torch.no_grad():
        out = model.forward_aux(torch.zeros(2, cfg.in_chans, cfg.img_size, cfg.img_size, device=dev))
    model.train(was)
    return out


def _loss_data_fingerprint(cfg: TrainConfig) -> str:
    """External data an objective reads joins the run key by content (a teacher's distributions)."""
    if cfg.loss == "kl_teacher":
        path = Path(cfg.loss_kwargs["teacher"])
        if not path.exists():
            raise ValueError(f"loss_kwargs['teacher']={str(path)!r} does not exist; make it with teacher_distributions(run, path)")
        return ":teacher=" + hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    return ""


def _build_optimizer(cfg: TrainConfig, model: nn.Module, loss_fn: nn.Module, sam: bool):
    groups = [{"params": [p for p in model.parameters()]}]
    extra = list(loss_fn.parameters())
    if extra:  # class centres of centre-based objectives
        groups.append({"params": extra, "lr": cfg.lr * getattr(loss_fn, "center_lr_scale", 1.0)})
    opt = _optimizer(cfg, groups)
    if sam:
        from fernb.train.sam import SAM

        return SAM(opt, cfg.sam_rho)
    return opt


def _build_scheduler(cfg: TrainConfig, opt, stage_len: int):
    base = getattr(opt, "base", opt)
    if cfg.scheduler == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(base, T_max=max(stage_len, 1))
    if cfg.scheduler == "step":
        return torch.optim.lr_scheduler.StepLR(base, step_size=cfg.lr_step_size or max(1, stage_len // 3), gamma=cfg.lr_gamma)
    if cfg.scheduler == "plateau":
        return torch.optim.lr_scheduler.ReduceLROnPlateau(base, mode="max", factor=cfg.lr_gamma,
                                                          patience=cfg.plateau_patience, min_lr=cfg.min_lr)
    return None


def fit(cfg: TrainConfig | dict, data_root=None, device="auto", runs_root=None, progress: bool = True,
        stop_after_epoch: int | None = None, labels=None, dataset_options: dict | None = None) -> Run:
    """Train ``cfg`` (or return its stored run).  ``stop_after_epoch`` ends the process's work early, as a crash
    would, leaving a resumable run (used to test resume). ``dataset_options`` go to :func:`fernb.data.load_dataset`
    (``lenient``, ``detector``, ``variant`` …); what they change in the records changes the run's key.

    ``labels`` replaces the dataset's published labels (one per record), e.g. labels re-aggregated from the crowd's
    votes (InFER++ Alg. 2 trains on the EM labels). They are part of the run's key and are stored in the run folder;
    the test metrics are computed against them.

    Launched by ``torchrun --nproc_per_node N -m fernb.train CONFIG``, the same call trains data-parallel (DDP):
    every process sees the same shuffled batches and takes its part of each, gradients are averaged, and process 0
    alone writes the run folder. Exact resume is guaranteed for single-process runs.

    Schedule: with ``freeze_epochs`` > 0, stage 1 trains the head alone for up to ``freeze_epochs`` epochs; the best
    weights of stage 1 then train whole for up to ``epochs`` epochs with a fresh optimiser (BTFER §III-F). Either
    stage ends early after ``early_stop_patience`` epochs without a better validation score.
    """
    cfg = TrainConfig.from_dict(cfg) if isinstance(cfg, dict) else cfg
    rank, world = _distributed()
    if world > 1 and str(device) == "auto" and torch.cuda.is_available():
        device = f"cuda:{int(os.environ.get('LOCAL_RANK', rank))}"
    dev = resolve_device(device)
    if dev.type == "cuda" and dev.index is not None:
        torch.cuda.set_device(dev)
    if rank != 0:
        _barrier(world)  # process 0 generates SynthFER and builds the image store first
    ds = load_dataset(cfg.dataset, data_root, profile=cfg.profile, seed=cfg.data_seed, progress=progress and rank == 0,
                      **(dataset_options or {}))
    if cfg.fold is not None:
        ds = ds.with_fold(cfg.fold)
    num_classes = ds.num_classes
    fingerprint = ds.fingerprint + _loss_data_fingerprint(cfg)
    if labels is not None:
        labels = _check_labels(labels, len(ds.records), num_classes)
        fingerprint += ":labels=" + hashlib.sha256(labels.tobytes()).hexdigest()[:12]
    folder = run_dir(cfg, fingerprint, runs_root)
    paths.ensure_writable(folder, "runs_root")
    if (folder / "status").exists() and (folder / "status").read_text().strip() == "done":
        if rank == 0:
            _barrier(world)
        return load_run(folder)
    if labels is None:
        labels = ds.records["label"].to_numpy()
    elif rank == 0:
        np.save(folder / "labels.npy", labels)
    if len(ds.split("val")):  # the dataset's own validation split (FER2013's PublicTest, the leakage protocols)
        train_idx, val_idx = ds.split("train"), ds.split("val")
    else:
        train_idx, val_idx = _stratified_val(labels, ds.split("train"), cfg.val_share, cfg.seed)
    test_idx = ds.split("test")
    if len(train_idx) == 0 or len(test_idx) == 0:
        raise ValueError(f"dataset {cfg.dataset!r} needs non-empty train and test splits (train={len(train_idx)}, test={len(test_idx)})")
    store = ImageStore.build(ds, cfg.img_size, 3 if cfg.in_chans == 3 else 1, progress=progress and rank == 0)
    if rank == 0:
        (folder / "config.json").write_text(json.dumps({"config": cfg.to_dict(), "dataset_fingerprint": ds.fingerprint,
                                                        "num_classes": num_classes}, indent=1))
        _barrier(world)
    progress = progress and rank == 0

    torch.manual_seed(cfg.seed)
    np.random.seed(cfg.seed)
    random.seed(cfg.seed)
    model = create(cfg.model, num_classes=num_classes, in_chans=cfg.in_chans, img_size=cfg.img_size, **cfg.model_kwargs).to(dev)
    if dev.type == "cuda":
        model = model.to(memory_format=torch.channels_last)
    probe = _check_aux(model, cfg, dev)
    class_counts = np.bincount(labels[train_idx], minlength=num_classes)
    weights = class_weights(class_counts, cfg.class_weighting)
    embed_dim = int(probe["embedding"].flatten(1).shape[1]) if probe is not None else None
    loss_fn = build_loss(cfg.loss, len(store), num_classes, weight=weights, label_smoothing=cfg.label_smoothing,
                         embed_dim=embed_dim, **cfg.loss_kwargs).to(dev)
    missing = [k for k in getattr(loss_fn, "aux_keys", ()) if probe is None or k not in probe]
    if missing:
        raise ValueError(f"loss={cfg.loss!r} needs {missing} from the model's forward_aux; model {cfg.model!r} gives "
                         f"{sorted(probe) if probe is not None else 'no forward_aux'} (use the model the method defines, e.g. "
                         f"{'scn' if cfg.loss == 'scn' else 'dacl'})")

    if world > 1 and getattr(loss_fn, "per_sample_state", False):
        raise ValueError(f"loss={cfg.loss!r} keeps a per-sample memory that data-parallel processes do not share; "
                         f"train it in one process (without torchrun)")
    aug = BatchAugment(cfg.img_size, scale=cfg.aug_scale, ratio=cfg.aug_ratio, flip=cfg.aug_flip,
                       brightness=cfg.aug_brightness,
                       contrast=cfg.aug_contrast)
    sample_weights = None
    if cfg.sampler == "balanced":  # every class equally likely per draw
        sample_weights = 1.0 / class_counts[labels[train_idx]]
    common = dict(in_chans=cfg.in_chans, device=dev, mean=0.5, std=0.5)
    train_loader = BatchLoader(store, train_idx, labels, cfg.batch_size, shuffle=True, augment=aug, seed=cfg.seed,
                               drop_last=len(train_idx) > cfg.batch_size, with_index=loss_fn.needs_rows,
                               sample_weights=sample_weights, shard=(rank, world), **common)
    on = lambda idx: BatchLoader(store, idx, labels, max(cfg.batch_size, 256), **common)  # noqa: E731  (store built once)

    sam = cfg.sam_rho > 0
    amp = dev.type == "cuda"
    amp_dtype = torch.bfloat16 if sam else torch.float16  # SAM's two passes skip the loss scaler: bf16 needs none
    scaler = torch.amp.GradScaler("cuda", enabled=amp and not sam)
    state = {"stage": 1 if cfg.freeze_epochs else 2, "stage_start": 0, "bad_epochs": 0, "stage_best": -float("inf"),
             "best": -float("inf"), "stop": False}

    def stage_len():
        return cfg.freeze_epochs if state["stage"] == 1 else cfg.epochs

    def setup_stage():
        if cfg.freeze_epochs:
            _freeze_backbone(model, state["stage"] == 1)
        net = _Forward(model, loss_fn, loss_fn.needs_aux)
        if world > 1:  # BatchNorm statistics stay per process and are taken from process 0 for every evaluation
            net = torch.nn.parallel.DistributedDataParallel(net, device_ids=[dev.index] if dev.type == "cuda" else None,
                                                            broadcast_buffers=False)
        opt = _build_optimizer(cfg, model, loss_fn, sam)
        return net, opt, _build_scheduler(cfg, opt, stage_len())

    start, history = 0, []
    ckpt_path = folder / "checkpoint.pt"
    ck = None
    if ckpt_path.exists():
        ck = torch.load(ckpt_path, map_location=dev, weights_only=True)
        if ck.get("config_key") != cfg.key():
            raise ValueError(f"{ckpt_path} belongs to another configuration; remove it or the folder {folder}")
        model.load_state_dict(ck["model"])
        state.update(ck.get("state", {"best": ck.get("best_score", -float("inf"))}))
    net, opt, sched = setup_stage()
    if ck is not None:
        opt.load_state_dict(ck["optimizer"])
        if sched is not None:
            sched.load_state_dict(ck["scheduler"])
        scaler.load_state_dict(ck["scaler"])
        if "loss" in ck:  # per-sample state (ELR's targets, SCN's relabels) and class centres
            loss_fn.load_state_dict(ck["loss"])
        _set_rng_state(ck["rng"])
        start, history = ck["epoch"] + 1, ck["history"]
        if progress:
            print(f"resuming {folder.name} at epoch {start + 1}")

    if rank == 0:
        (folder / "history.jsonl").write_text("".join(json.dumps(h) + "\n" for h in history))

    def forward_loss(x, y, rows):
        with torch.autocast(dev.type, dtype=amp_dtype, enabled=amp):
            out = net(x)
            return loss_fn(out, y, rows), (out["logits"] if isinstance(out, dict) else out)

    epoch = start
    while True:
        if state["stop"] or epoch >= state["stage_start"] + stage_len():
            if state["stage"] == 1:  # stage 2: the best head-only weights, everything trainable, a fresh optimiser
                if (folder / "best.pt").exists():
                    model.load_state_dict(torch.load(folder / "best.pt", map_location=dev, weights_only=True))
                state.update(stage=2, stage_start=epoch, bad_epochs=0, stage_best=-float("inf"), stop=False)
                net, opt, sched = setup_stage()
                continue
            break
        model.train()
        _frozen_bn_eval(model)
        loss_fn.set_epoch(epoch)
        train_loader.set_epoch(epoch)
        n_batches = len(train_loader) if cfg.max_batches_per_epoch is None else min(len(train_loader), cfg.max_batches_per_epoch)
        bar = progress_bar(total=n_batches, desc=f"epoch {epoch + 1}" + (f" (stage {state['stage']})" if cfg.freeze_epochs else ""),
                           unit="batch", enabled=progress, leave=False)
        tot_loss, tot_correct, tot_n, t0, wait = 0.0, 0, 0, time.perf_counter(), 0.0
        t_wait = time.perf_counter()
        for i, (x, y, *rows) in enumerate(train_loader):
            if i >= n_batches:
                break
            wait += time.perf_counter() - t_wait
            rows = rows[0] if rows else None
            opt.zero_grad(set_to_none=True)
            loss, logits = forward_loss(x, y, rows)
            if sam:
                loss.backward()
                opt.first_step()
                loss_fn.update_state = False  # per-sample memories move once per step
                from fernb.train.sam import frozen_bn_stats

                with frozen_bn_stats(model):
                    forward_loss(x, y, rows)[0].backward()
                loss_fn.update_state = True
                opt.second_step()
            else:
                scaler.scale(loss).backward()
                scaler.step(opt)
                scaler.update()
            tot_loss += loss.item() * len(y)
            tot_correct += (logits.argmax(1) == y).sum().item()
            tot_n += len(y)
            bar.set_postfix(loss=f"{tot_loss / tot_n:.3f}", acc=f"{tot_correct / tot_n:.3f}")
            bar.update()
            t_wait = time.perf_counter()
        bar.close()
        rec = {"epoch": epoch + 1, "train_loss": tot_loss / max(tot_n, 1), "train_acc": tot_correct / max(tot_n, 1),
               "lr": opt.param_groups[0]["lr"], "seconds": time.perf_counter() - t0,
               "data_wait_share": wait / max(time.perf_counter() - t0, 1e-9)}
        if cfg.freeze_epochs:
            rec["stage"] = state["stage"]
        if world > 1:  # every process evaluates the same model: process 0's BatchNorm statistics
            for b in model.buffers():
                torch.distributed.broadcast(b, 0)
        if len(val_idx):
            vp = predict(model, on(val_idx), amp)
            rec["val_acc"] = float((vp.argmax(1) == labels[val_idx]).mean())
            rec["val_loss"] = mean_nll(vp, labels[val_idx])
        score = -rec["val_loss"] if cfg.monitor == "val_loss" else rec.get("val_acc", -rec["train_loss"])
        if sched is not None:
            sched.step(score) if cfg.scheduler == "plateau" else sched.step()
        history.append(rec)
        if score > state["stage_best"]:
            state.update(stage_best=score, bad_epochs=0)
        else:
            state["bad_epochs"] += 1
        if cfg.early_stop_patience and state["bad_epochs"] >= cfg.early_stop_patience:
            state["stop"] = True
            rec["early_stop"] = True
        if rank == 0:
            if score > state["best"]:
                _atomic_save(model.state_dict(), folder / "best.pt")
            # the checkpoint is the truth; history.jsonl is written after it and rewritten from it on resume
            _atomic_save({"model": model.state_dict(), "optimizer": opt.state_dict(),
                          "scheduler": sched.state_dict() if sched is not None else None, "scaler": scaler.state_dict(),
                          "rng": _rng_state(), "loss": loss_fn.state_dict(), "epoch": epoch, "history": history,
                          "state": {**state, "best": max(state["best"], score)}, "config_key": cfg.key()}, ckpt_path)
            with open(folder / "history.jsonl", "a") as f:
                f.write(json.dumps(rec) + "\n")
        state["best"] = max(state["best"], score)
        if progress:
            print(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in rec.items()))
        epoch += 1
        if stop_after_epoch is not None and epoch >= stop_after_epoch and not state["stop"] \
                and not (state["stage"] == 2 and epoch >= state["stage_start"] + cfg.epochs):
            raise KeyboardInterrupt(f"stopped after epoch {epoch} as asked")

    if rank != 0:
        _barrier(world)  # process 0 evaluates and writes the run
        return load_run(folder)
    # evaluate the weights chosen on validation (the last epoch's when there is no validation split); model.pt holds
    # exactly the weights metrics.json describes, checkpoint.pt the last epoch's
    if len(val_idx) and (folder / "best.pt").exists():
        model.load_state_dict(torch.load(folder / "best.pt", map_location=dev, weights_only=True))
    _atomic_save(model.state_dict(), folder / "model.pt")
    probs = predict(model, on(test_idx), amp)
    rec = ds.records.iloc[test_idx]
    groups = {c: rec[c].to_numpy() for c in ("age_group", "gender") if c in rec}
    metrics = classification_report(labels[test_idx], probs, groups, num_classes=num_classes)
    if "true_label" in rec:  # SynthFER knows the latent truth behind the crowd's labels
        metrics["accuracy_vs_true_label"] = float((probs.argmax(1) == rec["true_label"].to_numpy()).mean())
    metrics["train_seconds"] = float(sum(h["seconds"] for h in history))
    metrics["epochs_run"] = len(history)
    metrics["n_train"], metrics["n_val"] = int(len(train_idx)), int(len(val_idx))
    metrics["device"] = str(dev)
    metrics["world_size"] = world
    np.save(folder / "test_probs.npy", probs.astype(np.float32))
    (folder / "metrics.json").write_text(json.dumps(metrics, indent=1))
    (folder / "status").write_text("done\n")
    _barrier(world)
    return load_run(folder)


def eval_loader(cfg: TrainConfig, ds, rows, batch_size: int = 256, device="cpu") -> BatchLoader:
    """Records ``rows`` of ``ds`` exactly as the trainer evaluates them for ``cfg`` (resolution, channels,
    normalisation), in order and without augmentation."""
    store = ImageStore.build(ds, cfg.img_size, 3 if cfg.in_chans == 3 else 1, progress=False)
    return BatchLoader(store, rows, ds.records["label"].to_numpy(), batch_size, in_chans=cfg.in_chans,
                       device=torch.device(device), mean=0.5, std=0.5)


def teacher_distributions(run: "Run", path, data_root=None) -> Path:
    """A trained run's predicted distribution for every record of its dataset, in record order, saved as ``path``
    (.npy): the label distributions ``loss="kl_teacher"`` learns from (LFER-LDL §1.3)."""
    cfg = run.config
    ds = load_dataset(cfg.dataset, data_root, profile=cfg.profile, seed=cfg.data_seed, progress=False)
    probs = predict(run.load_model(), eval_loader(cfg, ds, np.arange(len(ds.records))))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, (probs / probs.sum(1, keepdims=True)).astype(np.float32))
    return path


def split_arrays(cfg: TrainConfig, split: str = "test", data_root=None, limit: int | None = None, seed: int = 0):
    """(images, labels) of one split exactly as the trainer feeds them to the model (resized, channels, normalised),
    as float32 numpy arrays; ``limit`` takes a seeded random subset (e.g. calibration images)."""
    ds = load_dataset(cfg.dataset, data_root, profile=cfg.profile, seed=cfg.data_seed, progress=False)
    idx = ds.split(split)
    if len(idx) == 0:
        raise ValueError(f"dataset {cfg.dataset!r} has no {split!r} split")
    if limit is not None and limit < len(idx):
        idx = np.sort(np.random.default_rng(seed).choice(idx, limit, replace=False))
    xs, ys = zip(*[(x.numpy(), y.numpy()) for x, y in eval_loader(cfg, ds, idx)])
    return np.concatenate(xs).astype(np.float32), np.concatenate(ys)


def list_runs(runs_root=None):
    """Every finished run in the results registry as a DataFrame: its configuration, headline metrics and folder.
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


def load_run(folder: Path) -> Run:
    folder = Path(folder)
    cfg = TrainConfig.from_dict(json.loads((folder / "config.json").read_text())["config"])
    history = [json.loads(line) for line in (folder / "history.jsonl").read_text().splitlines() if line.strip()]
    return Run(folder, cfg, json.loads((folder / "metrics.json").read_text()), history)
