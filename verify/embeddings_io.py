"""Reading users' paired embeddings from disk, with errors that name the file.

Formats (chosen by the file's suffix):

- ``.npy``: one array. Either a 2-D matrix (one modality; a second file holds the other)
  or a 3-D array of shape (2, n, d), [0] = images, [1] = texts, row i of one paired with
  row i of the other (the layout of Liang et al. 2022, "Mind the Gap", Figure 1 data).
- ``.npz``: a single array (as for ``.npy``), or several arrays with obvious names for the
  two modalities (``x``/``y``, ``image``/``text``, ``image_embeds``/``text_embeds``, ...,
  see :data:`MODALITY_KEYS`), optionally with a ``pairs`` index. Anything else is an error
  that lists the keys present.
- ``.pt``: a torch tensor, a (2, n, d) tensor, a tuple/list of two tensors, or a dict with
  the same obvious keys as ``.npz``; loaded with ``torch.load(weights_only=True)`` (no
  arbitrary code runs on load).
- ``.csv``: a 2-D matrix of numbers, comma separated, one row per sample; one modality
  per file. UTF-8 with or without a byte-order mark. The first line is a header when it
  holds a non-number, or the column numbers ``0,1,...,k-1`` pandas writes for an unnamed
  DataFrame (a leading empty name marks pandas' index column, dropped too); the loader
  says so in ``PairedEmbeddings.notes``.

A pair index (``pairs``) maps each text row j to its image row ``pairs[j]`` (e.g. five
captions per image: 5 n text rows, n image rows). Without one, row i of the images is
paired with row i of the texts and both need the same number of rows.

Matrices are returned as float32 (the usual storage precision of embeddings; metrics
accumulate in float64 where it matters) unless the file holds float64, which is kept.
Rows are NOT normalised here: callers normalise explicitly.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ._validation import InputError, check_indices

__all__ = [
    "SUPPORTED_SUFFIXES",
    "MODALITY_KEYS",
    "PairedEmbeddings",
    "load_array",
    "load_pairs",
    "load_paired_embeddings",
]

SUPPORTED_SUFFIXES: tuple[str, ...] = (".npy", ".npz", ".pt", ".csv")

#: Key pairs recognised for (image, text) inside an .npz archive or a .pt dict, in order.
MODALITY_KEYS: tuple[tuple[str, str], ...] = (
    ("x", "y"),
    ("X", "Y"),
    ("image", "text"),
    ("images", "texts"),
    ("img", "txt"),
    ("image_embeds", "text_embeds"),
    ("image_features", "text_features"),
    ("image_embeddings", "text_embeddings"),
)

#: Keys recognised for a pair index stored next to the two modalities.
PAIRS_KEYS: tuple[str, ...] = ("pairs", "pair_index", "text_to_image")


@dataclass(frozen=True)
class PairedEmbeddings:
    """Two embedding matrices and how their rows pair.

    ``images``: (n_x, d); ``texts``: (n_y, d); ``pairs``: None (row i with row i, n_x = n_y)
    or an int array of length n_y with text row j paired with image row ``pairs[j]``.
    ``sources`` names where each came from (for messages and reports); ``notes`` says what
    the reader skipped or converted (e.g. a CSV header line), for the output.
    """

    images: np.ndarray
    texts: np.ndarray
    pairs: np.ndarray | None = None
    sources: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def dim(self) -> int:
        """Ambient dimension d."""
        return int(self.images.shape[1])

    def paired_images(self) -> np.ndarray:
        """Image rows aligned with the text rows: ``images[pairs]`` (or ``images``)."""
        return self.images if self.pairs is None else self.images[self.pairs]


# ---------------------------------------------------------------------------------------
# Raw loading


def _check_readable(path: Path, what: str) -> None:
    if not path.exists():
        raise FileNotFoundError(f"{what} {path}: file not found")
    if not path.is_file():
        raise InputError(f"{what} {path}: not a regular file")
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise InputError(
            f"{what} {path}: unsupported suffix {path.suffix!r}; "
            f"use one of {', '.join(SUPPORTED_SUFFIXES)}"
        )
    if path.stat().st_size == 0:
        raise InputError(f"{what} {path}: has zero rows (an empty file, 0 bytes)")


def _tensor_to_numpy(value: Any) -> Any:
    """A torch tensor as a numpy array; dtypes numpy lacks (bfloat16, float8) via float32."""
    if hasattr(value, "detach") and hasattr(value, "cpu") and hasattr(value, "numpy"):
        t = value.detach().cpu()
        if t.is_floating_point() and str(t.dtype) not in (
            "torch.float16",
            "torch.float32",
            "torch.float64",
        ):
            t = t.float()  # bfloat16 and float8 hold no more than float32 represents
        return t.numpy()
    return value


class _LazyArchive(Mapping):
    """The arrays of an ``.npz`` archive, each read from disk only when it is looked up
    (so an unused large key costs nothing); errors name the file and the key."""

    def __init__(self, path: Path, what: str) -> None:
        self.path, self.what = path, what
        try:
            with np.load(path, allow_pickle=False) as archive:
                self._keys = list(archive.files)
        except Exception as exc:  # zipfile.BadZipFile, ValueError, OSError, EOFError
            raise InputError(f"{what} {path}: does not parse as .npz ({exc})") from exc

    def __getitem__(self, key: str) -> np.ndarray:
        if key not in self._keys:
            raise KeyError(key)
        try:
            with np.load(self.path, allow_pickle=False) as archive:
                return archive[key]
        except Exception as exc:  # a corrupt member, a pickled (object) array, ...
            raise InputError(
                f"{self.what} {self.path} [{key}]: does not parse as an array ({exc})"
            ) from exc

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)


def _csv_header(tokens: list[str], *, numeric_header: bool) -> str | None:
    """Why the first CSV line is a header (None: it is data).

    Header when a token is not a number (``"dim_0"``, ``"a"``), or, with
    ``numeric_header``, when the tokens are the column names pandas writes for an unnamed
    DataFrame: the integers ``0, 1, ..., k-1`` (or ``1, ..., k``), k >= 2, without decimal
    points; a leading empty token is pandas' index column (``DataFrame.to_csv()`` default).
    """
    if not tokens:
        return None
    try:
        [float(t) for t in tokens if t]
    except ValueError:
        return "a non-numeric header line"
    if not numeric_header or len(tokens) < 2:
        return None
    body = tokens[1:] if tokens[0] == "" else tokens
    if len(body) >= 2 and all(t.lstrip("+").isdigit() for t in body):
        ints = [int(t) for t in body]
        if ints in (list(range(len(ints))), list(range(1, len(ints) + 1))):
            return "a header of column numbers (as pandas writes)"
    if tokens[0] == "" and len(body) >= 1:
        return "a header with an empty first name (a pandas index column)"
    return None


def _read_csv(
    path: Path, what: str, *, numeric_header: bool = True, notes: list[str] | None = None
) -> np.ndarray:
    """A numeric CSV matrix (UTF-8, a byte-order mark allowed); header rule: :func:`_csv_header`.

    When the header marks a pandas index column (empty first name), that column is dropped
    too. What was skipped is appended to ``notes``.
    """
    try:
        with open(path, encoding="utf-8-sig") as fh:
            first = fh.readline()
    except UnicodeDecodeError as exc:
        raise InputError(f"{what} {path}: not a UTF-8 text CSV file ({exc})") from exc
    if not first.strip():
        raise InputError(f"{what} {path}: has zero rows (empty first line)")
    tokens = [t.strip().strip('"').strip("'") for t in first.strip().split(",")]
    reason = _csv_header(tokens, numeric_header=numeric_header)
    usecols = None
    if reason is not None and tokens[0] == "":
        usecols = range(1, len(tokens))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "input contained no data"
            arr = np.loadtxt(
                path,
                delimiter=",",
                skiprows=0 if reason is None else 1,
                dtype=np.float64,
                ndmin=2,
                encoding="utf-8-sig",
                usecols=usecols,
            )
    except (ValueError, IndexError) as exc:
        raise InputError(f"{what} {path}: does not parse as a numeric CSV ({exc})") from exc
    if reason is not None and notes is not None:
        extra = " and its first column (the row index)" if usecols is not None else ""
        notes.append(f"{what} {path}: skipped the first line, {reason}{extra}")
    return arr


def _check_npy_size(path: Path, what: str) -> None:
    """A truncated ``.npy`` (its header promises more bytes than the file holds) is an
    error before numpy allocates the promised array (which may be terabytes)."""
    try:
        with open(path, "rb") as fh:
            version = np.lib.format.read_magic(fh)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(fh)
            elif version == (2, 0):
                shape, _, dtype = np.lib.format.read_array_header_2_0(fh)
            else:
                return  # let np.load report other versions
            offset = fh.tell()
    except (ValueError, OSError, EOFError) as exc:
        raise InputError(f"{what} {path}: does not parse as .npy ({exc})") from exc
    if dtype.hasobject:
        return  # np.load refuses it with a clear message
    need = offset + int(np.prod(shape, dtype=object)) * dtype.itemsize
    have = path.stat().st_size
    if have < need:
        raise InputError(
            f"{what} {path}: truncated .npy: its header says shape {shape} of {dtype} "
            f"({need} bytes), but the file holds {have} bytes"
        )


def _read_raw(path: Path, what: str, notes: list[str] | None = None, **csv: Any) -> Any:
    """The object stored in the file: an ndarray, or a mapping/sequence of them (an
    ``.npz`` archive as a lazy mapping: arrays are read when looked up)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _read_csv(path, what, notes=notes, **csv)
    if suffix == ".npy":
        _check_npy_size(path, what)
        try:
            return np.load(path, allow_pickle=False)
        except (ValueError, OSError, EOFError) as exc:
            raise InputError(f"{what} {path}: does not parse as .npy ({exc})") from exc
    if suffix == ".npz":
        return _LazyArchive(path, what)
    # .pt
    import torch

    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types (UnpicklingError, RuntimeError, ...)
        raise InputError(
            f"{what} {path}: does not load with torch.load(weights_only=True) "
            f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})"
        ) from exc
    try:
        if isinstance(obj, Mapping):
            return {str(k): _tensor_to_numpy(v) for k, v in obj.items()}
        if isinstance(obj, (tuple, list)):
            return [_tensor_to_numpy(v) for v in obj]
        obj = _tensor_to_numpy(obj)
    except (TypeError, RuntimeError) as exc:  # a tensor numpy cannot represent
        raise InputError(f"{what} {path}: holds a tensor numpy cannot read ({exc})") from exc
    if not isinstance(obj, np.ndarray):
        raise InputError(
            f"{what} {path}: holds a {type(obj).__name__}, not a tensor or array "
            "(expected a tensor, a (2, n, d) tensor, two tensors, or a dict of tensors)"
        )
    return obj


