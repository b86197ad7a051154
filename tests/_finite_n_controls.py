"""Shared assertion for the finite-N negative controls of Theorems 2 and 3 (test helper)."""

from __future__ import annotations

from modgap.theorems.verdict import Status


def assert_finite_n_controls_refuted(vs, resolution: float) -> None:
    """The three finite-N negative controls exist and come out REFUTED, the tie control by a
    margin far above the loss resolution and the boundary-flip control with interior points."""
    ctrls = [v for v in vs if v.reading == "finite_n" and v.negative_control]
    assert len(ctrls) == 3
    assert all(v.status == Status.REFUTED for v in ctrls), [v.detail for v in ctrls]
    tie_ctrl = next(v for v in ctrls if "tie" in v.claim)
    assert abs(tie_ctrl.measured["flip_margin"]) > 1e3 * resolution
    flip_ctrl = next(v for v in ctrls if "boundary flip" in v.claim)
    assert flip_ctrl.measured["interior_points"] > 0
