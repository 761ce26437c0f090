"""Compare a reader's copy of a dataset with its manifest: ``python -m fernb.data verify NAME --root PATH``.

Checks, in order: the root and its layout; every entry of the official listing (label ids in the map, malformed
rows, duplicates, splits); every image file (missing, unreadable or truncated, byte-identical copies under two
entries, files on disk that no entry lists); and the counts per split and class beside every count the papers
publish. Strict mode (the default) stops at the first error with its file and line; ``lenient`` quarantines bad
entries, lists them and goes on. Count differences are reported, never fixed.
"""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from fernb.data import adapters
from fernb.data.manifest import load_manifest
from fernb.labels import EXPRESSIONS_8
from fernb.progress import progress_bar

IMAGE_EXTS = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}


@dataclass
class Report:
    name: str
    root: Path
    records: pd.DataFrame
    problems: pd.DataFrame                        # where, image, reason (errors; lenient mode collects them)
    excluded: pd.DataFrame                        # entries the manifest excludes, with the reason
    counts: pd.DataFrame                          # split × class found on disk beside the published counts
    extra_files: list = field(default_factory=list)
    identical: pd.DataFrame | None = None         # groups of byte-identical images listed under different entries
    notes: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No problems and every compared count matches."""
        return self.problems.empty and not (self.counts["difference"].fillna(0) != 0).any()

    def summary(self, counts: int = 20) -> str:
        """The report as text: entries, problems, exclusions, unlisted files, notes, and up to ``counts`` of the
        published per-class counts that differ from what was found (``0``: only how many differ)."""
        from fernb.paths import shown

        lines = [f"{self.name} at {shown(self.root)}: {len(self.records)} usable entries, {len(self.problems)} problems, "
                 f"{len(self.excluded)} excluded, {len(self.extra_files)} unlisted files"]
        if len(self.problems):
            lines.append("problems:")
            lines += [f"  {r.where}: {r.reason}" for r in self.problems.head(20).itertuples()]
            if len(self.problems) > 20:
                lines.append(f"  … and {len(self.problems) - 20} more")
        if len(self.excluded):
            lines.append("excluded by the manifest: " + "; ".join(f"{n} × {r}" for r, n in self.excluded["reason"].value_counts().items()))
        if self.extra_files:
            lines.append(f"files no entry lists: {self.extra_files[:5]}{' …' if len(self.extra_files) > 5 else ''}")
        if self.identical is not None and len(self.identical):
            cross = int(self.identical["cross_split"].sum())
            lines.append(f"byte-identical images under different entries: {len(self.identical)} groups ({cross} across splits)")
        for n in self.notes:
            lines.append(f"note: {n}")
        cmp = self.counts.dropna(subset=["published"])
        if len(cmp):
            bad = cmp[cmp["difference"] != 0]
            lines.append(f"published counts compared: {len(cmp)}, differing: {len(bad)}")
            lines += [f"  {r.source} | {r.split} {r.cls}: found {r.found}, published {int(r.published)}"
                      for r in bad.head(counts).itertuples()]
        lines.append("OK" if self.ok else "DIFFERENCES FOUND")
        return "\n".join(lines)


def published_counts(manifest: dict) -> pd.DataFrame:
    """Every per-class and total count the manifest's sources publish: source, split, cls, published."""
    rows = []
    for src in manifest.get("published", []):
        for split, per_class in (src.get("counts") or {}).items():
            for cls, n in per_class.items():
                rows.append((src["source"], split, cls, n))
        for split, n in (src.get("totals") or {}).items():
            if split in ("train", "val", "test", "all"):
                rows.append((src["source"], split, "total", n))
    return pd.DataFrame(rows, columns=["source", "split", "cls", "published"])


