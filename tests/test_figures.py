"""Figures are drawn only from evidence: every figure draws from its (quick) evidence
documents and writes a real PDF (the PNG of a full and of a quick run is checked for
fig3_pair_geometry and fig7_dimension_collapse, and by paper_repro's figure steps); no
module in figures/ imports a solver, a trainer, a quadrature or the command line; the figure
command line reads evidence files.

What the figures draw is checked against independent computations in
tests/test_illustrations.py (the figure-data producers) and here for the two figures that
draw the theorem checks' own evidence (fig5: Theorem 1; fig7: dimension collapse): the
numbers drawn are the ones the verdicts were decided on.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import json
import pkgutil
from pathlib import Path

import mpmath
import pytest
from _evidence import document

import modgap.figures
from modgap.figures import _style
from modgap.theorems.evidence import CHECKS, SCHEMA, SOURCES

ROOT = Path(__file__).resolve().parents[1]
FIGURE_DIR = Path(modgap.figures.__file__).resolve().parent
MODULES = sorted(m.name for m in pkgutil.iter_modules([str(FIGURE_DIR)]) if m.name[:3] == "fig")
MAGIC = {".png": b"\x89PNG\r\n\x1a\n", ".pdf": b"%PDF"}
#: What every figure writes in test_every_figure_draws_from_its_evidence: the PDF of a full
#: run. Each format is a separate rendering of the whole figure (about 0.3 s a figure here);
#: the vector backend is the one whose output depends most on a figure's content (fonts,
#: glyphs, transparency). The raster writer runs in the tests that call _assert_written with
#: both formats (a full render of fig3 and fig7, the quick render) and in paper_repro's quick
#: figure steps.
TEST_OUTPUT = (("pdf", {}),)
#: Both formats of a full run, the PNG at 100 dpi (the raster's resolution is not what these
#: tests check; test_quick_render_writes_one_png_at_half_the_resolution checks the dpi).
BOTH_FORMATS = (("png", {"dpi": 100}), ("pdf", {}))

#: Modules a figure must not import (solvers, trainers, quadrature, certificates,
#: constraints, the command line), as dotted prefixes.
FORBIDDEN = (
    "modgap.verify.solvers",
    "modgap.verify.population",
    "modgap.verify.twotower",
    "modgap.verify.certificates",
    "modgap.verify.constraints",
    "modgap.main",
    "modgap.commands",
    "modgap.pipeline",
    "modgap.cli",
    "cli",
    "paper_repro",
)


def evidence_for(module) -> dict[str, dict]:
    """The quick evidence documents ``module`` draws (computed once per session)."""
    return {s: document(s, **_style.evidence_params(s, quick=True)) for s in module.EVIDENCE}


def _assert_written(paths, out: Path, name: str, suffixes=(".pdf", ".png")) -> None:
    assert sorted(p.suffix for p in paths) == sorted(suffixes)
    for path in paths:
        assert path.parent == out and path.stem == name
        data = path.read_bytes()
        assert len(data) > 1000, f"{path.name} is (nearly) empty"
        assert data.startswith(MAGIC[path.suffix]), f"{path.name} is not a {path.suffix} file"
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in paths)


def test_the_figure_list_is_paper_repros():
    assert sorted(_repro().FIGURES) == MODULES and len(MODULES) == 9


@pytest.mark.parametrize("name", MODULES)
def test_every_figure_draws_from_its_evidence(name, tmp_path, monkeypatch):
    mod = importlib.import_module(f"modgap.figures.{name}")
    assert mod.NAME == name
    assert mod.EVIDENCE and set(mod.EVIDENCE) <= set(SOURCES)
    evidence = evidence_for(mod)
    for source, doc in evidence.items():
        assert doc["schema"] == SCHEMA and doc["name"] == source
        json.dumps(doc, allow_nan=False)  # what a cache would store

    def no_compute(*args, **kwargs):
        raise AssertionError("a figure computed evidence instead of drawing it")

    monkeypatch.setattr("modgap.theorems.evidence.compute", no_compute)
    with _style.output_formats(TEST_OUTPUT):
        _assert_written(mod.draw(evidence, tmp_path), tmp_path, name, suffixes=[".pdf"])


def _imports(tree: ast.AST) -> set[str]:
    """Every module an AST imports, absolute ('from .x import y' inside modgap.figures)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(["modgap", "figures"][: 3 - node.level] + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _forbidden(source: str) -> list[str]:
    return sorted(
        m
        for m in _imports(ast.parse(source))
        if any(m == f or m.startswith(f + ".") for f in FORBIDDEN)
    )


def test_the_import_rule_catches_a_solver_import():
    """Negative control of the AST rule: every spelling of a forbidden import is caught."""
    planted = (
        "from modgap.verify.solvers import solve\n"
        "import modgap.verify.population\n"
        "from modgap.verify import twotower\n"
        "from modgap.commands import verify\n"
        "from modgap.figures import _style\n"
    )
    assert _forbidden(planted) == [
        "modgap.commands",
        "modgap.commands.verify",
        "modgap.verify.population",
        "modgap.verify.solvers",
        "modgap.verify.solvers.solve",
        "modgap.verify.twotower",
    ]


@pytest.mark.parametrize("path", sorted(FIGURE_DIR.glob("*.py")), ids=lambda p: p.name)
def test_no_figure_module_imports_a_solver_or_the_cli(path):
    source = path.read_text()
    assert _forbidden(source) == [], path.name
    if path.name.startswith("fig"):
        mod = importlib.import_module(f"modgap.figures.{path.stem}")
        assert mod.__doc__ and "2510.03268" in mod.__doc__
        assert callable(mod.draw) and not hasattr(mod, "make")
        assert "_style.script_main(__name__)" in source


def test_script_main_draws_from_evidence_files_without_computing(tmp_path, monkeypatch, capsys):
    from modgap.figures import fig3_pair_geometry as fig

    doc = document("pair_geometry")
    file = tmp_path / "cache.json"
    file.write_text(json.dumps({"pair_geometry": doc}))  # a mapping of documents
    monkeypatch.setattr(
        "modgap.theorems.evidence.compute",
        lambda *a, **k: pytest.fail("script_main computed evidence it was given"),
    )
    out = tmp_path / "out"
    _style.script_main(fig.__name__, ["--out", str(out), "--evidence", str(file)])
    printed = capsys.readouterr().out.split()
    assert sorted(Path(p).name for p in printed) == [f"{fig.NAME}.pdf", f"{fig.NAME}.png"]
    _assert_written([Path(p) for p in printed], out, fig.NAME)


def test_quick_render_writes_one_png_at_half_the_resolution(tmp_path):
    """render(quick=True) (paper_repro --quick, a figure script's --quick) writes one PNG at
    150 dpi, a full render the 300-dpi PNG and the PDF; the two PNGs show the same picture,
    so the quick one has half the pixels along each side (within the tight bounding box's
    rounding)."""
    from matplotlib.image import imread

    from modgap.figures import fig3_pair_geometry as fig

    given = {"pair_geometry": document("pair_geometry")}
    quick = _style.render(fig, tmp_path / "quick", quick=True, given=given)
    full = _style.render(fig, tmp_path / "full", quick=False, given=given)
    assert [p.name for p in quick] == [f"{fig.NAME}.png"]
    assert sorted(p.read_bytes()[:4] for p in quick) == [MAGIC[".png"][:4]]
    _assert_written(full, tmp_path / "full", fig.NAME)
    (png_full,) = [p for p in full if p.suffix == ".png"]
    h_q, w_q = imread(quick[0]).shape[:2]
    h_f, w_f = imread(png_full).shape[:2]
    assert abs(2 * w_q - w_f) <= 3 and abs(2 * h_q - h_f) <= 3


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "cannot read an evidence document"),
        ('{"schema": "other/1", "name": "x"}', "not a modgap evidence document"),
        ("[]", "not a modgap evidence document"),
    ],
)
def test_bad_evidence_files_are_named(tmp_path, content, message):
    file = tmp_path / "bad.json"
    file.write_text(content)
    with pytest.raises(ValueError, match=message) as err:
        _style.load_evidence([file])
    assert str(file) in str(err.value)


