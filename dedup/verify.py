"""Exact re-check of candidate pairs on their shingle sets, and the verbatim relation.

For shingle sets :math:`A` and :math:`B`:

* Jaccard :math:`J = |A \\cap B| / |A \\cup B|`;
* containment of *a* in *b* :math:`C_{a \\subset b} = |A \\cap B| / |A|` -- the share
  of *a*'s shingles that also occur in *b* (1.0 when *a* is wholly inside *b*).

Containment matters for news: an outlet that republishes a 400-word wire story
and appends a 600-word interview has :math:`J \\approx 0.4` with the wire but
contains all of it.

Relations, strongest first:

* ``exact`` -- the same normalised text;
* ``near_duplicate`` -- :math:`J \\ge` ``near_duplicate``;
* ``derived`` -- :math:`\\max(C_{a \\subset b}, C_{b \\subset a}) \\ge` ``derived``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Overlaps", "VerbatimVerifier", "figure_set", "figures_agree", "intersection_size"]

_DIGITS = re.compile(r"\d+")


def intersection_size(a: np.ndarray, b: np.ndarray) -> int:
    """Size of the intersection of two sorted arrays of unique values."""
    if len(a) > len(b):
        a, b = b, a
    if len(a) == 0:
        return 0
    idx = np.searchsorted(b, a)
    idx[idx == len(b)] = 0
    return int(np.count_nonzero(b[idx] == a))


def figure_set(tokenized: str) -> np.ndarray:
    """The distinct tokens holding a digit (figures, dates, amounts), hashed and sorted.

    Hashes are Python's own: they only need to agree within one run.
    """
    found = set()
    for digits in _DIGITS.finditer(tokenized):  # few per text: widen each to its token
        start = tokenized.rfind(" ", 0, digits.start()) + 1
        end = tokenized.find(" ", digits.end())
        found.add(hash(tokenized[start : end if end >= 0 else len(tokenized)]))
    return np.array(sorted(found), dtype=np.int64)


def figures_agree(a: np.ndarray, b: np.ndarray, min_figures: int = 3, min_share: float = 0.5) -> bool:
    """Whether two texts that share wording also share their figures.

    False when both carry at least ``min_figures`` figures and fewer than
    ``min_share`` of the smaller set occur in the other: the same template
    (a dividend notice, a money-market report) filled in with other numbers.
    """
    smaller = min(len(a), len(b))
    if smaller < min_figures:
        return True
    return intersection_size(a, b) >= min_share * smaller


@dataclass(frozen=True)
class Overlaps:
    """Exact overlap measures of pairs, one entry per pair (numpy arrays)."""

    pairs: np.ndarray  # (n, 2) int64 document indices
    shared: np.ndarray  # |A & B|
    jaccard: np.ndarray
    containment_a_in_b: np.ndarray
    containment_b_in_a: np.ndarray

    def __len__(self) -> int:
        return len(self.pairs)

    @classmethod
    def compute(cls, sets: Sequence[np.ndarray], pairs: np.ndarray) -> Overlaps:
        pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
        sizes = np.fromiter((len(s) for s in sets), dtype=np.float64, count=len(sets))
        shared = np.fromiter(
            (intersection_size(sets[i], sets[j]) for i, j in pairs), dtype=np.float64, count=len(pairs)
        )
        size_a, size_b = sizes[pairs[:, 0]], sizes[pairs[:, 1]]
        union = size_a + size_b - shared
        with np.errstate(divide="ignore", invalid="ignore"):
            jaccard = np.where(union > 0, shared / union, 0.0)
            in_b = np.where(size_a > 0, shared / size_a, 0.0)
            in_a = np.where(size_b > 0, shared / size_b, 0.0)
        return cls(pairs, shared, jaccard, in_b, in_a)


class VerbatimVerifier:
    """Label verified pairs ``exact``, ``near_duplicate`` or ``derived`` (or nothing).

    Parameters
    ----------
    near_duplicate : float, default 0.5
        Minimum Jaccard for ``near_duplicate``.
    derived : float, default 0.5
        Minimum containment (either direction) for ``derived``.
    """

    def __init__(self, near_duplicate: float = 0.5, derived: float = 0.5) -> None:
        for name, value in (("near_duplicate", near_duplicate), ("derived", derived)):
            if not 0.0 < value <= 1.0:
                raise ValueError(f"{name} threshold must be in (0, 1], got {value!r}")
        self.near_duplicate = near_duplicate
        self.derived = derived

    def relations(self, overlaps: Overlaps, exact: np.ndarray) -> np.ndarray:
        """Relation per pair as an object array of str or None.

        ``exact`` is a boolean array: whether the pair's normalised texts are equal.
        """
        containment = np.maximum(overlaps.containment_a_in_b, overlaps.containment_b_in_a)
        out = np.full(len(overlaps), None, dtype=object)
        out[containment >= self.derived] = "derived"
        out[overlaps.jaccard >= self.near_duplicate] = "near_duplicate"
        out[np.asarray(exact, dtype=bool)] = "exact"
        return out
