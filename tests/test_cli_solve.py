"""``modgap solve``: JSON output checked against closed forms and the constraint's geometry."""

from __future__ import annotations

import json
import math
import os

import pytest

from modgap.main import main


def simplex_loss(n: int, tau: float) -> float:
    return 2.0 * (-1 / tau + math.log(math.exp(1 / tau) + (n - 1) * math.exp(-1 / ((n - 1) * tau))))


def run_json(tmp_path, *args):
    out = tmp_path / "out.json"
    rc = main(["solve", *args, "--json", str(out)])
    assert rc == 0
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]  # no temporary left behind
    return json.loads(out.read_text())


REQUIRED = (
    "loss",
    "loss_shifted",
    "grad_norm",
    "converged",
    "gap",
    "cap_centre_angle",
    "certificate_bound",
)


def test_none_matches_the_simplex(tmp_path):
    d = run_json(tmp_path, "--n", "5", "--h", "4", "--tau", "0.5", "--constraint", "none")
    for key in REQUIRED:
        assert key in d
    assert d["converged"] is True and d["grad_norm"] <= 1e-9
    assert d["loss"] == pytest.approx(simplex_loss(5, 0.5), abs=1e-10)
    assert d["loss_shifted"] == pytest.approx(d["loss"] - 2 * math.log(5), abs=1e-14)
    gap = d["gap"]
    assert gap["centre_angle"] is None  # the simplex is centred: no centre direction
    assert "centre undefined" in gap["centre_undefined_reason"]
    assert gap["pair_angle_max"] < math.radians(1e-3)
    assert d["certificate_bound"] is None


def test_subspace_hyperplanes_at_phi(tmp_path):
    d = run_json(
        tmp_path,
        "--n",
        "6",
        "--h",
        "5",
        "--tau",
        "0.5",
        "--constraint",
        "subspace",
        "--phi-deg",
        "30",
        "--seed",
        "3",
        "--starts",
        "3",
    )
    assert d["converged"] is True
    angles = d["constraint"]["principal_angles_deg"]
    assert angles[:-1] == pytest.approx([0.0, 0.0, 0.0], abs=1e-6)
    assert angles[-1] == pytest.approx(30.0, abs=1e-9)
    assert d["seeds"] == [3, 4, 5] and d["phi_deg"] == 30.0
    # x_i in A, y_i in B with A != B: pairs cannot all be aligned
    assert d["gap"]["pair_angle_max"] > math.radians(1.0)


def test_cone_with_certificate(tmp_path):
    d = run_json(
        tmp_path,
        "--n",
        "4",
        "--h",
        "10",
        "--tau",
        "0.5",
        "--constraint",
        "cone",
        "--alpha-deg",
        "30",
        "--certify",
        "--starts",
        "16",
    )
    assert d["converged"] is True
    cert = d["certificate"]
    assert d["certificate_bound"] == cert["bound"]
    assert cert["certified"] and abs(cert["gap"]) <= 1e-6
    assert d["cap_centre_angle"] is not None


def test_json_carries_the_coverage_of_the_search(tmp_path):
    d = run_json(
        tmp_path, "--n", "4", "--h", "3", "--tau", "0.5", "--constraint", "none", "--starts", "8"
    )
    cov = d["coverage"]
    # every start of every strategy (8 random, 2 continuation chains, 2 x 1 hops) is counted
    assert cov["starts"] == len(d["per_start"]) == 8 + 2 + 2
    assert cov["distinct_minima"] == 1 and cov["good_turing"] == 0.0  # the simplex, always
    assert cov["best"] == pytest.approx(simplex_loss(4, 0.5), abs=1e-10)
    assert set(d["strategies"]) == {"random", "continuation", "hop"}
    seq = run_json(
        tmp_path, "--n", "4", "--h", "3", "--tau", "0.5", "--constraint", "none",
        "--starts", "3", "--method", "lbfgs", "--strategies", "random",
    )  # fmt: skip
    assert seq["coverage"]["starts"] == 3 and seq["method"] == "lbfgs"


def test_stdout_without_json(capsys):
    rc = main(["solve", "--n", "4", "--h", "3", "--tau", "0.5", "--constraint", "none"])
    assert rc == 0
    d = json.loads(capsys.readouterr().out)
    assert d["n"] == 4 and d["h"] == 3


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--constraint", "subspace"], "needs --phi-deg"),
        (["--constraint", "cone"], "needs --alpha-deg"),
        (["--constraint", "none", "--alpha-deg", "20"], "not used"),
        (["--constraint", "subspace", "--phi-deg", "120"], "phi-deg"),
        (["--constraint", "cone", "--alpha-deg", "0"], "alpha-deg"),
        (["--constraint", "none", "--starts", "0"], "starts"),
        (["--constraint", "none", "--strategies", "annealing"], "--strategies"),
        (["--constraint", "none", "--resolution", "0"], "--resolution"),
        (["--constraint", "none", "--polish", "-1"], "--polish"),
        (["--constraint", "none", "--method", "lbfgs", "--strategies", "hop"], "--strategies"),
    ],
)
def test_bad_input_exit_code_2(extra, message, capsys, tmp_path):
    out = tmp_path / "never.json"
    rc = main(["solve", "--n", "4", "--h", "4", "--tau", "0.5", *extra, "--json", str(out)])
    assert rc == 2
    assert message in capsys.readouterr().err
    assert not os.path.exists(out)


def test_noise_level_means_report_the_centre_angle_undefined(tmp_path):
    """The restructure issue's case: the subspace optimum spreads each modality
    symmetrically (mean norms ~1e-6), so the centre angle must be undefined, not a noise
    angle (the old output printed 38.56 deg)."""
    d = run_json(
        tmp_path,
        "--n", "64", "--h", "3", "--tau", "0.1", "--constraint", "subspace", "--phi-deg", "40",
        "--method", "lbfgs", "--starts", "3",  # the 3 sequential starts (fast)
        # 1000 iterations per start instead of the default 5000 (all three hit either limit;
        # mean norms 5e-7 at 1000, 2e-7 at 5000: the rule still has to say undefined)
        "--max-iter", "1000",
    )  # fmt: skip
    gap = d["gap"]
    assert max(gap["mean_norm_x"], gap["mean_norm_y"]) < 1e-3
    assert gap["centre_angle"] is None
    assert gap["centre_rule"] == "configuration"