def _as_float_matrix(value: Any, label: str, *, ndim: tuple[int, ...] = (2,)) -> np.ndarray:
    """A finite float32/float64 array whose ndim is in ``ndim``; the message names ``label``."""
    value = _tensor_to_numpy(value)
    if not isinstance(value, np.ndarray):
        raise InputError(f"{label}: holds a {type(value).__name__}, not a numeric array")
    if value.dtype == object or not (
        np.issubdtype(value.dtype, np.number) or np.issubdtype(value.dtype, np.bool_)
    ):
        raise InputError(f"{label}: must hold real numbers, got dtype {value.dtype}")
    if np.iscomplexobj(value):
        raise InputError(f"{label}: must be real, got dtype {value.dtype}")
    if value.ndim not in ndim:
        want = " or ".join(f"{k}-D" for k in ndim)
        raise InputError(f"{label}: must be {want}, got shape {value.shape}")
    dtype = np.float64 if value.dtype == np.float64 else np.float32
    arr = np.ascontiguousarray(value, dtype=dtype)
    if arr.size == 0 or arr.shape[-2] == 0:
        raise InputError(f"{label}: has zero rows (shape {arr.shape})")
    if arr.shape[-1] == 0:
        raise InputError(f"{label}: has zero columns (shape {arr.shape})")
    finite = np.isfinite(arr)
    if not finite.all():
        bad = int(arr.size - np.count_nonzero(finite))
        first = np.unravel_index(int(np.argmin(finite)), arr.shape)
        raise InputError(
            f"{label}: contains {bad} NaN or infinite value(s) (first at index "
            f"{tuple(int(i) for i in first)})"
        )
    return arr