def test_a_source_given_twice_is_an_error(tmp_path):
    doc = {"schema": SCHEMA, "name": "pair_geometry", "params": {}, "verdicts": [], "data": {}}
    file = tmp_path / "twice.json"
    file.write_text(json.dumps([doc, doc]))
    with pytest.raises(ValueError, match="given twice"):
        _style.load_evidence([file])


def test_missing_evidence_file_is_named(tmp_path):
    with pytest.raises(ValueError, match="missing.json"):
        _style.load_evidence([tmp_path / "missing.json"])


# ----------------------------------------------------------------------------- fig5, fig7


def _theorem1_bound_mpmath(h: int, tau: float) -> float:
    """-2/tau + 2 log(Gamma(nu+1) (2 tau)^nu I_nu(1/tau)), nu = h/2 - 1 (docs/theory.md §3)."""
    nu = mpmath.mpf(h) / 2 - 1
    tau = mpmath.mpf(tau)
    inner = mpmath.gamma(nu + 1) * (2 * tau) ** nu * mpmath.besseli(nu, 1 / tau)
    return float(-2 / tau + 2 * mpmath.log(inner))


def test_fig5_draws_the_theorem1_checks_own_solves():
    doc = document("theorem1", quick=True)
    curves = doc["data"]["finite_n"]
    (checked,) = [
        v for v in doc["verdicts"] if v["reading"] == "finite_n" and not v["negative_control"]
    ]
    settings = checked["measured"]["settings"]
    assert len(curves) == len(settings) >= 1
    for curve, s in zip(curves, settings, strict=True):
        assert curve["bound"] == pytest.approx(
            _theorem1_bound_mpmath(curve["h"], curve["tau"]), abs=1e-9
        )
        assert curve["N"] == [r["N"] for r in s["rows"]]
        assert curve["loss_shifted"] == [r["loss_shifted"] for r in s["rows"]]
        assert curve["converged"] == [r["converged"] for r in s["rows"]]
        for value, gap in zip(curve["loss_shifted"], curve["gap"], strict=True):
            assert gap == pytest.approx(value - curve["bound"], abs=1e-12)
        assert curve["fit"] == s["fit"]


