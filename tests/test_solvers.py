"""The solver: fast kernel, planted optima, convergence honesty, feasibility, determinism.

Independent references: verify.objective (logsumexp reference), torch autograd, the
closed-form value of the regular simplex (the unconstrained minimiser for h >= N - 1: Lu &
Steinerberger 2022; every pair x_i = y_i, x_i . x_j = -1/(N-1)), and constraint checks
recomputed from their definitions.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from modgap.verify.constraints import Cone, Subspace, SubspaceCone, Unconstrained
from modgap.verify.objective import infonce, infonce_and_grad
from modgap.verify.solvers import loss_and_grad, solve

TAU = 0.5


def simplex_loss(n: int, tau: float) -> float:
    """L_N of the regular simplex, x_i = y_i:
    2 [-1/tau + log(e^{1/tau} + (N-1) e^{-1/((N-1) tau)})]."""
    return 2.0 * (-1 / tau + math.log(math.exp(1 / tau) + (n - 1) * math.exp(-1 / ((n - 1) * tau))))


def simplex_point(n: int, h: int) -> np.ndarray:
    V = np.eye(n) - 1.0 / n
    V /= np.linalg.norm(V, axis=1, keepdims=True)
    U, s, Wt = np.linalg.svd(V, full_matrices=False)
    X = (U * s)[:, : n - 1]
    return np.hstack([X, np.zeros((n, h - (n - 1)))])


def independent_violation(C, X, Y, centres) -> float:
    v = max(
        np.abs(np.linalg.norm(X, axis=1) - 1).max(), np.abs(np.linalg.norm(Y, axis=1) - 1).max()
    )
    if isinstance(C, Subspace):
        v = max(v, np.abs(X - X @ C.QA @ C.QA.T).max(), np.abs(Y - Y @ C.QB @ C.QB.T).max())
    if C.has_cap:
        ca = math.cos(C.alpha)
        v = max(v, (ca - X @ centres[0]).max(), (ca - Y @ centres[1]).max())
        if isinstance(C, Subspace):
            v = max(v, np.abs(centres[0] - C.QA @ C.QA.T @ centres[0]).max())
    return float(v)


CASES = {
    "none": (Unconstrained(4), 6),
    "cone-var": (Cone(4, math.radians(40)), 5),
    "cone-fixed": (Cone(5, math.radians(40), centres=(np.eye(5)[0], np.eye(5)[1])), 5),
    "subspace": (Subspace.hyperplanes(5, math.radians(30), seed=1), 6),
    "subspace-k": (Subspace.with_angles(6, [0.0, 0.3, 0.7], seed=2), 5),
    "subcone-var": (SubspaceCone.hyperplanes(5, math.radians(30), math.radians(40)), 5),
}


# ----------------------------------------------------------------------------- kernel


@pytest.mark.parametrize("tau", [0.07, 0.5, 0.002])
def test_kernel_matches_reference_and_autograd(tau):
    import torch

    rng = np.random.default_rng(0)
    X = rng.standard_normal((9, 5))
    Y = rng.standard_normal((9, 5))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    Y /= np.linalg.norm(Y, axis=1, keepdims=True)
    f, gX, gY = loss_and_grad(X, Y, tau)
    f0, gX0, gY0 = infonce_and_grad(X, Y, tau)
    assert f == pytest.approx(f0, rel=1e-13, abs=1e-13)
    np.testing.assert_allclose(gX, gX0, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gY, gY0, rtol=1e-10, atol=1e-12)
    Xt = torch.tensor(X, requires_grad=True)
    Yt = torch.tensor(Y, requires_grad=True)
    S = Xt @ Yt.T / tau
    lt = (torch.logsumexp(S, 1) + torch.logsumexp(S, 0) - 2 * torch.diagonal(S)).mean()
    lt.backward()
    assert f == pytest.approx(lt.item(), rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(gX, Xt.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(gY, Yt.grad.numpy(), rtol=1e-9, atol=1e-12)


# ----------------------------------------------------------------------------- planted optimum


@pytest.mark.parametrize("method", ["lbfgs", "rgd", "torch"])
def test_unconstrained_reaches_the_simplex(method):
    n, h = 6, 7
    res = solve(Unconstrained(h), n, TAU, method=method)
    assert res.converged, res.message
    assert res.message == "gradient norm below tol"
    assert res.grad_norm <= 1e-9
    assert res.loss == pytest.approx(simplex_loss(n, TAU), abs=1e-10)
    assert res.loss_shifted == pytest.approx(res.loss - 2 * math.log(n), abs=1e-15)
    # the minimiser: x_i = y_i (to first order in the gradient), centred
    obs = res.observables()
    assert obs.pair_angle_max < math.radians(1e-3)
    assert obs.centroid_distance < 1e-8
    # a centred optimum has no centre: the angle is undefined, with the reason
    assert obs.centre_angle is None and "centre undefined" in obs.centre_undefined_reason


def test_planted_optimum_is_converged_and_perturbed_one_is_not():
    n, h = 5, 4
    X = simplex_point(n, h)
    res = solve(Unconstrained(h), n, TAU, X0=X, Y0=X, max_iter=0)
    assert res.converged and res.n_iter == 0 and res.grad_norm <= 1e-12
    # negative control: 1e-4 away from the optimum, no iteration allowed
    Xp = X + 1e-4 * np.random.default_rng(1).standard_normal(X.shape)
    Xp /= np.linalg.norm(Xp, axis=1, keepdims=True)
    bad = solve(Unconstrained(h), n, TAU, X0=Xp, Y0=X, max_iter=0)
    assert not bad.converged
    assert bad.message == "iteration limit reached"
    assert bad.grad_norm > 1e-6


def test_iteration_limit_is_never_reported_converged():
    C, n = CASES["cone-var"]
    for method in ("lbfgs", "rgd", "torch"):
        res = solve(C, n, TAU, method=method, max_iter=3)
        assert not res.converged
        assert res.message == "iteration limit reached"
        assert all(not r.converged and r.n_iter == 3 for r in res.per_start)
        assert res.grad_norm > 1e-9


def test_float32_run_is_not_reported_converged_at_float64_tolerance():
    res = solve(Unconstrained(5), 6, TAU, method="torch", dtype="float32", tol=1e-9)
    assert not res.converged
    assert res.grad_norm > 1e-9
    assert res.X.dtype == np.float64
    assert Unconstrained(5).violation(res.X, res.Y) <= 1e-12
    ok = solve(Unconstrained(5), 6, TAU, method="torch", dtype="float32", tol=1e-4)
    assert ok.converged and ok.grad_norm <= 1e-4


# ----------------------------------------------------------------------------- every constraint


@pytest.mark.parametrize("name", list(CASES))
def test_lbfgs_reaches_1e9_and_respects_the_constraint(name):
    C, n = CASES[name]
    res = solve(C, n, TAU)
    assert res.converged, (res.message, res.grad_norm)
    assert res.grad_norm <= 1e-9
    assert independent_violation(C, res.X, res.Y, res.centres) <= 1e-12
    assert res.violation <= 1e-12
    # the reported loss is L_N at the returned point
    assert res.loss == pytest.approx(infonce(res.X, res.Y, TAU), abs=1e-14)
    losses = [r.loss for r in res.per_start]
    assert res.loss == min(losses)
    assert res.loss_spread == pytest.approx(max(losses) - min(losses), abs=0)
    assert res.seed == res.per_start[int(np.argmin(losses))].seed


@pytest.mark.parametrize("name", ["cone-fixed", "subspace", "subcone-var"])
def test_methods_agree(name):
    C, n = CASES[name]
    ref = solve(C, n, TAU, method="lbfgs", seeds=(0, 1, 2, 3))
    for method in ("rgd", "torch"):
        res = solve(C, n, TAU, method=method, seeds=(0, 1, 2, 3), tol=1e-8)
        assert res.converged, (method, res.message)
        assert res.loss == pytest.approx(ref.loss, abs=1e-9)


def test_kkt_point_of_cone_is_a_local_minimum_along_feasible_curves():
    """Independent of the residual: random feasible perturbations never lower the loss."""
    C, n = CASES["cone-fixed"]
    res = solve(C, n, TAU)
    rng = np.random.default_rng(3)
    for _ in range(200):
        dX = 1e-4 * rng.standard_normal(res.X.shape)
        dY = 1e-4 * rng.standard_normal(res.Y.shape)
        X2, Y2 = C.project(res.X + dX, res.Y + dY)
        assert infonce(X2, Y2, TAU) >= res.loss - 1e-12


def test_same_seed_same_result():
    C, n = CASES["cone-var"]
    a = solve(C, n, TAU, seeds=(4, 5))
    b = solve(C, n, TAU, seeds=(4, 5))
    assert np.array_equal(a.X, b.X) and np.array_equal(a.Y, b.Y)
    assert a.loss == b.loss and a.grad_norm == b.grad_norm and a.n_iter == b.n_iter
    assert [r[:5] for r in a.per_start] == [r[:5] for r in b.per_start]
    assert all(np.array_equal(c1, c2) for c1, c2 in zip(a.centres, b.centres, strict=True))


def test_solve_validation():
    C = Unconstrained(4)
    with pytest.raises(ValueError, match="method"):
        solve(C, 4, TAU, method="adam")
    with pytest.raises(ValueError, match="tau"):
        solve(C, 4, -1.0)
    with pytest.raises(ValueError, match="X0"):
        solve(C, 4, TAU, X0=np.eye(4)[:3], Y0=np.eye(4)[:3])
    with pytest.raises(ValueError, match="both X0 and Y0"):
        solve(C, 4, TAU, X0=np.eye(4))
    with pytest.raises(ValueError, match="torch"):
        solve(C, 4, TAU, dtype="float32")
    with pytest.raises(TypeError, match="constraint"):
        solve("none", 4, TAU)
    with pytest.raises(ValueError, match="seeds"):
        solve(C, 4, TAU, seeds=())


def test_every_multistart_result_reports_its_coverage():
    """SolveResult.coverage(): per-start values clustered; on the planted simplex optimum
    (N = 5, h = 4) every converged start reaches the one minimum: Good-Turing 0; a start
    capped at one iteration counts as an unseen basin (it raises the estimate)."""
    n, h = 5, 4
    res = solve(Unconstrained(h), n, TAU, seeds=(0, 1, 2, 3))
    cov = res.coverage()
    assert cov.starts == 4 and cov.converged == 4
    assert cov.distinct_minima == 1 and cov.starts_at_best == 4 and cov.good_turing == 0.0
    assert cov.best == pytest.approx(simplex_loss(n, TAU), abs=1e-10)
    capped = solve(Unconstrained(h), n, TAU, seeds=(0, 1), max_iter=1).coverage()
    assert capped.converged == 0 and capped.good_turing == 1.0


@pytest.mark.parametrize("memory, pushes", [(5, 3), (5, 12), (100, 40)])
def test_compact_memory_applies_the_two_loop_inverse_hessian(memory, pushes):
    """The compact representation (Byrd, Nocedal & Schnabel 1994) and the two-loop recursion
    are two evaluations of one matrix H: same pairs (some pushed past the memory, so the
    oldest are dropped), same H g to rounding; and H is the identity with no pairs."""
    from modgap.verify.solvers import _CompactMemory, _TwoLoopMemory

    rng = np.random.default_rng(memory + pushes)
    P = 30
    A = rng.standard_normal((P, P))
    A = A @ A.T + P * np.eye(P)  # SPD: every pair has s.y > 0
    compact, twoloop = _CompactMemory(memory, P), _TwoLoopMemory(memory)
    g = rng.standard_normal(P)
    assert np.array_equal(compact.apply(g), g) and np.array_equal(twoloop.apply(g), g)
    for _ in range(pushes):
        s = rng.standard_normal(P)
        y = A @ s
        for mem in (compact, twoloop):
            mem.push(s, y, float(s @ y), float(y @ y))
    a, b = compact.apply(g), twoloop.apply(g)
    assert len(compact) == len(twoloop) == min(memory, pushes)
    assert np.abs(a - b).max() <= 1e-10 * np.abs(b).max()
    # the comparison can fail: an emptied memory (H = I) gives another H g
    compact.clear()
    assert np.abs(compact.apply(g) - b).max() > 1e-3 * np.abs(b).max()
