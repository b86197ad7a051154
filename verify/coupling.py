"""Optimal transport between the two modalities' empirical laws under the subspace
constraint (Theorem 4's population reading, docs/readings.md).

With x ~ vMF(a, kappa) on the unit sphere of hyperplane A and y its image under the rotation
of A onto B (which fixes C), the coupling that maximises E x . y (equivalently minimises the
InfoNCE alignment term) is computed exactly on samples by the assignment problem
(scipy.optimize.linear_sum_assignment, Kuhn-Munkres), and compared with the rotation and
product couplings. Paper: Yi, Douady & Chen, arXiv 2510.03268 (Theorem 4).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from modgap.verify import vmf
from modgap.verify.frames import shared_space_measurements, subspace_frame
from modgap.verify.geometry import hyperplanes_with_angle

__all__ = ["rotation_coupling_ot"]


def rotation_coupling_ot(h: int, kappa: float, phi: float, m: int, seed: int) -> dict[str, Any]:
    """Exact OT between an empirical vMF(a, kappa) on S(A) and its rotation onto S(B).

    The y-sample is the x-sample mapped by the rotation coupling and then SHUFFLED, so the
    assignment solver must find the pairing; the gain matrix is x_i . y_j. Also solves the
    OT between two INDEPENDENT samples (no shared empirical measure) for the record.
    """
    QA, QB = hyperplanes_with_angle(h, phi, seed=seed)
    fr = subspace_frame(QA, QB)
    a, b = fr.U[:, 0], fr.V[:, 0]
    rng = np.random.default_rng(seed)
    centre = np.zeros(h - 1)
    centre[-1] = 1.0
    W = vmf.sample(centre, kappa, m, seed=rng)
    X = W[:, :-1] @ fr.QC.T + W[:, -1:] * a
    perm = rng.permutation(m)
    Y = W[perm, :-1] @ fr.QC.T + W[perm, -1:] * b  # y_j is the rotation of x_perm[j]
    gain = X @ Y.T
    rows, cols = linear_sum_assignment(gain, maximize=True)
    sigma = np.empty(m, dtype=int)
    sigma[rows] = cols
    inverse = np.argsort(perm)  # the rotation partner of x_i is y_inverse[i]
    Yopt = Y[sigma]
    meas = shared_space_measurements(fr, X, Yopt)
    prod_gain = float(np.mean(gain))  # product coupling: E x . E y over the empirical measures
    rot_gain = float(np.mean(np.sum(X * Y[inverse], axis=1)))
    opt_gain = float(np.mean(np.sum(X * Yopt, axis=1)))
    mom = vmf.moments(h - 1, kappa)
    # independent samples, for the record: how close the OT plan gets to agreement on C
    W2 = vmf.sample(centre, kappa, m, seed=rng)
    Y2 = W2[:, :-1] @ fr.QC.T + W2[:, -1:] * b
    r2, c2 = linear_sum_assignment(X @ Y2.T, maximize=True)
    PC = fr.QC @ fr.QC.T
    d_ot = np.linalg.norm((X[r2] - Y2[c2]) @ PC, axis=1)
    d_prod = np.linalg.norm((X - Y2[rng.permutation(m)]) @ PC, axis=1)
    return {
        "h": h,
        "kappa": kappa,
        "phi": phi,
        "m": m,
        "fraction_rotation_partner_recovered": float(np.mean(sigma == inverse)),
        "max_abs_PCx_minus_PCy_at_ot": meas["max_abs_PCx_minus_PCy"],
        "ims_residual_at_ot": meas["ims_residual_wrt_a_b"],
        "mean_xy_ot": opt_gain,
        "mean_xy_rotation_coupling": rot_gain,
        "mean_xy_product_coupling": prod_gain,
        "mean_xy_population_formula": float(1.0 - (1.0 - np.cos(phi)) * mom.second_cos),
        "independent_samples_mean_abs_PC_diff_ot": float(np.mean(d_ot)),
        "independent_samples_mean_abs_PC_diff_product": float(np.mean(d_prod)),
    }
