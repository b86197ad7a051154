"""Zero-shot Table 1 (verify.zeroshot): planted class data with known answers, brute-force
re-computations, each operator's effect on a planted case, and bad input."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

from modgap.verify.alignment import Centring, Removal, Translation
from modgap.verify.zeroshot import (
    as_labels,
    class_embeddings,
    zeroshot_accuracy,
    zeroshot_table,
)

#: arccos(1 - delta) resolves angles only to ~sqrt(2 eps) = 2e-8 rad (1e-6 deg) in float64:
#: an exact zero angle computed through arccos reads up to a few 1e-6 deg.
ZERO_DEG = 1e-5


def _unit(Z):
    return Z / np.linalg.norm(Z, axis=-1, keepdims=True)


def _brute_topk(X, y, T, k):
    """Top-k by sorting each row's scores in pure Python (ties: true class first)."""
    hits = 0
    for i in range(X.shape[0]):
        scores = [float(sum(a * b for a, b in zip(X[i], T[c], strict=True))) for c in range(len(T))]
        order = sorted(range(len(T)), key=lambda c: (-scores[c], c != y[i]))
        hits += y[i] in order[:k]
    return hits / X.shape[0]


def _deg(angle):
    return None if angle is None else math.degrees(angle)


def _mp_centre_angle_deg(X, T):
    """Delta_theta in mpmath (50 digits): angle between the two plain means."""
    mpmath.mp.dps = 50
    mx = [
        mpmath.fsum(mpmath.mpf(float(v)) for v in X[:, j]) / X.shape[0] for j in range(X.shape[1])
    ]
    mt = [
        mpmath.fsum(mpmath.mpf(float(v)) for v in T[:, j]) / T.shape[0] for j in range(T.shape[1])
    ]
    dot = mpmath.fsum(a * b for a, b in zip(mx, mt, strict=True))
    nx = mpmath.sqrt(mpmath.fsum(a * a for a in mx))
    nt = mpmath.sqrt(mpmath.fsum(a * a for a in mt))
    return float(mpmath.degrees(mpmath.acos(dot / (nx * nt))))


def test_planted_accuracy_known_answer():
    # C orthonormal class vectors; 70% of the images point at their class, 30% at the next
    # class with a smaller component on their own (true class ranks 2nd): top-1 = 0.7,
    # top-2 = 1, and per class the planted share.
    C, d = 6, 9
    T = np.eye(d)[:C]
    rng = np.random.default_rng(1)
    y = np.repeat(np.arange(C), 10)
    wrong = np.zeros(y.size, dtype=bool)
    for c in range(C):
        idx = np.flatnonzero(y == c)
        wrong[rng.choice(idx, size=3, replace=False)] = True
    X = np.where(
        wrong[:, None], _unit(T[(y + 1) % C] + 0.5 * T[y]), _unit(T[y] + 0.3 * T[(y + 1) % C])
    )
    acc = zeroshot_accuracy(X, y, T, ks=(1, 2, 5))
    assert acc["top_k"]["1"] == pytest.approx(0.7, abs=1e-15)
    assert acc["top_k"]["2"] == 1.0
    assert acc["per_class_top1"] == [pytest.approx(0.7)] * C
    assert acc["chance_top_k"] == {"1": 1 / 6, "2": 2 / 6, "5": 5 / 6}
    assert acc["n_classes"] == C and acc["majority_rate"] == pytest.approx(1 / 6)


def test_accuracy_and_angle_against_brute_force():
    rng = np.random.default_rng(7)
    C, d, n = 7, 5, 80
    T = _unit(rng.normal(size=(C, d)))
    y = rng.integers(0, C, size=n)
    X = _unit(T[y] + 0.9 * rng.normal(size=(n, d)))
    acc = zeroshot_accuracy(X, y, T, ks=(1, 3, 5))
    for k in (1, 3, 5):
        assert acc["top_k"][str(k)] == pytest.approx(_brute_topk(X, y, T, k), abs=1e-15)
    table = zeroshot_table(X, y, T, normalize=False)
    orig = table["rows"][0]
    assert orig["method"] == "original"
    assert _deg(orig["gap"]["centre_angle"]) == pytest.approx(_mp_centre_angle_deg(X, T), abs=1e-9)
    assert orig["top_k"]["1"] == pytest.approx(_brute_topk(X, y, T, 1), abs=1e-15)
    for c in range(C):
        mask = y == c
        want = _brute_topk(X[mask], y[mask], T, 1) if mask.any() else None
        assert orig["per_class_top1"][c] == (pytest.approx(want) if want is not None else None)


