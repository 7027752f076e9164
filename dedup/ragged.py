"""Ragged arrays: one variable-length row per article in two flat numpy arrays.

Row ``i`` is ``values[offsets[i]:offsets[i + 1]]`` (a view, never a copy).
One array of all shingle hashes plus ``n + 1`` offsets costs 8 bytes a value
and 8 an article, where a Python list of arrays costs about 100 bytes more per
article and cannot be shipped or stored as a whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Appended", "Ragged"]


# The first block of an Appended array is at least this large (above glibc's largest mmap
# threshold, so it is a mapping: pages are committed only when written).
_MAPPED = 64 << 20


class Appended:
    """One array grown by appending pieces (``np.concatenate`` of a stream of pieces).

    The first piece reserves room for ``room`` pieces its size (an empty block: a large
    allocation is a mapping whose unwritten pages are never resident); when that is not
    enough the block is copied into one twice the size. :meth:`result` cuts the block to
    its length in place (``ndarray.resize``: a ``realloc`` that shrinks the mapping). A
    piece can be dropped once appended, so joining a stream holds the output and one
    piece, not every piece and the output.
    """

    def __init__(self, room: float = 16.0) -> None:
        self.room = room
        self._array: np.ndarray | None = None
        self._length = 0

    def append(self, piece: np.ndarray) -> None:
        end = self._length + len(piece)
        if self._array is None:
            row_bytes = max(piece.dtype.itemsize * int(np.prod(piece.shape[1:], dtype=np.int64)), 1)
            rows = max(int(np.ceil(len(piece) * max(self.room, 1.0))), _MAPPED // row_bytes, 1)
            self._array = np.empty((rows, *piece.shape[1:]), dtype=piece.dtype)
        elif end > len(self._array):
            grown = np.empty((max(end, 2 * len(self._array)), *piece.shape[1:]), dtype=self._array.dtype)
            grown[: self._length] = self._array[: self._length]
            self._array = grown
        self._array[self._length : end] = piece
        self._length = end

    def result(self) -> np.ndarray:
        """The appended pieces as one array (which owns its memory)."""
        assert self._array is not None, "nothing was appended"
        array, self._array = self._array, None
        if len(array) != self._length:
            array.resize((self._length, *array.shape[1:]), refcheck=False)
        return array


@dataclass(frozen=True)
class Ragged:
    """Rows of one dtype, flattened: ``values`` and ``offsets`` (``n_rows + 1`` entries)."""

    values: np.ndarray
    offsets: np.ndarray

    @classmethod
    def from_rows(cls, rows: Sequence[np.ndarray], dtype: np.dtype | type = np.uint64) -> Ragged:
        sizes = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
        offsets = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
        values = np.concatenate(rows).astype(dtype, copy=False) if len(rows) else np.empty(0, dtype)
        return cls(values, offsets)

    @classmethod
    def empty(cls, n_rows: int = 0, dtype: np.dtype | type = np.uint64) -> Ragged:
        return cls(np.empty(0, dtype), np.zeros(n_rows + 1, np.int64))

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def row(self, i: int) -> np.ndarray:
        return self.values[self.offsets[i] : self.offsets[i + 1]]

    def sizes(self) -> np.ndarray:
        return np.diff(self.offsets)

    def take(self, rows: np.ndarray | Sequence[int]) -> Ragged:
        """The given rows, in the given order (vectorised gather)."""
        rows = np.asarray(rows, dtype=np.int64)
        sizes = self.sizes()[rows]
        offsets = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
        starts = np.repeat(self.offsets[rows] - offsets[:-1], sizes)
        return Ragged(self.values[np.arange(int(offsets[-1])) + starts], offsets)

    @classmethod
    def concat(cls, parts: Sequence[Ragged]) -> Ragged:
        if not parts:
            return cls.empty()
        sizes = np.concatenate([p.sizes() for p in parts])
        offsets = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
        return cls(np.concatenate([p.values for p in parts]), offsets)

    def row_ids(self) -> np.ndarray:
        """The row of every value."""
        return np.repeat(np.arange(len(self)), self.sizes())

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Ragged)
            and self.values.dtype == other.values.dtype
            and np.array_equal(self.values, other.values)
            and np.array_equal(self.offsets, other.offsets)
        )

    __hash__ = None  # type: ignore[assignment]
