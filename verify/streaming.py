"""Streaming analysis of paired embeddings larger than memory: chunked passes, bounded memory.

The report of verify.analysis.analyze_embeddings (the numbers behind ``modgap analyze``),
computed from row chunks of on-disk inputs, so that peak memory depends on d and the chunk
size, not on n (docs/streaming.md; issue #14).

Inputs (:func:`open_source`): one ``(2, n, d)`` ``.npy`` (images, texts), two ``.npy`` files
``(n_x, d)`` / ``(n_y, d)``, a folder of clip-retrieval shards (``img_emb/img_emb_<i>.npy``
and ``text_emb/text_emb_<i>.npy``, concatenated in the order of ``i``; Beaumont 2021,
https://github.com/rom1504/clip-retrieval), or a zarr array ``(2, n, d)`` (or two zarr
arrays). ``.npy`` rows are read with positioned reads (``os.pread``) of the file's data
region at the offset given by its header -- the access pattern of ``np.load(mmap_mode="r")``
without mapping the file, so the page cache is not charged to the process' resident memory.

One pass over the rows (text chunk j..j+b with its paired image rows) accumulates, in
float64, for each modality the row sum and the d x d second moment sum_i z_i z_i^T (BLAS
syrk in the input precision per chunk, as verify.alignment.second_moment), and for the pairs
the sums of cos, angle, |x - y|, |x - y|^2 and the extreme angles. Rows are L2-normalised
chunk by chunk (zero rows, NaN/inf: an error naming the modality and row). From these, exactly
(same formulas as the in-memory code, up to summation order):

- means, centroid distance |m_x - m_y| (Liang et al. 2022), centre angle arccos of the cosine
  of the means (seed paper, Yi, Douady & Chen, arXiv 2510.03268), mean pair cosine / angle,
  max / min pair angle, mean pair distance L2I (Schrodi et al. 2025), alignment
  mean |x - y|^2 (Wang & Isola 2020);
- relative modality gap (Schrodi et al. 2025) by the closed form
  sum_{i != j} x_i . x_j = |sum_i x_i|^2 - sum_i |x_i|^2 (verify.metrics.relative_modality_gap);
- covariance spectrum (Jing et al. 2022) and effective dimension at ``variance`` (Zhang et
  al., C3) from the centred second moment G - n m m^T; 99%-variance principal subspaces
  (uncentred, as verify.metrics.principal_subspace), principal angles (ascending) and SSP's
  d_overlap (seed paper, appendix; verify.alignment.SharedSpaceProjection) from G.

The inherently pairwise measures use a seeded sample, saying which and how large, unless an
exact blocked computation is requested:

- uniformity (Wang & Isola 2020): the rows of the same seeded subset of ``uniformity_rows``
  (5000) rows that verify.metrics.uniformity draws (numpy default_rng(seed)), gathered from
  disk; ``exact_uniformity=True``: all n (n - 1)/2 pairs, block against block (O(n^2 d));
- linear separability (Fahim et al. 2024): the same seeded subset of ``separability_rows``
  (10,000) rows per modality as verify.analysis, gathered from disk (no exact variant: the
  logistic fit needs the rows in memory; raise the subset size as far as memory allows);
- retrieval R@1/5/10 (Liang / Schrodi / Cai): ``max_queries`` seeded queries per direction
  (the same draw as verify.metrics.retrieval_recall's sampled route), each ranked against ALL
  candidates inside the pass; ``max_queries=None``: every query, block against block.

Engines: chunks run in this process (default) or as tasks on a dask.distributed cluster
(``scheduler`` or $MODGAP_DASK_SCHEDULER, verify.engine); the partial sums are combined by the
same fixed binary tree either way, so the two routes give identical numbers. A tqdm bar
counts chunks when ``progress``.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import scipy.linalg

from modgap.verify._validation import InputError, check_int_in_range, check_positive
from modgap.verify.engine import _progress, client_for, resolve_scheduler, tree_reduce
from modgap.verify.observables import observables_from_sums

__all__ = [
    "CHUNK_ROWS",
    "RowStore",
    "PairedSource",
    "open_source",
    "is_streamable",
    "stream_analyze",
]

#: Rows per chunk (16,384 x 768 float32 = 50 MB per modality, float64 work copies 100 MB).
CHUNK_ROWS = 16_384
#: Defaults of the sampled pairwise measures (the in-memory analysis uses the same sizes).
UNIFORMITY_ROWS = 5000
SEPARABILITY_ROWS = 10_000
#: Retrieval queries per direction in a streamed analysis (standard error <= 0.5/sqrt(N)).
STREAM_MAX_QUERIES = 500
KS = (1, 5, 10)


# =========================================================================== row stores


class _NpyPart:
    """One 2-D block of rows inside a .npy file: header offset + positioned reads."""

    def __init__(self, path: str, offset: int, n: int, d: int, dtype: np.dtype) -> None:
        self.path, self.offset, self.n, self.d, self.dtype = path, offset, n, d, dtype
        self._fd: int | None = None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_fd"] = None  # reopened where it is used (e.g. on a Dask worker)
        return state

    def _file(self) -> int:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDONLY)
        return self._fd

    def read(self, lo: int, hi: int, out: np.ndarray | None = None) -> np.ndarray:
        row = self.d * self.dtype.itemsize
        if out is None:
            out = np.empty((hi - lo, self.d), dtype=self.dtype)
        buf = memoryview(out.reshape(-1).view(np.uint8))
        pos, done, total = self.offset + lo * row, 0, (hi - lo) * row
        fd = self._file()
        while done < total:
            got = os.preadv(fd, [buf[done:]], pos + done)
            if got <= 0:
                raise InputError(f"{self.path}: file ends before row {hi} (truncated .npy)")
            done += got
        return out

    def take(self, idx: np.ndarray) -> np.ndarray:
        return (
            np.concatenate([self.read(int(i), int(i) + 1) for i in idx])
            if idx.size
            else (np.empty((0, self.d), dtype=self.dtype))
        )

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class _ZarrPart:
    """A 2-D block of rows of a zarr array (optionally one slab of a (2, n, d) array)."""

    def __init__(self, path: str, slab: int | None, n: int, d: int, dtype: np.dtype) -> None:
        self.path, self.slab, self.n, self.d, self.dtype = path, slab, n, d, dtype
        self._arr: Any = None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_arr"] = None
        return state

    def _array(self) -> Any:
        if self._arr is None:
            import zarr

            self._arr = zarr.open_array(self.path, mode="r")
        return self._arr

    def read(self, lo: int, hi: int, out: np.ndarray | None = None) -> np.ndarray:
        a = self._array()
        out = a[self.slab, lo:hi] if self.slab is not None else a[lo:hi]
        return np.asarray(out)

    def take(self, idx: np.ndarray) -> np.ndarray:
        a = self._array()
        rows = (
            a.get_orthogonal_selection((self.slab, idx))
            if self.slab is not None
            else (a.get_orthogonal_selection((idx, slice(None))))
        )
        return np.asarray(rows).reshape(idx.size, self.d)

    def close(self) -> None:
        self._arr = None


_LOCAL = threading.local()


def _buffer(name: str, shape: tuple[int, int], dtype: np.dtype) -> np.ndarray:
    """This thread's reusable array of that name, shape and dtype."""
    pool = _LOCAL.__dict__.setdefault("pool", {})
    buf = pool.get(name)
    if buf is None or buf.shape != shape or buf.dtype != dtype:
        buf = pool[name] = np.empty(shape, dtype=dtype)
    return buf


