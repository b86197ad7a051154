"""Global search with coverage, face identification and Newton refinement, checked
against closed forms (the regular simplex), finite differences, independent feasibility
and KKT recomputation, and random feasible perturbations (local optimality)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from modgap.verify.constraints import Cone, SubspaceCone, Unconstrained
from modgap.verify.coverage import decide
from modgap.verify.faces import CapFace, polish
from modgap.verify.newton import newton_refine
from modgap.verify.objective import infonce, infonce_and_grad
from modgap.verify.search import Symmetry, multistart, reflection
from modgap.verify.solvers import solve

pytest.importorskip("torch")


def simplex_loss(n: int, tau: float) -> float:
    return 2.0 * (-1 / tau + math.log(math.exp(1 / tau) + (n - 1) * math.exp(-1 / ((n - 1) * tau))))


def test_multistart_finds_the_simplex_with_full_coverage_and_the_rule_decides():
    ms = multistart(Unconstrained(3), 4, 0.5, starts=16, seed=1)
    best = simplex_loss(4, 0.5)
    assert ms.converged and ms.loss == pytest.approx(best, abs=1e-10)
    assert set(ms.strategies) == {"random", "continuation", "hop"}
    cov = ms.coverage
    assert cov.starts == 16 + 4 + 2 * 2 and cov.distinct_minima == 1 and cov.good_turing == 0.0
    assert decide(ms.loss < best - 1e-9, cov, what="the simplex").verdict == "CONFIRMED"
    # negative control: "nothing beats simplex + 0.1" is refuted by the search
    assert decide(ms.loss < best + 0.1 - 1e-9, cov).verdict == "REFUTED"
    summary = ms.summary()
    assert summary["coverage"]["starts"] == cov.starts and "per_start" not in summary


def test_mapped_starts_under_a_symmetry_of_infonce_stay_minima():
    first = multistart(Unconstrained(3), 4, 0.5, starts=4, strategies=("random",))
    sym = reflection(np.array([1.0, 2.0, 2.0]), "both")
    R = sym.Rx
    assert np.abs(R @ R.T - np.eye(3)).max() <= 1e-15 and np.abs(R @ R - np.eye(3)).max() <= 1e-15
    X2, Y2 = sym.apply(first.X, first.Y)
    assert infonce(X2, Y2, 0.5) == pytest.approx(first.loss, abs=1e-12)  # X Y^T unchanged
    ms = multistart(
        Unconstrained(3), 4, 0.5, starts=1, strategies=("mapped",), mapped=[(first.minima, sym)]
    )
    assert ms.strategies["mapped"]["starts"] == len(first.minima)
    assert ms.loss == pytest.approx(simplex_loss(4, 0.5), abs=1e-10)


def test_multistart_validation_names_the_argument():
    C = Unconstrained(3)
    with pytest.raises(ValueError, match="strategies"):
        multistart(C, 4, 0.5, starts=2, strategies=("annealing",))
    with pytest.raises(ValueError, match="mapped"):
        multistart(C, 4, 0.5, starts=2, strategies=("mapped",))
    with pytest.raises(ValueError, match="continuation"):
        multistart(C, 4, 0.5, starts=2, strategies=("continuation",), continuation=(0.5,))
    with pytest.raises(ValueError, match="normal"):
        reflection(np.zeros(3))
    assert isinstance(reflection(np.eye(3)[0]), Symmetry)


@pytest.mark.parametrize("which", ["cone-variable", "subcone-fixed"])
def test_face_chain_rule_matches_finite_differences(which):
    if which == "cone-variable":
        C = Cone(4, math.radians(40))
    else:
        C = SubspaceCone.hyperplanes(
            4, math.radians(30), math.radians(50), centres=(np.eye(4)[0], np.eye(4)[0])
        )
    rng = np.random.default_rng(3)
    face = CapFace(C, (np.array([0, 2]), np.array([1])))
    blocks = face.random_params(4, rng)
    Wx = rng.standard_normal((4, 4))
    Wy = rng.standard_normal((4, 4))

    def f(bl):
        X, Y, _ = face.forward(bl)
        return float(np.sum(Wx * X) + np.sum(Wy * Y))

    X, Y, aux = face.forward(blocks)
    grads = face.vjp(blocks, Wx, Wy, aux)
    ca = math.cos(C.alpha)
    cx, cy = aux[0]
    assert np.abs(X[[0, 2]] @ cx - ca).max() <= 1e-14 and abs(Y[1] @ cy - ca) <= 1e-14
    for b, g in zip(blocks, grads, strict=True):
        V = rng.standard_normal(b.shape)
        eps = 1e-6
        up = [bb + eps * V if bb is b else bb for bb in blocks]
        dn = [bb - eps * V if bb is b else bb for bb in blocks]
        fd = (f(up) - f(dn)) / (2 * eps)
        assert np.sum(g * V) == pytest.approx(fd, rel=1e-6, abs=1e-8)


def test_newton_reaches_the_simplex_quadratically():
    C = Unconstrained(3)
    rough = solve(C, 4, 0.5, seeds=[0], tol=1e-3)
    nr = newton_refine(C, 4, 0.5, rough.X, rough.Y, None, tol=1e-12)
    assert nr.converged and nr.steps <= 6
    assert nr.loss == pytest.approx(simplex_loss(4, 0.5), abs=1e-12)


def test_face_identification_converges_where_the_lift_stalls():
    C = Cone(3, math.radians(40))
    n, tau = 24, 0.1
    lifted = solve(C, n, tau, seeds=[0], max_iter=300)
    assert not lifted.converged
    pt, history = polish(C, n, tau, lifted.X, lifted.Y, lifted.centres)
    X, Y, (cx, cy) = pt["X"], pt["Y"], pt["centres"]
    # independent checks: feasibility from the definition, KKT from the reference gradient
    ca = math.cos(C.alpha)
    assert (X @ cx).min() >= ca - 1e-12 and (Y @ cy).min() >= ca - 1e-12
    assert abs(np.linalg.norm(cx) - 1) <= 1e-12
    loss, gX, gY = infonce_and_grad(X, Y, tau)
    assert C.stationarity(X, Y, gX, gY, (cx, cy)) <= 1e-9
    assert pt["converged"] and loss <= lifted.loss + 1e-12
    # local optimality: random small feasible moves (rows and centres) never do better
    rng = np.random.default_rng(0)
    for _ in range(100):
        blocks = C.lift(X, Y, (cx, cy))
        moved = [b + 1e-4 * rng.standard_normal(b.shape) for b in blocks]
        moved = [b / np.linalg.norm(b, axis=1, keepdims=True) for b in moved]
        X2, Y2, _ = C.forward(moved)
        assert infonce(X2, Y2, tau) >= loss - 1e-12
    assert history and history[-1]["min_multiplier"] >= -1e-12
