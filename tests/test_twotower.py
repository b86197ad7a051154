"""verify.twotower: loss against the float64 reference, determinism, descent, confinement."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from modgap.verify.geometry import subspaces_with_angles
from modgap.verify.objective import infonce
from modgap.verify.twotower import (
    _PlateauTest,
    plateaued,
    symmetric_infonce,
    train_two_towers,
)


def _planted_views(n: int = 96, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two noisy linear views (dims 12 and 20) of one 6-dim latent per item."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, 6))
    U = z @ rng.standard_normal((6, 12)) + 0.1 * rng.standard_normal((n, 12))
    V = np.tanh(z @ rng.standard_normal((6, 20))) + 0.1 * rng.standard_normal((n, 20))
    return U, V


def test_symmetric_infonce_matches_float64_reference():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((40, 5))
    Y = X + 0.5 * rng.standard_normal((40, 5))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    Y /= np.linalg.norm(Y, axis=1, keepdims=True)
    for tau in (0.05, 0.3, 2.0):
        got = float(symmetric_infonce(torch.from_numpy(X), torch.from_numpy(Y), tau))
        assert got == pytest.approx(infonce(X, Y, tau), rel=1e-12, abs=1e-12)


def test_training_is_deterministic_and_leaves_global_torch_state_alone():
    U, V = _planted_views()
    threads = torch.get_num_threads()
    det = torch.are_deterministic_algorithms_enabled()
    rng_state = torch.random.get_rng_state().clone()
    kw = dict(embed_dim=4, hidden=16, epochs=15, lr=1e-2, tau=0.2)
    a = train_two_towers(U, V, seed=3, **kw)
    b = train_two_towers(U, V, seed=3, **kw)
    c = train_two_towers(U, V, seed=4, **kw)
    assert np.array_equal(a.x, b.x) and np.array_equal(a.y, b.y)
    assert np.array_equal(a.loss_history, b.loss_history)
    assert not np.array_equal(a.x, c.x)  # the seed matters (else "deterministic" is vacuous)
    assert torch.get_num_threads() == threads
    assert torch.are_deterministic_algorithms_enabled() == det
    assert torch.equal(torch.random.get_rng_state(), rng_state)


def test_minibatch_training_is_deterministic():
    U, V = _planted_views()
    kw = dict(embed_dim=4, hidden=16, epochs=5, lr=1e-2, batch_size=32, seed=7)
    a, b = train_two_towers(U, V, **kw), train_two_towers(U, V, **kw)
    assert np.array_equal(a.x, b.x) and np.array_equal(a.y, b.y)


def test_training_decreases_the_loss_and_history_is_the_true_objective():
    U, V = _planted_views()
    tau = 0.2
    res = train_two_towers(U, V, embed_dim=4, hidden=32, epochs=60, lr=1e-2, tau=tau)
    n = U.shape[0]
    # recompute the recorded final loss independently (numpy float64 reference)
    ref = infonce(res.x.astype(np.float64), res.y.astype(np.float64), tau, normalize=True)
    assert res.final_loss == pytest.approx(ref, rel=1e-4)
    assert res.final_loss < res.initial_loss - 1.0
    # and below 2 log N, the value of a perfectly uninformative embedding (all S_ij equal)
    assert res.final_loss < 2 * np.log(n) - 1.0
    # rows are unit vectors and encode() reproduces the training embeddings
    assert np.allclose(np.linalg.norm(res.x, axis=1), 1.0, atol=1e-6)
    X2, Y2 = res.encode(U, V)
    assert np.array_equal(X2, res.x) and np.array_equal(Y2, res.y)
    # a planted pairing is learned: image->text top-1 far above chance 1/n
    top1 = np.mean(np.argmax(res.x @ res.y.T, axis=1) == np.arange(n))
    assert top1 > 10.0 / n


def test_confinement_to_the_subspaces_is_exact():
    U, V = _planted_views()
    h, phi = 7, 0.6
    QA, QB = subspaces_with_angles(h, [0.0, 0.0, phi], seed=5)
    res = train_two_towers(U, V, embed_dim=3, hidden=16, epochs=10, lr=1e-2, basis_x=QA, basis_y=QB)
    X, Y = res.x.astype(np.float64), res.y.astype(np.float64)
    assert X.shape == (U.shape[0], h) and res.x.dtype == np.float32
    assert np.max(np.abs(X - X @ QA @ QA.T)) < 1e-6  # x in span(QA)
    assert np.max(np.abs(Y - Y @ QB @ QB.T)) < 1e-6  # y in span(QB)
    assert np.max(np.abs(np.linalg.norm(X, axis=1) - 1)) < 1e-6
    # sanity of the test itself: the outputs are NOT in the other subspace
    assert np.max(np.abs(X - X @ QB @ QB.T)) > 1e-2


def test_plateau_rule_on_planted_histories():
    assert plateaued(np.full(40, 3.0), 10, 1e-3)[0]
    assert not plateaued(np.linspace(5.0, 1.0, 40), 10, 1e-3)[0]
    ok, why = plateaued(np.ones(15), 10, 1e-3)
    assert not ok and "need 20" in why
    assert not plateaued(np.r_[np.ones(39), np.nan], 10, 1e-3)[0]
    # boundary: a relative change just under / over rtol
    h = np.r_[np.full(10, 1.0 + 0.9e-3), np.full(10, 1.0)]
    assert plateaued(h, 10, 1e-3)[0]
    h = np.r_[np.full(10, 1.0 + 1.1e-3), np.full(10, 1.0)]
    assert not plateaued(h, 10, 1e-3)[0]


def test_incremental_plateau_test_decides_as_plateaued_on_every_prefix():
    """The per-epoch test of the training loop (incremental finiteness, last 2w values only)
    against plateaued(history[1:]) on every prefix of histories that plateau, keep moving,
    cross rtol, and carry a NaN or an inf early (which must block a plateau for good)."""
    rng = np.random.default_rng(3)
    decay = 1.0 + np.exp(-np.arange(120) / 15.0)
    histories = [
        decay,
        decay + 1e-4 * rng.standard_normal(120),
        np.linspace(5.0, 1.0, 120),
        np.r_[decay[:7], np.nan, decay[8:]],
        np.r_[decay[:30], np.inf, decay[31:]],
        np.r_[np.full(11, 1.0 + 1.0e-3), np.full(109, 1.0)],
    ]
    for hist in histories:
        test = _PlateauTest(10, 1e-3)
        seen = [float(hist[0])]
        for value in hist[1:]:
            seen.append(float(value))
            assert test.reached(seen) == plateaued(seen[1:], 10, 1e-3)[0], len(seen)


def test_bad_input_is_rejected():
    U, V = _planted_views()
    with pytest.raises(ValueError, match="paired"):
        train_two_towers(U, V[:-1], epochs=1)
    QA, QB = subspaces_with_angles(6, [0.0, 0.4], seed=0)
    with pytest.raises(ValueError, match="both"):
        train_two_towers(U, V, embed_dim=2, basis_x=QA, epochs=1)
    with pytest.raises(ValueError, match="embed_dim"):
        train_two_towers(U, V, embed_dim=3, basis_x=QA, basis_y=QB, epochs=1)
    with pytest.raises(ValueError, match="tau"):
        train_two_towers(U, V, tau=0.0, epochs=1)
    with pytest.raises(ValueError, match="NaN"):
        train_two_towers(np.full_like(U, np.nan), V, epochs=1)


def test_early_stop_at_plateau_and_initial_embeddings():
    U, V = _planted_views()
    kw = dict(embed_dim=4, hidden=16, lr=1e-2, tau=0.3, plateau_window=10, plateau_rtol=1e-2)
    full = train_two_towers(U, V, epochs=400, **kw)
    early = train_two_towers(U, V, epochs=400, stop_on_plateau=True, **kw)
    epochs_run = len(early.loss_history) - 1
    assert early.converged and epochs_run < 400
    # same seed: the early run is a prefix of the full run
    assert np.array_equal(early.loss_history, full.loss_history[: epochs_run + 1])
    assert plateaued(early.loss_history[1:], 10, 1e-2)[0]
    assert not plateaued(early.loss_history[1:-1], 10, 1e-2)[0]  # it stopped at the first
    assert early.x_init.shape == early.x.shape
    assert np.allclose(np.linalg.norm(early.x_init, axis=1), 1.0, atol=1e-6)
    assert not np.allclose(early.x_init, early.x)
