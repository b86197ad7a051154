"""Symmetric InfoNCE against independent computations: autograd of torch's
cross-entropy, finite differences, extended precision, and the chunked torch twin."""

import mpmath
import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from modgap.verify.objective import infonce, infonce_and_grad, infonce_and_grad_torch, infonce_torch


def _unit(rng, n, h):
    X = rng.standard_normal((n, h))
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def _reference_torch(X, Y, tau):
    """CLIP's loss as written in public code: two cross-entropies over the logits."""
    Xt = torch.tensor(X, requires_grad=True)
    Yt = torch.tensor(Y, requires_grad=True)
    logits = Xt @ Yt.T / tau
    labels = torch.arange(X.shape[0])
    loss = torch.nn.functional.cross_entropy(logits, labels) + torch.nn.functional.cross_entropy(
        logits.T, labels
    )
    loss.backward()
    return loss.item(), Xt.grad.numpy(), Yt.grad.numpy()


@given(st.integers(2, 40), st.integers(2, 16), st.floats(0.02, 2.0), st.integers(0, 10**6))
def test_value_and_gradient_match_autograd_of_cross_entropy(n, h, tau, seed):
    rng = np.random.default_rng(seed)
    X, Y = _unit(rng, n, h), _unit(rng, n, h)
    loss, gX, gY = infonce_and_grad(X, Y, tau)
    ref, rX, rY = _reference_torch(X, Y, tau)
    assert loss == pytest.approx(ref, rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(gX, rX, atol=1e-10 / tau)
    np.testing.assert_allclose(gY, rY, atol=1e-10 / tau)


def test_gradient_matches_central_differences():
    rng = np.random.default_rng(1)
    X, Y, tau = _unit(rng, 6, 4), _unit(rng, 6, 4), 0.3
    _, gX, gY = infonce_and_grad(X, Y, tau)

    def f(Xp, Yp):  # the formula on raw matrices (no unit-norm check): S = X Y^T
        Z = Xp @ Yp.T / tau
        lse_r = np.log(np.exp(Z).sum(1))
        lse_c = np.log(np.exp(Z).sum(0))
        return np.mean(lse_r + lse_c - 2 * np.diag(Z))

    eps = 1e-6
    for M, g, which in ((X, gX, 0), (Y, gY, 1)):
        num = np.zeros_like(M)
        for idx in np.ndindex(*M.shape):
            Mp, Mm = M.copy(), M.copy()
            Mp[idx] += eps
            Mm[idx] -= eps
            args_p = (Mp, Y) if which == 0 else (X, Mp)
            args_m = (Mm, Y) if which == 0 else (X, Mm)
            num[idx] = (f(*args_p) - f(*args_m)) / (2 * eps)
        np.testing.assert_allclose(g, num, atol=1e-8)


def test_negative_control_wrong_gradient_is_detected():
    """A gradient missing the column-softmax term must fail the autograd comparison."""
    rng = np.random.default_rng(2)
    X, Y, tau = _unit(rng, 8, 5), _unit(rng, 8, 5), 0.2
    Z = X @ Y.T / tau
    P = np.exp(Z - Z.max(1, keepdims=True))
    P /= P.sum(1, keepdims=True)
    wrong = (2 * P - 2 * np.eye(8)) / (8 * tau) @ Y
    _, rX, _ = _reference_torch(X, Y, tau)
    assert np.max(np.abs(wrong - rX)) > 1e-3


def test_stable_at_small_tau_and_large_h_against_mpmath():
    rng = np.random.default_rng(3)
    n, h, tau = 5, 1024, 0.005
    X, Y = _unit(rng, n, h), _unit(rng, n, h)
    Y[0] = X[0]
    val = infonce(X, Y, tau)
    mpmath.mp.dps = 50
    S = [[mpmath.mpf(float(v)) for v in row] for row in X @ Y.T]
    ref = mpmath.mpf(0)
    for i in range(n):
        ref += -2 * S[i][i] / tau
        ref += mpmath.log(mpmath.fsum(mpmath.exp(S[i][j] / tau) for j in range(n)))
        ref += mpmath.log(mpmath.fsum(mpmath.exp(S[j][i] / tau) for j in range(n)))
    assert np.isfinite(val)
    assert val == pytest.approx(float(ref / n), rel=1e-12)


def test_perfect_alignment_lower_value_than_misalignment():
    rng = np.random.default_rng(4)
    X = _unit(rng, 16, 8)
    assert infonce(X, X, 0.1) < infonce(X, _unit(rng, 16, 8), 0.1)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_torch_twin_matches_numpy(dtype):
    rng = np.random.default_rng(5)
    X, Y, tau = _unit(rng, 37, 9), _unit(rng, 37, 9), 0.07
    loss, gX, gY = infonce_and_grad(X, Y, tau)
    Xt = torch.tensor(X, dtype=dtype, requires_grad=True)
    Yt = torch.tensor(Y, dtype=dtype, requires_grad=True)
    tol = 1e-12 if dtype == torch.float64 else 2e-4
    lt, tX, tY = infonce_and_grad_torch(Xt, Yt, tau, chunk=5)
    assert lt.item() == pytest.approx(loss, rel=tol)
    np.testing.assert_allclose(tX.numpy(), gX, atol=tol / tau)
    np.testing.assert_allclose(tY.numpy(), gY, atol=tol / tau)
    L = infonce_torch(Xt, Yt, tau, chunk=4)
    L.backward()
    assert L.item() == pytest.approx(loss, rel=tol)
    np.testing.assert_allclose(Xt.grad.numpy(), gX, atol=tol / tau)
    np.testing.assert_allclose(Yt.grad.numpy(), gY, atol=tol / tau)


def test_torch_chunking_does_not_change_the_value():
    g = torch.Generator().manual_seed(0)
    X = torch.nn.functional.normalize(torch.randn(300, 16, generator=g, dtype=torch.float64), dim=1)
    Y = torch.nn.functional.normalize(torch.randn(300, 16, generator=g, dtype=torch.float64), dim=1)
    vals = [infonce_and_grad_torch(X, Y, 0.1, chunk=c)[0].item() for c in (1, 7, 300)]
    assert max(vals) - min(vals) < 1e-12


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"tau": 0.0}, ValueError, "tau must be > 0"),
        ({"tau": -1.0}, ValueError, "tau must be > 0"),
        ({"X": np.ones((3, 2))}, ValueError, "X rows must be unit"),
        ({"Y": np.eye(2)}, ValueError, "X and Y must have the same shape"),
        ({"X": np.full((3, 3), np.nan)}, ValueError, "X contains"),
        ({"X": np.zeros((3, 3))}, ValueError, "X has 3 zero row"),
        ({"X": np.eye(3)[0]}, ValueError, "X must be 2-dimensional"),
    ],
)
def test_bad_input(kwargs, exc, match):
    args = {"X": np.eye(3), "Y": np.eye(3), "tau": 0.1, **kwargs}
    with pytest.raises(exc, match=match):
        infonce(args["X"], args["Y"], args["tau"])


def test_torch_bad_input():
    X = torch.eye(3)
    with pytest.raises(TypeError, match="X must be a torch.Tensor"):
        infonce_torch(np.eye(3), X, 0.1)
    with pytest.raises(ValueError, match="Y rows must be unit"):
        infonce_torch(X, 2 * X, 0.1)
    with pytest.raises(ValueError, match="tau must be > 0"):
        infonce_torch(X, X, 0.0)
    with pytest.raises(ValueError, match="X contains NaN"):
        infonce_torch(torch.full((3, 3), float("nan")), X, 0.1)
