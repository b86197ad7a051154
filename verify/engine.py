"""Where chunked work runs: in this process (the default) or on a dask.distributed cluster.

No scheduler is written here: the distributed path hands the tasks to an existing Dask
scheduler (``dask.distributed.Client(address)``; https://distributed.dask.org), chosen by
``scheduler=ADDRESS`` or, when that is None, the environment variable
:data:`SCHEDULER_ENV` (``MODGAP_DASK_SCHEDULER``). Without either, tasks run in this process
in a plain loop, so the core package needs neither dask nor distributed (they come with the
optional extra ``modgap[scale]``).

Two patterns are offered:

- :func:`map_unordered`: independent tasks (sweep points), results yielded as they finish;
- :func:`tree_reduce`: partial results (chunk accumulators) combined by a fixed binary
  tree, the SAME tree in this process and on the cluster (the tree depends only on the
  number of chunks), so both routes add the same floating-point numbers in the same order:
  the results are identical, not merely close (tests/test_streaming.py checks equality).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from modgap.verify._validation import InputError

__all__ = ["SCHEDULER_ENV", "resolve_scheduler", "client_for", "map_unordered", "tree_reduce"]

#: Environment variable naming a dask.distributed scheduler address (e.g. tcp://host:8786).
SCHEDULER_ENV = "MODGAP_DASK_SCHEDULER"


def resolve_scheduler(scheduler: str | None) -> str | None:
    """The scheduler address to use: ``scheduler`` if given, else $MODGAP_DASK_SCHEDULER, else
    None (run in this process). An empty string or "local" also means this process."""
    if scheduler is None:
        scheduler = os.environ.get(SCHEDULER_ENV) or None
    if scheduler is None or scheduler.strip() in ("", "local"):
        return None
    if not isinstance(scheduler, str):
        raise InputError(f"scheduler must be an address string, got {scheduler!r}")
    return scheduler.strip()


def client_for(address: str) -> Any:
    """A dask.distributed Client connected to ``address`` (clear error if dask is absent)."""
    try:
        from distributed import Client
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise InputError(
            f"scheduler {address!r}: dask.distributed is not installed "
            "(pip install 'modgap[scale]')"
        ) from exc
    try:
        return Client(address, timeout=30)
    except OSError as exc:
        raise InputError(f"scheduler {address!r}: cannot connect ({exc})") from exc


def _progress(total: int, desc: str, enabled: bool) -> Any:
    """A tqdm bar when tqdm is installed and ``enabled``, else a no-op stand-in."""
    if enabled:
        try:
            from tqdm.auto import tqdm

            return tqdm(total=total, desc=desc, unit="task", leave=False)
        except ImportError:  # pragma: no cover
            pass

    class _Null:
        def update(self, n: int = 1) -> None:
            pass

        def close(self) -> None:
            pass

    return _Null()


def map_unordered(
    func: Callable[[Any], Any],
    items: Sequence[Any],
    *,
    scheduler: str | None = None,
    progress: bool = False,
    desc: str = "tasks",
) -> Iterator[tuple[int, Any]]:
    """Yield (index, func(items[index])) for every item, in completion order.

    In this process: a loop in item order. With a scheduler address (or $MODGAP_DASK_SCHEDULER):
    ``client.map(func, items)`` and ``distributed.as_completed`` (func must be picklable,
    i.e. a module-level function). A tqdm bar counts finished tasks when ``progress``.
    """
    address = resolve_scheduler(scheduler)
    bar = _progress(len(items), desc, progress)
    try:
        if address is None:
            for i, item in enumerate(items):
                out = func(item)
                bar.update(1)
                yield i, out
            return
        from distributed import as_completed

        with client_for(address) as client:
            futures = client.map(func, list(items), pure=False)
            index = {f.key: i for i, f in enumerate(futures)}
            for fut in as_completed(futures):
                out = fut.result()
                bar.update(1)
                yield index[fut.key], out
    finally:
        bar.close()


def tree_reduce(items: Iterable[Any], combine: Callable[[Any, Any], Any]) -> Any:
    """Combine ``items`` pairwise by a binary counter: a balanced tree fixed by their number.

    A stack holds (size, value); each new item is pushed as size 1 and, while the two top
    entries have equal size, they are replaced by combine(lower, upper). At the end the
    stack is folded from the top: combine(lower, upper). Memory: O(log n) partial values;
    the combination order depends only on n, so the same call with dask.delayed values
    builds the same tree as with plain values. Raises ValueError on no items.
    """
    stack: list[tuple[int, Any]] = []
    for item in items:
        size, value = 1, item
        while stack and stack[-1][0] == size:
            lower = stack.pop()[1]
            value, size = combine(lower, value), 2 * size
        stack.append((size, value))
    if not stack:
        raise InputError("tree_reduce needs at least one item")
    value = stack.pop()[1]
    while stack:
        value = combine(stack.pop()[1], value)
    return value
