"""Optimizers from scratch (lesson 6): SGD with momentum, Adagrad, RMSProp, Adam and AdamW.

As `torch.optim.Optimizer` subclasses they get parameter groups, `zero_grad()`, `state_dict()`
and schedulers for free, and match their `torch.optim` namesakes (same defaults, same steps)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch import Tensor

from course_utils.checks import real_number

__all__ = ["SGD", "Adagrad", "Adam", "AdamW", "OPTIMIZERS", "Optimizer", "RMSProp"]

Params = Iterable[Tensor] | Iterable[dict[str, Any]]


class Optimizer(torch.optim.Optimizer):
    """Base class: `step()` calls `update` on each parameter that has a gradient.

    It subclasses `torch.optim.Optimizer`, so parameter groups, `zero_grad`, `state_dict` and
    PyTorch's learning-rate schedulers (hence `fit`'s `one_cycle`) work with it unchanged; each
    optimizer below only writes its `update` rule for one parameter.
    """

    def __init__(self, params: Params, defaults: dict[str, Any]) -> None:
        # As torch.optim does, refuse what cannot be meant: a negative rate or decay, a beta of
        # 1 or more (the average would never forget, or grow).
        name = type(self).__name__
        for k, v in defaults.items():
            if k == "betas":
                for b in v:
                    real_number(b, f"{name} betas", low=0, high=1, high_open=True)
            else:
                real_number(v, f"{name} {k}", low=0)
        super().__init__(params, defaults)

    @torch.no_grad()  # the update must not become part of the next backward pass
    def step(self) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:  # e.g. a frozen parameter
                    state = self.state[p]
                    state["step"] = state.get("step", 0) + 1  # t, counted per parameter
                    self.update(p, p.grad, state, group)

    def update(self, p: Tensor, g: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        """Change `p` in place, given its gradient `g`, its `state` and its group's settings."""
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum (like `torch.optim.SGD`).

    g ← g + wd·p           (L2 penalty wd/2·‖p‖² added to the loss)
    v ← μ·v + g            (momentum: a running sum of past gradients; v starts at 0)
    p ← p − lr·v           (with μ = 0, v = g: plain SGD)
    """

    def __init__(
        self, params: Params, lr: float = 1e-3, momentum: float = 0.0, weight_decay: float = 0.0
    ) -> None:
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay))

    def update(self, p: Tensor, g: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        g = g + group["weight_decay"] * p
        if group["momentum"]:
            v = state.setdefault("v", torch.zeros_like(p))
            g = v.mul_(group["momentum"]).add_(g)
        p.sub_(group["lr"] * g)


class Adagrad(Optimizer):
    """Adagrad: divide each parameter's step by the root of its summed squared gradients.

    g ← g + wd·p
    s ← s + g²             (s starts at 0 and only grows, so the steps only shrink)
    p ← p − lr·g / (√s + ε)
    """

    def __init__(
        self, params: Params, lr: float = 1e-2, eps: float = 1e-10, weight_decay: float = 0.0
    ) -> None:
        super().__init__(params, dict(lr=lr, eps=eps, weight_decay=weight_decay))

    def update(self, p: Tensor, g: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        g = g + group["weight_decay"] * p
        s = state.setdefault("sum_sq", torch.zeros_like(p))
        s.add_(g * g)
        p.sub_(group["lr"] * g / (s.sqrt() + group["eps"]))


class RMSProp(Optimizer):
    """RMSProp: like Adagrad, but with an exponentially weighted average of g² (forgets).

    g ← g + wd·p
    s ← α·s + (1 − α)·g²   (s starts at 0)
    p ← p − lr·g / (√s + ε)
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay))

    def update(self, p: Tensor, g: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        g = g + group["weight_decay"] * p
        s = state.setdefault("avg_sq", torch.zeros_like(p))
        s.lerp_(g * g, 1 - group["alpha"])  # lerp(s, new, w) = s + w·(new − s)
        p.sub_(group["lr"] * g / (s.sqrt() + group["eps"]))


class Adam(Optimizer):
    """Adam: momentum (average of g) divided by RMSProp's root mean square (average of g²).

    g ← g + wd·p                     (L2: the penalty goes through the adaptive scaling)
    m ← β1·m + (1 − β1)·g            (m and v start at 0, so early on they are too small;
    v ← β2·v + (1 − β2)·g²            dividing by 1 − βᵗ removes that bias)
    p ← p − lr·(m / (1 − β1ᵗ)) / (√(v / (1 − β2ᵗ)) + ε)
    """

    decoupled = False
    default_weight_decay = 0.0  # torch.optim.Adam's default

    def __init__(
        self,
        params: Params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float | None = None,
    ) -> None:
        if weight_decay is None:
            weight_decay = self.default_weight_decay
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))

    def update(self, p: Tensor, g: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        beta1, beta2 = group["betas"]
        lr, wd = group["lr"], group["weight_decay"]
        t = state["step"]  # steps this parameter has taken, for the debiasing
        if self.decoupled:
            p.mul_(1 - lr * wd)  # AdamW: shrink the weights directly
        else:
            g = g + wd * p  # Adam: L2 added to the gradient
        m = state.setdefault("m", torch.zeros_like(p))
        v = state.setdefault("v", torch.zeros_like(p))
        m.lerp_(g, 1 - beta1)
        v.lerp_(g * g, 1 - beta2)
        m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
        p.sub_(lr * m_hat / (v_hat.sqrt() + group["eps"]))


class AdamW(Adam):
    """AdamW: Adam with decoupled weight decay (Loshchilov & Hutter), kept out of the adaptive
    scaling (in Adam, wd·p is divided by √v̂, so weights with large gradients hardly decay).

        p ← p − lr·wd·p                  (every weight shrinks by the same fraction)
        then Adam's update with the plain gradient g (no wd·p in it)
    """

    decoupled = True
    default_weight_decay = 1e-2  # torch.optim.AdamW's default


# name -> (our class, the torch.optim class it reproduces)
OPTIMIZERS: dict[str, tuple[type[Optimizer], type[torch.optim.Optimizer]]] = {
    "SGD": (SGD, torch.optim.SGD),
    "Adagrad": (Adagrad, torch.optim.Adagrad),
    "RMSProp": (RMSProp, torch.optim.RMSprop),
    "Adam": (Adam, torch.optim.Adam),
    "AdamW": (AdamW, torch.optim.AdamW),
}
