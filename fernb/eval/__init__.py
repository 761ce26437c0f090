"""Metrics, evaluations, complexity, latency and deployment: nothing here trains (ARCHITECTURE.md)."""

from fernb.eval.evaluation import Evaluation

__all__ = ["Evaluation"]
