"""Per-article work, done once per article and never revised: the exact-duplicate
key, figures, shingle set, MinHash signature and term counts.

Everything corpus-level (LSH buckets, document frequencies, clusters) is built
from these in :mod:`dedup.pipeline`; an incremental index stores them per
article, and a distributed driver computes them batch by batch.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from .normalize import normalize, token_text
from .shingle import ShingleHasher
from .sign import MinHasher
from .story import StoryVectorizer
from .verify import figure_set

__all__ = ["Fingerprints", "fingerprint"]


@dataclass
class Fingerprints:
    """Per-article work for a batch: exact keys, shingle sets, signatures, term counts."""

    exact_keys: list[bytes] = field(default_factory=list)
    figures: list[np.ndarray] = field(default_factory=list)
    shingle_sets: list[np.ndarray] = field(default_factory=list)
    signatures: list[np.ndarray] = field(default_factory=list)
    term_counts: list[sp.csr_matrix] = field(default_factory=list)

    def extend(self, other: Fingerprints) -> None:
        self.exact_keys.extend(other.exact_keys)
        self.figures.extend(other.figures)
        self.shingle_sets.extend(other.shingle_sets)
        self.signatures.extend(other.signatures)
        self.term_counts.extend(other.term_counts)


def fingerprint(
    texts: Sequence[str],
    hasher: ShingleHasher,
    minhasher: MinHasher,
    vectorizer: StoryVectorizer | None,
) -> Fingerprints:
    """Everything the scan needs from a batch of article texts, computed once."""
    normalized = [normalize(t) for t in texts]
    keys = [hashlib.blake2b(n.encode("utf-8", "surrogatepass"), digest_size=16).digest() for n in normalized]
    tokenized = [token_text(n) for n in normalized]
    batch = hasher.transform_tokens(tokenized)
    counts = [vectorizer.counts(tokenized, tokenized=True)] if vectorizer is not None and len(texts) else []
    figures = [figure_set(t) for t in tokenized]
    return Fingerprints(keys, figures, batch.sets(), [minhasher.transform(batch)], counts)
