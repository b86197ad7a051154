"""Two-tower contrastive training on CPU: the small CLIP-like model of the demo and of the
dimension-collapse experiment.

Model. Two MLP towers f (image analogue) and g (text analogue),

    z_x = f(standardise(u)) in R^k,   x = Q_A z_x / |z_x|,
    z_y = g(standardise(v)) in R^k,   y = Q_B z_y / |z_y|,

where ``standardise`` subtracts the training mean and divides by the training standard
deviation of each input feature (frozen buffers), each tower is Linear -> GELU -> ... ->
Linear, and Q_A, Q_B (h x k, orthonormal columns) are fixed bases. Without bases
(Q = I_k, h = k) the outputs are plain L2-normalised vectors in R^k. With bases the outputs
lie EXACTLY in span(Q_A) ∩ S^{h-1} (resp. span(Q_B) ∩ S^{h-1}): since Q^T Q = I,
|Q z / |z|| = 1 and Q z / |z| in span(Q) by construction (up to float32 rounding of
one matrix product, about 1e-7). This is the subspace constraint ("dimension collapse"
imposed) of docs/theory.md §2 / Theorem 3 of Yi, Douady & Chen, arXiv 2510.03268.

Objective. Symmetric InfoNCE with the positive pair in each denominator (CLIP, Radford et
al. 2021; docs/theory.md §1):

    L_N(X, Y) = (1/N) sum_i [ -log softmax_j(x_i . y_j / tau)_i - log softmax_j(y_i . x_j / tau)_i ]
              = CE(S / tau, I) + CE(S^T / tau, I),   S = X Y^T,

computed here with two ``torch.nn.functional.cross_entropy`` calls on the full N x N
similarity matrix (fast plain autograd for the N <= a few thousand used here; the tests
check it against the float64 reference :func:`verify.objective.infonce`).

The temperature tau is FIXED (not learned): the theorems are statements at a fixed tau, and
a learned temperature would change the objective while it is being minimised.

Optimiser: Adam (Kingma & Ba 2015), float32, full batch by default (then the training loss
is exactly L_N over the training set) or shuffled mini-batches with a seeded generator.

Determinism: the run happens inside ``torch.random.fork_rng`` with ``torch.manual_seed(seed)``,
``torch.use_deterministic_algorithms(True)`` and one intra-op thread; the previous global
settings are restored afterwards. Same seed, inputs and torch build -> identical embeddings.

Convergence (reported, never assumed): after every epoch the full-batch training loss L_N is
recorded. The run has *plateaued* when the mean loss of the last ``plateau_window`` epochs is
within a relative ``plateau_rtol`` of the mean of the window before it (and the loss is
finite). The result says so, and why not when it has not.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._validation import (
    InputError,
    as_matrix,
    check_int_in_range,
    check_nonnegative,
    check_orthonormal,
    check_paired,
    check_positive,
)
from .adam import Adam

__all__ = ["TwoTowerResult", "train_two_towers", "plateaued", "symmetric_infonce"]


def plateaued(history, window: int, rtol: float) -> tuple[bool, str]:
    """Whether a loss history has plateaued, and why (not).

    With m_last = mean(history[-w:]) and m_prev = mean(history[-2w:-w]) (w = ``window``),
    plateaued  <=>  |m_prev - m_last| <= rtol * max(|m_last|, 1e-12)  and all values finite.
    Needs at least 2w entries; fewer is reported as not plateaued.
    """
    window = check_int_in_range(window, "window", 1, 10**9)
    rtol = check_positive(rtol, "rtol")
    h = np.asarray(history, dtype=np.float64)
    if h.size < 2 * window:
        return False, f"only {h.size} epochs recorded, need {2 * window} to test a plateau"
    if not np.all(np.isfinite(h)):
        return False, "loss history contains NaN or inf"
    m_last = float(np.mean(h[-window:]))
    m_prev = float(np.mean(h[-2 * window : -window]))
    rel = abs(m_prev - m_last) / max(abs(m_last), 1e-12)
    if rel <= rtol:
        return True, (
            f"plateaued: mean loss of the last {window} epochs {m_last:.6g} vs previous "
            f"{window} epochs {m_prev:.6g} (relative change {rel:.2e} <= {rtol:g})"
        )
    return False, (
        f"still moving: mean loss of the last {window} epochs {m_last:.6g} vs previous "
        f"{window} epochs {m_prev:.6g} (relative change {rel:.2e} > {rtol:g})"
    )


class _PlateauTest:
    """:func:`plateaued` on a growing history (index 0 = before training is not part of the
    test), its arguments validated once and the finiteness of all entries tracked as they
    arrive, so a per-epoch test costs two means of ``window`` values."""

    def __init__(self, window: int, rtol: float):
        self.window = check_int_in_range(window, "window", 1, 10**9)
        self.rtol = check_positive(rtol, "rtol")
        self._seen = 1
        self._finite = True

    def reached(self, history: list[float]) -> bool:
        """Whether ``plateaued(history[1:], window, rtol)`` holds."""
        self._finite = self._finite and bool(np.all(np.isfinite(history[self._seen :])))
        self._seen = len(history)
        w = self.window
        if len(history) - 1 < 2 * w or not self._finite:
            return False
        h = np.asarray(history[-2 * w :], dtype=np.float64)
        m_last = float(np.mean(h[w:]))
        m_prev = float(np.mean(h[:w]))
        return abs(m_prev - m_last) / max(abs(m_last), 1e-12) <= self.rtol


def symmetric_infonce(X, Y, tau: float):
    """L_N(X, Y) = CE(X Y^T / tau, I) + CE(Y X^T / tau, I) for unit-row torch tensors.

    The symmetric InfoNCE of docs/theory.md §1 (Radford et al. 2021), positive pair in each
    denominator, autograd through plain torch ops (no chunking: O(N^2) memory).
    """
    import torch
    import torch.nn.functional as F

    S = (X @ Y.T) / tau
    target = torch.arange(S.shape[0], device=S.device)
    return F.cross_entropy(S, target) + F.cross_entropy(S.T, target)


@contextlib.contextmanager
def _deterministic_torch(seed: int):
    """Seeded, one-thread torch on the CPU (where the towers train): bit-identical runs for
    a seed. torch.use_deterministic_algorithms is not called: it concerns CUDA kernels and
    multi-threaded CPU scatter ops, neither used here, and its first call imports torch's
    compiler stack (1.7 s per process, measured)."""
    import torch

    prev_threads = torch.get_num_threads()
    try:
        with torch.random.fork_rng(devices=[]):
            torch.set_num_threads(1)
            torch.manual_seed(seed)
            yield
    finally:
        torch.set_num_threads(prev_threads)


def _make_tower(d_in: int, hidden: int, depth: int, k: int, mean, std, basis):
    """An MLP tower: standardise -> [Linear, GELU] x depth -> Linear(k) -> /|.| -> Q."""
    import torch
    from torch import nn

    class Tower(nn.Module):
        def __init__(self):
            super().__init__()
            layers: list[nn.Module] = []
            width = d_in
            for _ in range(depth):
                layers += [nn.Linear(width, hidden), nn.GELU()]
                width = hidden
            layers.append(nn.Linear(width, k))
            self.net = nn.Sequential(*layers)
            self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32))
            self.register_buffer("std", torch.as_tensor(std, dtype=torch.float32))
            Q = None if basis is None else torch.as_tensor(basis, dtype=torch.float32)
            self.register_buffer("basis", Q)

        def forward(self, u):
            z = self.net((u - self.mean) / self.std)
            z = torch.nn.functional.normalize(z, dim=1)
            if self.basis is not None:
                z = z @ self.basis.T
            return z

    return Tower()


@dataclass
class TwoTowerResult:
    """Outcome of :func:`train_two_towers`.

    x, y: float32 (N, h) unit-row embeddings of the training inputs after training;
    loss_history: full-batch training loss L_N after each epoch (index 0 = before training;
    its length - 1 is the number of epochs run);
    initial_loss, final_loss: first and last entries; wall_time_s: training wall time;
    converged: whether the loss plateaued (see :func:`plateaued`); message: why (not);
    config: every hyper-parameter; towers: the trained (image, text) torch modules, used by
    :meth:`encode` for new inputs; x_init, y_init: the embeddings of the same inputs by the
    freshly initialised towers (the gap at initialisation, Liang et al. 2022's cone effect).
    """

    x: np.ndarray
    y: np.ndarray
    loss_history: np.ndarray
    initial_loss: float
    final_loss: float
    wall_time_s: float
    converged: bool
    message: str
    config: dict[str, Any] = field(default_factory=dict)
    towers: tuple[Any, Any] | None = field(default=None, repr=False)
    x_init: np.ndarray | None = field(default=None, repr=False)
    y_init: np.ndarray | None = field(default=None, repr=False)

    def encode(self, U, V) -> tuple[np.ndarray, np.ndarray]:
        """Embeddings (x, y) of new paired inputs through the trained towers (float32, no grad)."""
        import torch

        if self.towers is None:
            raise InputError("this result carries no towers to encode with")
        U = as_matrix(U, "U", dtype=np.float32)
        V = as_matrix(V, "V", dtype=np.float32)
        fx, fy = self.towers
        with torch.no_grad():
            X = fx(torch.from_numpy(np.ascontiguousarray(U))).numpy()
            Y = fy(torch.from_numpy(np.ascontiguousarray(V))).numpy()
        return X, Y


def _feature_stats(U: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = U.mean(axis=0)
    std = U.std(axis=0)
    std[std < 1e-8] = 1.0  # constant feature: leave it centred, do not divide by ~0
    return mean, std


def train_two_towers(
    U,
    V,
    *,
    embed_dim: int = 32,
    hidden: int = 128,
    depth: int = 1,
    tau: float = 0.1,
    epochs: int = 200,
    lr: float = 1e-3,
    weight_decay: float = 0.0,
    batch_size: int | None = None,
    seed: int = 0,
    basis_x=None,
    basis_y=None,
    plateau_window: int = 20,
    plateau_rtol: float = 2e-3,
    stop_on_plateau: bool = False,
) -> TwoTowerResult:
    """Train two MLP towers on paired inputs (u_i, v_i) with symmetric InfoNCE at fixed tau.

    U: (N, d_u) first view, V: (N, d_v) second view, row i of U paired with row i of V.
    Embeddings x_i = Q_A f(u_i)/|f(u_i)|, y_i = Q_B g(v_i)/|g(v_i)| (module docstring);
    without ``basis_x``/``basis_y`` the outputs are unit vectors of R^embed_dim. With them,
    both bases must be h x k with orthonormal columns and k = embed_dim, and the outputs are
    confined to span(basis_x) and span(basis_y) (the subspace constraint of Theorem 3,
    arXiv 2510.03268). Loss: :func:`symmetric_infonce` at the fixed ``tau``.
    Adam with learning rate ``lr``; full batch when ``batch_size`` is None, else seeded
    shuffled mini-batches. Deterministic for a given ``seed``. With ``stop_on_plateau`` the
    run stops at the first epoch at which :func:`plateaued` holds (early stopping on the
    training loss; ``epochs`` is then the maximum), else it runs all ``epochs``.
    Returns a :class:`TwoTowerResult` (embeddings, loss history, wall time, convergence).
    """
    import torch

    U = as_matrix(U, "U", min_rows=2, dtype=np.float32)
    V = as_matrix(V, "V", min_rows=2, dtype=np.float32)
    if U.shape[0] != V.shape[0]:
        raise InputError(
            f"U and V must have the same number of rows (paired), got {U.shape[0]} and {V.shape[0]}"
        )
    n = U.shape[0]
    k = check_int_in_range(embed_dim, "embed_dim", 1, 100_000)
    hidden = check_int_in_range(hidden, "hidden", 1, 100_000)
    depth = check_int_in_range(depth, "depth", 0, 100)
    tau = check_positive(tau, "tau")
    epochs = check_int_in_range(epochs, "epochs", 0, 10**7)
    lr = check_positive(lr, "lr")
    weight_decay = check_nonnegative(weight_decay, "weight_decay")
    seed = check_int_in_range(seed, "seed", 0, 2**63 - 1)
    check_int_in_range(plateau_window, "plateau_window", 1, 10**9)
    check_positive(plateau_rtol, "plateau_rtol")
    bs = n if batch_size is None else check_int_in_range(batch_size, "batch_size", 2, n)
    if (basis_x is None) != (basis_y is None):
        raise InputError("give both basis_x and basis_y, or neither")
    if basis_x is not None:
        basis_x = check_orthonormal(basis_x, "basis_x", atol=1e-6)
        basis_y = check_orthonormal(basis_y, "basis_y", h=basis_x.shape[0], atol=1e-6)
        check_paired(basis_x, basis_y, ("basis_x", "basis_y"))
        if basis_x.shape[1] != k:
            raise InputError(f"basis_x has {basis_x.shape[1]} columns, must equal embed_dim = {k}")
    config = {
        "n": n,
        "d_u": U.shape[1],
        "d_v": V.shape[1],
        "embed_dim": k,
        "ambient_dim": k if basis_x is None else int(basis_x.shape[0]),
        "hidden": hidden,
        "depth": depth,
        "activation": "GELU",
        "tau": tau,
        "temperature": "fixed",
        "epochs": epochs,
        "optimizer": "Adam",
        "lr": lr,
        "weight_decay": weight_decay,
        "batch_size": bs,
        "seed": seed,
        "confined": basis_x is not None,
        "plateau_window": plateau_window,
        "plateau_rtol": plateau_rtol,
        "stop_on_plateau": bool(stop_on_plateau),
        "dtype": "float32",
    }
    mu_u, sd_u = _feature_stats(U)
    mu_v, sd_v = _feature_stats(V)
    Ut = torch.from_numpy(np.ascontiguousarray(U))
    Vt = torch.from_numpy(np.ascontiguousarray(V))

    with _deterministic_torch(seed):
        fx = _make_tower(U.shape[1], hidden, depth, k, mu_u, sd_u, basis_x)
        fy = _make_tower(V.shape[1], hidden, depth, k, mu_v, sd_v, basis_y)
        params = list(fx.parameters()) + list(fy.parameters())
        opt = Adam(params, lr=lr, weight_decay=weight_decay)
        gen = torch.Generator().manual_seed(seed + 1)

        def batch_loss(ub, vb):
            return symmetric_infonce(fx(ub), fy(vb), tau)

        with torch.no_grad():
            X0 = fx(Ut).numpy().astype(np.float32)
            Y0 = fy(Vt).numpy().astype(np.float32)
        stop = _PlateauTest(plateau_window, plateau_rtol) if stop_on_plateau else None
        t0 = time.perf_counter()
        if bs == n:
            # Full batch: the loss of epoch e's step, taken before the step, IS the full-batch
            # L_N at the parameters after epoch e - 1. One forward per epoch serves as both
            # (the same float32 ops as a no-grad evaluation, so the same values).
            loss = batch_loss(Ut, Vt)
            history = [float(loss.detach())]
            for _ in range(epochs):
                opt.zero_grad()
                loss.backward()
                opt.step()
                loss = batch_loss(Ut, Vt)
                history.append(float(loss.detach()))
                if stop is not None and stop.reached(history):
                    break
            del loss
        else:
            with torch.no_grad():
                history = [float(batch_loss(Ut, Vt))]
            for _ in range(epochs):
                order = torch.randperm(n, generator=gen)
                for s in range(0, n - bs + 1, bs):  # drop a ragged last batch: fixed size
                    idx = order[s : s + bs]
                    opt.zero_grad()
                    batch_loss(Ut[idx], Vt[idx]).backward()
                    opt.step()
                with torch.no_grad():
                    history.append(float(batch_loss(Ut, Vt)))
                if stop is not None and stop.reached(history):
                    break
        wall = time.perf_counter() - t0
        fx.eval()
        fy.eval()
        with torch.no_grad():
            X = fx(Ut).numpy().astype(np.float32)
            Y = fy(Vt).numpy().astype(np.float32)

    hist = np.asarray(history, dtype=np.float64)
    conv, msg = plateaued(hist[1:], plateau_window, plateau_rtol)
    return TwoTowerResult(
        x=X,
        y=Y,
        loss_history=hist,
        initial_loss=float(hist[0]),
        final_loss=float(hist[-1]),
        wall_time_s=float(wall),
        converged=conv,
        message=msg,
        config=config,
        towers=(fx, fy),
        x_init=X0,
        y_init=Y0,
    )
