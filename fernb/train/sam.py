"""Sharpness-aware minimisation as a wrapper of any optimiser (Foret et al., ICLR 2021, Alg. 1).

One step is two passes over the same batch: the gradient g at w gives the ascent ε = ρ g/‖g‖ (element-wise scaled by
|w| in the adaptive variant, Kwon et al. 2021); the gradient at w + ε then updates w with the wrapped optimiser.
BatchNorm layers must not count the perturbed pass in their running statistics: :func:`frozen_bn_stats` switches
their momentum to 0 for it.
"""

from __future__ import annotations

from contextlib import contextmanager

import torch
from torch import nn


class SAM:
    def __init__(self, base: torch.optim.Optimizer, rho: float = 0.05, adaptive: bool = False):
        if rho <= 0:
            raise ValueError(f"SAM rho must be positive, got {rho}")
        self.base, self.rho, self.adaptive = base, rho, adaptive
        self._eps: dict = {}

    @property
    def param_groups(self):
        return self.base.param_groups

    def _params(self):
        return [p for g in self.base.param_groups for p in g["params"] if p.grad is not None]

    @torch.no_grad()
    def first_step(self):
        """w ← w + ε(w) from the gradient now in ``.grad``; then clear the gradients for the second pass."""
        params = self._params()
        if not params:
            return
        scaled = [(p.abs() if self.adaptive else 1.0) * p.grad for p in params]
        norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(s) for s in scaled]))
        scale = self.rho / (norm + 1e-12)
        self._eps = {}
        for p, s in zip(params, scaled):
            e = s * scale * (p.abs() if self.adaptive else 1.0)
            p.add_(e)
            self._eps[p] = e
        self.base.zero_grad(set_to_none=True)

    @torch.no_grad()
    def second_step(self):
        """Return to w and step the wrapped optimiser with the gradient taken at w + ε."""
        for p, e in self._eps.items():
            p.sub_(e)
        self._eps = {}
        self.base.step()

    def zero_grad(self, set_to_none: bool = True):
        self.base.zero_grad(set_to_none=set_to_none)

    def state_dict(self):
        return self.base.state_dict()

    def load_state_dict(self, state):
        self.base.load_state_dict(state)


@contextmanager
def frozen_bn_stats(model: nn.Module):
    """Keep BatchNorm running statistics unchanged inside the block (SAM's second pass)."""
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    saved = [(m.momentum, m.num_batches_tracked.clone() if m.num_batches_tracked is not None else None) for m in bns]
    for m in bns:
        m.momentum = 0.0
    try:
        yield
    finally:
        for m, (mom, n) in zip(bns, saved):
            m.momentum = mom
            if n is not None:
                m.num_batches_tracked.copy_(n)
