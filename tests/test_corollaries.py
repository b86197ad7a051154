"""Corollaries 2-4: sympy derivations, property tests on planted models built here from
scratch (hypothesis), the regular-simplex certificate, and the verdicts with their
negative controls."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from _evidence import quick_verdicts
from hypothesis import given
from hypothesis import strategies as st

from modgap.theorems import corollary2, corollary3, corollary4
from modgap.theorems.verdict import Status
from modgap.verify.frames import planted_pairs, subspace_frame, subspace_optimum
from modgap.verify.geometry import principal_angles, rotation_onto, subspaces_with_angles
from modgap.verify.objective import infonce

# ----------------------------------------------------------------------------- helpers


def _haar(h: int, rng: np.random.Generator) -> np.ndarray:
    Q, R = np.linalg.qr(rng.standard_normal((h, h)))
    return Q * np.sign(np.diag(R))


def _planted_from_scratch(h: int, phi: float, n: int, seed: int):
    """Hyperplanes and planted pairs built here, independently of verify.geometry:
    in the frame F (Haar), C = span(F e_1..F e_{h-2}), a = F e_{h-1},
    b = cos(phi) F e_{h-1} + sin(phi) F e_h; x = p + s a, y = p + s b."""
    rng = np.random.default_rng(seed)
    F = _haar(h, rng)
    QC = F[:, : h - 2]
    a = F[:, h - 2]
    b = np.cos(phi) * F[:, h - 2] + np.sin(phi) * F[:, h - 1]
    QA = F[:, : h - 1]
    QB = np.column_stack([QC, b])
    W = rng.standard_normal((n, h - 1))
    W /= np.linalg.norm(W, axis=1, keepdims=True)
    s = W[:, -1]
    P = W[:, :-1] @ QC.T
    return {"QA": QA, "QB": QB, "QC": QC, "a": a, "b": b, "s": s, "P": P,
            "X": P + s[:, None] * a, "Y": P + s[:, None] * b}  # fmt: skip


hyperplane_cases = st.tuples(
    st.integers(3, 64),
    st.floats(1e-3, np.pi / 2 - 1e-3, allow_nan=False),
    st.integers(0, 2**31 - 1),
)


@st.composite
def subspace_cases(draw):
    h = draw(st.integers(3, 40))
    k = draw(st.integers(1, h - 1))
    m = draw(st.integers(1, min(k, h - k)))
    nonzero = draw(st.lists(st.floats(1e-2, np.pi / 2, allow_nan=False), min_size=m, max_size=m))
    angles = sorted([0.0] * (k - m) + nonzero)
    return h, angles, draw(st.integers(0, 2**31 - 1))


# ----------------------------------------------------------------------------- sympy


def test_corollary2_symbolic():
    st_ = corollary2.statement()
    assert st_["unit_norm_residuals"] == (0, 0)
    assert st_["formula_residual"] == 0
    assert st_["projection_residual"] == 0
    assert st_["gram_residual"] == 0
    s, phi = sp.symbols("s phi", real=True)
    gram = st_["gram_determinant"].rhs
    assert sp.simplify(gram - s**2 * (1 - s**2) * (1 - sp.cos(phi)) ** 2) == 0


def test_corollary3_symbolic():
    st_ = corollary3.statement()
    for key in (
        "rotation_orthogonal_residual",
        "R_maps_a_to_b_residual",
        "R_fixes_C_residual",
        "R_maps_x_to_y_residual",
        "wrong_angle_deficit_residual",
    ):
        assert st_[key] == 0, key
    assert st_["rotation_det"] == 1


def test_corollary4_symbolic():
    st_ = corollary4.statement()
    assert st_["agreement_residual"] == 0
    assert st_["direction_only_residual"] == 0
    assert st_["centre_angle_after_ssp_residual"] == 0


# ----------------------------------------------------------------------------- properties


@given(hyperplane_cases)
def test_formula_and_not_parallel_on_planted_pairs(case):
    h, phi, seed = case
    pl = _planted_from_scratch(h, phi, 20, seed)
    cos = np.sum(pl["X"] * pl["Y"], axis=1)
    assert np.allclose(cos, 1 - pl["s"] ** 2 * (1 - np.cos(phi)), atol=1e-13, rtol=0)
    assert np.allclose(corollary2.pair_cosine_formula(pl["s"], phi), cos, atol=1e-13, rtol=0)
    PBx = pl["X"] @ pl["QB"] @ pl["QB"].T
    assert np.allclose(PBx, pl["P"] + (pl["s"] * np.cos(phi))[:, None] * pl["b"], atol=1e-13)
    # Gram determinant |P_B x|^2 |y|^2 - (P_B x . y)^2, as the squared component of P_B x
    # orthogonal to the unit y (no cancellation, so that it keeps its sign as phi -> 0)
    # |perp| = sqrt(Gram) is computed to an absolute accuracy of ~1e-16 (entries ~ 1)
    perp = PBx - np.sum(PBx * pl["Y"], 1)[:, None] * pl["Y"]
    gram = np.sum(perp**2, 1)
    predicted = pl["s"] ** 2 * (1 - pl["s"] ** 2) * (1 - np.cos(phi)) ** 2
    assert np.allclose(np.sqrt(gram), np.sqrt(predicted), rtol=1e-9, atol=1e-14)
    resolvable = np.sqrt(predicted) > 1e-13  # 0 < |s| < 1 almost surely
    assert np.all(gram[resolvable] > 0)


@given(hyperplane_cases)
def test_rotation_onto_aligns_planted_pairs(case):
    h, phi, seed = case
    pl = _planted_from_scratch(h, phi, 20, seed)
    R = rotation_onto(pl["QA"], pl["QB"])
    assert np.allclose(R.T @ R, np.eye(h), atol=1e-12)
    assert np.linalg.det(R) == pytest.approx(1.0, abs=1e-10)
    assert np.allclose(R @ pl["QC"], pl["QC"], atol=1e-12)  # fixes C
    assert np.allclose(R @ pl["a"], pl["b"], atol=1e-12) or np.allclose(
        R @ -pl["a"], -pl["b"], atol=1e-12
    )
    assert np.allclose(pl["X"] @ R.T, pl["Y"], atol=1e-12)
    # the plane rotation of corollary3 at angle phi is the same rotation
    frame = subspace_frame(pl["QA"], pl["QB"])
    assert np.allclose(corollary3.plane_rotation(frame, phi), R, atol=1e-12)
    # a wrong angle leaves 1 - R_alpha x . y = s^2 (1 - cos(phi - alpha)) (sympy-derived)
    alpha = 0.5 * phi
    Ra = corollary3.plane_rotation(frame, alpha)
    deficit = 1 - np.sum((pl["X"] @ Ra.T) * pl["Y"], axis=1)
    assert np.allclose(deficit, pl["s"] ** 2 * (1 - np.cos(phi - alpha)), atol=1e-13)


@given(subspace_cases())
def test_rotation_onto_general_subspaces(case):
    h, angles, seed = case
    QA, QB = subspaces_with_angles(h, angles, seed=seed)
    assert np.allclose(principal_angles(QA, QB), angles, atol=1e-7)
    R = rotation_onto(QA, QB)
    assert np.allclose(R.T @ R, np.eye(h), atol=1e-10)
    assert np.linalg.det(R) == pytest.approx(1.0, abs=1e-8)
    RA = R @ QA
    assert np.allclose(QB @ (QB.T @ RA), RA, atol=1e-10)  # maps span(A) onto span(B)
    frame = subspace_frame(QA, QB)
    assert np.allclose(frame.angles, [t for t in angles if t > 0], atol=1e-7)
    assert frame.QC.shape[1] == sum(1 for t in angles if t == 0)
    if frame.QC.shape[1]:
        assert np.allclose(R @ frame.QC, frame.QC, atol=1e-10)  # fixes C
    pl = planted_pairs(frame, 15, seed)
    assert np.allclose(pl["X"] @ R.T, pl["Y"], atol=1e-10)
    cos = np.sum(pl["X"] * pl["Y"], axis=1)
    assert np.allclose(cos, corollary2.pair_cosine_formula(pl["S"], frame.angles), atol=1e-12)


@given(hyperplane_cases)
def test_ssp_aligns_planted_pairs_and_excludes_pure_pairs(case):
    h, phi, seed = case
    pl = _planted_from_scratch(h, phi, 20, seed)
    X, Y = pl["X"].copy(), pl["Y"].copy()
    X[-1], Y[-1] = pl["a"], pl["b"]  # a pure out-of-C pair: P_C x = 0
    out = corollary4.ssp_known(pl["QC"], X, Y)
    assert not out["keep"][-1] and out["keep"][:-1].all()
    assert np.allclose(np.sum(out["Xs"] * out["Ys"], axis=1), 1.0, atol=1e-13)
    if h >= 4:  # dim C >= 2: a wrong (tilted) space does not align
        frame = subspace_frame(pl["QA"], pl["QB"])
        wrong = corollary4.ssp_known(corollary4._tilted_space(frame, 0.5), pl["X"], pl["Y"])
        assert np.max(1 - np.sum(wrong["Xs"] * wrong["Ys"], axis=1)) > 0


# ----------------------------------------------------------------------------- certificates


def test_scope_optimum_is_the_regular_simplex_in_C():
    """For N <= h - 1 the solver's optimum has the loss of an explicit regular simplex
    inside C with x_i = y_i, built here (independent certificate)."""
    h, n, tau, phi = corollary2.SCOPE_QUICK[0]
    opt = subspace_optimum(h, n, tau, phi)
    S = np.eye(n) - 1.0 / n  # centred basis vectors: a regular simplex in an (n-1)-space
    S /= np.linalg.norm(S, axis=1, keepdims=True)
    coords = np.linalg.svd(S)[0][:, : n - 1] * np.linalg.svd(S)[1][: n - 1]
    Xs = coords @ opt.frame.QC[:, : n - 1].T
    simplex_loss = infonce(Xs, Xs, tau)
    assert simplex_loss == pytest.approx(
        2 * np.log1p((n - 1) * np.exp(-n / ((n - 1) * tau))), rel=1e-12
    )
    assert opt.result.loss == pytest.approx(simplex_loss, abs=1e-10)
    assert np.allclose(opt.X, opt.Y, atol=1e-8)


# ----------------------------------------------------------------------------- verdicts


@pytest.mark.parametrize("module", [corollary2, corollary3, corollary4])
def test_check_quick(module):
    verdicts = quick_verdicts(module.ID)  # the session's evidence (computed once)
    assert {v.id for v in verdicts} == {module.ID}
    assert any(v.negative_control for v in verdicts)
    assert any(not v.negative_control and v.reading == "finite_n" for v in verdicts)
    for v in verdicts:
        want = Status.REFUTED if v.negative_control else Status.CONFIRMED
        assert v.status == want, (v.reading, v.claim, v.status, v.detail)
        if v.negative_control:
            assert v.status is Status.REFUTED
        assert v.to_dict()["verdict"] == v.status.value


def test_corollary2_finite_n_numbers():
    v = next(
        v
        for v in quick_verdicts(corollary2.ID)
        if v.reading == "finite_n" and not v.negative_control
    )
    run = v.measured["runs"][0]
    assert run["n_pairs_out_of_C"] > 0
    assert run["formula_error"] <= corollary2.FINITE_TOL
    assert run["max_pair_cosine_out_of_C"] <= 1 - run["delta"] + corollary2.FINITE_TOL
    # the minimiser is less aligned than the best-aligned partner but has lower loss
    opt = subspace_optimum(run["h"], run["n"], run["tau"], run["phi"])
    assert run["mean_pair_cosine_best_aligned_partner"] > np.mean(np.sum(opt.X * opt.Y, axis=1))
    assert run["loss_best_aligned_partner"] > run["loss"]