def test_prompt_averaging_matches_a_loop():
    rng = np.random.default_rng(3)
    P = rng.normal(size=(4, 5, 6)) * rng.uniform(0.5, 3, size=(4, 5, 1))
    T, U, owner = class_embeddings(P)
    for c in range(4):
        m = sum(P[c, p] / math.sqrt(float(P[c, p] @ P[c, p])) for p in range(5)) / 5
        np.testing.assert_allclose(T[c], m / np.linalg.norm(m), atol=1e-14)
    assert U.shape == (20, 6) and list(owner) == [c for c in range(4) for _ in range(5)]
    # ragged prompts: one class with a single template
    T2, U2, _ = class_embeddings([P[0], P[1, :1], P[2], P[3, :2]])
    np.testing.assert_allclose(T2[1], P[1, 0] / np.linalg.norm(P[1, 0]), atol=1e-14)
    assert U2.shape == (5 + 1 + 5 + 2, 6)


def test_planted_delta_theta_exact():
    # images on a cone around c_x, class embeddings on a cone around c_y, 60 deg apart,
    # each set symmetric (+-e_j) so the means are exactly cos(beta) c_x and cos(beta) c_y.
    d = 8
    cx, cy = np.eye(d)[0], 0.5 * np.eye(d)[0] + math.sqrt(3) / 2 * np.eye(d)[1]
    E = np.eye(d)[2:6]
    beta = 0.7
    X = np.vstack([math.cos(beta) * cx + s * math.sin(beta) * e for e in E for s in (1, -1)])
    T = np.vstack([math.cos(beta) * cy + s * math.sin(beta) * e for e in E for s in (1, -1)])
    y = np.arange(8)  # image j belongs to class j (same offset direction)
    table = zeroshot_table(X, y, T, normalize=False, images_source="configuration")
    assert _deg(table["rows"][0]["gap"]["centre_angle"]) == pytest.approx(60.0, abs=1e-12)
    # Translation closes the gap exactly here: both translated sets are symmetric about
    # (c_x + c_y)/2 with equal row norms.
    tr = next(r for r in table["rows"] if r["method"] == "+Translation")
    assert _deg(tr["gap"]["centre_angle"]) == pytest.approx(0.0, abs=ZERO_DEG)
    # Centring: each mean becomes exactly zero, so Delta_theta is undefined (None).
    ce = next(r for r in table["rows"] if r["method"] == "+Centring")
    assert _deg(ce["gap"]["centre_angle"]) is None
    assert ce["top_k"]["1"] == 1.0  # centred image j equals centred class j


def test_removal_known_answer():
    # images = class vector + a gap along coordinate 0, class embeddings = class vector +
    # the opposite gap: Removal with k = 1 drops coordinate 0 and aligns image and class.
    C, d = 5, 7
    B = np.eye(d)[1 : C + 1]
    y = np.repeat(np.arange(C), 3)
    X = _unit(B[y] + 1.5 * np.eye(d)[0])
    T = _unit(B - 1.5 * np.eye(d)[0])
    table = zeroshot_table(X, y, T, normalize=False, removal_k=1, images_source="configuration")
    row = next(r for r in table["rows"] if r["method"].startswith("+Removal"))
    assert row["method"] == "+Removal (k=1)"
    assert _deg(row["gap"]["centre_angle"]) == pytest.approx(0.0, abs=ZERO_DEG)
    assert row["gap"]["pair_cosine_mean"] == pytest.approx(1.0, abs=1e-12)
    before = table["rows"][0]["gap"]["pair_cosine_mean"]
    assert before == pytest.approx((1 - 1.5**2) / (1 + 1.5**2), abs=1e-12)


def _planted_subspaces(C=4, seed=0):
    """x = cos u p_c + sin u a, prompt = cos t p_c + sin t b, a . b = cos(phi), a, b ⊥ p."""
    d = C + 3
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    p, e1, e2 = Q[:, :C].T, Q[:, C], Q[:, C + 1]
    phi = 0.9
    a, b = e1, math.cos(phi) * e1 + math.sin(phi) * e2
    ts = np.array([0.35, 0.5, 0.65, 0.8])
    prompts = np.stack([[math.cos(t) * p[c] + math.sin(t) * b for t in ts] for c in range(C)])
    y = np.repeat(np.arange(C), len(ts))
    us = np.tile(ts, C)
    X = np.cos(us)[:, None] * p[y] + np.sin(us)[:, None] * a
    return X, y, prompts, C


def test_ssp_and_rotation_known_answer():
    X, y, prompts, C = _planted_subspaces()
    table = zeroshot_table(X, y, prompts, normalize=False, images_source="configuration")
    rows = {r["method"]: r for r in table["rows"]}
    before = _deg(rows["original"]["gap"]["centre_angle"])
    assert before > 5.0
    ssp = rows["+SSP"]
    # SSP: the shared space is span(p) (d_overlap = C); every image and class embedding
    # projects onto its p_c: perfect classification and no gap.
    assert ssp["d_overlap"] == C
    assert _deg(ssp["gap"]["centre_angle"]) == pytest.approx(0.0, abs=ZERO_DEG)
    assert ssp["top_k"]["1"] == 1.0
    assert ssp["gap"]["pair_cosine_mean"] == pytest.approx(1.0, abs=1e-10)
    # rotation maps a onto b: each rotated image equals one prompt, the class means of the
    # rotated images are parallel to the class embeddings, so Delta_theta = 0.
    rot = rows["+Hyperplane rotation"]
    assert _deg(rot["gap"]["centre_angle"]) == pytest.approx(0.0, abs=ZERO_DEG)
    assert rot["top_k"]["1"] == 1.0