def load_array(
    path: str | os.PathLike, what: str = "file", *, notes: list[str] | None = None
) -> np.ndarray:
    """The single numeric array stored in ``path`` (2-D or 3-D), validated.

    For an ``.npz`` or a ``.pt`` dict the file must hold exactly one array; a file with
    several arrays is an error listing its keys. ``what`` names the argument in messages;
    what the reader skipped (a CSV header) is appended to ``notes``.
    """
    path = Path(path)
    _check_readable(path, what)
    raw = _read_raw(path, what, notes)
    if isinstance(raw, Mapping):
        if len(raw) != 1:
            raise InputError(
                f"{what} {path}: holds {len(raw)} arrays (keys: {sorted(raw)}); expected one"
            )
        ((key, raw),) = raw.items()
        return _as_float_matrix(raw, f"{what} {path} [{key}]", ndim=(2, 3))
    if isinstance(raw, list):
        raise InputError(f"{what} {path}: holds a sequence of {len(raw)} items; expected one")
    return _as_float_matrix(raw, f"{what} {path}", ndim=(2, 3))


def _split_stack(
    arr: np.ndarray, label: str, second: str | None = "FILE2"
) -> tuple[np.ndarray, np.ndarray]:
    if arr.ndim != 3 or arr.shape[0] != 2:
        hint = f"; otherwise give the second modality as {second}" if second else ""
        raise InputError(
            f"{label}: a single file must hold both modalities as an array of shape "
            f"(2, n, d), got shape {arr.shape}{hint}"
        )
    return arr[0], arr[1]


