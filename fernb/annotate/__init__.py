"""Crowd-label aggregation and cleaning (InFER++ §III-B/C): majority vote, Dawid–Skene, GLAD-style EM (Alg. 1),
and dropping unreliable annotators. ELR ranking (Alg. 2) and the expert re-annotation loop are still to come."""

from fernb.annotate.aggregators import GLAD, DawidSkene, MajorityVote, Votes, as_votes, drop_unreliable

__all__ = ["GLAD", "DawidSkene", "MajorityVote", "Votes", "as_votes", "drop_unreliable"]
