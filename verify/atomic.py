"""Atomic file output: write to a temporary name in the target folder, fsync, then rename.

An interrupted run therefore never leaves a half-written file behind (os.replace is atomic
on POSIX and Windows when source and target are on the same filesystem), and a machine
crash right after the rename cannot leave an empty target (the data are fsync'ed first).
This is the project's one file writer: every command and the pipeline write through it.

Temporary names are ``.NAME.PID-RANDOMSUFFIX``; a run killed outright (SIGKILL, power loss)
leaves one behind, and :func:`clean_stale_temps` removes those whose process is gone.
Output paths given by a user are checked up front by :func:`check_output_path` /
:func:`check_output_dir` (before any work), with errors naming the argument.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from glob import escape as glob_escape
from pathlib import Path
from typing import Any

from ._validation import InputError

__all__ = [
    "atomic_path",
    "write_text",
    "write_json",
    "check_output_path",
    "check_output_dir",
    "clean_stale_temps",
]


def _read_umask() -> int:
    """The process umask, read without changing it (``/proc/self/status``, Linux >= 4.7).

    Elsewhere it is read once here, at import, with the usual ``os.umask`` pair; that pair
    briefly sets the umask, which is why it is never done per write (it races with threads
    creating files).
    """
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _read_umask()
_TEMP_RE = re.compile(r"^\..+\.(\d+)-[A-Za-z0-9_]{8}(\.[^/]*)?$")


def _fsync_path(path: Path, *, directory: bool = False) -> None:
    flags = os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        if directory:  # some filesystems do not open folders; the rename still happened
            return
        raise
    try:
        os.fsync(fd)
    except OSError:
        if not directory:
            raise
    finally:
        os.close(fd)


@contextmanager
def atomic_path(target: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; on success fsync it and rename it onto
    ``target`` (file mode 0666 & ~umask, as a plain ``open()`` would give).

    On an exception the temporary file is removed and ``target`` is left untouched; the
    temporary files of this target left by a killed earlier writer are removed first.
    ``suffix`` (default: the target's own suffix) keeps writers that infer the format from
    the extension (matplotlib, numpy) working. Errors creating the temporary file name the
    target, not the temporary name.
    """
    target = Path(target)
    if target.is_dir():
        raise InputError(f"{target}: is a directory, not a file to write")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        clean_stale_temps(target.parent, recursive=False, name=target.name)
        fd, tmp = tempfile.mkstemp(
            prefix=f".{target.name}.{os.getpid()}-",
            suffix=target.suffix if suffix is None else suffix,
            dir=target.parent,
        )
    except OSError as exc:
        raise type(exc)(exc.errno, f"cannot write {target}: {exc.strerror}") from exc
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the usual mode
        _fsync_path(tmp_path)
        os.replace(tmp_path, target)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    _fsync_path(target.parent, directory=True)


