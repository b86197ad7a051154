"""paper_repro.py's orchestration: report files, exit codes, resumability (tiny steps)."""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from modgap.pipeline import Step

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def repro():
    spec = importlib.util.spec_from_file_location("paper_repro", ROOT / "paper_repro.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _verdict(control=False, verdict="REFUTED"):
    return {
        "id": "theorem1",
        "reading": "population",
        "claim": "c | with a pipe",
        "verdict": verdict,
        "negative_control": control,
        "contradicts_paper": False,
        "measured": {"x": 1.5},
        "detail": "",
    }


def _evidence(control_verdict):
    return {
        "schema": "modgap.evidence/1",
        "name": "theorem1",
        "params": {"quick": True},
        "verdicts": [_verdict(verdict="CONFIRMED"), _verdict(True, control_verdict)],
        "data": {},
    }


def _steps(control_verdict):
    return [
        Step("evidence-theorem1", lambda: _evidence(control_verdict)),
        Step(
            "table-0-demo",
            lambda: {
                "label": "demo",
                "source": "toy",
                "rows": [
                    {
                        "method": "original",
                        "gap": {"centre_angle": None, "centroid_distance": 0.1},
                        "recall": {"i2t": {"1": 0.5, "5": 0.9}, "t2i": {"1": 0.4, "5": 0.8}},
                    },
                    {"method": "+SSP", "error": "no shared direction"},
                ],
            },
        ),
    ]


def test_report_and_exit_code(repro, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(repro, "build_steps", lambda args: _steps("REFUTED"))
    assert repro.main(["--out", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["schema"] == "modgap.report/1" and report["exit_code"] == 0
    assert len(report["checks"]) == 2 and report["tables"][0]["label"] == "demo"
    md = (tmp_path / "report.md").read_text()
    assert "| original | undefined | 0.100 | 50.00 |" in md
    assert "not applicable: no shared direction" in md
    assert "c / with a pipe" in md  # table cells never break the markdown table


def test_unrefuted_negative_control_fails_the_run(repro, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(repro, "build_steps", lambda args: _steps("CONFIRMED"))
    assert repro.main(["--out", str(tmp_path)]) == 1
    assert "negative control not refuted" in capsys.readouterr().err


def test_a_raising_step_fails_the_run_and_finished_steps_are_reused(
    repro, tmp_path, monkeypatch, capsys
):
    def boom():
        raise RuntimeError("x")

    steps = _steps("REFUTED")
    monkeypatch.setattr(repro, "build_steps", lambda args: [*steps, Step("figure-x", boom)])
    assert repro.main(["--out", str(tmp_path)]) == 3  # a step raised (the outcome policy)
    capsys.readouterr()
    monkeypatch.setattr(repro, "build_steps", lambda args: steps)
    assert repro.main(["--out", str(tmp_path)]) == 0
    assert "[cached] evidence-theorem1" in capsys.readouterr().err


def test_paper_repro_and_modgap_verify_agree(repro, tmp_path, monkeypatch, capsys):
    """One outcome policy: the same verdicts give the same exit code in both front ends."""
    from modgap.main import main
    from modgap.theorems import corollary3
    from modgap.theorems.verdict import Verdict

    for control in ("REFUTED", "CONFIRMED"):
        found = [Verdict.from_dict(v) for v in _evidence(control)["verdicts"]]
        monkeypatch.setattr(corollary3, "check", lambda quick=True, found=found: found)
        code_verify = main(["verify", "corollary3"])
        monkeypatch.setattr(repro, "build_steps", lambda args, c=control: _steps(c)[:1])
        code_repro = repro.main(["--out", str(tmp_path / control), "--no-cache"])
        assert code_verify == code_repro == (0 if control == "REFUTED" else 1)


def test_an_embeddings_file_that_does_not_parse_is_refused_before_any_step(
    repro, tmp_path, monkeypatch, capsys
):
    """--embeddings is an input: a file that does not parse, holds one modality, has fewer
    pairs than the alignment table takes, or does not exist is an error naming
    --embeddings before any step runs, not a failed table step (or a traceback) at the end."""
    ran = []
    monkeypatch.setattr(repro, "build_steps", lambda args: ran.append(1) or [])
    bad = tmp_path / "bad.npy"
    bad.write_bytes(b"\x93NUMPY\x01\x00garbage")
    one = tmp_path / "one.npy"
    np.save(one, np.ones((5, 3)))
    three = tmp_path / "three.npy"  # a stacked pair of 3 rows: parses, but the table needs 4
    np.save(three, np.random.default_rng(0).standard_normal((2, 3, 4)))
    missing = tmp_path / "missing.npy"
    for path in (bad, one, three, missing):
        assert repro.main(["--quick", "--out", str(tmp_path / "o"), "--embeddings", str(path)]) == 2
        err = capsys.readouterr().err
        assert f"--embeddings {path}" in err and "Traceback" not in err
    assert ran == []
