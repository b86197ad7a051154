"""Adam for the towers this package trains (torch tensors, CPU), without torch.optim.

Creating any ``torch.optim.Optimizer`` imports torch's compiler stack (``torch._dynamo``:
1.3 s of CPU per process here, measured with torch 2.13), which the small full-batch
trainings of this package (verify.twotower, verify.fashion_clip) then never use. This is
the same update as ``torch.optim.Adam`` with ``amsgrad=False, maximize=False,
foreach=False, capturable=False`` (torch's single-tensor path, the CPU default), operation
for operation, so a run gives the same float32 numbers bit for bit
(tests/test_adam.py compares the two step by step).

Update at step t = 1, 2, ... (Kingma & Ba, "Adam: A Method for Stochastic Optimization",
ICLR 2015, Algorithm 1, in torch's arrangement), for each parameter p with gradient g:

    g <- g + weight_decay p                       (L2 penalty, when weight_decay > 0)
    m <- m + (1 - beta1) (g - m)                  (torch.lerp)
    v <- beta2 v + (1 - beta2) g^2
    p <- p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ._validation import InputError, check_nonnegative, check_positive

__all__ = ["Adam"]


class Adam:
    """Adam over ``params`` (torch tensors with ``requires_grad``); see the module docstring.

    ``zero_grad()`` drops the gradients (``p.grad = None``), ``step()`` applies one update
    from the current gradients (parameters without a gradient are skipped, as in torch).
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ):
        import torch

        self.params = list(params)
        if not self.params:
            raise InputError("params is empty: nothing to optimise")
        self.lr = check_positive(lr, "lr")
        if len(betas) != 2:
            raise InputError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        self.beta1, self.beta2 = (check_nonnegative(b, f"betas[{i}]") for i, b in enumerate(betas))
        for name, b in (("betas[0]", self.beta1), ("betas[1]", self.beta2)):
            if not b < 1.0:
                raise InputError(f"{name} must be in [0, 1), got {b!r}")
        self.eps = check_nonnegative(eps, "eps")
        self.weight_decay = check_nonnegative(weight_decay, "weight_decay")
        with torch.no_grad():
            self.exp_avg = [torch.zeros_like(p) for p in self.params]
            self.exp_avg_sq = [torch.zeros_like(p) for p in self.params]
        self.steps = [0] * len(self.params)

    def zero_grad(self) -> None:
        """Drop every parameter's gradient (torch's ``set_to_none=True``)."""
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        """One Adam update of every parameter that has a gradient."""
        import torch

        b1, b2 = self.beta1, self.beta2
        with torch.no_grad():
            for i, p in enumerate(self.params):
                grad = p.grad
                if grad is None:
                    continue
                self.steps[i] += 1
                t = self.steps[i]
                if self.weight_decay != 0:
                    grad = grad.add(p, alpha=self.weight_decay)
                m, v = self.exp_avg[i], self.exp_avg_sq[i]
                m.lerp_(grad, 1 - b1)
                v.mul_(b2).addcmul_(grad, grad, value=1 - b2)
                step_size = self.lr / (1 - b1**t)
                bias_correction2_sqrt = (1 - b2**t) ** 0.5
                denom = (v.sqrt() / bias_correction2_sqrt).add_(self.eps)
                p.addcdiv_(m, denom, value=-step_size)
