"""Both cores: one function over contiguous chunks of work, in forked processes.

:func:`chunked` runs ``task(lo, hi)`` for consecutive ranges covering
``0..n`` and returns the results in range order, so the outcome is the same
whatever the number of processes (every caller concatenates the pieces). The
task is never pickled: it is left in a module variable before the processes
are forked, so a closure over the scan's articles and prints is shared
copy-on-write; only each chunk's result travels back.

Processes are forked only where ``fork`` exists and this process runs no other
thread (so never inside a worker, a Dask worker or a threaded server); elsewhere,
or with ``workers=1``, the chunks run one after the other in this process.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import numpy as np

__all__ = ["available_workers", "chunk_bounds", "chunked"]

T = TypeVar("T")

_TASK: Callable[[int, int], Any] | None = None
_IN_WORKER = False


def available_workers(workers: int) -> int:
    """Processes to use: ``workers``, or when it is 0 one per *idle* usable core: the cores less the
    1-minute load average not counting this process (at least one). On a machine busy with other
    jobs the forked processes only compete with them, and forking, shipping results back and the
    copy-on-write faults cost more than the second core gives (measured: Reuters 11.1 s with two
    processes, 10.0 s with one, at load 2). Results are the same whatever the number."""
    if workers > 0:
        return workers
    try:
        cores = max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        cores = max(1, os.cpu_count() or 1)
    try:
        others = max(0.0, os.getloadavg()[0] - 1.0)
    except (AttributeError, OSError):  # no load average (Windows)
        others = 0.0
    return max(1, min(cores, int(cores - others + 0.75)))


def chunk_bounds(n: int, chunks: int, weights: Sequence[float] | np.ndarray | None = None) -> list[tuple[int, int]]:
    """At most ``chunks`` consecutive ranges covering ``0..n`` (none empty), of nearly equal
    length, or of nearly equal total ``weights`` (the work of each item) when given."""
    chunks = max(1, min(chunks, n))
    if weights is None:
        edges = [n * c // chunks for c in range(chunks + 1)]
    else:
        weight = np.asarray(weights, dtype=np.float64)
        total = np.cumsum(weight)
        middle = total - weight / 2  # an item goes to the chunk holding most of it
        cuts = np.searchsorted(middle, total[-1] * np.arange(1, chunks) / chunks, side="left") if n else []
        edges = [0, *sorted({int(c) for c in cuts}), n]
    return [(lo, hi) for lo, hi in itertools.pairwise(edges) if hi > lo]


def _fork_context() -> Any | None:
    """The fork context, or None where forking is impossible or unsafe: inside a worker, in a
    daemonic process (a Dask or pool worker), or with other threads running (a fork copies
    their locks in whatever state they are)."""
    if (
        _IN_WORKER
        or "fork" not in multiprocessing.get_all_start_methods()
        or multiprocessing.current_process().daemon
        or threading.active_count() > 1
    ):
        return None
    return multiprocessing.get_context("fork")


def _mark_worker() -> None:
    global _IN_WORKER
    _IN_WORKER = True


def _run(bounds: tuple[int, int]) -> Any:
    assert _TASK is not None
    return _TASK(*bounds)


def chunked(
    task: Callable[[int, int], T], bounds: list[tuple[int, int]], workers: int, min_work: int = 1
) -> Iterator[T]:
    """``task(lo, hi)`` for every range of ``bounds``, results yielded in that order.

    Runs in this process when one process is asked for, when there are fewer
    than two ranges, when ``bounds`` cover fewer than ``min_work`` items (forking
    costs more than it saves), or where processes cannot be forked.
    """
    global _TASK
    workers = min(available_workers(workers), len(bounds))
    context = _fork_context() if workers > 1 and sum(hi - lo for lo, hi in bounds) >= min_work else None
    if context is None:
        for lo, hi in bounds:
            yield task(lo, hi)
        return
    previous, _TASK = _TASK, task
    try:
        with context.Pool(workers, initializer=_mark_worker) as pool:
            yield from pool.imap(_run, bounds, chunksize=1)
    finally:
        _TASK = previous