def test_fig7_draws_the_rows_the_dimension_collapse_verdicts_were_decided_on():
    from modgap.figures.fig7_dimension_collapse import shared_rows

    doc = document("dimension_collapse", quick=True)
    data = doc["data"]
    drawn = shared_rows(data)
    s = data["settings"]
    # phi is stored in degrees after a round trip through radians (30 -> 29.999999999999996)
    assert sorted((r["k"], round(r["phi_deg"], 9)) for r in drawn) == sorted(
        (k, float(p)) for k in s["ks"] for p in s["phis_deg"]
    )
    (paper,) = [v for v in doc["verdicts"] if v["reading"] == "trained_towers"]
    table = paper["measured"]["observables"]
    for row in drawn:
        assert any(
            t.get("centroid_distance") == row["centroid_distance"]
            and t.get("pair_angle_max_deg") == row["pair_angle_max_deg"]
            for t in table
        ), row


def _planted_collapse_document() -> dict:
    """A hand-made dimension-collapse document: 2 k x 2 phi shared rows at n = 64, one
    'equal' row and one row at another n (both must be left out), and a control."""

    def row(k, phi, config="shared", n=64, defined=True):
        return {
            "k": k,
            "phi_deg": phi,
            "config": config,
            "n": n,
            "converged": True,
            "centre_defined": defined,
            "centre_angle_deg": phi if defined else None,
            "centre_angle_raw_deg": phi + 5.0,
            "pair_angle_max_deg": phi,
            "pair_angle_mean_deg": phi / 2,
            "centroid_distance": 0.1 * k,
            "init_centroid_distance": 0.5,
            "shared_disagreement": 0.01,
            "height_out_of_C": 0.3,
        }

    rows = [row(2, 30.0), row(2, 60.0, defined=False), row(3, 30.0), row(3, 60.0)]
    rows += [row(2, 45.0, config="equal"), row(3, 30.0, n=512)]
    control = {**row(4, 0.0), "config": "unconstrained", "centre_defined": False}
    settings = {"h": 4, "n": 64, "ks": [2, 3], "phis_deg": [30.0, 60.0], "tau": 0.2}
    data = {"rows": rows, "control": control, "settings": settings}
    return {
        "schema": SCHEMA,
        "name": "dimension_collapse",
        "params": {},
        "verdicts": [],
        "data": data,
    }


