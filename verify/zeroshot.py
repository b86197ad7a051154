"""Zero-shot classification with post-hoc alignment: the seed paper's Table 1 protocol.

Source of the protocol: Yi, Douady & Chen, arXiv 2510.03268, Table 1 (frozen CLIP ViT-B/32,
zero-shot on CIFAR-10/100 and ImageNet-1K; for CLIP, +Translation, +Removal and +SSP the
centre angle Delta_theta, top-1 "R@1" and top-5 "R@5"; docs/theory.md §4). The zero-shot rule
is CLIP's (Radford et al. 2021, §3.1.4): embed each class name through P prompt templates,
average the P unit text embeddings, renormalise, and predict the class whose embedding
has the largest cosine with the image.

Definitions (X: n unit image rows; T: C unit class embeddings; labels y_i in {0..C-1}):

- class embedding t_c = normalise((1/P_c) sum_p u_{c,p}) with u_{c,p} the unit prompt
  embeddings of class c (CLIP's prompt ensembling; :func:`class_embeddings`);
- score s_{ic} = x_i . t_c; rank r_i = #{c : s_{ic} > s_{i y_i}} (ties count for the true
  class); top-k accuracy = (1/n) #{i : r_i < k}; per-class accuracy = top-1 accuracy over
  the images of each class; chance level = k / C for top-k (uniform guessing), next to
  the majority-class rate for imbalanced labels (:func:`zeroshot_accuracy`);
- Delta_theta = arccos of the cosine between mean_i x_i and mean_c t_c, every class
  counted once (the one centre rule, :mod:`modgap.verify.centres`); other gap observables in
  :func:`zeroshot_observables`.

This project's reading of what the paper leaves unsaid (stated in every result):

1. Fitted on which rows: by default on the evaluated images themselves (transductive,
   ``fit_split="evaluated"``), which is the only reading under which the paper's numbers
   use all test images; ``fit_split="holdout"`` fits on a seeded fraction of the images and
   evaluates on the rest, and ``fit_images`` fits on another set (e.g. training images).
2. Text side: the operators are fitted on every prompt embedding u_{c,p} (C x P rows,
   ``text_fit="prompts"``, the default), because C = 10 class vectors cannot span a
   99%-variance subspace worth the name; ``text_fit="classes"`` fits on the C class
   embeddings. The fitted operator is then applied to the C class embeddings.
3. Removal drops k = 10 coordinates (``removal_k``; the paper does not give its k). SSP
   uses the appendix defaults (99% variance, eps = 1e-3, no top-k, uncentred SVDs); on
   small real models that often finds no shared direction at all (the row then says so),
   so a second SSP row relaxes the threshold to eps = ``ssp_relaxed_eps`` (default 0.05:
   principal angles below 18.2 deg count as shared). The relaxation is this project's, not
   the paper's, and is labelled as such.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ._validation import InputError, as_array, as_unit_rows, check_indices, check_int_in_range
from .alignment import SharedSpaceProjection, principal_basis
from .alignment_comparison import default_operators, fit_and_apply
from .centres import CentreSource
from .observables import gap_observables

__all__ = [
    "FIT_SPLITS",
    "TEXT_FITS",
    "class_embeddings",
    "as_labels",
    "zeroshot_operators",
    "zeroshot_accuracy",
    "zeroshot_observables",
    "zeroshot_table",
]

FIT_SPLITS = ("evaluated", "holdout")
TEXT_FITS = ("prompts", "classes")
#: Score-matrix entries computed at once (32 MB in float64).
_SCORE_ENTRIES = 1 << 22
#: A class-mean prompt vector shorter than this has no direction.
_MIN_MEAN_NORM = 1e-8


def zeroshot_operators(removal_k: int = 10, ssp_relaxed_eps: float | None = 0.05) -> dict:
    """The operators of the zero-shot table, by display name, unfitted.

    Those of :func:`verify.alignment_comparison.default_operators` (original, Translation,
    Removal with ``removal_k``, Centring, SSP with the appendix defaults, hyperplane
    rotation), plus SSP with eps = ``ssp_relaxed_eps`` (this project's relaxation; None
    leaves it out).
    """
    ops = default_operators(removal_k)
    if ssp_relaxed_eps is not None:
        ops[f"+SSP (eps = {ssp_relaxed_eps:g}, relaxed)"] = SharedSpaceProjection(
            eps=ssp_relaxed_eps
        )
    return ops


def _prompt_blocks(prompts: Any) -> list[np.ndarray]:
    """Per-class (P_c, d) float64 arrays from (C, d), (C, P, d) or a sequence of (P_c, d)."""
    if isinstance(prompts, Mapping):
        raise InputError("prompts must be an array or a sequence of arrays, not a mapping")
    if isinstance(prompts, np.ndarray) or hasattr(prompts, "detach"):
        arr = as_array(prompts, "prompts")
        if arr.ndim == 2:
            return [arr[c : c + 1] for c in range(arr.shape[0])]
        if arr.ndim == 3:
            if arr.shape[1] == 0:
                raise InputError(f"prompts has no prompt per class (shape {arr.shape})")
            return [arr[c] for c in range(arr.shape[0])]
        raise InputError(
            f"prompts must be (C, d) class embeddings or (C, P, d) prompt embeddings, "
            f"got shape {arr.shape}"
        )
    if not isinstance(prompts, Sequence) or isinstance(prompts, (str, bytes)):
        raise InputError(f"prompts must be array-like, got {type(prompts).__name__}")
    if len(prompts) == 0:
        raise InputError("prompts is empty: no class has prompts")
    blocks = []
    for c, block in enumerate(prompts):
        arr = np.asarray(block.detach().cpu().numpy() if hasattr(block, "detach") else block)
        if arr.size == 0:
            raise InputError(f"class {c} has no prompts (prompts[{c}] is empty)")
        arr = as_array(arr, f"prompts[{c}]")
        if arr.ndim == 1:
            arr = arr[None, :]
        if arr.ndim != 2:
            raise InputError(f"prompts[{c}] must be (P, d) or (d,), got shape {arr.shape}")
        blocks.append(arr)
    dims = {b.shape[1] for b in blocks}
    if len(dims) != 1:
        raise InputError(f"every class's prompts need the same dimension d, got {sorted(dims)}")
    return blocks


def class_embeddings(
    prompts: Any, *, normalize: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CLIP's prompt ensembling: t_c = normalise((1/P_c) sum_p u_{c,p}), u = unit prompts.

    Source: Radford et al. 2021 (CLIP), §3.1.4 (average the normalised text embeddings of
    several templates per class, then renormalise). ``prompts``: (C, d) class embeddings
    (P = 1), (C, P, d) P templates per class, or a sequence of C arrays (P_c, d) with any
    P_c >= 1. Prompt rows are L2-normalised first when ``normalize`` (else they must be
    unit rows). Returns (T (C, d) unit class embeddings, U (sum P_c, d) the unit prompt
    rows, owner (sum P_c,) the class of each prompt row), all float64.

    Errors (ValueError naming the class): a class without prompts, a zero prompt, prompts
    of one class averaging to (near) zero (no direction).
    """
    blocks = _prompt_blocks(prompts)
    rows, owner, means = [], [], []
    for c, block in enumerate(blocks):
        U = as_unit_rows(block, f"prompts of class {c}", normalize=normalize, atol=1e-5)
        m = U.mean(axis=0)
        norm = float(np.linalg.norm(m))
        if norm < _MIN_MEAN_NORM:
            raise InputError(
                f"the {U.shape[0]} prompts of class {c} average to (near) zero "
                f"(|mean| = {norm:.3g}): the class embedding has no direction"
            )
        means.append(m / norm)
        rows.append(U)
        owner.append(np.full(U.shape[0], c, dtype=np.int64))
    return np.vstack(means), np.vstack(rows), np.concatenate(owner)


