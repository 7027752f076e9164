"""Per-article work, done once per article and never revised: :class:`Prints`.

Everything later stages read about an article -- the exact-duplicate key,
figures, shingle set, MinHash signature, term counts -- computed with stable
hashes only (BLAKE2b, the shingle polynomial hash, datasketch's permutations,
scikit-learn's MurmurHash3), so prints made in one process (an index, a Dask
worker) equal those made in any other. :meth:`Prints.to_bytes` and
:meth:`Prints.from_bytes` store and ship them.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .normalize import normalize, token_text
from .params import Params
from .ragged import Ragged
from .shingle import ShingleHasher
from .sign import MinHasher
from .story import term_counts
from .verify import figure_set

__all__ = ["Prints", "fingerprint"]


@dataclass(frozen=True)
class Prints:
    """Per-article values of ``n`` articles, column by column.

    exact_keys : (n,) ``S16``
        BLAKE2b-128 of the normalised text (equal keys: exact duplicates).
    figures : Ragged of uint64
        Sorted hashes of the tokens holding a digit.
    shingles : Ragged of uint64
        Sorted unique shingle hashes.
    signatures : (n, num_perm) uint32
        MinHash signatures (datasketch ``affine32``).
    terms : (n, n_features) CSR float32, or None when the same-story tier is off
        Hashed content-word counts.
    """

    exact_keys: np.ndarray
    figures: Ragged
    shingles: Ragged
    signatures: np.ndarray
    terms: sp.csr_matrix | None

    def __len__(self) -> int:
        return len(self.exact_keys)

    def take(self, rows: np.ndarray | Sequence[int]) -> Prints:
        rows = np.asarray(rows, dtype=np.int64)
        return Prints(
            self.exact_keys[rows],
            self.figures.take(rows),
            self.shingles.take(rows),
            self.signatures[rows],
            self.terms[rows] if self.terms is not None else None,
        )

    @classmethod
    def concat(cls, parts: Sequence[Prints]) -> Prints:
        terms = [p.terms for p in parts]
        return cls(
            np.concatenate([p.exact_keys for p in parts]),
            Ragged.concat([p.figures for p in parts]),
            Ragged.concat([p.shingles for p in parts]),
            np.concatenate([p.signatures for p in parts]),
            sp.vstack(terms).tocsr() if terms and all(t is not None for t in terms) else None,
        )

    def arrays(self) -> dict[str, np.ndarray]:
        """Every column as plain arrays (the form stored and shipped)."""
        out = {
            "exact_keys": self.exact_keys,
            "figures": self.figures.values,
            "figure_offsets": self.figures.offsets,
            "shingles": self.shingles.values,
            "shingle_offsets": self.shingles.offsets,
            "signatures": self.signatures,
        }
        if self.terms is not None:
            out |= {"term_indptr": self.terms.indptr.astype(np.int64), "term_indices": self.terms.indices,
                    "term_data": self.terms.data}
        return out

    def to_bytes(self) -> bytes:
        """A deterministic byte string (equal prints give equal bytes)."""
        buffer = io.BytesIO()
        arrays = self.arrays()
        header = {
            name: [a.dtype.str, list(a.shape)] for name, a in arrays.items()
        } | {"n_features": self.terms.shape[1] if self.terms is not None else None}
        head = json.dumps(header, sort_keys=True).encode()
        buffer.write(len(head).to_bytes(8, "little") + head)
        for name in sorted(arrays):
            buffer.write(np.ascontiguousarray(arrays[name]).tobytes())
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Prints:
        size = int.from_bytes(data[:8], "little")
        header = json.loads(data[8 : 8 + size])
        n_features = header.pop("n_features")
        position = 8 + size
        arrays = {}
        for name in sorted(header):
            dtype, shape = np.dtype(header[name][0]), tuple(header[name][1])
            count = int(np.prod(shape)) if shape else 1
            arrays[name] = np.frombuffer(data, dtype, count, position).reshape(shape).copy()
            position += count * dtype.itemsize
        terms = None
        if n_features is not None:
            n = len(arrays["exact_keys"])
            terms = sp.csr_matrix((arrays["term_data"], arrays["term_indices"], arrays["term_indptr"]),
                                  shape=(n, n_features))
        return cls(
            arrays["exact_keys"],
            Ragged(arrays["figures"], arrays["figure_offsets"]),
            Ragged(arrays["shingles"], arrays["shingle_offsets"]),
            arrays["signatures"],
            terms,
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Prints) and self.to_bytes() == other.to_bytes()

    __hash__ = None  # type: ignore[assignment]


@functools.lru_cache(maxsize=8)
def _minhasher(num_perm: int, seed: int) -> MinHasher:
    return MinHasher(num_perm, seed)


def exact_key(normalized: str) -> bytes:
    return hashlib.blake2b(normalized.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def fingerprint(texts: Sequence[str], params: Params) -> Prints:
    """The prints of a batch of article texts."""
    normalized = [normalize(t) for t in texts]
    keys = np.array([exact_key(n) for n in normalized], dtype="S16")
    tokenized = [token_text(n) for n in normalized]
    batch = ShingleHasher(params.shingle_size).transform_tokens(tokenized)
    terms = term_counts(tokenized, params.n_features) if params.same_story is not None else None
    figures = Ragged.from_rows([figure_set(t) for t in tokenized])
    signatures = _minhasher(params.num_perm, params.seed).transform(batch)
    return Prints(keys, figures, batch.set_rows(), signatures, terms)