def count_table(records: pd.DataFrame, manifest: dict) -> pd.DataFrame:
    """Found counts per split and class (and totals, and ``all`` = every split) beside the published ones."""
    k = int(manifest.get("num_classes", 7))
    names = list(EXPRESSIONS_8[:k])
    found = {}
    for split, grp in [("all", records)] + list(records.groupby("split")):
        vc = grp["label"].value_counts()
        for i, n in enumerate(names):
            found[(split, n)] = int(vc.get(i, 0))
        found[(split, "total")] = len(grp)
    pub = published_counts(manifest)
    pub["found"] = [found.get((s, c), 0) for s, c in zip(pub["split"], pub["cls"])]
    pub["difference"] = pub["found"] - pub["published"]
    ours = pd.DataFrame([("found on disk", s, c, np.nan, n, np.nan) for (s, c), n in found.items()],
                        columns=["source", "split", "cls", "published", "found", "difference"])
    return pd.concat([pub, ours], ignore_index=True)


def _check_image(path: Path) -> tuple[str | None, str | None]:
    """(error or None, md5 of the bytes or None): decodes fully, so truncated files fail here, not in training."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return "image file missing", None
    except OSError as e:
        return f"cannot read: {e}", None
    try:
        import io

        with Image.open(io.BytesIO(data)) as im:
            im.load()
    except Exception as e:  # PIL raises many types for corrupt data
        return f"unreadable image ({type(e).__name__}: {e})", None
    return None, hashlib.md5(data).hexdigest()


def verify(name: str, root, lenient: bool = False, images: bool = True, progress: bool = True, **options) -> Report:
    """Verify a reader's copy of dataset ``name`` at ``root``; see the module docstring. ``options`` go to the adapter."""
    manifest = load_manifest(name)
    root = adapters.resolve_root(manifest, root)  # for SynthFER: a generated folder, e.g. ``dataset.root``
    reading = adapters.read(manifest, root, lenient=lenient, **options)
    records, problems = reading.records, [reading.problems]
    identical, extra = None, []
    if images and reading.pixels is None:
        files = [root / p for p in records["image"]]
        uniq = list(dict.fromkeys(files))
        with ThreadPoolExecutor(min(8, (os.cpu_count() or 1) * 2)) as pool, \
                progress_bar(total=len(uniq), desc=f"verify {name} images", unit="img", enabled=progress) as bar:
            results = {}
            for f, r in zip(uniq, pool.map(_check_image, uniq)):
                results[f] = r
                bar.update(1)
        errors = [results[f][0] for f in files]
        bad = np.array([e is not None for e in errors])
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            if not lenient:
                raise adapters.DatasetError(f"{name}: {records['origin'].iloc[i]}: {records['image'].iloc[i]}: {errors[i]}")
            problems.append(pd.DataFrame({"where": records["origin"][bad], "image": records["image"][bad],
                                          "reason": [e for e in errors if e is not None]}))
            records = records.loc[~bad].reset_index(drop=True)
            files = [f for f, b in zip(files, bad) if not b]
        md5 = pd.Series([results[f][1] for f in files])
        img = records.assign(md5=md5.to_numpy()).drop_duplicates(subset=["image"])
        groups = img[img["md5"].duplicated(keep=False)].groupby("md5")
        identical = pd.DataFrame([{"images": list(g["image"]), "splits": sorted(set(g["split"])),
                                   "cross_split": g["split"].nunique() > 1} for _, g in groups],
                                 columns=["images", "splits", "cross_split"])
        quarantined = [root / p for p in pd.concat(problems)["image"].dropna()] if any(len(p) for p in problems) else []
        listed = {Path(f).resolve() for f in [*files, *quarantined]}
        folders = {Path(f).parent.resolve() for f in files}
        for d in sorted(folders):
            for p in d.iterdir():
                if p.suffix.lower() in IMAGE_EXTS and p.resolve() not in listed:
                    extra.append(str(p.relative_to(root.resolve())) if p.is_relative_to(root.resolve()) else str(p))
    probs = pd.concat([p for p in problems if len(p)], ignore_index=True) if any(len(p) for p in problems) \
        else reading.problems
    return Report(name, root, records, probs, reading.excluded, count_table(records, manifest), sorted(extra),
                  identical, reading.notes)