def _pick_modalities(
    raw: Mapping[str, Any] | list, label: str, path: Path, second: str | None = "FILE2"
) -> tuple[np.ndarray, np.ndarray, Any | None, dict[str, str]]:
    """(images, texts, pairs or None, sources) from a mapping/sequence of arrays."""
    if isinstance(raw, list):
        if len(raw) == 1:
            x, y = _split_stack(_as_float_matrix(raw[0], f"{label} [0]", ndim=(3,)), label, second)
            return x, y, None, {"images": f"{path} [0][0]", "texts": f"{path} [0][1]"}
        if len(raw) != 2:
            raise InputError(f"{label}: holds a sequence of {len(raw)} items; expected 2")
        return (
            _as_float_matrix(raw[0], f"{label} [0]"),
            _as_float_matrix(raw[1], f"{label} [1]"),
            None,
            {"images": f"{path} [0]", "texts": f"{path} [1]"},
        )
    keys = list(raw)
    pairs_key = next((k for k in PAIRS_KEYS if k in raw), None)
    pairs = None if pairs_key is None else raw[pairs_key]
    for kx, ky in MODALITY_KEYS:
        if kx in raw and ky in raw:
            return (
                _as_float_matrix(raw[kx], f"{label} [{kx}]"),
                _as_float_matrix(raw[ky], f"{label} [{ky}]"),
                pairs,
                {"images": f"{path} [{kx}]", "texts": f"{path} [{ky}]"},
            )
    data_keys = [k for k in keys if k != pairs_key]
    if len(data_keys) == 1:
        k = data_keys[0]
        x, y = _split_stack(_as_float_matrix(raw[k], f"{label} [{k}]", ndim=(3,)), label, second)
        return x, y, pairs, {"images": f"{path} [{k}][0]", "texts": f"{path} [{k}][1]"}
    known = ", ".join(f"{a}/{b}" for a, b in MODALITY_KEYS)
    raise InputError(
        f"{label}: holds {len(keys)} arrays with keys {sorted(keys)} and no obvious pair of "
        f"image/text keys (recognised: {known}); save one (2, n, d) array, or the two "
        "modalities under one of those key pairs"
    )


# ---------------------------------------------------------------------------------------
# Pair index


def _validate_pairs(value: Any, label: str, n_images: int, n_texts: int) -> np.ndarray:
    value = _tensor_to_numpy(value)
    if not isinstance(value, np.ndarray):
        raise InputError(f"{label}: holds a {type(value).__name__}, not an integer array")
    arr = value
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.reshape(-1)
    if arr.ndim != 1:
        raise InputError(f"{label}: must be 1-D (one image index per text row), got {arr.shape}")
    if arr.size == 0:
        raise InputError(f"{label}: is empty")
    if np.issubdtype(arr.dtype, np.floating):
        if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
            raise InputError(f"{label}: must hold integer row indices, got non-integer values")
        arr = arr.astype(np.int64)
    elif not np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.bool_):
        raise InputError(f"{label}: must hold integer row indices, got dtype {arr.dtype}")
    arr = arr.astype(np.int64, copy=False)
    if arr.size != n_texts:
        raise InputError(
            f"{label}: has length {arr.size}, but there are {n_texts} text rows "
            "(one image index per text row is needed)"
        )
    check_indices(arr, n_images, label, "image rows", "pairs")
    return arr


