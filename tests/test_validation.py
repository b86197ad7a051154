"""Bad input is part of the interface: each check raises with the argument's name."""

import numpy as np
import pytest

from modgap.verify._validation import (
    as_matrix,
    as_unit_rows,
    check_angle,
    check_int_in_range,
    check_nonnegative,
    check_orthonormal,
    check_paired,
    check_positive,
)


@pytest.mark.parametrize(
    ("value", "exc", "match"),
    [
        ([[1.0, np.nan]], ValueError, "emb contains 1 NaN"),
        ([[1.0, np.inf]], ValueError, "NaN or infinite"),
        ([1.0, 2.0], ValueError, "emb must be 2-dimensional"),
        (np.zeros((0, 3)), ValueError, "emb is empty"),
        ([["a", "b"]], TypeError, "emb must be an array of real numbers"),
        ([[1 + 1j, 0]], TypeError, "emb must be real"),
    ],
)
def test_as_matrix_rejects(value, exc, match):
    with pytest.raises(exc, match=match):
        as_matrix(value, "emb")


def test_as_matrix_min_rows():
    with pytest.raises(ValueError, match="emb needs at least 3 rows"):
        as_matrix(np.ones((2, 4)), "emb", min_rows=3)


def test_unit_rows_zero_row_and_non_unit():
    with pytest.raises(ValueError, match="X has 1 zero row"):
        as_unit_rows([[1.0, 0.0], [0.0, 0.0]], "X", normalize=True)
    with pytest.raises(ValueError, match="X rows must be unit vectors"):
        as_unit_rows([[2.0, 0.0]], "X")
    out = as_unit_rows([[3.0, 4.0]], "X", normalize=True)
    np.testing.assert_allclose(out, [[0.6, 0.8]], rtol=0, atol=1e-15)


def test_paired_shape_mismatch():
    with pytest.raises(ValueError, match="X and Y must have the same shape"):
        check_paired(np.ones((3, 2)), np.ones((4, 2)))


@pytest.mark.parametrize("bad", [0.0, -1.0])
def test_tau_must_be_positive(bad):
    with pytest.raises(ValueError, match="tau must be > 0"):
        check_positive(bad, "tau")


def test_scalars_reject_nan_bool_and_strings():
    with pytest.raises(ValueError, match="tau must be finite"):
        check_positive(float("nan"), "tau")
    with pytest.raises(TypeError, match="tau must be a real number"):
        check_positive("0.1", "tau")
    with pytest.raises(TypeError, match="tau must be a real number"):
        check_positive(True, "tau")
    with pytest.raises(ValueError, match="kappa must be >= 0"):
        check_nonnegative(-0.5, "kappa")


def test_int_range_and_angle():
    with pytest.raises(ValueError, match="k must satisfy 1 <= k <= 5"):
        check_int_in_range(6, "k", 1, 5)
    with pytest.raises(ValueError, match="k must satisfy"):
        check_int_in_range(0, "k", 1, 5)
    with pytest.raises(TypeError, match="k must be an integer"):
        check_int_in_range(2.5, "k", 1, 5)
    with pytest.raises(ValueError, match=r"phi must lie in \[0"):
        check_angle(2.0, "phi")
    with pytest.raises(ValueError, match="phi must lie in"):
        check_angle(-0.1, "phi")


def test_orthonormal():
    with pytest.raises(ValueError, match="QA must have orthonormal columns"):
        check_orthonormal(np.array([[1.0, 1.0], [0.0, 1.0], [0.0, 0.0]]), "QA")
    with pytest.raises(ValueError, match="QA has more columns"):
        check_orthonormal(np.ones((2, 3)), "QA")
    with pytest.raises(ValueError, match="QA must have 4 rows"):
        check_orthonormal(np.eye(3)[:, :2], "QA", h=4)
