"""Document frequencies over copy families, kept by an index as families grow, merge and split.

A key's *family frequency* is the number of copy families whose texts hold it
(a family: texts joined by exact and near-duplicate links of the LSH tier,
:func:`dedup.link.families_for_df`). A scan counts it over all its texts at
once (:func:`dedup.evidence.common_shingles` for shingles, the bucket rule of
:mod:`dedup.postings` for passage fingerprints); an index stores the counts
(``family_df``) and changes them by the difference an operation makes: the
families it touches counted before and after. :class:`FamilyCounts` answers
"how many families hold these keys" for the stored counts plus that difference.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .ragged import Ragged

__all__ = ["PASSAGES", "SHINGLES", "FamilyCounts", "family_counts", "family_delta"]

SHINGLES = 0
PASSAGES = 1


def family_counts(sets: Ragged, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct keys of the rows and the number of distinct groups (families) holding each."""
    if len(sets.values) == 0:
        return np.empty(0, np.uint64), np.empty(0, np.int64)
    group = np.repeat(np.asarray(groups, dtype=np.int64), sets.sizes())
    values = sets.values.astype(np.uint64)
    order = np.lexsort((group, values))
    values, group = values[order], group[order]
    first = np.ones(len(values), dtype=bool)
    first[1:] = (values[1:] != values[:-1]) | (group[1:] != group[:-1])
    keys, counts = np.unique(values[first], return_counts=True)
    return keys, counts.astype(np.int64)


def family_delta(before: Ragged, before_groups: np.ndarray, after: Ragged,
                 after_groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Keys whose family frequency changes, and by how much, when the rows ``before`` grouped by
    ``before_groups`` become the rows ``after`` grouped by ``after_groups``."""
    old_keys, old_counts = family_counts(before, before_groups)
    new_keys, new_counts = family_counts(after, after_groups)
    if len(old_keys) == 0:
        return new_keys, new_counts
    keys, inverse = np.unique(np.concatenate([new_keys, old_keys]), return_inverse=True)
    delta = np.bincount(inverse.ravel(), weights=np.concatenate([new_counts, -old_counts]),
                        minlength=len(keys)).astype(np.int64)
    changed = delta != 0
    return keys[changed], delta[changed]


def _member(known: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Which of ``keys`` are in the sorted array ``known``."""
    if len(known) == 0:
        return np.zeros(len(keys), dtype=bool)
    at = np.minimum(np.searchsorted(known, keys), len(known) - 1)
    return known[at] == keys


@dataclass
class FamilyCounts:
    """Families holding keys: the stored counts (read through ``read(kind, keys)``, cached) plus
    the changes of the current operation (``delta[kind]``: sorted keys, differences)."""

    read: Callable[[int, np.ndarray], np.ndarray]
    delta: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    version: str | None = None  # of the stored counts read (a cache of them)
    _known: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    def size(self) -> int:
        """Counts read and kept."""
        return sum(len(known) for known, _ in self._known.values())

    def holding(self, kind: int, keys: np.ndarray) -> np.ndarray:
        """How many families hold each of ``keys`` (uint64)."""
        keys = np.asarray(keys, dtype=np.uint64)
        known, counts = self._known.get(kind, (np.empty(0, np.uint64), np.empty(0, np.int64)))
        missing = np.unique(keys[~_member(known, keys)])
        if len(missing):
            read = np.asarray(self.read(kind, missing.view(np.int64)), dtype=np.int64)
            at = np.searchsorted(known, missing)
            known, counts = np.insert(known, at, missing), np.insert(counts, at, read)
            self._known[kind] = (known, counts)
        out = counts[np.searchsorted(known, keys)] if len(keys) else np.empty(0, np.int64)
        if kind in self.delta and len(self.delta[kind][0]):
            changed, by = self.delta[kind]
            at = np.minimum(np.searchsorted(changed, keys), len(changed) - 1)
            hit = changed[at] == keys
            out[hit] += by[at[hit]]
        return out

    def add(self, kind: int, keys: np.ndarray, delta: np.ndarray) -> None:
        """Change the kept counts of those of ``keys`` that are kept (the others are read when asked)."""
        known, counts = self._known.get(kind, (np.empty(0, np.uint64), np.empty(0, np.int64)))
        if len(known) and len(keys):
            keys = np.asarray(keys, dtype=np.uint64)
            at = np.minimum(np.searchsorted(known, keys), len(known) - 1)
            hit = known[at] == keys
            counts = counts.copy()
            np.add.at(counts, at[hit], np.asarray(delta, dtype=np.int64)[hit])
            self._known[kind] = (known, counts)

    def of(self, kind: int) -> Callable[[np.ndarray], np.ndarray]:
        """``holding`` for one kind (what :func:`dedup.postings.probe` takes)."""
        return lambda keys: self.holding(kind, keys)
