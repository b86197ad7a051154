"""``modgap verify`` and the theorem registry: JSON schema, exit codes, name validation,
errors that surface."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from modgap import theorems
from modgap.main import main
from modgap.theorems import corollary3
from modgap.theorems.outcome import EXIT_RAISED
from modgap.theorems.verdict import Status, Verdict

REQUIRED_KEYS = {
    "id",
    "reading",
    "verdict",
    "claim",
    "measured",
    "negative_control",
    "contradicts_paper",
    "parameters",
    "tolerance",
    "detail",
}


def test_verify_corollary2_writes_schema(tmp_path, capsys):
    out = tmp_path / "out.json"
    rc = main(["verify", "corollary2", "--json", str(out)])
    assert rc == 0
    doc = json.loads(out.read_text())
    assert doc["mode"] == "quick" and doc["exit_code"] == 0
    assert "2510.03268" in doc["paper"]
    assert doc["modules"]["corollary2"]["error"] is None
    checks = doc["checks"]
    assert checks and {c["id"] for c in checks} == {"corollary2"}
    for c in checks:
        assert REQUIRED_KEYS <= set(c)
        assert c["verdict"] in {"CONFIRMED", "REFUTED", "INCONCLUSIVE"}
        assert c["expected"] is True
    controls = [c for c in checks if c["negative_control"]]
    assert controls and all(c["verdict"] == "REFUTED" for c in controls)
    assert {"geometric", "finite_n"} <= {c["reading"] for c in checks}
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]  # no temp file left behind
    table = capsys.readouterr().out
    assert "[control]" in table and "corollary2" in table and "exit code 0" in table


def test_unknown_name_exits_2_with_valid_names(capsys, tmp_path):
    out = tmp_path / "never.json"
    rc = main(["verify", "theorem9", "--json", str(out)])
    assert rc == 2
    err = capsys.readouterr().err
    assert "theorem9" in err and "corollary2" in err and "valid names" in err
    assert not out.exists()


def test_registry_validates_names():
    present = list(theorems.REGISTRY)
    assert {"theorem4", "corollary2", "corollary3", "corollary4"} <= set(present)
    order = [n for n in theorems.KNOWN_NAMES if n in present]
    assert present == order
    with pytest.raises(ValueError, match="valid names: .*corollary4"):
        theorems.run_checks(["nope"])
    with pytest.raises(KeyError):
        theorems.REGISTRY["nope"]


def test_raising_check_surfaces(monkeypatch, tmp_path, capsys):
    def boom(quick=True):
        raise RuntimeError("deliberate failure")

    monkeypatch.setattr(corollary3, "check", boom)
    with pytest.raises(RuntimeError, match="deliberate"):
        theorems.run_checks(["corollary3"])
    out = tmp_path / "err.json"
    rc = main(["verify", "corollary3", "--json", str(out)])
    assert rc == EXIT_RAISED
    doc = json.loads(out.read_text())
    assert doc["checks"][0]["verdict"] == "ERROR"
    assert "deliberate failure" in doc["modules"]["corollary3"]["error"]
    assert "deliberate failure" in capsys.readouterr().err


def _verdict(status, control=False, contradicts=False):
    return Verdict(
        id="corollary3",
        reading="finite_n",
        claim="NEGATIVE CONTROL: x" if control else "x",
        status=status,
        negative_control=control,
        contradicts_paper=contradicts,
    )


@pytest.mark.parametrize(
    "verdicts, code",
    [
        ([_verdict(Status.CONFIRMED), _verdict(Status.REFUTED, control=True)], 0),
        ([_verdict(Status.REFUTED, contradicts=True), _verdict(Status.REFUTED, control=True)], 0),
        ([_verdict(Status.CONFIRMED), _verdict(Status.CONFIRMED, control=True)], 1),
        ([_verdict(Status.CONFIRMED), _verdict(Status.INCONCLUSIVE, control=True)], 1),
        ([_verdict(Status.INCONCLUSIVE), _verdict(Status.REFUTED, control=True)], 0),
        ([_verdict(Status.REFUTED)], 1),
    ],
)
def test_exit_code_policy(monkeypatch, verdicts, code, capsys):
    monkeypatch.setattr(corollary3, "check", lambda quick=True: verdicts)
    assert main(["verify", "corollary3"]) == code


def test_non_verdict_results_are_rejected(monkeypatch):
    monkeypatch.setattr(corollary3, "check", lambda quick=True: [{"verdict": "CONFIRMED"}])
    with pytest.raises(TypeError, match="non-Verdict"):
        theorems.run_checks(["corollary3"])


def test_entry_point_subprocess(tmp_path):
    out = tmp_path / "c3.json"
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run(
        [sys.executable, "-m", "modgap", "verify", "corollary3", "--json", str(out)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text())
    assert all(c["verdict"] == "REFUTED" for c in doc["checks"] if c["negative_control"])


def test_summarize_prefers_scalars_then_detail():
    from modgap.theorems.verdict import summarize

    assert summarize({"measured": {"a": 1.23456, "t": [{"x": 1}], "b": [1, 2, 3, 4]}}) == (
        "a=1.235; b=[1, 2, 3, ...]"
    )
    long = "word " * 100
    out = summarize({"measured": {"rows": [{"x": 1}]}, "detail": long}, width=40)
    assert len(out) == 40 and out.endswith("...")