def test_fig7_draws_a_planted_document_and_keeps_only_the_shared_rows(tmp_path):
    from modgap.figures import fig7_dimension_collapse as fig

    doc = _planted_collapse_document()
    kept = fig.shared_rows(doc["data"])
    assert [(r["k"], r["phi_deg"]) for r in kept] == [(2, 30.0), (2, 60.0), (3, 30.0), (3, 60.0)]
    with _style.output_formats(BOTH_FORMATS):
        _assert_written(fig.draw({"dimension_collapse": doc}, tmp_path), tmp_path, fig.NAME)


def test_script_main_names_a_missing_embeddings_file(tmp_path, capsys):
    with pytest.raises(SystemExit) as err:
        _style.script_main(
            "modgap.figures.fig2_real_embeddings",
            ["--out", str(tmp_path), "--embeddings", str(tmp_path / "nope.npy")],
        )
    assert err.value.code == 2
    assert "nope.npy" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def _repro():
    spec = importlib.util.spec_from_file_location("paper_repro", ROOT / "paper_repro.py")
    repro = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(repro)
    return repro


def test_paper_repro_draws_each_figure_from_its_evidence_steps(tmp_path, monkeypatch):
    import argparse
    import functools

    from modgap.pipeline import Step

    repro = _repro()
    names = [
        s.name
        for s in repro.build_steps(
            argparse.Namespace(out=str(tmp_path), quick=True, embeddings=None)
        )
    ]
    evidence_steps = [n for n in names if n.startswith("evidence-")]
    assert sorted(evidence_steps) == sorted(f"evidence-{s}" for s in SOURCES)
    assert evidence_steps[: len(CHECKS)] == [f"evidence-{c}" for c in CHECKS]
    assert [n for n in names if n.startswith("figure-")] == [f"figure-{m}" for m in repro.FIGURES]

    fig_dir = tmp_path / "figures"

    def figure(module):
        return Step(
            f"figure-{module}",
            functools.partial(repro._figure_step, documents=repro.DOCUMENTS),
            {"module": module, "out_dir": str(fig_dir), "quick": True},
        )

    def broken():
        raise RuntimeError("planted failure")

    steps = [
        Step("evidence-pair_geometry", lambda: document("pair_geometry")),
        Step("evidence-theorem1", lambda: document("theorem1", quick=True)),
        Step("evidence-sphere_optima", broken),
        figure("fig3_pair_geometry"),
        figure("fig5_bound_convergence"),
        figure("fig1_cor_constraints"),
    ]
    monkeypatch.setattr(repro, "build_steps", lambda args: steps)
    assert repro.main(["--out", str(tmp_path), "--no-cache"]) == 3  # a step raised (outcome policy)
    report = json.loads((tmp_path / "report.json").read_text())
    # quick figure steps: one PNG each (QUICK_OUTPUT)
    assert sorted(Path(p).name for p in report["figures"]) == [
        "fig3_pair_geometry.png",
        "fig5_bound_convergence.png",
    ]
    assert (
        "no evidence for sphere_optima" in report["steps"]["figure-fig1_cor_constraints"]["error"]
    )
    # the verdicts of the report are the theorem1 evidence's own
    own = document("theorem1", quick=True)["verdicts"]
    assert [{k: v for k, v in e.items() if k != "expected"} for e in report["checks"]] == own
