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
from typing import Any, Generic, TypeVar

import numpy as np

__all__ = ["Background", "available_workers", "chunk_bounds", "chunked"]

T = TypeVar("T")

_TASK: Callable[[int, int], Any] | None = None
_IN_WORKER = False


def available_workers(workers: int) -> int:
    """Processes to use: ``workers``, or one per usable core when it is 0."""
    if workers > 0:
        return workers
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


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


class Background(Generic[T]):
    """``task()`` computed in one forked process while this one goes on; :meth:`get` waits for it.

    Where processes cannot be forked (see :func:`chunked`) or ``workers`` is 1, the task runs
    when :meth:`get` is first called, in this process: the result is the same either way."""

    def __init__(self, task: Callable[[], T], workers: int) -> None:
        self._task: Callable[[], T] | None = task
        self._result: T | None = None
        self._process: Any = None
        self._forked = False
        context = _fork_context() if available_workers(workers) > 1 else None
        if context is not None:
            self._connection, child = context.Pipe(duplex=False)
            self._process = context.Process(target=_send, args=(task, child), daemon=True)
            self._process.start()
            self._forked = True
            child.close()

    @property
    def forked(self) -> bool:
        """Whether the task runs (or ran) in another process."""
        return self._forked

    def get(self) -> T:
        """The task's result (an exception in the task is raised here)."""
        if self._process is not None:
            failed, value = self._connection.recv()
            self.close()
            if failed:
                raise value
            self._task, self._result = None, value
        elif self._task is not None:
            task, self._task = self._task, None
            self._result = task()
        return self._result  # type: ignore[return-value]

    def close(self) -> None:
        """Stop the process (when its result is not wanted any more)."""
        if self._process is not None:
            self._connection.close()
            self._process.terminate()
            self._process.join()
            self._process = None


def _send(task: Callable[[], Any], connection: Any) -> None:
    _mark_worker()
    try:
        message = (False, task())
    except BaseException as error:  # handed to the parent, which raises it
        message = (True, error)
    connection.send(message)
    connection.close()
