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

__all__ = ["Ragged"]


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