class RowStore:
    """The rows of one modality: the concatenation of one or more on-disk parts.

    ``read(lo, hi)`` returns rows lo..hi-1 (crossing part boundaries as needed), ``take(idx)``
    the rows at sorted or unsorted indices, both as new in-memory arrays in the stored dtype.
    Picklable (files are reopened where it is used).
    """

    def __init__(self, parts: Sequence[Any], name: str) -> None:
        if not parts:
            raise InputError(f"{name}: no rows found")
        self.parts, self.name = list(parts), name
        self.d = parts[0].d
        self.dtype = np.dtype(parts[0].dtype)
        for p in parts:
            if p.d != self.d:
                raise InputError(f"{name}: parts have different dimensions ({p.d} vs {self.d})")
            if np.dtype(p.dtype) != self.dtype:
                raise InputError(f"{name}: parts have different dtypes ({p.dtype}, {self.dtype})")
        self.starts = np.cumsum([0] + [p.n for p in parts])
        self.n = int(self.starts[-1])

    def read(self, lo: int, hi: int, reuse: str | None = None) -> np.ndarray:
        """Rows lo..hi-1 (0 <= lo <= hi <= n).

        ``reuse``: read into this thread's buffer of that name (allocated once per shape),
        which the next read with the same name overwrites: saves the page faults of a fresh
        chunk-sized array per read (a large share of the time on virtual machines).
        """
        if not 0 <= lo <= hi <= self.n:
            raise InputError(f"{self.name}: rows {lo}..{hi} outside 0..{self.n}")
        k = int(np.searchsorted(self.starts, lo, side="right")) - 1
        s, e = int(self.starts[k]), int(self.starts[k + 1])
        if hi <= e and isinstance(self.parts[k], _NpyPart):  # inside one .npy part
            buf = None if reuse is None else _buffer(reuse, (hi - lo, self.d), self.dtype)
            return self.parts[k].read(lo - s, hi - s, buf)
        out = []
        while lo < hi:
            s, e = int(self.starts[k]), int(self.starts[k + 1])
            top = min(hi, e)
            out.append(self.parts[k].read(lo - s, top - s))
            lo, k = top, k + 1
        return out[0] if len(out) == 1 else np.concatenate(out)

    def take(self, idx: Any) -> np.ndarray:
        """Rows at ``idx`` (any order, repeats allowed), in that order."""
        idx = np.asarray(idx, dtype=np.int64)
        if idx.size and (idx.min() < 0 or idx.max() >= self.n):
            raise InputError(f"{self.name}: row index outside 0..{self.n - 1}")
        uniq, inv = np.unique(idx, return_inverse=True)
        out = np.empty((uniq.size, self.d), dtype=self.dtype)
        part = np.searchsorted(self.starts, uniq, side="right") - 1
        for k in np.unique(part):
            sel = part == k
            out[sel] = self.parts[k].take(uniq[sel] - self.starts[k])
        return out[inv]

    def close(self) -> None:
        """Close open file handles."""
        for p in self.parts:
            p.close()


