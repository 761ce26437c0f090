"""How often a real face detector finds SynthFER's faces, and how often it fires on non-face images.

    python benchmarks/synthfer_detection.py --n 500 [--backend mtcnn|haar]

Prints the detection rate per domain (and per occluder) and the false-positive rate on non-face images.
"""

import argparse
import io
import time

import numpy as np
import torch
from PIL import Image

from fernb.data.faces import FaceDetector
from fernb.data.manifest import load_manifest
from fernb.data.synth.generate import SynthConfig, render_one, sample_attributes
from fernb.data.synth.nonfaces import nonface_images


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=500, help="images per domain (and non-face images)")
    p.add_argument("--backend", default="mtcnn")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    torch.set_num_threads(2)
    det = FaceDetector(a.backend)
    for domain in ("synth-raf", "synth-infer"):
        cfg = SynthConfig(domain, max(a.n, 14), a.seed)
        df = sample_attributes(cfg)
        gen = load_manifest(domain)["generator"]
        rows = df.to_dict("records")
        ims = [np.asarray(Image.open(io.BytesIO(render_one(cfg, i, rows[i], gen)))) for i in range(a.n)]
        t = time.perf_counter()
        hit = det.has_face(ims)
        print(f"{domain}: {a.backend} finds a face in {hit.mean():.1%} of {a.n} images ({time.perf_counter() - t:.1f}s)")
        occ = df["occluders"].iloc[:a.n].replace("", "none")
        for o in sorted(set("+".join(occ).split("+"))):
            m = occ.str.contains(o).to_numpy()
            print(f"    with {o:<10s} {hit[m].mean():6.1%} of {int(m.sum())}")
    neg = nonface_images(a.n, a.seed)
    fp = det.has_face(neg)
    print(f"non-face images: {a.backend} fires on {fp.mean():.1%} of {a.n}")


if __name__ == "__main__":
    main()