def load_pairs(path: str | os.PathLike, n_images: int, n_texts: int) -> np.ndarray:
    """Pair index from a file: int array p of length n_texts, 0 <= p[j] < n_images.

    Text row j is paired with image row p[j]. Accepts .npy/.npz/.pt (one integer array)
    or .csv/.txt (one integer per line, or comma separated).
    """
    path = Path(path)
    what = "pairs file"
    if path.suffix.lower() == ".txt":
        if not path.is_file():
            raise FileNotFoundError(f"{what} {path}: file not found")
        try:
            raw = np.loadtxt(path, delimiter=",", dtype=np.float64, ndmin=1, encoding="utf-8-sig")
        except (ValueError, UnicodeDecodeError) as exc:
            raise InputError(f"{what} {path}: does not parse ({exc})") from exc
        return _validate_pairs(raw, f"{what} {path}", n_images, n_texts)
    _check_readable(path, what)
    raw = _read_raw(path, what, numeric_header=False)
    if isinstance(raw, Mapping):
        key = next((k for k in PAIRS_KEYS if k in raw), None)
        if key is None:
            if len(raw) != 1:
                raise InputError(
                    f"{what} {path}: holds {len(raw)} arrays (keys: {sorted(raw)}); "
                    f"expected one, or one named {' or '.join(PAIRS_KEYS)}"
                )
            key = next(iter(raw))
        raw = raw[key]
    elif isinstance(raw, list):
        raise InputError(f"{what} {path}: holds a sequence; expected one integer array")
    return _validate_pairs(raw, f"{what} {path}", n_images, n_texts)


# ---------------------------------------------------------------------------------------
# The public loader


def load_paired_embeddings(
    file: str | os.PathLike,
    file2: str | os.PathLike | None = None,
    *,
    pairs: str | os.PathLike | None = None,
    min_rows: int = 3,
    names: tuple[str, str | None] = ("FILE", "FILE2"),
) -> PairedEmbeddings:
    """Load images and texts from one file (both modalities) or two (images, texts).
    ``names``: how messages name the two file arguments (the caller's option names; a
    second name None when the caller takes one file only).

    Checks, each with a message naming the file: it exists and parses; each modality is a
    finite 2-D matrix with at least ``min_rows`` rows; both have the same dimension d;
    rows pair one to one (same row count) unless a pair index is given (``pairs`` file,
    or a ``pairs`` array inside an .npz/.pt), which must have one in-range image index
    per text row. Returns float32 matrices (float64 if stored so), unnormalised.
    """
    if min_rows < 1:
        raise InputError(f"min_rows must be >= 1, got {min_rows}")
    first, second = names
    p1 = Path(file)
    _check_readable(p1, first)
    embedded_pairs = None
    notes: list[str] = []
    if file2 is None:
        raw1 = _read_raw(p1, first, notes)
        label = f"{first} {p1}"
        if isinstance(raw1, (Mapping, list)):
            X, Y, embedded_pairs, sources = _pick_modalities(raw1, label, p1, second)
        else:
            X, Y = _split_stack(_as_float_matrix(raw1, label, ndim=(2, 3)), label, second)
            sources = {"images": f"{p1} [0]", "texts": f"{p1} [1]"}
        labels = (f"{first} {p1} (images)", f"{first} {p1} (texts)")
    else:
        second = second or "FILE2"
        p2 = Path(file2)
        _check_readable(p2, second)
        X = load_array(p1, first, notes=notes)
        Y = load_array(p2, second, notes=notes)
        for arr, lab in ((X, f"{first} {p1}"), (Y, f"{second} {p2}")):
            if arr.ndim != 2:
                raise InputError(
                    f"{lab}: with two files each must hold one 2-D matrix (n, d), "
                    f"got shape {arr.shape}"
                )
        sources = {"images": str(p1), "texts": str(p2)}
        labels = (f"{first} {p1}", f"{second} {p2}")
    for arr, lab in zip((X, Y), labels, strict=True):
        if arr.shape[0] < min_rows:
            raise InputError(f"{lab}: needs at least {min_rows} rows, got {arr.shape[0]}")
    if X.shape[1] != Y.shape[1]:
        raise InputError(
            f"shape mismatch: {labels[0]} has dimension {X.shape[1]}, {labels[1]} has "
            f"dimension {Y.shape[1]}; both modalities must live in the same space R^d"
        )
    pair_index = None
    if pairs is not None:
        pair_index = load_pairs(pairs, X.shape[0], Y.shape[0])
        sources["pairs"] = str(pairs)
    elif embedded_pairs is not None:
        pair_index = _validate_pairs(embedded_pairs, f"{labels[0]} [pairs]", X.shape[0], Y.shape[0])
        sources["pairs"] = f"{p1} [pairs]"
    elif X.shape[0] != Y.shape[0]:
        raise InputError(
            f"shape mismatch: {labels[0]} has {X.shape[0]} rows, {labels[1]} has {Y.shape[0]}; "
            "paired rows need equal counts, or give --pairs (text row j -> image row pairs[j])"
        )
    if pair_index is not None and np.array_equal(pair_index, np.arange(X.shape[0])):
        pair_index = None  # the identity: plain one-to-one pairing
    return PairedEmbeddings(images=X, texts=Y, pairs=pair_index, sources=sources, notes=notes)