def as_labels(
    labels: Any, n: int, n_classes: int, *, class_names: Sequence[str] | None = None
) -> np.ndarray:
    """Integer class ids (n,) in [0, n_classes), from ids or from names plus ``class_names``.

    Integer-valued floats are accepted; names (strings) need ``class_names`` (the class
    order of the prompts). Errors name ``labels``: wrong length, non-integers, ids out of
    range, names not in the class list.
    """
    arr = np.asarray(labels.detach().cpu().numpy() if hasattr(labels, "detach") else labels)
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.reshape(-1)
    if arr.ndim != 1:
        raise InputError(f"labels must be 1-D (one class per image), got shape {arr.shape}")
    if arr.size != n:
        raise InputError(f"labels has {arr.size} entries, but there are {n} images")
    if arr.dtype.kind in "USO":
        if class_names is None:
            raise InputError(
                "labels are class names: give the class list (class_names / --classes) in "
                "the order of the prompts"
            )
        names = [str(s) for s in class_names]
        if len(names) != n_classes:
            raise InputError(f"class_names lists {len(names)} classes, but prompts has {n_classes}")
        if len(set(names)) != len(names):
            raise InputError("class_names has duplicate names")
        index = {s: i for i, s in enumerate(names)}
        unknown = sorted({str(s) for s in arr} - set(index))
        if unknown:
            raise InputError(
                f"labels: {len(unknown)} name(s) not in the class list, e.g. {unknown[:3]}"
            )
        return np.array([index[str(s)] for s in arr], dtype=np.int64)
    if arr.dtype.kind == "b" or arr.dtype.kind not in "iuf":
        raise InputError(f"labels must hold integer class ids or names, got dtype {arr.dtype}")
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
            raise InputError("labels must hold integer class ids, got non-integer values")
    out = arr.astype(np.int64)
    check_indices(out, n_classes, "labels", "classes with prompts", "labels")
    return out


