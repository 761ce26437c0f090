"""Pretrained starts made here, without a download (DESIGN.md, "Pretrained starts without a download"): a network
pretrained on SynthFER identities stands for VGGFace, one pretrained on procedural non-face images for ImageNet.

A run with ``model_kwargs={"pretrained": "vggface-analogue"}`` (or ``"imagenet-analogue"``) starts from the
analogue's weight file, which the trainer makes on first use (:func:`build_kwargs`) and caches under
``FERNB_HOME/weights/``; the model loads it as it loads a real VGGFace conversion, through ``pretrained=<path>``
(:func:`fernb.models.pretrained.load_file_in_order`).

What an analogue can tell: whether *a* start learned on faces that differ by identity, or on images that are not
faces at all, changes how a network then learns expressions on SynthFER, against scratch, under one protocol. What
it cannot tell: how ImageNet's 1.3 M photographs of 1,000 classes or VGGFace's 2.6 M photographs of 2,622 people
transfer to RAF-DB. The analogues are tiny (thousands of drawn images, a few epochs), so a gap here is a question
for the real weights, not an answer about them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from fernb import paths

from fernb.models.pretrained import ANALOGUES as KINDS


@dataclass(frozen=True)
class AnalogueRecipe:
    """How an analogue is made: its data (identities × images, or non-face images) and its training."""

    identities: int = 200  # vggface-analogue: SynthFER identities ...
    per_identity: int = 15  # ... and images of each (3,000 in all)
    nonfaces: int = 3000  # imagenet-analogue: procedural non-face images, four kinds
    epochs: int = 4
    batch_size: int = 32
    lr: float = 1e-3
    seed: int = 0

    def key(self, kind: str, model: str, img_size: int) -> str:
        blob = json.dumps({"kind": kind, "model": model, "img_size": img_size, **asdict(self)}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:10]


RECIPES = {
    "imagenet-analogue": AnalogueRecipe(),
    # VGG16 at 48 px does not learn 200 identities at the default lr of 1e-3: last-epoch train accuracy 0.0047 after
    # 4 epochs (chance 0.005), and every Experiment 1 row from it stayed at the class prior. Measured on an Intel
    # Xeon's two cores (pretrain(..., AnalogueRecipe(lr=..., epochs=...)), seed 0): lr 1e-4, 4 epochs 0.010 (201 s);
    # lr 1e-4, 12 epochs 0.109 (586 s), 22 times chance. BTFER trains at Adam 1e-4 too (§III-F).
    "vggface-analogue": AnalogueRecipe(epochs=12, lr=1e-4),
}
"""Each analogue's recipe (a change makes a new weight file: the recipe is in its name)."""


def build_kwargs(model: str, img_size: int, model_kwargs: dict) -> dict:
    """``model_kwargs`` as ``create`` takes them: an analogue start named in ``pretrained`` becomes its weight file
    (made now if it is missing)."""
    start = model_kwargs.get("pretrained")
    if isinstance(start, str) and start in KINDS:
        return {**model_kwargs, "pretrained": str(weights_file(model, start, img_size))}
    return dict(model_kwargs)


def weights_file(model: str, kind: str, img_size: int, recipe: AnalogueRecipe | None = None,
                 progress: bool = True) -> Path:
    """The analogue's weight file for ``model`` at ``img_size`` (its trunk, as a VGGFace conversion would hold it),
    made and cached on first use (``recipe``: the kind's in :data:`RECIPES` unless given)."""
    path = weights_path(model, kind, img_size, recipe)
    if not path.is_file():
        pretrain(model, kind, img_size, path, recipe or RECIPES[kind], progress)
    return path


def weights_path(model: str, kind: str, img_size: int, recipe: AnalogueRecipe | None = None) -> Path:
    """Where the analogue's weight file for ``model`` at ``img_size`` is kept, made or not."""
    if kind not in KINDS:
        raise ValueError(f"pretrained={kind!r}: analogue starts are {', '.join(KINDS)}")
    recipe = recipe or RECIPES[kind]
    return paths.home() / "weights" / f"{model}-{kind}-{img_size}px-{recipe.key(kind, model, img_size)}.pt"