class PairedSource:
    """Images and texts on disk: two RowStores, row i paired with row i unless ``pairs``."""

    def __init__(self, images: RowStore, texts: RowStore, description: str) -> None:
        if images.d != texts.d:
            raise InputError(
                f"images have dimension {images.d}, texts {texts.d}: need the same R^d"
            )
        self.images, self.texts, self.description = images, texts, description
        self.dim = images.d
        self.dtype = np.result_type(images.dtype, texts.dtype)

    def close(self) -> None:
        """Close open file handles."""
        self.images.close()
        self.texts.close()


def _npy_header(path: Path) -> tuple[tuple[int, ...], np.dtype, int]:
    """(shape, dtype, data offset) of a .npy file, read from its header only."""
    try:
        with open(path, "rb") as f:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
            else:
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
            offset = f.tell()
    except (ValueError, OSError, EOFError) as exc:
        raise InputError(f"{path}: not a readable .npy file ({exc})") from exc
    if fortran and len(shape) > 1:
        raise InputError(f"{path}: Fortran-ordered .npy is not supported for streaming")
    if dtype.kind != "f" or dtype.itemsize not in (2, 4, 8) or dtype.hasobject:
        raise InputError(f"{path}: need float16/32/64 embeddings, got dtype {dtype}")
    if not dtype.isnative:
        raise InputError(f"{path}: non-native byte order {dtype} is not supported")
    need = offset + int(np.prod(shape)) * dtype.itemsize
    if os.path.getsize(path) < need:
        raise InputError(f"{path}: file is shorter than its header says (truncated .npy)")
    return tuple(int(s) for s in shape), dtype, offset


def _npy_parts(path: Path, name: str) -> list[_NpyPart]:
    shape, dtype, off = _npy_header(path)
    if len(shape) != 2:
        raise InputError(f"{name} {path}: expected an (n, d) array, got shape {shape}")
    return [_NpyPart(str(path), off, shape[0], shape[1], dtype)]


def _shard_index(p: Path, prefix: str) -> int:
    tail = p.stem[len(prefix) :]
    if not tail.isdigit():
        raise InputError(f"{p}: shard names must be {prefix}<number>.npy")
    return int(tail)


def _shards(folder: Path) -> PairedSource:
    stores = []
    for sub, prefix, name in (
        ("img_emb", "img_emb_", "images"),
        ("text_emb", "text_emb_", "texts"),
    ):
        files = sorted((folder / sub).glob(f"{prefix}*.npy"), key=lambda p: _shard_index(p, prefix))
        if not files:
            raise InputError(f"{folder}: no {sub}/{prefix}*.npy shards (clip-retrieval layout)")
        idx = [_shard_index(p, prefix) for p in files]
        if len(set(idx)) != len(idx):
            raise InputError(f"{folder}/{sub}: duplicate shard numbers")
        parts = [q for p in files for q in _npy_parts(p, name)]
        stores.append(RowStore(parts, name))
    return PairedSource(*stores, f"clip-retrieval shards in {folder}")


def _is_zarr(path: Path) -> bool:
    return path.suffix == ".zarr" or (
        path.is_dir() and any((path / f).exists() for f in ("zarr.json", ".zarray"))
    )


def _zarr_parts(path: Path, name: str) -> tuple[list[_ZarrPart], list[_ZarrPart] | None]:
    try:
        import zarr
    except ImportError as exc:  # pragma: no cover - optional dependency
        raise InputError(f"{path}: reading zarr needs the zarr package (modgap[scale])") from exc
    try:
        arr = zarr.open_array(str(path), mode="r")
    except Exception as exc:  # zarr raises several types for a non-array path
        raise InputError(f"{name} {path}: not a readable zarr array ({exc})") from exc
    dtype = np.dtype(arr.dtype)
    if dtype.kind != "f":
        raise InputError(f"{name} {path}: need float embeddings, got dtype {dtype}")
    if arr.ndim == 3 and arr.shape[0] == 2:
        n, d = int(arr.shape[1]), int(arr.shape[2])
        return [_ZarrPart(str(path), 0, n, d, dtype)], [_ZarrPart(str(path), 1, n, d, dtype)]
    if arr.ndim == 2:
        return [_ZarrPart(str(path), None, int(arr.shape[0]), int(arr.shape[1]), dtype)], None
    raise InputError(f"{name} {path}: expected shape (2, n, d) or (n, d), got {arr.shape}")


