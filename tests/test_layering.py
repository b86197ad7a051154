"""The layering contract (CONTRIBUTING.md): verify imports nothing above it; theorems nothing
from figures or the command line; figures nothing from the command line. Checked on the
source with ast, so a violation anywhere (also inside a function) fails."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Layer of each installed sub-package (folder in the repository -> rank); the command line
#: (cli/, installed as the modgap package itself and modgap.commands) is the top.
LAYERS = {"verify": 1, "theorems": 2, "figures": 3}
CLI = 4


def _layer(module: str) -> int | None:
    """Rank of an absolute module name inside modgap, None outside it."""
    if module != "modgap" and not module.startswith("modgap."):
        return None
    parts = module.split(".")
    if len(parts) == 1:
        return CLI
    return LAYERS.get(parts[1], CLI)


@functools.cache
def _imports(path: Path) -> tuple[str, ...]:
    """Every absolute module a source file imports (parsed once per session)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append(node.module)
            if node.module == "modgap":  # from modgap import verify / theorems / ...
                found += [f"modgap.{a.name}" for a in node.names]
    return tuple(found)


@pytest.mark.parametrize("folder", sorted(LAYERS))
def test_no_import_runs_up_the_layers(folder):
    rank = LAYERS[folder]
    bad = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        for module in _imports(path):
            layer = _layer(module)
            if layer is not None and layer > rank and module != "modgap":
                bad.append(f"{path.relative_to(ROOT)} imports {module}")
            if module == "modgap" and rank < CLI:
                bad.append(f"{path.relative_to(ROOT)} imports the top-level package")
    assert not bad, "\n".join(bad)


def test_no_top_level_name_but_modgap_is_imported():
    """Nothing imports the repository folders by their own names (verify, theorems, figures):
    the installed namespace is modgap.*, so a stray `import verify` would pick up PyPI's."""
    bad = []
    for path in sorted(ROOT.rglob("*.py")):
        if ".git" in path.parts or "build" in path.parts:
            continue
        for module in _imports(path):
            if module.split(".")[0] in ("verify", "theorems", "figures", "cli"):
                bad.append(f"{path.relative_to(ROOT)} imports {module}")
    assert not bad, "\n".join(bad)


def test_the_checker_itself_can_fail():
    """Negative control: a planted upward import is caught."""
    assert _layer("modgap.figures.fig1_cor_constraints") == 3
    assert _layer("modgap.commands.solve") == CLI
    assert _layer("numpy") is None
    src = "from modgap.figures import _style\n"
    tree = ast.parse(src)
    mods = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert _layer(mods[0]) > LAYERS["verify"]