def images(kind: str, img_size: int, recipe: AnalogueRecipe) -> tuple[np.ndarray, np.ndarray]:
    """The analogue's training images (N, H, W, 3 uint8) and labels: identities, or the four non-face kinds."""
    if kind == "vggface-analogue":
        from fernb.data.synth.identities import identity_faces

        return identity_faces(recipe.identities, recipe.per_identity, img_size, recipe.seed)
    from fernb.data.synth.nonfaces import KINDS as NONFACE_KINDS, nonface_image

    x = np.stack([nonface_image(i, recipe.seed + 1, img_size) for i in range(recipe.nonfaces)])
    return x, np.arange(recipe.nonfaces, dtype=np.int64) % len(NONFACE_KINDS)


def _cached_images(kind: str, img_size: int, recipe: AnalogueRecipe) -> tuple[np.ndarray, np.ndarray]:
    data = {k: v for k, v in asdict(recipe).items() if k in ("identities", "per_identity", "nonfaces", "seed")}
    tag = hashlib.sha256(json.dumps([kind, img_size, data], sort_keys=True).encode()).hexdigest()[:10]
    path = paths.cache_root() / "analogues" / f"{kind}-{img_size}px-{tag}.npz"
    if path.is_file():
        with np.load(path) as f:
            return f["x"], f["y"]
    x, y = images(kind, img_size, recipe)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, x=x, y=y)
    tmp.replace(path)
    return x, y


def trunk(model: torch.nn.Module) -> torch.nn.Module:
    """The part of a registry classifier a weight file fills: its ``features`` (a timm trunk's inner network)."""
    features = model.features
    return getattr(features, "net", features)


def pretrain(model: str, kind: str, img_size: int, out: Path, recipe: AnalogueRecipe, progress: bool = True) -> Path:
    """Train ``model`` to classify the analogue's images (cross-entropy, Adam, flips) and write its trunk's tensors
    to ``out``; deterministic for a recipe on one machine."""
    from fernb.models import create
    from fernb.progress import progress_bar

    x, y = _cached_images(kind, img_size, recipe)
    torch.manual_seed(recipe.seed)
    net = create(model, num_classes=int(y.max()) + 1, img_size=img_size)
    opt = torch.optim.Adam(net.parameters(), lr=recipe.lr)
    images_t = torch.from_numpy(x).permute(0, 3, 1, 2)
    labels_t = torch.from_numpy(y)
    g = torch.Generator().manual_seed(recipe.seed)
    steps = recipe.epochs * (len(y) // recipe.batch_size)
    bar = progress_bar(total=steps, desc=f"{kind} for {model}", enabled=progress)
    net.train()
    hits = 0  # over the last epoch, from the logits each step computes anyway
    for epoch in range(recipe.epochs):
        order = torch.randperm(len(y), generator=g)
        for b in range(len(y) // recipe.batch_size):
            idx = order[b * recipe.batch_size:(b + 1) * recipe.batch_size]
            batch = images_t[idx].float().div_(127.5).sub_(1.0)  # FACE_NORM: [-1, 1]
            flip = torch.rand(len(idx), generator=g) < 0.5
            batch[flip] = batch[flip].flip(-1)
            logits = net(batch)
            loss = torch.nn.functional.cross_entropy(logits, labels_t[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.3f}")
            if epoch == recipe.epochs - 1:
                hits += int((logits.argmax(1) == labels_t[idx]).sum())
    bar.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    torch.save(trunk(net).state_dict(), tmp)
    last = (len(y) // recipe.batch_size) * recipe.batch_size
    about = {"model": model, "kind": kind, "img_size": img_size, "recipe": asdict(recipe), "classes": int(y.max()) + 1,
             "images": len(y), "last_epoch_train_accuracy": hits / last, "chance": 1 / (int(y.max()) + 1)}
    out.with_suffix(".json").write_text(json.dumps(about, indent=1))
    tmp.replace(out)
    return out


def about(path: Path) -> dict:
    """What an analogue's weight file was made from and how well it learned its pretraining task."""
    return json.loads(Path(path).with_suffix(".json").read_text())
