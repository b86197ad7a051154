"""Every figure script draws: make(tmp, quick=True) writes a non-empty PNG and PDF.

Smoke tests of the presentation layer (figures/ holds no maths: the numbers drawn are
checked by the tests of verify/ and theorems/). Each figure is checked for what a reader
or a build needs: both files exist under the returned names, are real PNG / PDF files (by
their magic bytes), and no temporary file is left behind (saving is atomic). The list of
modules is paper_repro.FIGURES, so a figure added there is tested here.
"""

from __future__ import annotations

import importlib

import pytest

from paper_repro import FIGURES

MAGIC = {".png": b"\x89PNG\r\n\x1a\n", ".pdf": b"%PDF"}


@pytest.mark.parametrize("module", FIGURES)
def test_figure_writes_png_and_pdf(module, tmp_path):
    mod = importlib.import_module(f"modgap.figures.{module}")
    assert mod.NAME == module
    paths = mod.make(tmp_path, quick=True)
    assert sorted(p.suffix for p in paths) == [".pdf", ".png"]
    for path in paths:
        assert path.parent == tmp_path
        assert path.stem == module
        data = path.read_bytes()
        assert len(data) > 1000, f"{path.name} is (nearly) empty"
        assert data.startswith(MAGIC[path.suffix]), f"{path.name} is not a {path.suffix} file"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in paths)


def test_every_figure_module_has_a_docstring_and_script_entry():
    for module in FIGURES:
        mod = importlib.import_module(f"modgap.figures.{module}")
        assert mod.__doc__ and "2510.03268" in mod.__doc__, module
        assert callable(mod.make), module
