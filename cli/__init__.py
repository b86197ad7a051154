"""modgap: an executable proof-checker for the modality-gap theorems of Yi, Douady & Chen
(arXiv 2510.03268), and a tool to measure the gap in paired embeddings.

Sub-packages (each imports only the ones before it):

- :mod:`modgap.verify` -- numerics (geometry, objective, vMF, metrics, solvers,
  certificates, alignment operators, I/O);
- :mod:`modgap.theorems` -- one module per result: claim, readings, evidence, verdicts;
- :mod:`modgap.figures` -- one script per figure, drawn from the checks' cached evidence;
- :mod:`modgap.main` and :mod:`modgap.commands` -- the ``modgap`` command line.

The version is set once, in pyproject.toml, and read here from the installed metadata.
"""

from importlib import metadata as _metadata

try:
    __version__: str = _metadata.version("modgap")
except _metadata.PackageNotFoundError:  # pragma: no cover - running from an uninstalled tree
    __version__ = "0+unknown"

__all__ = ["__version__"]