def zeroshot_accuracy(
    X: Any, labels: Any, T: Any, *, ks: Sequence[int] = (1, 5), normalize: bool = False
) -> dict[str, Any]:
    """Top-k accuracy of nearest-class-embedding prediction, per-class top-1, chance levels.

    s_{ic} = x_i . t_c; r_i = #{c : s_{ic} > s_{i y_i}}; top-k = mean_i [r_i < k] (ties
    favour the true class); per-class accuracy of class c = top-1 over {i : y_i = c}
    (None for a class with no image); chance_top_k = min(k, C) / C; majority_rate = the
    largest class share. CLIP zero-shot rule (Radford et al. 2021, §3.1.4); the seed paper's
    Table 1 reports top-1 and top-5 as "R@1" and "R@5". X (n, d) and T (C, d) unit rows.
    """
    Xa = as_unit_rows(X, "X", normalize=normalize, atol=1e-5)
    Ta = as_unit_rows(T, "T", normalize=normalize, atol=1e-5)
    if Xa.shape[1] != Ta.shape[1]:
        raise InputError(
            f"images have dimension {Xa.shape[1]} but class embeddings {Ta.shape[1]}: "
            "both must live in the same space R^d"
        )
    n, C = Xa.shape[0], Ta.shape[0]
    y = as_labels(labels, n, C)
    ks = [check_int_in_range(k, "k", 1, 10**9) for k in ks]
    rank = np.empty(n, dtype=np.int64)
    step = max(1, _SCORE_ENTRIES // C)  # rows per block: no n x C matrix at ImageNet scale
    for lo in range(0, n, step):
        S = Xa[lo : lo + step] @ Ta.T
        true = S[np.arange(S.shape[0]), y[lo : lo + step]]
        rank[lo : lo + step] = np.count_nonzero(S > true[:, None], axis=1)
    counts = np.bincount(y, minlength=C)
    hit1 = rank < 1
    per_class = [None if counts[c] == 0 else float(hit1[y == c].mean()) for c in range(C)]
    return {
        "n_images": int(n),
        "n_classes": int(C),
        "top_k": {str(k): float(np.mean(rank < k)) for k in ks},
        "chance_top_k": {str(k): min(k, C) / C for k in ks},
        "majority_rate": float(counts.max() / n),
        "per_class_top1": per_class,
        "class_counts": [int(v) for v in counts],
    }


def zeroshot_observables(
    X: Any,
    labels: Any,
    T: Any,
    U: Any | None = None,
    *,
    n_angles: int = 5,
    images_source: CentreSource = "sample",
) -> dict[str, Any]:
    """Gap observables of a zero-shot set: images X (n, d), class embeddings T (C, d).

    - ``gap``: the :class:`~modgap.verify.observables.GapObservables` record (radians) of the
      images against the class embeddings, every class counted once, each image paired
      with its own class (the "pairs" of zero-shot: ``pair_cosine_mean`` = mean_i
      x_i . t_{y_i}); centre rule: the images are a sample (|mean| >= 3/sqrt(n + 9)), the
      C class embeddings the whole text side, a configuration (docs/centre_rule.md);
      ``images_source="configuration"`` for planted image sets that are not samples;
    - ``effective_dimension_images`` / ``_texts``: Zhang et al. (C3), 99% of the centred
      covariance, texts on the prompt rows U (or T);
    - ``principal_angles_deg``: first ``n_angles`` principal angles (ascending) between the
      uncentred 99%-variance subspaces of X and of U (SSP's fit), ``d_overlap`` (SSP's
      shared directions) and ``predicted_gap_deg``: the seed paper's phi (Theorem 3), the
      smallest principal angle beyond the shared directions, the same rule as
      ``modgap analyze``.
    """
    Xa = as_unit_rows(X, "X", atol=1e-5)
    Ta = as_unit_rows(T, "T", atol=1e-5)
    Ua = Ta if U is None else as_unit_rows(U, "U", atol=1e-5)
    y = as_labels(labels, Xa.shape[0], Ta.shape[0])
    gap = gap_observables(Xa, Ta, pairs_x=y, source=(images_source, "configuration"))
    ssp = SharedSpaceProjection().fit(Xa, Ua)
    angles = np.degrees(ssp.principal_angles_)
    return {
        "gap": gap.to_dict(),
        "effective_dimension_images": _effective_dimension(Xa),
        "effective_dimension_texts": _effective_dimension(Ua),
        "subspace_dim_images": int(ssp.dim_x_),
        "subspace_dim_texts": int(ssp.dim_y_),
        "principal_angles_deg": [float(a) for a in angles[:n_angles]],
        "d_overlap": int(ssp.d_overlap_),
        "predicted_gap_deg": float(angles[min(ssp.d_overlap_, angles.size - 1)]),
    }


def _effective_dimension(Z: np.ndarray) -> int:
    """:func:`verify.metrics.effective_dimension` (99% of the centred covariance, Zhang et
    al., C3) from the d x d second moment instead of an SVD of the n x d matrix (the same
    eigenvalues, O(d^2) memory); 0 when the rows do not vary."""
    if Z.shape[0] < 2:
        return 0
    try:
        return int(principal_basis(Z, variance=0.99, centred=True)[0].shape[1])
    except ValueError:  # all rows equal: no variance at all
        return 0


def _split(n: int, fit_split: str, holdout: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(fit rows, evaluated rows) of the images."""
    if fit_split not in FIT_SPLITS:
        raise InputError(f"fit_split must be one of {FIT_SPLITS}, got {fit_split!r}")
    if fit_split == "evaluated":
        idx = np.arange(n)
        return idx, idx
    if not 0.0 < float(holdout) < 1.0:
        raise InputError(f"holdout must lie in (0, 1), got {holdout}")
    n_fit = check_int_in_range(int(round(holdout * n)), "fitting rows (holdout * n)", 2, n - 2)
    perm = np.random.default_rng(seed).permutation(n)
    return np.sort(perm[:n_fit]), np.sort(perm[n_fit:])


def zeroshot_table(
    images: Any,
    labels: Any,
    prompts: Any,
    *,
    class_names: Sequence[str] | None = None,
    fit_split: str = "evaluated",
    holdout: float = 0.5,
    fit_images: Any | None = None,
    text_fit: str = "prompts",
    removal_k: int = 10,
    ssp_relaxed_eps: float | None = 0.05,
    seed: int = 0,
    ks: Sequence[int] = (1, 5),
    normalize: bool = True,
    operators: dict[str, Any] | None = None,
    images_source: CentreSource = "sample",
) -> dict[str, Any]:
    """The seed paper's Table 1 on given embeddings, as a JSON-serialisable dict.

    For the original embeddings and after each operator of :func:`zeroshot_operators`
    (Translation, Removal, Centring, SSP, hyperplane rotation, relaxed SSP), fitted per
    this module's reading (module docstring) and applied to the evaluated images and the
    C class embeddings: Delta_theta, top-k accuracies, per-class top-1
    (:func:`zeroshot_accuracy`) and the gap observables (:func:`zeroshot_observables`).

    ``images`` (n, d); ``labels`` (n,) ids, or names with ``class_names``; ``prompts``
    (C, d), (C, P, d) or C arrays (P_c, d). ``fit_split``: "evaluated" (fit on the
    evaluated images) or "holdout" (fit on a seeded ``holdout`` fraction, evaluate on the
    rest); ``fit_images`` (m, d) instead fits on those images and evaluates on all of
    ``images``. Rows are L2-normalised when ``normalize``. ``images_source``: the centre
    rule of the images ("sample", the default, for embeddings of data; "configuration" for
    a planted set).

    An operator that cannot be applied (e.g. SSP finds no shared direction) gets a row
    with ``error`` and no numbers. Keys: ``rows`` (list), ``readings`` (the choices in
    words), ``n_images``, ``n_eval``, ``n_fit``, ``n_classes``, ``prompts_per_class``,
    ``dim``, ``chance_top_k``, ``majority_rate``, ``class_names``, ``fit_split``,
    ``text_fit``, ``removal_k``, ``seed``.
    """
    X = as_unit_rows(images, "images", normalize=normalize, atol=1e-5, min_rows=2)
    T, U, owner = class_embeddings(prompts, normalize=normalize)
    if X.shape[1] != T.shape[1]:
        raise InputError(
            f"images have dimension {X.shape[1]} but prompts {T.shape[1]}: image and text "
            "embeddings must live in the same space R^d"
        )
    C = T.shape[0]
    if C < 2:
        raise InputError(f"zero-shot classification needs at least 2 classes, got {C}")
    y = as_labels(labels, X.shape[0], C, class_names=class_names)
    if text_fit not in TEXT_FITS:
        raise InputError(f"text_fit must be one of {TEXT_FITS}, got {text_fit!r}")
    if fit_images is not None:
        if fit_split != "evaluated":
            raise InputError("give fit_images or fit_split='holdout', not both")
        Xfit_all = as_unit_rows(fit_images, "fit_images", normalize=normalize, atol=1e-5)
        if Xfit_all.shape[1] != X.shape[1]:
            raise InputError(f"fit_images have dimension {Xfit_all.shape[1]}, images {X.shape[1]}")
        eval_idx = np.arange(X.shape[0])
        Xfit = Xfit_all
        split_words = f"fitted on {Xfit.shape[0]} separate images (fit_images)"
    else:
        fit_idx, eval_idx = _split(X.shape[0], fit_split, holdout, seed)
        Xfit = X[fit_idx]
        split_words = (
            "fitted on the evaluated images (transductive)"
            if fit_split == "evaluated"
            else f"fitted on a held-out {holdout:g} of the images (seed {seed}), "
            "evaluated on the rest"
        )
    Xe, ye = X[eval_idx], y[eval_idx]
    Tfit = U if text_fit == "prompts" else T
    if operators is None:
        operators = zeroshot_operators(removal_k, ssp_relaxed_eps)
    acc0 = zeroshot_accuracy(Xe, ye, T, ks=ks)
    rows = []
    for name, op in operators.items():
        row: dict[str, Any] = {"method": name}
        Xt, Tt, Ut = Xe, T, U
        if op is not None:
            # the text rows are transformed row by row: class embeddings and prompts at once
            out = fit_and_apply(op, (Xfit, Tfit), (Xe, np.vstack([T, U])), row)
            if out is None:
                rows.append(row)
                continue
            Xt, Tt, Ut = out[0], out[1][:C], out[1][C:]
        Xt, Tt, Ut = (np.asarray(Z, dtype=np.float64) for Z in (Xt, Tt, Ut))
        acc = zeroshot_accuracy(Xt, ye, Tt, ks=ks)
        obs = zeroshot_observables(Xt, ye, Tt, Ut, images_source=images_source)
        row.update(
            {
                "gap": obs["gap"],
                "top_k": acc["top_k"],
                "per_class_top1": acc["per_class_top1"],
                "observables": obs,
            }
        )
        rows.append(row)
    names = None if class_names is None else [str(s) for s in class_names]
    return {
        "protocol": "zero-shot classification (Yi, Douady & Chen, arXiv 2510.03268, Table 1)",
        "n_images": int(X.shape[0]),
        "n_eval": int(eval_idx.size),
        "n_fit": int(Xfit.shape[0]),
        "n_classes": int(C),
        "prompts_per_class": [int(v) for v in np.bincount(owner, minlength=C)],
        "dim": int(X.shape[1]),
        "class_names": names,
        "chance_top_k": acc0["chance_top_k"],
        "majority_rate": acc0["majority_rate"],
        "class_counts": acc0["class_counts"],
        "fit_split": "fit_images" if fit_images is not None else fit_split,
        "text_fit": text_fit,
        "removal_k": int(removal_k),
        "seed": int(seed),
        "readings": {
            "fit rows": split_words,
            "text side": (
                f"operators fitted on all {U.shape[0]} prompt embeddings (C x P rows), "
                "applied to the C class embeddings"
                if text_fit == "prompts"
                else f"operators fitted on the {C} class embeddings"
            ),
            "class embedding": "mean of the unit prompt embeddings, renormalised (CLIP)",
            "Delta_theta": "angle between the mean image and the mean class embedding "
            "(each class once)",
            "Removal k": f"{removal_k} (the paper does not give its k)",
            "SSP": "appendix defaults: 99% variance, eps = 1e-3, uncentred SVDs, no top-k"
            + (
                ""
                if ssp_relaxed_eps is None
                else f"; a second row relaxes eps to {ssp_relaxed_eps:g} (this project's)"
            ),
            "ties": "a tie with the true class counts as a hit",
        },
        "rows": rows,
    }
