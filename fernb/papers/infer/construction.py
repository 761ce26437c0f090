"""InFER++ §III-A (Fig. 2): building a web-scraped FER dataset, simulated end to end on SynthFER (chapter 02).

query dictionary → simulated image search (faces, non-face images, near-duplicates) → face-detection filter →
de-duplication → 256×256 grayscale face crops → the 80/20 per-expression split of §III-F → the ``infer-pp`` layout
(``records.csv`` + ``images/``) that :func:`fernb.data.load_dataset` reads back.

What is simulated and how: the "web" is a SynthFER ``synth-infer`` generation (InFER++'s class, age and gender
priors, Table 2) plus procedurally drawn non-face images (scenes, objects, text, animal drawings) and re-encoded,
rescaled, shifted copies of some faces. Every image knows what it really is, so the detector's precision and recall
and the de-duplication's recall can be measured, which the paper could not do.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from fernb.data.fingerprints import near_duplicate_groups, thumbnails
from fernb.data.manifest import published_names
from fernb.data.store import encode_jpeg
from fernb.labels import EXPRESSIONS
from fernb.papers.recipes import Recipe

PAPER_SCRAPED, PAPER_FACES = 50_371, 35_789
"""§III-A: "about 35789 facial images were obtained from a total of 50,371 images" (the RetinaFace filter)."""

# §III-A: nine segments. Six expressions with synonyms (the paper's examples: angry, disgusted, fearful, happy,
# excited, depressed, annoyed, surprised), then age, gender and ethnicity.
SEGMENTS = {
    "anger": ["angry", "annoyed", "furious", "irritated"],
    "disgust": ["disgusted", "repulsed", "grossed out"],
    "fear": ["fearful", "scared", "terrified"],
    "happiness": ["happy", "excited", "joyful", "smiling"],
    "sadness": ["sad", "depressed", "crying", "unhappy"],
    "surprise": ["surprised", "shocked", "astonished"],
    "age": {"5-10": ["child", "kid"], "11-19": ["teenager", "adolescent"], "20-29": ["young"], "30-59": ["adult", "middle aged"],
            "60+": ["elderly", "old"]},
    "gender": {"male": ["male", "man", "boy"], "female": ["female", "woman", "girl"]},
    "ethnicity": ["punjabi", "marathi", "gujrati", "kashmiri", "assami", "tamil", "telugu", "bengali"],
}
# §III-A: the most common queries were also translated into these languages. We do not translate (we tag the
# query with the language); the share of translated queries is a parameter.
LANGUAGES = ["Marathi", "Bengali", "Tamil", "Telugu", "Malayali", "Kannada", "Punjabi", "Meitei", "Urdu"]
QUERY_EXPRESSIONS = [e for e in EXPRESSIONS if e in SEGMENTS]  # neutral has no segment: it comes with every query

WEB = Recipe(
    "web", "Simulated web and pipeline (§III-A, §III-F)",
    common=dict(detector="mtcnn", crop=256, min_corr=0.92),
    smoke=dict(faces=140, nonfaces=45, duplicates=12),
    quick=dict(faces=3000, nonfaces=1000, duplicates=220),
    # the paper's scale: 50,371 scraped, of which 35,789 faces; we plant 2,000 of the rest as re-uploads
    full=dict(faces=PAPER_FACES, nonfaces=PAPER_SCRAPED - PAPER_FACES - 2000, duplicates=2000),
)
"""What each profile's simulated search returns (faces, non-face images, near-duplicates) and the pipeline's
settings: the face detector (MTCNN: RetinaFace's weights are not available offline), the crop size (§III-F) and the
correlation above which two images are one (de-duplication)."""

EXAMPLE_QUERIES = [("happiness", "60+", "female"), ("anger", "5-10", "male"), ("fear", "11-19", "male"),
                   ("disgust", "11-19", "female"), ("surprise", "30-59", "male"), ("sadness", "20-29", "male")]
"""The (expression, age group, gender) of §III-A's example queries ("happy elderly telugu female", ...)."""


def web_sizes(profile: str) -> tuple[int, int, int]:
    """Faces, non-face images and near-duplicates the simulated search returns in ``profile`` (:data:`WEB`)."""
    r = WEB(profile)
    return r.faces, r.nonfaces, r.duplicates


def compose_query(rng: np.random.Generator, expression: str, age_group: str, gender: str,
                  translated_share: float = 0.15) -> tuple[str, str]:
    """One search query in the paper's shape ("happy elderly telugu female"), and its language."""
    kid = age_group in ("5-10", "11-19")
    genders = [g for g in SEGMENTS["gender"][gender] if kid == (g in ("boy", "girl")) or g in ("male", "female")]
    words = [rng.choice(SEGMENTS[expression]), rng.choice(SEGMENTS["age"][age_group]), rng.choice(SEGMENTS["ethnicity"]),
             rng.choice(genders)]
    lang = rng.choice(LANGUAGES) if rng.random() < translated_share else "English"
    return " ".join(words), lang


def _near_duplicate(rng, arr: np.ndarray) -> np.ndarray:
    """A re-upload: rescaled, slightly cropped (up to 5%), re-encoded at a lower quality."""
    h, w = arr.shape[:2]
    s = rng.uniform(0.95, 1.0)
    dx, dy = rng.integers(0, max(1, int(w * (1 - s)) + 1)), rng.integers(0, max(1, int(h * (1 - s)) + 1))
    crop = Image.fromarray(arr).crop((dx, dy, dx + int(w * s), dy + int(h * s))).resize((w, h), Image.BILINEAR)
    return np.asarray(Image.open(io.BytesIO(encode_jpeg(np.asarray(crop), rng.integers(40, 70)))).convert("RGB"))


def simulate_scrape(faces, out: Path, profile: str = "quick", seed: int = 0, sizes=None, progress: bool = True) -> pd.DataFrame:
    """Write the simulated search results to ``out/scrape/`` and return their table.

    ``faces`` is a loaded ``synth-infer`` dataset. Each face answers a query composed from its own expression, age
    group and gender (a neutral face answers a random expression's query, as neutral faces do on a real image
    search); non-face images and near-duplicates answer random queries. Columns: ``file``, ``query``,
    ``language``, ``kind`` (face | nonface | duplicate), ``source`` (the face record a face or duplicate comes
    from, else -1).
    """
    from fernb.data.synth.nonfaces import nonface_image
    from fernb.progress import progress_bar

    n_face, n_non, n_dup = sizes or web_sizes(profile)
    rec = faces.records
    if len(rec) < n_face:
        raise ValueError(f"the face pool has {len(rec)} images; profile {profile!r} needs {n_face}")
    rng = np.random.default_rng([seed, 314])
    folder = out / "scrape"
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    src = rng.permutation(len(rec))[:n_face]
    dup_src = rng.choice(src, n_dup, replace=False)
    items = [("face", int(i)) for i in src] + [("duplicate", int(i)) for i in dup_src] + [("nonface", j) for j in range(n_non)]
    order = rng.permutation(len(items))
    with progress_bar(total=len(items), desc="simulated scrape", unit="img", enabled=progress) as bar:
        for pos, k in enumerate(order):
            kind, i = items[k]
            if kind == "nonface":
                arr, source = nonface_image(i, seed, 128), -1
                expr, age = rng.choice(QUERY_EXPRESSIONS), rng.choice(list(SEGMENTS["age"]))
                gender = rng.choice(["male", "female"])
            else:
                r = rec.iloc[i]
                with Image.open(faces.root / r["image"]) as im:
                    arr = np.asarray(im.convert("RGB"))
                if kind == "duplicate":
                    arr = _near_duplicate(rng, arr)
                expr = EXPRESSIONS[int(r["true_label"])]
                expr = expr if expr in SEGMENTS else rng.choice(QUERY_EXPRESSIONS)
                age, gender, source = r["age_group"], r["gender"], i
            query, lang = compose_query(rng, expr, age, gender)
            name = f"{pos:06d}.jpg"
            (folder / name).write_bytes(encode_jpeg(arr, 90))
            rows.append({"file": f"scrape/{name}", "query": query, "language": lang, "kind": kind, "source": source})
            bar.update()
    table = pd.DataFrame(rows)
    table.to_csv(out / "scrape.csv", index=False)
    return table


def build(faces, out, profile: str = "quick", seed: int = 0, detector: str | None = None, size: int | None = None,
          min_corr: float | None = None, progress: bool = True) -> dict:
    """Run the whole §III-A pipeline into ``out`` (an ``infer-pp`` layout) and return what each stage measured;
    ``detector``, ``size`` and ``min_corr`` default to the profile's :data:`WEB` recipe."""
    from fernb.data.splits import stratified_split
    from fernb.data.faces import FaceDetector
    from fernb.data.store import decode
    from fernb.progress import progress_bar

    r = WEB(profile)
    detector, size = detector or r.detector, size or r.crop
    min_corr = r.min_corr if min_corr is None else min_corr
    out = Path(out)
    report_path = out / "construction.json"
    if report_path.exists() and (out / "records.csv").exists():
        return json.loads(report_path.read_text())
    scrape = simulate_scrape(faces, out, profile, seed, progress=progress)
    with progress_bar(total=len(scrape), desc=f"face filter ({detector})", unit="img", enabled=progress) as bar:
        boxes = FaceDetector(detector).best_boxes([out / f for f in scrape["file"]], 32, bar)
    scrape["has_face"] = [b is not None for b in boxes]
    is_face = scrape["kind"] != "nonface"
    tp = int((scrape.has_face & is_face).sum())
    detection = {"scraped": len(scrape), "kept": int(scrape.has_face.sum()), "precision": tp / max(1, int(scrape.has_face.sum())),
                 "recall": tp / max(1, int(is_face.sum()))}
    kept = scrape[scrape.has_face].reset_index(drop=True)
    kept_boxes = [b for b in boxes if b is not None]
    # the whole image: a re-upload keeps its background, hair and clothes; a look-alike does not
    views = [decode(out / f, 64, 1)[..., 0] for f in kept["file"]]
    groups = near_duplicate_groups(thumbnails(np.stack(views)[..., None], size=32)[0], min_corr)
    first = groups == np.arange(len(groups))
    removed = ~first
    src = kept["source"].to_numpy()
    # a removal is right when the image it was grouped with is a copy of the same face
    right = removed & (src >= 0) & (src[groups] == src)
    dup_sources = set(src[(kept["kind"] == "duplicate").to_numpy()])
    pairs = [s_ for s_ in dup_sources if (src == s_).sum() == 2]  # both copies passed the detector
    left = pd.Series(src[first]).value_counts()
    dedup = {"min_corr": min_corr, "removed": int(removed.sum()), "wrongly_removed": int((removed & ~right).sum()),
             "planted_pairs": len(pairs), "pairs_resolved": int(sum(left.get(s_, 0) == 1 for s_ in pairs))}
    final = kept[first].reset_index(drop=True)
    final_boxes = [kept_boxes[i] for i in np.flatnonzero(first)]
    (out / "images").mkdir(exist_ok=True)
    rec = faces.records
    rows = []
    for n, (r, box) in enumerate(zip(final.itertuples(), final_boxes)):
        name = f"images/{n:06d}.jpg"  # §III-F: the face with a 20% margin, 256×256, grayscale
        (out / name).write_bytes(encode_jpeg(decode(out / r.file, size, 1, box, margin=0.2)[..., 0], 92))
        row = {"image": name, "query": r.query, "kind": r.kind}
        if r.source >= 0:
            src = rec.iloc[int(r.source)]
            row.update({"label": int(src["label"]), "true_label": int(src["true_label"]), "age_group": src["age_group"],
                        "gender": src["gender"], **{c: int(src[c]) for c in rec.columns if c.startswith("votes_")}})
        rows.append(row)
    table = pd.DataFrame(rows)
    faces_only = table[table["kind"] != "nonface"].reset_index(drop=True)  # detector false positives are dropped here:
    faces_only["expression"] = faces_only["label"].map(published_names("infer-pp"))  # InFER++ Table 2's names
    faces_only["split"] = stratified_split(faces_only["label"].to_numpy(), 0.2, seed)
    cols = ["image", "expression", "split", "age_group", "gender"] + [c for c in faces_only.columns if c.startswith("votes_")]
    faces_only[cols].to_csv(out / "records.csv", index=False)
    faces_only[["image", "query", "kind", "true_label"]].to_csv(out / "provenance.csv", index=False)
    report = {"profile": profile, "detector": detector, "detection": detection, "dedup": dedup,
              "nonfaces_past_filter": int((table["kind"] == "nonface").sum()), "final_images": len(faces_only)}
    report_path.write_text(json.dumps(report, indent=1))
    return report


# --- chapter 02: the drivers, tables and figure its cells call -------------------------------------------------------


@dataclass
class Construction:
    """One built copy: ``root`` holds its ``infer-pp/`` folder; ``report`` is what each stage measured (:func:`build`)."""

    root: Path
    report: dict


def construct(ch) -> Construction:
    """§III-A on the chapter's face pool (``ch.dataset``, a SynthFER domain): build, or reuse, the ``infer-pp`` copy
    under ``<data_root>/constructed/<profile>-s<seed>/``."""
    from fernb.data import load_dataset

    faces = load_dataset(ch.dataset, ch.data_root, profile=ch.profile, seed=ch.seed)
    root = Path(ch.data_root) / "constructed" / f"{ch.profile}-s{ch.seed}"
    return Construction(root, build(faces, root / "infer-pp", profile=ch.profile, seed=ch.seed))


def web_line(profile: str) -> str:
    """One line: what the simulated search returns in ``profile``."""
    n_face, n_non, n_dup = web_sizes(profile)
    return (f"simulated web for profile {profile}: {n_face} faces + {n_non} non-face images + {n_dup} "
            f"near-duplicates = {n_face + n_non + n_dup} search results")


def dictionary_table() -> pd.DataFrame:
    """The query dictionary (§III-A): one row per segment with its terms."""
    def shown(v):
        return ", ".join(v) if isinstance(v, list) else "; ".join(f"{k}: {', '.join(w)}" for k, w in v.items())

    return pd.DataFrame({"terms": {seg: shown(v) for seg, v in SEGMENTS.items()}})


def example_queries(seed: int) -> pd.DataFrame:
    """Queries composed for the (expression, age group, gender) of §III-A's examples (:data:`EXAMPLE_QUERIES`)."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame([dict(zip(("query", "language"), compose_query(rng, e, a, g)), expression=e, age_group=a,
                              gender=g) for e, a, g in EXAMPLE_QUERIES])


def stages_text(report: dict) -> str:
    """What each stage of the pipeline measured, as Markdown, beside §III-A's 50,371 → 35,789."""
    det, dd = report["detection"], report["dedup"]
    return "\n".join([
        f"- face filter ({report['detector']}): {det['scraped']} scraped → {det['kept']} kept; "
        f"precision {det['precision']:.3f}, recall {det['recall']:.3f}",
        f"- de-duplication (correlation ≥ {dd['min_corr']}): removed {dd['removed']}, of them wrongly "
        f"{dd['wrongly_removed']}; planted duplicate pairs {dd['planted_pairs']}, resolved to one copy "
        f"{dd['pairs_resolved']}",
        f"- non-face images past the filter (left to the annotators to reject): {report['nonfaces_past_filter']}",
        f"- final dataset: {report['final_images']} images (the paper: {PAPER_SCRAPED:,} → {PAPER_FACES:,})",
    ])


def headline(report: dict) -> str:
    """The results map's line for Fig. 2 (``infer-f2``)."""
    det = report["detection"]
    return (f"{det['scraped']} scraped → {report['final_images']} kept; face filter precision "
            f"{det['precision']:.2f}, recall {det['recall']:.2f}")


def read_back(built: Construction):
    """The built copy checked by the verifier like a downloaded one (its first summary line) and loaded by the
    ``infer-pp`` adapter: ``(line, dataset)``."""
    from fernb.data import load_dataset
    from fernb.data.verify import verify

    line = verify("infer-pp", built.root, progress=False).summary().splitlines()[0]
    return line, load_dataset("infer-pp", data_root=built.root, progress=False)


def class_shares(dataset) -> pd.DataFrame:
    """Share of each expression in the built copy beside InFER++ Table 2(a) (the manifest's published counts)."""
    from fernb.data.verify import published_class_counts

    paper = published_class_counts("infer-pp", "all", source="InFER++ Table 2(a)")
    names = dict(enumerate(dataset.class_counts().index))
    ours = dataset.records["label"].map(names).value_counts(normalize=True)
    return pd.DataFrame({"ours": ours, "InFER++ Table 2(a)": paper / paper.sum()}).round(3)


def age_gender_table(dataset) -> pd.DataFrame:
    """Images per age group and gender of the built copy, with totals (the shape of Table 2(b, c))."""
    r = dataset.records
    return pd.crosstab(r["age_group"], r["gender"], margins=True)


def crops_figure(dataset, seed: int, n: int = 6):
    """``n`` of the final 256×256 grayscale crops, drawn at random, each titled with its expression."""
    from fernb.data.store import record_image
    from fernb.viz import sample_grid

    pick = np.random.default_rng(seed).choice(len(dataset.records), n, replace=False)
    names = dataset.class_counts().index
    return sample_grid([[record_image(dataset, i) for i in pick]], ["crops"],
                       [str(names[dataset.records["label"].iloc[i]]) for i in pick])
