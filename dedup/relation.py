"""The relations of a pair, as small integer codes inside the pipeline and names at output.

Codes are ordered by strength (``exact`` strongest), so ``np.maximum`` and sorts
on them need no table; :data:`NONE` marks a candidate that is no relation.
"""

from __future__ import annotations

import numpy as np

__all__ = ["DERIVED", "EXACT", "NAMES", "NEAR_DUPLICATE", "NONE", "SAME_STORY", "code", "name"]

NONE, SAME_STORY, DERIVED, NEAR_DUPLICATE, EXACT = -1, 0, 1, 2, 3
NAMES = {SAME_STORY: "same_story", DERIVED: "derived", NEAR_DUPLICATE: "near_duplicate", EXACT: "exact"}
_CODES = {v: k for k, v in NAMES.items()}


def name(relation: int) -> str:
    """The report's name of a relation code."""
    return NAMES[int(relation)]


def code(relation: str) -> int:
    """The code of a relation name (``ValueError`` for an unknown one)."""
    try:
        return _CODES[relation]
    except KeyError:
        raise ValueError(f"unknown relation {relation!r}; known: {', '.join(_CODES)}") from None


def codes(count: int, value: int) -> np.ndarray:
    return np.full(count, value, dtype=np.int8)
