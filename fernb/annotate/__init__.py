"""Crowd-label aggregation and cleaning (InFER++ §III-B/C): majority vote, Dawid–Skene, GLAD-style EM (Alg. 1),
dropping unreliable annotators, and Alg. 2's loss ranking. InFER++'s own annotation study (its simulated expert panel
and annotator funnel) is :mod:`fernb.papers.infer.annotation`."""

from fernb.annotate.aggregators import GLAD, DawidSkene, MajorityVote, Votes, as_votes, dataset_votes, drop_unreliable
from fernb.annotate.ranking import label_losses, precision_recall_at_k, score_records, top_k

__all__ = ["GLAD", "DawidSkene", "MajorityVote", "Votes", "as_votes", "dataset_votes", "drop_unreliable",
           "label_losses", "precision_recall_at_k", "score_records", "top_k"]