def open_source(path: str | os.PathLike, path2: str | os.PathLike | None = None) -> PairedSource:
    """Open paired embeddings for streaming (module docstring lists the layouts).

    ``path`` alone: a (2, n, d) .npy, a (2, n, d) zarr array, or a clip-retrieval folder;
    ``path`` and ``path2``: images and texts, each an (n, d) .npy or zarr array. Only headers
    are read here; a missing file, a wrong shape or dtype or a truncated file is a ValueError
    (FileNotFoundError when absent) naming the path.
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{p}: not found")
    if path2 is None:
        if p.is_dir() and (p / "img_emb").is_dir():
            return _shards(p)
        if _is_zarr(p):
            a, b = _zarr_parts(p, "FILE")
            if b is None:
                raise InputError(f"{p}: a single zarr array must have shape (2, n, d)")
            return PairedSource(RowStore(a, "images"), RowStore(b, "texts"), f"zarr {p}")
        if p.suffix != ".npy":
            raise InputError(f"{p}: streaming reads .npy, zarr or a clip-retrieval folder")
        shape, dtype, off = _npy_header(p)
        if len(shape) != 3 or shape[0] != 2:
            raise InputError(f"{p}: a single .npy must have shape (2, n, d), got {shape}")
        _, n, d = shape
        slab = n * d * dtype.itemsize
        imgs = RowStore([_NpyPart(str(p), off, n, d, dtype)], "images")
        txts = RowStore([_NpyPart(str(p), off + slab, n, d, dtype)], "texts")
        return PairedSource(imgs, txts, f"{p} (2, n, d)")
    q = Path(path2)
    if not q.exists():
        raise FileNotFoundError(f"{q}: not found")
    if p.resolve() == q.resolve():
        raise InputError(f"FILE and FILE2 are the same file ({p}): give images and texts")
    stores = []
    for z, name in ((p, "images"), (q, "texts")):
        if _is_zarr(z):
            parts, extra = _zarr_parts(z, name)
            if extra is not None:
                raise InputError(f"{name} {z}: expected an (n, d) array, got (2, n, d)")
        elif z.suffix == ".npy":
            parts = _npy_parts(z, name)
        else:
            raise InputError(f"{name} {z}: streaming reads .npy or zarr arrays")
        stores.append(RowStore(parts, name))
    return PairedSource(*stores, f"images {p}, texts {q}")


def is_streamable(path: str | os.PathLike, path2: str | os.PathLike | None = None) -> bool:
    """True for inputs only the streaming engine reads (a folder of shards, zarr)."""
    paths = [Path(path)] + ([Path(path2)] if path2 is not None else [])
    return any(_is_zarr(p) or (p.is_dir() and (p / "img_emb").is_dir()) for p in paths)


# =========================================================================== chunk work


def _unit(Z: np.ndarray, name: str, lo: int) -> np.ndarray:
    """Rows of a chunk divided by their norms, in the working precision (float32 for float16
    and float32 input, float64 otherwise; float32 for scale, float64 for verification).

    Squared norms are row dot products in that precision; a row whose squared norm is not
    finite holds NaN or inf (or entries so large that their squares overflow) and a row of
    norm < 1e-12 is zero: both are errors naming the modality and the row (lo + offset).
    """
    work = np.float32 if Z.dtype in (np.float16, np.float32) else np.float64
    Z = Z.astype(work, copy=False)
    sq = np.einsum("ij,ij->i", Z, Z).astype(np.float64)
    bad = np.flatnonzero(~np.isfinite(sq))
    if bad.size:
        raise InputError(f"{name}: NaN or inf in row {lo + int(bad[0])}")
    norms = np.sqrt(sq)
    zero = np.flatnonzero(norms < 1e-12)
    if zero.size:
        raise InputError(
            f"{name}: zero row at index {lo + int(zero[0])}; a zero vector has no direction"
        )
    Z *= (1.0 / norms).astype(work)[:, None]
    return Z


def _syrk(Z: np.ndarray) -> np.ndarray:
    """Upper triangle of Z^T Z (BLAS syrk in Z's precision), as float64."""
    f = scipy.linalg.blas.ssyrk if Z.dtype == np.float32 else scipy.linalg.blas.dsyrk
    return np.asarray(f(1.0, np.ascontiguousarray(Z).T, trans=0, lower=0), dtype=np.float64)


def _modality_part(Z: np.ndarray, key: str) -> dict[str, Any]:
    """Row sum (float64) and second moment (syrk in Z's precision) of a chunk of unit rows."""
    return {
        f"n_{key}": Z.shape[0],
        f"s_{key}": Z.sum(axis=0, dtype=np.float64),
        f"G_{key}": _syrk(Z),
    }


def _chunk_task(
    src: PairedSource,
    lo: int,
    hi: int,
    pairs_chunk: np.ndarray | None,
    own_images: bool,
    queries: dict[str, Any] | None,
) -> dict[str, Any]:
    """Partial sums of text rows lo..hi-1 with their paired images (module docstring).

    own_images: the image rows lo..hi-1 are the paired rows (one-to-one) and their
    per-modality sums are taken here; otherwise a separate image pass takes them.
    """
    Y = _unit(src.texts.read(lo, hi, reuse="texts"), "texts", lo)
    if pairs_chunk is None:
        X = _unit(src.images.read(lo, hi, reuse="images"), "images", lo)
    else:
        X = _unit(src.images.take(pairs_chunk), "images", 0)
    cos = np.einsum("ij,ij->i", X, Y).astype(np.float64)
    ang = np.arccos(np.clip(cos, -1.0, 1.0))
    out: dict[str, Any] = {
        "pairs": hi - lo,
        "sum_cos": float(cos.sum()),
        "sum_ang": float(ang.sum()),
        "max_ang": float(ang.max()),
        "min_ang": float(ang.min()),
        "s_xp": X.sum(axis=0, dtype=np.float64),
        "sq_xp": float(np.einsum("ij,ij->", X, X)),
        "sq_y": float(np.einsum("ij,ij->", Y, Y)),
    }
    out.update(_modality_part(Y, "y"))
    if own_images:
        out.update(_modality_part(X, "x"))
    if queries is not None:
        out["rank_i2t"] = _i2t_counts(queries, Y, lo)
        if own_images:
            out["rank_t2i"] = _t2i_counts(queries, X, lo)
    # |x - y| last, subtracting in place (X is not needed any more): no new chunk array
    X = X if X.flags.writeable else X.copy()
    np.subtract(X, Y, out=X)
    dist2 = np.einsum("ij,ij->i", X, X).astype(np.float64)
    out["sum_dist"] = float(np.sqrt(dist2).sum())
    out["sum_dist2"] = float(dist2.sum())
    return out


def _i2t_counts(queries: dict[str, Any], Yc: np.ndarray, lo: int) -> np.ndarray:
    """i2t: texts lo.. of this chunk scoring above each image query's best true caption (the
    true captions themselves excluded, so rounding cannot count a caption against itself)."""
    Q = queries["img"]
    S = np.matmul(
        Q, Yc.T, out=_buffer("scores_i2t", (Q.shape[0], Yc.shape[0]), np.result_type(Q, Yc))
    )
    cap = queries["img_caps"] - lo
    hit = (cap >= 0) & (cap < Yc.shape[0])
    S[queries["img_owner"][hit], cap[hit]] = -np.inf
    return np.count_nonzero(S > queries["img_best"][:, None], axis=1).astype(np.int64)


def _t2i_counts(queries: dict[str, Any], Xc: np.ndarray, lo: int) -> np.ndarray:
    """t2i: images lo.. of this chunk scoring above each text query's partner (partner
    excluded)."""
    Q = queries["txt"]
    S = np.matmul(
        Q, Xc.T, out=_buffer("scores_t2i", (Q.shape[0], Xc.shape[0]), np.result_type(Q, Xc))
    )
    own = queries["txt_partner"] - lo
    hit = (own >= 0) & (own < Xc.shape[0])
    rows = np.flatnonzero(hit)
    S[rows, own[hit]] = -np.inf
    return np.count_nonzero(S > queries["txt_score"][:, None], axis=1).astype(np.int64)


def _image_task(
    src: PairedSource, lo: int, hi: int, queries: dict[str, Any] | None
) -> dict[str, Any]:
    """Per-modality partial sums of image rows lo..hi-1 (when texts are paired by index)."""
    X = _unit(src.images.read(lo, hi, reuse="images"), "images", lo)
    out = _modality_part(X, "x")
    if queries is not None:
        out["rank_t2i"] = _t2i_counts(queries, X, lo)
    return out


def _combine(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Merge two partial results: sums add, extremes by max / min."""
    out = dict(a)
    for k, v in b.items():
        if k not in out:
            out[k] = v
        elif k == "max_ang":
            out[k] = max(out[k], v)
        elif k == "min_ang":
            out[k] = min(out[k], v)
        else:
            out[k] = out[k] + v
    return out


# =========================================================================== driver


def _ranges(n: int, chunk: int) -> list[tuple[int, int]]:
    return [(lo, min(lo + chunk, n)) for lo in range(0, n, chunk)]


def _run_tasks(tasks: list[tuple[Any, tuple]], scheduler: str | None, progress: bool) -> Any:
    """Evaluate (func, args) tasks and tree-combine their results, here or on Dask."""
    address = resolve_scheduler(scheduler)
    bar = _progress(len(tasks), "analyze (chunks)", progress)
    try:
        if address is None:

            def results() -> Any:
                for func, args in tasks:
                    out = func(*args)
                    bar.update(1)
                    yield out

            return tree_reduce(results(), _combine)
        from distributed import as_completed

        with client_for(address) as client:
            shared = {}
            futs = []
            for func, args in tasks:
                sargs = []
                for a in args:
                    # big shared arguments (the source, the query sets) go to the cluster once
                    if isinstance(a, (PairedSource, dict)):
                        if id(a) not in shared:
                            shared[id(a)] = client.scatter(a, broadcast=True)
                        a = shared[id(a)]
                    sargs.append(a)
                futs.append(client.submit(func, *sargs, pure=False))
            for _ in as_completed(futs):
                bar.update(1)
            total = tree_reduce(iter(futs), lambda x, y: client.submit(_combine, x, y))
            return total.result()
    finally:
        bar.close()


def _sample_rows(n: int, size: int, rng: np.random.Generator) -> np.ndarray:
    if n <= size:
        return np.arange(n)
    return np.sort(rng.choice(n, size=size, replace=False))


def _queries(
    src: PairedSource, pairs: np.ndarray | None, max_queries: int, seed: int, dtype: np.dtype
) -> dict[str, Any]:
    """The sampled queries of verify.metrics.retrieval_recall's sampled route, with the
    score each must beat (i2t: best true caption; t2i: its image)."""
    from modgap.verify.metrics import sample_queries

    p_idx = np.arange(src.texts.n) if pairs is None else pairs
    img_q, txt_q = sample_queries(p_idx, src.images.n, max_queries, seed)
    out = _queries_for(src, p_idx, img_q, txt_q, dtype)
    out.update(n_img=int(img_q.size), n_txt=int(txt_q.size))
    return out


def _exact_uniformity(store: RowStore, chunk: int, t: float = 2.0) -> float:
    """log mean_{i<j} exp(-t |z_i - z_j|^2) over ALL pairs, block against block (O(n^2 d))."""
    from scipy.special import logsumexp

    n = store.n
    parts = []
    blocks = _ranges(n, chunk)
    for bi, (lo, hi) in enumerate(blocks):
        A = _unit(store.read(lo, hi), store.name, lo)
        for lo2, hi2 in blocks[bi:]:
            B = A if lo2 == lo else _unit(store.read(lo2, hi2), store.name, lo2)
            d2 = np.maximum(2.0 - 2.0 * (A @ B.T), 0.0)
            if lo2 == lo:
                d2 = d2[np.triu_indices(hi - lo, k=1)]
            parts.append(logsumexp(-t * d2))
    return float(logsumexp(parts) - math.log(n * (n - 1) / 2.0))


def _exact_recall(
    src: PairedSource, pairs: np.ndarray | None, chunk: int, dtype: np.dtype, progress: bool
) -> dict[str, dict[str, float]]:
    """Every query against every candidate: query blocks x candidate passes (O(n_x n_y d))."""
    n_img, n_txt = src.images.n, src.texts.n
    p_idx = np.arange(n_txt) if pairs is None else pairs
    blocks_t, blocks_i = _ranges(n_txt, chunk), _ranges(n_img, chunk)
    has = np.zeros(n_img, dtype=bool)
    has[p_idx] = True
    rank_i2t, rank_t2i = [], []
    bar = _progress(len(blocks_i) + len(blocks_t), "retrieval (exact)", progress)
    for lo, hi in blocks_i:  # image queries
        img_q = np.arange(lo, hi)[has[lo:hi]]
        q = _queries_for(src, p_idx, img_q, np.empty(0, dtype=np.int64), dtype)
        r = np.zeros(img_q.size, dtype=np.int64)
        for clo, chi in blocks_t:
            r += _i2t_counts(
                q, _unit(src.texts.read(clo, chi), "texts", clo).astype(dtype, copy=False), clo
            )
        rank_i2t.append(r)
        bar.update(1)
    for lo, hi in blocks_t:  # text queries
        q = _queries_for(src, p_idx, np.empty(0, dtype=np.int64), np.arange(lo, hi), dtype)
        r = np.zeros(hi - lo, dtype=np.int64)
        for clo, chi in blocks_i:
            r += _t2i_counts(
                q, _unit(src.images.read(clo, chi), "images", clo).astype(dtype, copy=False), clo
            )
        rank_t2i.append(r)
        bar.update(1)
    bar.close()
    ri, rt = np.concatenate(rank_i2t), np.concatenate(rank_t2i)
    return {
        "i2t": {str(k): float(np.mean(ri < k)) for k in KS},
        "t2i": {str(k): float(np.mean(rt < k)) for k in KS},
    }


def _queries_for(
    src: PairedSource, p_idx: np.ndarray, img_q: np.ndarray, txt_q: np.ndarray, dtype: np.dtype
) -> dict[str, Any]:
    """Query sets with their thresholds for given image / text query indices."""
    d = src.dim
    Qi = (
        _unit(src.images.take(img_q), "images", 0).astype(dtype, copy=False)
        if img_q.size
        else np.zeros((0, d), dtype)
    )
    best = np.full(img_q.size, -np.inf, dtype=dtype)
    caps = np.flatnonzero(np.isin(p_idx, img_q)) if img_q.size else np.empty(0, np.int64)
    owner = np.searchsorted(img_q, p_idx[caps])
    if img_q.size:
        C = _unit(src.texts.take(caps), "texts", 0).astype(dtype, copy=False)
        np.maximum.at(best, owner, np.einsum("ij,ij->i", Qi[owner], C))
    Qt = (
        _unit(src.texts.take(txt_q), "texts", 0).astype(dtype, copy=False)
        if txt_q.size
        else np.zeros((0, d), dtype)
    )
    partner = p_idx[txt_q]
    P = _unit(src.images.take(partner), "images", 0).astype(dtype, copy=False) if txt_q.size else Qt
    return dict(
        img=Qi,
        img_best=best,
        img_caps=caps,
        img_owner=owner,
        txt=Qt,
        txt_partner=partner,
        txt_score=np.einsum("ij,ij->i", Qt, P),
    )


def stream_analyze(
    source: PairedSource,
    pairs: Any = None,
    *,
    variance: float = 0.99,
    eps: float = 1e-3,
    chunk_rows: int = CHUNK_ROWS,
    max_queries: int | None = STREAM_MAX_QUERIES,
    uniformity_rows: int | None = UNIFORMITY_ROWS,
    separability_rows: int = SEPARABILITY_ROWS,
    seed: int = 0,
    scheduler: str | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """The analyze report of a :class:`PairedSource`, computed in chunked passes.

    Same keys and definitions as verify.analysis.analyze_embeddings (its docstring), plus
    ``engine`` ("in-process" or the scheduler address), ``stream`` (chunk rows, number of
    chunks, seconds, and for each pairwise measure whether it is "sampled" or "exact" and
    over how many rows / queries). ``max_queries=None``: exact retrieval (every query, block
    against block); ``uniformity_rows=None``: exact uniformity over all pairs. Rows are
    L2-normalised here, chunk by chunk. Peak memory: a few chunk-sized arrays (float64
    copies of two chunks, chunk_rows x d x 8 bytes each) plus O(log(n / chunk_rows)) partial
    sums of 2 d^2 float64 and the query sets -- independent of n.
    """
    from modgap.verify import metrics
    from modgap.verify.alignment import principal_basis
    from modgap.verify.analysis import explain
    from modgap.verify.geometry import principal_vectors

    if not isinstance(source, PairedSource):
        raise InputError(f"source must be a PairedSource (open_source), got {type(source)}")
    chunk_rows = check_int_in_range(chunk_rows, "chunk_rows", 16, 1 << 24)
    separability_rows = check_int_in_range(separability_rows, "separability_rows", 4, 1 << 30)
    if max_queries is not None:
        max_queries = check_int_in_range(max_queries, "max_queries", 1, 1 << 40)
    if uniformity_rows is not None:
        uniformity_rows = check_int_in_range(uniformity_rows, "uniformity_rows", 2, 1 << 40)
    check_positive(eps, "eps")
    if not 0 < float(variance) <= 1:
        raise InputError(f"variance must lie in (0, 1], got {variance}")
    t0 = time.perf_counter()
    n_x, n_y, d = source.images.n, source.texts.n, source.dim
    if min(n_x, n_y) < 3:
        raise InputError(f"need at least 3 rows per modality, got {n_x} images, {n_y} texts")
    if pairs is None:
        if n_x != n_y:
            raise InputError(f"{n_x} image rows but {n_y} text rows: give a pair index")
    else:
        p = np.asarray(pairs)
        if p.dtype == np.bool_ or not np.issubdtype(p.dtype, np.integer):
            raise InputError(f"pairs must be an array of integers, got dtype {p.dtype}")
        if p.shape != (n_y,):
            raise InputError(f"pairs must have shape ({n_y},) (one image per text), got {p.shape}")
        if p.min() < 0 or p.max() >= n_x:
            raise InputError(f"pairs must index image rows, i.e. lie in [0, {n_x - 1}]")
        pairs = p.astype(np.int64)
    dtype = source.dtype if source.dtype == np.float32 else np.dtype(np.float64)
    exact_retrieval = max_queries is None or max(n_x, n_y) <= max_queries
    queries = None if exact_retrieval else _queries(source, pairs, max_queries, seed, dtype)

    own = pairs is None
    tasks: list[tuple[Any, tuple]] = []
    for lo, hi in _ranges(n_y, chunk_rows):
        pc = None if own else pairs[lo:hi]
        tasks.append((_chunk_task, (source, lo, hi, pc, own, queries)))
    if not own:
        tasks += [(_image_task, (source, lo, hi, queries)) for lo, hi in _ranges(n_x, chunk_rows)]
    acc = _run_tasks(tasks, scheduler, progress)
    t_pass = time.perf_counter()

    notes: list[str] = []
    rep: dict[str, Any] = {"n_images": int(n_x), "n_texts": int(n_y), "dim": int(d)}
    mx, my = acc["s_x"] / n_x, acc["s_y"] / n_y
    n = acc["pairs"]
    rep["gap"] = observables_from_sums(
        mx,
        my,
        n_x,
        n_y,
        n_pairs=n,
        sum_cos=acc["sum_cos"],
        sum_angle=acc["sum_ang"],
        min_angle=acc["min_ang"],
        max_angle=acc["max_ang"],
        sum_distance=acc["sum_dist"],
        source="sample",
    ).to_dict()
    rep["alignment"] = acc["sum_dist2"] / n
    # relative modality gap on the paired rows (metrics.relative_modality_gap's closed form)
    d_m = (1.0 - acc["sum_cos"] / n) / 2.0

    def within(s: np.ndarray, sq: float) -> float:
        return (1.0 - (float(s @ s) - sq) / (n * (n - 1))) / 2.0

    denom = d_m + (within(acc["s_xp"], acc["sq_xp"]) + within(acc["s_y"], acc["sq_y"])) / 2.0
    rep["relative_modality_gap"] = None if denom <= 1e-15 else float(d_m / denom)
    if pairs is not None:
        notes.append(
            "relative modality gap: image rows repeated per caption enter d_I as pairs at "
            "distance 0 (Schrodi et al. define it on one-to-one pairs)"
        )

    stream: dict[str, Any] = {"chunk_rows": chunk_rows, "n_chunks": len(tasks)}
    # uniformity: the same seeded subset as verify.metrics.uniformity, or exact
    for key, store in (("x", source.images), ("y", source.texts)):
        if uniformity_rows is None:
            rep[f"uniformity_{key}"] = _exact_uniformity(store, chunk_rows)
            stream[f"uniformity_{key}"] = {"mode": "exact", "rows": store.n}
        else:
            idx = _sample_rows(store.n, uniformity_rows, np.random.default_rng(seed))
            Z = _unit(store.take(idx), store.name, 0)
            rep[f"uniformity_{key}"] = metrics.uniformity(Z, max_samples=max(2, Z.shape[0]))
            stream[f"uniformity_{key}"] = {
                "mode": "sampled" if idx.size < store.n else "exact",
                "rows": int(idx.size),
            }
    if uniformity_rows is not None and max(n_x, n_y) > uniformity_rows:
        notes.append(
            f"uniformity: mean over the pairs of a seeded random subset of {uniformity_rows} rows"
        )
    t_uni = time.perf_counter()
    # linear separability: the same seeded subsets as verify.analysis
    rng = np.random.default_rng(seed)
    Xs = _unit(source.images.take(_sample_rows(n_x, separability_rows, rng)), "images", 0)
    Ys = _unit(source.texts.take(_sample_rows(n_y, separability_rows, rng)), "texts", 0)
    rep["linear_separability"] = metrics.linear_separability(Xs, Ys, seed=seed)
    stream["linear_separability"] = {
        "mode": "sampled" if max(n_x, n_y) > separability_rows else "exact",
        "rows_per_modality": [int(Xs.shape[0]), int(Ys.shape[0])],
    }
    if max(n_x, n_y) > separability_rows:
        notes.append(
            f"linear separability: logistic regression on a seeded random subset of "
            f"{separability_rows} rows per modality (30% of them held out)"
        )
    del Xs, Ys
    t_sep = time.perf_counter()

    # spectra, subspaces, principal angles, SSP d_overlap from the d x d second moments
    rep["spectral_route"] = "d x d second-moment matrices (eigh), streamed in chunks"
    bases = {}
    for key, m, cnt in (("x", mx, n_x), ("y", my, n_y)):
        U = acc[f"G_{key}"]
        G = np.triu(U) + np.triu(U, 1).T
        Gc = G - cnt * np.outer(m, m)
        basis, lam = principal_basis(gram=0.5 * (Gc + Gc.T), variance=variance)
        rep[f"effective_dimension_{key}"] = int(basis.shape[1])
        rep[f"singular_values_{key}"] = (lam / cnt).tolist()
        bases[key], _ = principal_basis(gram=G, variance=variance)
        rep[f"principal_subspace_dim_{key}"] = int(bases[key].shape[1])
    theta, _, _ = principal_vectors(bases["x"], bases["y"])
    cosines = np.cos(theta)
    d_overlap = int(np.count_nonzero(cosines > 1.0 - eps))
    rep["principal_angles_deg"] = [float(t) for t in np.degrees(np.sort(theta))]
    rep["d_overlap"] = d_overlap
    rep["ssp_largest_cosine"] = float(cosines[0])
    rep["variance"], rep["eps"] = float(variance), float(eps)
    angles = rep["principal_angles_deg"]
    rep["smallest_principal_angle_deg"] = angles[0]
    # undefined (None) when every direction is shared: no angle lies outside C
    rep["predicted_gap_deg"] = angles[d_overlap] if d_overlap < len(angles) else None
    theta = rep["gap"]["centre_angle"]
    rep["measured_gap_deg"] = None if theta is None else float(np.degrees(theta))

    # retrieval
    if exact_retrieval:
        rep["recall"] = _exact_recall(source, pairs, chunk_rows, dtype, progress)
        stream["retrieval"] = {"mode": "exact", "queries": [int(n_x), int(n_y)]}
    else:
        ri, rt = acc["rank_i2t"], acc["rank_t2i"]
        rep["recall"] = {
            "i2t": {str(k): float(np.mean(ri < k)) for k in KS},
            "t2i": {str(k): float(np.mean(rt < k)) for k in KS},
        }
        stream["retrieval"] = {"mode": "sampled", "queries": [queries["n_img"], queries["n_txt"]]}
        notes.append(
            f"retrieval: a seeded sample of {max_queries} queries per direction, each scored "
            f"against all candidates (standard error <= 0.5 / sqrt({max_queries}) = "
            f"{0.5 / np.sqrt(max_queries):.4f}); --max-queries 0 scores every query"
        )
    rep["notes"] = notes
    rep["verdict"] = explain(rep)
    address = resolve_scheduler(scheduler)
    rep["engine"] = "in-process" if address is None else f"dask.distributed {address}"
    stream["seconds"] = time.perf_counter() - t0
    stream["seconds_by_step"] = {
        "queries_and_pass": t_pass - t0,
        "uniformity": t_uni - t_pass,
        "separability": t_sep - t_uni,
        "spectra_and_retrieval_finish": time.perf_counter() - t_sep,
    }
    rep["stream"] = stream
    return rep
