"""Which paired embeddings the real-data figures draw (presentation only).

Order of preference: an explicit file (``--embeddings``), the Liang et al. (2022) CLIP
features in ../shared/data/liang2022 when present, else the demo embeddings bundled with
the package (trained here, no download).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

LIANG_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "liang2022"


def real_embeddings(path: str | Path | None = None) -> tuple[np.ndarray, np.ndarray, str]:
    """(X, Y, label): unit-row image and text embeddings and a short provenance label.

    ``path`` is a file, None (the default order above) or "demo" (the bundled demo).
    """
    from modgap.verify.embeddings_io import load_paired_embeddings

    if path == "demo":
        return _demo()
    if path is not None:
        pe = load_paired_embeddings(path)
        return _unit(pe.paired_images()), _unit(pe.texts), Path(path).name
    clip = LIANG_DIR / "features_clip.npy"
    if clip.is_file():
        pe = load_paired_embeddings(clip)
        return _unit(pe.images), _unit(pe.texts), "CLIP (Liang et al. 2022, 500 MSCOCO pairs)"
    return _demo()


def liang_clip_available() -> bool:
    """True when the Liang et al. (2022) CLIP features are present beside the checkout."""
    return (LIANG_DIR / "features_clip.npy").is_file()


def _demo() -> tuple[np.ndarray, np.ndarray, str]:
    from modgap.verify.datasets import load_demo

    X, Y, meta = load_demo()
    return _unit(X), _unit(Y), f"bundled demo ({meta.get('dataset', 'demo')})"


def _unit(A) -> np.ndarray:
    from modgap.verify.geometry import normalize_rows

    return normalize_rows(np.asarray(A, dtype=np.float64))