def write_text(target: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``target`` atomically (UTF-8)."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(target)


def write_json(target: str | os.PathLike, obj: Any, default: Callable | None = None) -> Path:
    """Write ``obj`` as indented JSON to ``target`` atomically (NaN is not allowed)."""
    text = json.dumps(obj, indent=2, allow_nan=False, default=default) + "\n"
    return write_text(target, text)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # exists but not ours, or unknowable: keep the file
    return True


def clean_stale_temps(
    folder: str | os.PathLike, *, recursive: bool = True, name: str | None = None
) -> list[Path]:
    """Remove temporary files of :func:`atomic_path` whose writing process no longer exists.

    Matches ``.NAME.PID-XXXXXXXX[.suffix]`` (the pattern :func:`atomic_path` creates); a
    file whose PID is alive (a writer still at work, or a reused PID) is kept. Returns the
    removed paths. With ``name``, only temporary files of that target name are considered.
    A missing folder removes nothing.
    """
    root = Path(folder)
    if not root.is_dir():
        return []
    removed = []
    pattern = ".*" if name is None else f".{glob_escape(name)}.*"
    for path in root.rglob(pattern) if recursive else root.glob(pattern):
        m = _TEMP_RE.match(path.name)
        if not m or not path.is_file() or path.is_symlink():
            continue
        if int(m.group(1)) == os.getpid() or _pid_alive(int(m.group(1))):
            continue
        try:
            path.unlink()
        except OSError:
            continue
        removed.append(path)
    return removed


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.resolve() == b.resolve():
            return True
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def check_output_path(
    path: str | os.PathLike,
    argument: str,
    *,
    inputs: Iterable[str | os.PathLike | None] | Mapping[str | os.PathLike, str] = (),
    suffixes: Iterable[str] | None = None,
) -> Path:
    """Check, before any work, that ``path`` can be written as a file; return it as a Path.

    Raises :class:`InputError` naming ``argument`` when the path is empty, is an existing
    directory, is the same file as one of ``inputs`` (by resolved path or by inode, so
    ``dir/../dir/file`` and hard links count: writing the output must never destroy an
    input; a mapping {path: argument name} lets the message name the input's argument), has
    a suffix outside ``suffixes`` (if given: e.g. (".json",) for a JSON result, so that a
    mistyped name never overwrites a data file with JSON), lies in a folder that does not
    exist, is not a folder or is not writable, or when an existing file there is not
    writable.
    """
    if path is None or str(path) == "":
        raise InputError(f"{argument}: an output path is required (got an empty string)")
    p = Path(path)
    if p.is_dir():
        raise InputError(f"{argument} {p}: is a directory; give a file name")
    names = inputs if isinstance(inputs, Mapping) else {src: None for src in inputs}
    for src, name in names.items():
        if src is not None and _same_file(p, Path(src)):
            what = f"the input {name} {src}" if name else f"the input {src}"
            raise InputError(
                f"{argument} {p}: is the same file as {what}; writing it would "
                "destroy the input (choose another output name)"
            )
    if suffixes is not None:
        allowed = tuple(s.lower() for s in suffixes)
        if p.suffix.lower() not in allowed:
            raise InputError(
                f"{argument} {p}: unsupported suffix {p.suffix!r}; use {' or '.join(allowed)}"
            )
    parent = p.parent
    if not parent.exists():
        raise InputError(f"{argument} {p}: folder {parent} not found")
    if not parent.is_dir():
        raise InputError(f"{argument} {p}: {parent} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"{argument} {p}: folder {parent} is not writable")
    if p.exists() and not os.access(p, os.W_OK):
        raise InputError(f"{argument} {p}: the existing file is not writable")
    _probe_folder(parent, f"{argument} {p}")
    return p


def _probe_folder(folder: Path, what: str) -> None:
    """Create and remove a probe file in ``folder``: what permission bits cannot tell (a
    read-only or special file system such as /proc, where root passes os.access but cannot
    create a file) is an InputError naming ``what`` now, not an OSError after the work."""
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".probe-"):
            pass
    except OSError as exc:
        raise InputError(
            f"{what}: cannot create a file in {folder} ({exc.strerror or exc})"
        ) from exc


#: Suffixes of the JSON results the command line writes (--json, sweep --out).
JSON_SUFFIXES = (".json",)
#: Suffixes of the Markdown tables the command line writes (--markdown).
MARKDOWN_SUFFIXES = (".md", ".markdown", ".txt")


def check_output_dir(path: str | os.PathLike, argument: str, *, create: bool = False) -> Path:
    """Check, before any work, that ``path`` is (or can be created as) a writable folder.

    Raises :class:`InputError` naming ``argument`` when the path is empty, is an existing
    non-folder, or its nearest existing ancestor is not a writable folder. ``create=True``
    (for a caller that will write there anyway) also creates the folder and writes and
    removes a probe file in it, so that what permission bits cannot tell (a read-only or
    special file system such as /proc, where even root cannot create a folder) is an
    InputError here too, not an OSError after the work.
    """
    if path is None or str(path) == "":
        raise InputError(f"{argument}: a folder is required (got an empty string)")
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise InputError(f"{argument} {p}: exists and is not a folder")
    anc = p
    while not anc.exists():
        anc = anc.parent
    if not anc.is_dir():
        raise InputError(f"{argument} {p}: {anc} is not a folder")
    if not os.access(anc, os.W_OK | os.X_OK):
        raise InputError(f"{argument} {p}: folder {anc} is not writable")
    if create:
        try:
            p.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(
                f"{argument} {p}: cannot create or write the folder ({exc.strerror or exc})"
            ) from None
        _probe_folder(p, f"{argument} {p}")
    return p
