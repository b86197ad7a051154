"""Arguments that used to be accepted silently or named in an error as another argument."""

from __future__ import annotations

import numpy as np
import pytest

from modgap.main import main


@pytest.fixture
def two_files(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 6))
    np.save(tmp_path / "x.npy", X)
    np.save(tmp_path / "y.npy", X + 0.1 * rng.standard_normal(X.shape))
    np.save(tmp_path / "both.npy", np.stack([X, X]))
    return tmp_path


@pytest.mark.parametrize(
    "extra, named",
    [
        (["--chunk-rows", "64"], "--chunk-rows only applies to the streamed"),
        (["--separability-rows", "8"], "--separability-rows only applies"),
        (["--exact-uniformity"], "--exact-uniformity only applies"),
        (["--stream", "--chunk-rows", "4"], "--chunk-rows is too small: 4"),
    ],
)
def test_streaming_options_are_refused_where_nothing_reads_them(two_files, capsys, extra, named):
    args = ["analyze", str(two_files / "x.npy"), str(two_files / "y.npy"), *extra]
    assert main(args) == 2
    assert named in capsys.readouterr().err


def test_streaming_options_are_read_by_the_streamed_analysis(two_files, capsys):
    args = ["analyze", str(two_files / "x.npy"), str(two_files / "y.npy"), "--stream"]
    assert main([*args, "--chunk-rows", "16", "--no-progress"]) == 0
    assert "chunks of 16 rows" in capsys.readouterr().out


@pytest.mark.parametrize("option", ["IN", "--fit"])
def test_align_names_its_own_argument_for_a_one_modality_file(two_files, capsys, option):
    out = two_files / "o.npy"
    if option == "IN":
        args = ["align", "ssp", str(two_files / "x.npy"), str(out)]
    else:
        args = [
            "align",
            "ssp",
            str(two_files / "both.npy"),
            str(out),
            "--fit",
            str(two_files / "x.npy"),
        ]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert f"{option} " in err and "(2, n, d)" in err
    assert "FILE2" not in err  # align takes one file: no hint at an argument it lacks
    assert not out.exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["solve", "--n", "4", "--h", "3", "--tau", "0.5", "--constraint", "none", "--json"],
        ["verify", "corollary3", "--json"],
        [
            "sweep",
            "margin",
            "--h",
            "4",
            "--kappa",
            "5",
            "--phi",
            "0.5",
            "--tau",
            "0.1",
            "--no-progress",
            "--out",
        ],
    ],
    ids=["solve", "verify", "sweep"],
)
def test_a_json_result_never_overwrites_a_data_file(two_files, capsys, argv):
    """A JSON result needs a .json name: a mistyped --json/--out naming a data file must not
    replace it with JSON (sweep and solve have no input files, so only the suffix guards)."""
    data = two_files / "x.npy"
    before = data.read_bytes()
    assert main([*argv, str(data)]) == 2
    err = capsys.readouterr().err
    assert "unsupported suffix '.npy'; use .json" in err
    assert data.read_bytes() == before


def test_zeroshot_names_the_input_an_output_would_destroy(two_files, capsys):
    rng = np.random.default_rng(1)
    np.save(two_files / "img.npy", rng.standard_normal((12, 6)))
    np.save(two_files / "lab.npy", np.arange(12) % 3)
    np.save(two_files / "pr.npy", rng.standard_normal((3, 6)))
    files = [str(two_files / f) for f in ("img.npy", "lab.npy", "pr.npy")]
    assert main(["zeroshot", *files, "--markdown", files[2]]) == 2
    assert "is the same file as the input PROMPTS" in capsys.readouterr().err
    assert main(["zeroshot", *files, "--markdown", str(two_files / "t.json")]) == 2
    assert "--markdown" in capsys.readouterr().err and not (two_files / "t.json").exists()


def test_the_packages_warnings_print_as_one_line_notes_of_the_command():
    """modgap's own warnings about the user's data read 'modgap COMMAND: warning: ...'
    (like the commands' notes) while a command runs; other libraries' keep Python's format,
    and the default comes back afterwards."""
    import warnings

    import modgap.verify.metrics as metrics
    from modgap.main import warnings_as_notes

    default = warnings.formatwarning
    with warnings_as_notes("modgap analyze"):
        ours = warnings.formatwarning("3 duplicated rows", RuntimeWarning, metrics.__file__, 7)
        other = warnings.formatwarning("x", RuntimeWarning, "/usr/lib/python3/foo.py", 7)
    assert ours == "modgap analyze: warning: 3 duplicated rows\n"
    assert other.startswith("/usr/lib/python3/foo.py:7: RuntimeWarning: x")
    assert warnings.formatwarning is default
