"""Build verify/data/zeroshot_demo.{npz,json}: the trained Fashion-MNIST model's test embeddings.

Build-time only (needs ``pip install 'modgap[train]'`` and the Fashion-MNIST idx files,
e.g. ``apt-get install dataset-fashion-mnist``); ``modgap zeroshot --demo`` and the
repro's Table-1 step only read the result. Trains :func:`verify.fashion_clip.train_fashion_clip`
from the seed (one thread, deterministic), then stores

- ``images``: (10000, D) float16, the test images' embeddings (unit rows before rounding);
- ``labels``: (10000,) uint8;
- ``prompts``: (10, P_h, D) float16, the held-out templates' projected embeddings;
- ``prompts_train``: (10, P_t, D) float16, the training templates' ones;

and a JSON with the provenance: hyperparameters, the per-epoch history (loss, temperature,
zero-shot accuracy, centre angle, centroid distance, effective dimensions, principal
angles, d_overlap, the paper's prediction phi), the convergence message, templates, class
names, versions, SHA-256 of the idx files and of the stored arrays. Both files are
written atomically.

    python scripts/build_zeroshot_demo.py [--root DIR] [--epochs 5] [--seed 0] [--out DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import platform
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from modgap.verify import fashion_clip as fc  # noqa: E402
from modgap.verify.atomic import atomic_path, write_json  # noqa: E402


def _sha(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


def build(root: str | None, epochs: int, seed: int, out: Path) -> dict:
    """Train, write the npz + json into ``out``, return the provenance dict."""
    import scipy
    import torch

    data = fc.load_fashion_mnist(root)
    res = fc.train_fashion_clip(data, epochs=epochs, seed=seed, progress=True)
    arrays = {
        "images": res.test_images.astype(np.float16),
        "labels": res.test_labels.astype(np.uint8),
        "prompts": res.prompts_heldout.astype(np.float16),
        "prompts_train": res.prompts_train.astype(np.float16),
    }
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    meta = {
        "dataset": "Fashion-MNIST test set (10000 images, 10 classes)",
        "dataset_citation": "H. Xiao, K. Rasul, R. Vollgraf, arXiv 1708.07747 (2017); MIT",
        "idx_sha256": {
            k: _sha(v) for k, v in data.items() if k.startswith("test") or k.startswith("train")
        },
        "model": (
            "CNN image tower from scratch + frozen all-MiniLM-L6-v2 + trainable linear text "
            "head; symmetric InfoNCE, learnable temperature from 0.07 (verify.fashion_clip)"
        ),
        "params": res.params,
        "history": res.history,
        "success": res.success,
        "message": res.message,
        "wall_time_s": round(res.seconds, 1),
        "class_names": list(fc.CLASS_NAMES),
        "class_phrases": list(fc.CLASS_PHRASES),
        "templates_train": list(fc.TRAIN_TEMPLATES),
        "templates_heldout": list(fc.HELDOUT_TEMPLATES),
        "arrays": {k: f"{v.dtype} {tuple(v.shape)}" for k, v in arrays.items()},
        "arrays_sha256": {k: _sha(v) for k, v in arrays.items()},
        "versions": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "torch": torch.__version__,
        },
    }
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / Path(fc.DEMO_NPZ).name) as tmp:
        tmp.write_bytes(buf.getvalue())
    write_json(out / Path(fc.DEMO_JSON).name, meta)
    return meta


def main(argv: list[str] | None = None) -> int:
    """Command line of the build script."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--root", help="folder of the Fashion-MNIST idx files (default: Debian's)")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=ROOT / "verify" / "data")
    args = p.parse_args(argv)
    meta = build(args.root, args.epochs, args.seed, args.out)
    print(f"wrote {args.out}: {meta['message']}; {meta['wall_time_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
