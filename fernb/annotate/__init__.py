"""Crowd-label aggregation and cleaning (InFER++ §III-B/C): majority vote, Dawid–Skene, GLAD-style EM (Alg. 1),
dropping unreliable annotators, and Alg. 2's loss ranking. The simulated expert panel and annotator funnel live beside
the SynthFER simulator (:mod:`fernb.data.synth.experts`)."""

from fernb.annotate.aggregators import GLAD, DawidSkene, MajorityVote, Votes, as_votes, dataset_votes, drop_unreliable
from fernb.annotate.ranking import label_losses, precision_recall_at_k, score_records, top_k

__all__ = ["GLAD", "DawidSkene", "MajorityVote", "Votes", "as_votes", "dataset_votes", "drop_unreliable",
           "label_losses", "precision_recall_at_k", "score_records", "top_k"]
