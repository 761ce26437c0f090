"""InFER++ (Rizvi, Seth, Challa, Narang): the paper's experiments, one module per part.

- ``construction``: the dataset construction pipeline (§III-A: queries -> scrape -> face filter -> crop).
- ``annotation``: the annotation study (§III-B/C/D: expert panel, assessment funnel, Alg. 1 and Alg. 2).
- ``cross``: the cross-dataset study (§III-E, Fig. 5).
- ``benchmark`` and ``noisy``: the SOTA benchmark and LiteXpressionNet (§IV, Tables 3-5).

Import the submodule you need (``from fernb.papers.infer import construction``); this file imports nothing.
"""