def catalogue() -> pd.DataFrame:
    """One row per dataset manifest: kind, classes, splits, image format and the totals the papers publish."""
    from fernb.data.manifest import available

    rows = []
    for name in available():
        m = load_manifest(name)
        k = int(m.get("num_classes", 7))
        totals = {}
        for src in m.get("published", []):
            for split, n in (src.get("totals") or {}).items():
                totals.setdefault(split, (int(n), src["source"]))
            for split, per_class in (src.get("counts") or {}).items():
                if len(per_class) == k:        # a per-class table that covers every class also gives a total
                    totals.setdefault(split, (int(sum(per_class.values())), src["source"]))
        if m["kind"] == "synthetic":
            totals = {f"{p} profile": (int(n), "generated") for p, n in m["sizes"].items()}
        img = m["image"]
        rows.append({"dataset": name, "title": m["title"], "kind": m["kind"], "classes": int(m.get("num_classes", 7)),
                     "splits": "/".join(m["splits"]), "image": f"{img['size']}×{img['size']}×{img['channels']}",
                     "published": "; ".join(f"{s} {n:,} ({src.split(' (')[0]})" for s, (n, src) in totals.items()) or "—",
                     "request": m.get("request", "generated by fernb")})
    return pd.DataFrame(rows).set_index("dataset")


def published_table(name: str) -> pd.DataFrame:
    """Per-class published counts of one dataset: rows = classes, one column per (source, split)."""
    pub = published_counts(load_manifest(name))
    pub = pub[pub["cls"] != "total"]
    if pub.empty:
        return pd.DataFrame()
    t = pub.pivot_table(index="cls", columns=["source", "split"], values="published", sort=False)
    return t.reindex([c for c in EXPRESSIONS_8 if c in t.index])


def published_class_counts(name: str, split: str, source: str | None = None) -> pd.Series:
    """Per-class counts a paper publishes for one split (``all`` = the whole dataset) of dataset ``name``, in the
    canonical order and named by the table they come from: the first manifest source with such counts, or the first
    whose name starts with ``source``."""
    m = load_manifest(name)
    for src in m.get("published", []):
        counts = (src.get("counts") or {}).get(split)
        if counts and (source is None or src["source"].startswith(source)):
            names = [c for c in EXPRESSIONS_8 if c in counts]
            return pd.Series({c: counts[c] for c in names}, name=src["source"])
    raise KeyError(f"{name}: no published per-class counts for split {split!r}"
                   + (f" from a source starting {source!r}" if source else ""))


def demographics_table(dataset, reference: str = "infer-pp") -> pd.DataFrame:
    """Expression, age-group and gender marginals of ``dataset`` beside the ones ``reference`` publishes
    (InFER++ Table 2 a-c): counts and shares, one block per attribute."""
    from fernb.labels import AGE_GROUPS, EXPRESSIONS, GENDERS

    attrs = {}
    for src in load_manifest(reference).get("published", []):
        attrs.update(src.get("attributes") or {})
    paper = {"expression": published_class_counts(reference, "all"), **{k: pd.Series(v) for k, v in attrs.items()}}
    rec = dataset.records
    ours = {"expression": dataset.class_counts(), **{k: rec[k].value_counts() for k in attrs if k in rec.columns}}
    order = {"expression": list(EXPRESSIONS), "age_group": list(AGE_GROUPS), "gender": list(GENDERS)}
    parts = []
    for key, p in paper.items():
        idx = order.get(key, list(p.index))
        p = p.reindex(idx)
        o = ours.get(key, pd.Series(dtype=float)).reindex(idx).fillna(0)
        part = pd.DataFrame({f"{reference} (paper)": p, "paper %": 100 * p / p.sum(),
                             f"{dataset.name} (here)": o.astype(int), "here %": 100 * o / o.sum()})
        parts.append(part.set_index(pd.MultiIndex.from_product([[key], idx])))
    return pd.concat(parts)