def test_negative_control_shuffled_labels_refuted():
    # A check that can fail: with labels shifted by one class the planted perfect data
    # must score 0, not 1.
    X, y, prompts, C = _planted_subspaces()
    good = zeroshot_table(X, y, prompts, normalize=False)["rows"][0]["top_k"]["1"]
    bad = zeroshot_table(X, (y + 1) % C, prompts, normalize=False)["rows"][0]["top_k"]["1"]
    assert good == 1.0 and bad == 0.0


def test_operators_fitted_on_the_stated_rows():
    # holdout: the operators must see only the fitting rows. Translation's fitted mean of
    # the images is checked against the mean of exactly those rows.
    rng = np.random.default_rng(5)
    C, d, n = 4, 6, 40
    T = _unit(rng.normal(size=(C, d)))
    y = np.arange(n) % C
    X = _unit(T[y] + rng.normal(size=(n, d)))
    op = Translation()
    table = zeroshot_table(X, y, T, fit_split="holdout", holdout=0.25, seed=3, operators={"+T": op})
    perm = np.random.default_rng(3).permutation(n)
    fit = np.sort(perm[:10])
    np.testing.assert_allclose(op.mean_x_, X[fit].mean(axis=0), atol=1e-14)
    assert table["n_fit"] == 10 and table["n_eval"] == 30
    # fit_images: fitted on the given set; text side on the class embeddings when asked
    op2, op3 = Centring(), Removal(k=2)
    zeroshot_table(X, y, T, fit_images=X[:8], text_fit="classes", operators={"a": op2, "b": op3})
    np.testing.assert_allclose(op2.mean_x_, X[:8].mean(axis=0), atol=1e-14)
    np.testing.assert_allclose(op2.mean_y_, T.mean(axis=0), atol=1e-14)


def test_table_is_json_serialisable_and_states_readings():
    import json

    X, y, prompts, C = _planted_subspaces()
    table = zeroshot_table(X, y, prompts, normalize=False, class_names=list("abcd"))
    text = json.dumps(table, allow_nan=False)
    assert "transductive" in text and table["prompts_per_class"] == [4] * C
    assert [r["method"] for r in table["rows"]][0] == "original"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"labels": np.array([0, 1, 2, 9])}, r"out of range \[0, 3\).*labels\[3\] = 9"),
        ({"labels": np.array([0, 1, 2])}, "labels has 3 entries, but there are 4 images"),
        ({"labels": np.array([0.5, 1, 2, 0])}, "non-integer"),
        ({"labels": np.array(["a", "b", "c", "zz"])}, "class list"),
        (
            {"prompts": [np.ones((2, 5)), np.zeros((0, 5)), np.ones((1, 5))]},
            "class 1 has no prompts",
        ),
        ({"prompts": np.ones((3, 4))}, "images have dimension 5 but prompts 4"),
        ({"prompts": np.ones((3, 2, 5, 1))}, "must be"),
        ({"images": np.full((4, 5), np.nan)}, "NaN"),
        ({"images": np.zeros((4, 5))}, "zero row"),
        ({"fit_split": "train"}, "fit_split must be one of"),
        ({"text_fit": "both"}, "text_fit must be one of"),
    ],
)
def test_bad_input_names_the_argument(kwargs, match):
    rng = np.random.default_rng(0)
    args = {
        "images": rng.normal(size=(4, 5)),
        "labels": np.array([0, 1, 2, 0]),
        "prompts": rng.normal(size=(3, 2, 5)),
    }
    args.update(kwargs)
    with pytest.raises((ValueError, TypeError), match=match):
        zeroshot_table(args.pop("images"), args.pop("labels"), args.pop("prompts"), **args)


def test_labels_by_name_and_cancelling_prompts():
    assert list(as_labels(["b", "a", "b"], 3, 2, class_names=["a", "b"])) == [1, 0, 1]
    with pytest.raises(ValueError, match="not in the class list"):
        as_labels(["b", "q"], 2, 2, class_names=["a", "b"])
    with pytest.raises(ValueError, match="class 1 average to"):
        class_embeddings(np.array([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [-1.0, 0.0]]]))


def test_observables_effective_dimension_matches_the_svd_route():
    from modgap.verify.metrics import effective_dimension
    from modgap.verify.zeroshot import zeroshot_observables

    rng = np.random.default_rng(2)
    X = _unit(rng.normal(size=(60, 9)) * np.geomspace(1, 0.01, 9))
    T = _unit(rng.normal(size=(3, 9)))
    obs = zeroshot_observables(X, np.arange(60) % 3, T)
    assert obs["effective_dimension_images"] == effective_dimension(X)
    assert obs["effective_dimension_texts"] == effective_dimension(T)
