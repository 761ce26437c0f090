"""Crowd-label aggregation and cleaning (InFER++ §III-B/C): majority vote, Dawid–Skene, GLAD-style EM (Alg. 1),
dropping unreliable annotators, the annotator funnel, and Alg. 2's loss ranking with expert re-annotation."""

from fernb.annotate.aggregators import GLAD, DawidSkene, MajorityVote, Votes, as_votes, dataset_votes, drop_unreliable
from fernb.annotate.ranking import (assessment_funnel, expert_labels, label_losses, precision_recall_at_k,
                                    score_records, top_k)

__all__ = ["assessment_funnel", "GLAD", "DawidSkene", "MajorityVote", "Votes", "as_votes", "dataset_votes",
           "drop_unreliable", "expert_labels", "label_losses", "precision_recall_at_k", "score_records", "top_k"]
