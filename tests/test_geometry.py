"""verify.geometry against independent constructions (prescribed angles, brute force)."""

import numpy as np
import pytest
import scipy.linalg
from hypothesis import given
from hypothesis import strategies as st

from modgap.verify.geometry import (
    hyperplanes_with_angle,
    normalize_rows,
    orthogonal_complement,
    orthonormal_basis,
    principal_angles,
    principal_vectors,
    project_onto_cap,
    project_onto_subspace,
    projector,
    random_rotation,
    rotation_onto,
    shared_space,
    subspaces_with_angles,
)


@st.composite
def subspace_specs(draw):
    h = draw(st.integers(3, 40))
    k = draw(st.integers(1, h - 1))
    n_nonzero = draw(st.integers(0, min(k, h - k)))
    angles = [0.0] * (k - n_nonzero) + draw(
        st.lists(
            st.floats(1e-3, np.pi / 2, allow_nan=False), min_size=n_nonzero, max_size=n_nonzero
        )
    )
    seed = draw(st.integers(0, 2**31 - 1))
    return h, sorted(angles), seed


@given(subspace_specs())
def test_principal_angles_recover_prescribed(spec):
    h, angles, seed = spec
    QA, QB = subspaces_with_angles(h, angles, seed=seed)
    np.testing.assert_allclose(QA.T @ QA, np.eye(len(angles)), atol=1e-12)
    np.testing.assert_allclose(principal_angles(QA, QB), angles, atol=1e-9)
    # Independent: scipy's routine returns them in descending order.
    np.testing.assert_allclose(
        principal_angles(QA, QB), scipy.linalg.subspace_angles(QA, QB)[::-1], atol=1e-12
    )


@given(subspace_specs())
def test_rotation_onto_maps_A_to_B_and_fixes_C(spec):
    h, angles, seed = spec
    QA, QB = subspaces_with_angles(h, angles, seed=seed)
    R = rotation_onto(QA, QB)
    np.testing.assert_allclose(R.T @ R, np.eye(h), atol=1e-10)
    assert np.linalg.det(R) == pytest.approx(1.0, abs=1e-9)
    # R A is B: all principal angles zero.
    assert np.max(principal_angles(R @ QA, QB)) < 1e-7
    C = shared_space(QA, QB)
    assert C.shape[1] == sum(a == 0.0 for a in angles)
    np.testing.assert_allclose(R @ C, C, atol=1e-10)
    # Identity on the complement of A + B.
    W = orthogonal_complement(orthonormal_basis(np.hstack([QA, QB])))
    if W.shape[1]:
        np.testing.assert_allclose(R @ W, W, atol=1e-10)


def test_rotation_is_the_smallest_rotation_not_an_arbitrary_one():
    """Negative control: a rotation by a wrong angle does not map A onto B."""
    QA, QB = hyperplanes_with_angle(5, 0.6, seed=2)
    R = rotation_onto(QA, QB)
    theta, UA, VB = principal_vectors(QA, QB)
    u = UA[:, -1]
    assert np.arccos(np.clip(u @ (R @ u), -1, 1)) == pytest.approx(0.6, abs=1e-12)
    half = scipy.linalg.fractional_matrix_power(R, 0.5).real
    assert principal_angles(half @ QA, QB)[-1] == pytest.approx(0.3, abs=1e-9)


def test_hyperplanes_share_h_minus_2_dims():
    QA, QB = hyperplanes_with_angle(7, 0.9, seed=0)
    assert QA.shape == (7, 6)
    assert shared_space(QA, QB).shape == (7, 5)
    assert principal_angles(QA, QB)[-1] == pytest.approx(0.9, abs=1e-12)
    assert principal_angles(QA, QB)[0] == pytest.approx(0.0, abs=1e-12)


def test_projection_and_projector():
    QA, _ = hyperplanes_with_angle(4, 0.5, seed=1)
    P = projector(QA)
    np.testing.assert_allclose(P @ P, P, atol=1e-12)
    x = np.random.default_rng(0).standard_normal((5, 4))
    np.testing.assert_allclose(project_onto_subspace(x, QA), x @ P, atol=1e-12)


def test_random_rotation_is_rotation():
    R = random_rotation(6, 3)
    np.testing.assert_allclose(R @ R.T, np.eye(6), atol=1e-12)
    assert np.linalg.det(R) == pytest.approx(1.0)


@given(
    st.integers(2, 6),
    st.floats(0.05, 3.0),
    st.integers(0, 10_000),
)
def test_project_onto_cap_is_nearest_point(h, alpha, seed):
    rng = np.random.default_rng(seed)
    c = normalize_rows(rng.standard_normal(h))
    x = normalize_rows(rng.standard_normal(h))
    p = project_onto_cap(x, c, alpha)
    assert abs(np.linalg.norm(p) - 1) < 1e-12
    assert p @ c >= np.cos(alpha) - 1e-12
    # Brute force: no sampled cap point is closer to x.
    cand = normalize_rows(rng.standard_normal((4000, h)))
    cand = cand[cand @ c >= np.cos(alpha)]
    if cand.size:
        assert np.linalg.norm(x - p) <= np.min(np.linalg.norm(cand - x, axis=1)) + 1e-12


def test_project_onto_cap_antipode_is_deterministic_boundary_point():
    c = np.array([0.0, 0.0, 1.0])
    p = project_onto_cap(-c, c, 0.5)
    assert p @ c == pytest.approx(np.cos(0.5))
    np.testing.assert_array_equal(p, project_onto_cap(-c, c, 0.5))


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: subspaces_with_angles(4, [0.3, 0.3, 0.3]), "impossible subspace dimensions"),
        (lambda: subspaces_with_angles(3, [0.1, 0.2, 0.3, 0.4]), "len\\(angles\\) must satisfy"),
        (lambda: subspaces_with_angles(4, [2.0]), "angles\\[0\\] must lie in"),
        (lambda: hyperplanes_with_angle(1, 0.3), "h must satisfy"),
        (lambda: hyperplanes_with_angle(4, -0.3), "phi must lie in"),
        (lambda: principal_angles(np.ones((3, 2)), np.eye(3)[:, :1]), "A must have orthonormal"),
        (lambda: principal_angles(np.eye(3)[:, :1], np.eye(4)[:, :1]), "B must have 3 rows"),
        (lambda: rotation_onto(np.eye(3)[:, :1], np.eye(3)[:, 1:]), "same dimension"),
        (lambda: normalize_rows([[0.0, 0.0]]), "zero row"),
        (lambda: normalize_rows([[np.nan, 1.0]]), "NaN"),
        (lambda: project_onto_cap([2.0, 0.0], [1.0, 0.0], 0.1), "X rows must be unit"),
        (lambda: project_onto_cap([1.0, 0.0], [2.0, 0.0], 0.1), "c must be a unit vector"),
        (lambda: project_onto_cap([1.0, 0.0], [1.0, 0.0], 4.0), "alpha must lie in"),
        (lambda: orthonormal_basis(np.zeros((3, 2))), "zero matrix"),
    ],
)
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
