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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from .normalize import normalize, token_text
from .params import Params
from .ragged import Appended, Ragged
from .shingle import ShingleHasher, TokenBatch, token_batch
from .sign import MinHasher
from .story import term_counts as story_counts
from .story import windowed
from .terms import HashedTokens, term_counts
from .verify import figure_sets
from .winnow import Fingerprints, winnow

__all__ = ["Prints", "fingerprint", "stack_rows"]


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
    windows : (m, n_features) CSR float32, or None
        Term counts of overlapping windows of long articles (``story_window``
        tokens, half overlapping): a rewrite of part of a long page is compared
        with that part, not with the whole page's diluted vector.
    window_offsets : (n + 1,) int64
        Article ``i``'s windows are rows ``window_offsets[i]:window_offsets[i + 1]``.
    passages : Ragged of uint64, and passage_positions : Ragged of int64
        Winnowed *k*-gram hashes (:mod:`dedup.winnow`) and the token position of
        each: any shared run of ``winnow_k + winnow_window - 1`` words shares one.
    """

    exact_keys: np.ndarray
    figures: Ragged
    shingles: Ragged
    signatures: np.ndarray
    terms: sp.csr_matrix | None
    windows: sp.csr_matrix | None = None
    window_offsets: np.ndarray | None = None
    passages: Ragged = field(default_factory=Ragged.empty)
    passage_positions: Ragged = field(default_factory=lambda: Ragged.empty(dtype=np.int64))

    def passage_prints(self, rows: np.ndarray, k: int, w: int) -> Fingerprints:
        """The winnowed fingerprints of some articles, as :mod:`dedup.postings` takes them (views of
        these prints when ``rows`` are all of them, in order)."""
        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) == len(self) and np.array_equal(rows, np.arange(len(self))):
            return Fingerprints(self.passages.values, self.passage_positions.values, self.passages.offsets, k=k, w=w)
        hashes, positions = self.passages.take(rows), self.passage_positions.take(rows)
        return Fingerprints(hashes.values, positions.values, hashes.offsets, k=k, w=w)

    def window_rows(self) -> Ragged:
        """Window row numbers per article (an empty row for articles without windows)."""
        offsets = self.window_offsets if self.window_offsets is not None else np.zeros(len(self) + 1, np.int64)
        return Ragged(np.arange(int(offsets[-1]), dtype=np.int64), offsets)

    def __len__(self) -> int:
        return len(self.exact_keys)

    def take(self, rows: np.ndarray | Sequence[int]) -> Prints:
        rows = np.asarray(rows, dtype=np.int64)
        chosen = self.window_rows().take(rows)
        return Prints(
            self.exact_keys[rows],
            self.figures.take(rows),
            self.shingles.take(rows),
            self.signatures[rows],
            self.terms[rows] if self.terms is not None else None,
            self.windows[chosen.values] if self.windows is not None else None,
            chosen.offsets,
            self.passages.take(rows),
            self.passage_positions.take(rows),
        )

    @classmethod
    def concat(cls, parts: Iterable[Prints], n_articles: int | None = None) -> Prints:
        """The prints of consecutive batches as one. Each part is appended to the joined
        columns (:class:`~dedup.ragged.Appended`) and dropped, so an iterator of parts (not a
        list kept by the caller) holds the joined prints and one part, never every part.
        ``n_articles``, the articles all parts hold when known, reserves room for them."""
        columns: dict[str, _Column] | None = None
        for part in parts:
            if columns is None:
                room = 1.25 * n_articles / max(len(part), 1) if n_articles else 16.0
                columns = {name: _Column(name != "window_offsets" and getattr(part, name) is None, room)
                           for name in _COLUMNS}
            for name, column in columns.items():
                column.append(part.window_rows() if name == "window_offsets" else getattr(part, name))
            del part
        if columns is None:
            raise ValueError("need at least one part to concatenate")
        joined = {name: column.result() for name, column in columns.items()}
        joined["window_offsets"] = joined["window_offsets"].offsets
        return cls(**joined)

    def arrays(self) -> dict[str, np.ndarray]:
        """Every column as plain arrays (the form stored and shipped)."""
        out = {
            "exact_keys": self.exact_keys,
            "figures": self.figures.values,
            "figure_offsets": self.figures.offsets,
            "shingles": self.shingles.values,
            "shingle_offsets": self.shingles.offsets,
            "signatures": self.signatures,
            "passages": self.passages.values,
            "passage_positions": self.passage_positions.values,
            "passage_offsets": self.passages.offsets,
        }
        for name, matrix in (("term", self.terms), ("window", self.windows)):
            if matrix is not None:
                out |= {f"{name}_indptr": matrix.indptr.astype(np.int64), f"{name}_indices": matrix.indices,
                        f"{name}_data": matrix.data}
        out["window_offsets"] = self.window_rows().offsets
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
        matrices: dict[str, sp.csr_matrix | None] = {"term": None, "window": None}
        for name in matrices:
            if n_features is not None and f"{name}_data" in arrays:
                rows = len(arrays[f"{name}_indptr"]) - 1
                matrices[name] = sp.csr_matrix(
                    (arrays[f"{name}_data"], arrays[f"{name}_indices"], arrays[f"{name}_indptr"]),
                    shape=(rows, n_features),
                )
        return cls(
            arrays["exact_keys"],
            Ragged(arrays["figures"], arrays["figure_offsets"]),
            Ragged(arrays["shingles"], arrays["shingle_offsets"]),
            arrays["signatures"],
            matrices["term"],
            matrices["window"],
            arrays["window_offsets"],
            Ragged(arrays["passages"], arrays["passage_offsets"]),
            Ragged(arrays["passage_positions"], arrays["passage_offsets"]),
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Prints) and self.to_bytes() == other.to_bytes()

    __hash__ = None  # type: ignore[assignment]


class _Column:
    """One column of :class:`Prints` joined part by part: an array, the rows of a
    :class:`Ragged`, or of a CSR matrix (``missing``: a column the parts do not have)."""

    def __init__(self, missing: bool, room: float) -> None:
        self.missing = missing
        self.values, self.extra = Appended(room), Appended(room)  # values or data; indices of a CSR matrix
        self.sizes: list[np.ndarray] = []
        self.kind = ""
        self.n_features = 0

    def append(self, piece: Any) -> None:
        if self.missing or piece is None:
            self.missing = True
            return
        if isinstance(piece, Ragged):
            self.kind = "ragged"
            self.values.append(piece.values)
            self.sizes.append(piece.sizes())
        elif sp.issparse(piece):
            self.kind, self.n_features = "csr", piece.shape[1]
            self.values.append(piece.data)
            self.extra.append(piece.indices)
            self.sizes.append(np.diff(piece.indptr))
        else:
            self.kind = "array"
            self.values.append(piece)

    def result(self) -> Any:
        if self.missing:
            return None
        if self.kind == "array":
            return self.values.result()
        sizes = np.concatenate(self.sizes)
        offsets = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
        if self.kind == "ragged":
            return Ragged(self.values.result(), offsets)
        # as sp.vstack(...).tocsr() gives them: 32-bit indices while they fit
        fits = offsets[-1] < np.iinfo(np.int32).max and self.n_features < np.iinfo(np.int32).max
        index = np.int32 if fits else np.int64
        return sp.csr_matrix((self.values.result(), self.extra.result().astype(index, copy=False),
                              offsets.astype(index)), shape=(len(sizes), self.n_features), copy=False)


def stack_rows(parts: Iterable[sp.csr_matrix], n_rows: int | None = None) -> sp.csr_matrix:
    """``sp.vstack(list(parts)).tocsr()`` of a stream of CSR matrices, each part dropped once
    appended (``n_rows``, the rows of all parts when known, reserves room for them)."""
    column: _Column | None = None
    for part in parts:
        if column is None:
            column = _Column(False, 1.25 * n_rows / max(part.shape[0], 1) if n_rows else 16.0)
        column.append(part)
        del part
    if column is None:
        raise ValueError("need at least one part to stack")
    return column.result()


_COLUMNS = ("exact_keys", "figures", "shingles", "signatures", "terms", "windows", "window_offsets", "passages",
            "passage_positions")


@functools.lru_cache(maxsize=8)
def _minhasher(num_perm: int, seed: int) -> MinHasher:
    return MinHasher(num_perm, seed)


def exact_key(normalized: str) -> bytes:
    return hashlib.blake2b(normalized.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def _term_counts(tokens: TokenBatch, tokenized: Sequence[str], params: Params
                 ) -> tuple[sp.csr_matrix, sp.csr_matrix, np.ndarray]:
    """Term counts of the texts (from their hashed tokens) and of the windows of long ones
    (:func:`dedup.story.windowed`)."""
    pieces, offsets = windowed(tokenized, params.story_window)
    return term_counts(HashedTokens.of(tokens, params.n_features)), story_counts(pieces, params.n_features), offsets


def fingerprint(texts: Sequence[str], params: Params) -> Prints:
    """The prints of a batch of article texts (their tokens hashed once for every column)."""
    normalized = [normalize(t) for t in texts]
    keys = np.array([exact_key(n) for n in normalized], dtype="S16")
    tokenized = [token_text(n) for n in normalized]
    tokens = token_batch(tokenized)
    batch = ShingleHasher(params.shingle_size).combine(tokens)
    terms, windows, window_offsets = None, None, np.zeros(len(texts) + 1, np.int64)
    if params.same_story is not None:
        terms, windows, window_offsets = _term_counts(tokens, tokenized, params)
    figures = figure_sets(tokens, tokenized)
    signatures = _minhasher(params.num_perm, params.seed).transform(batch)
    kgrams = batch if params.winnow_k == params.shingle_size else ShingleHasher(params.winnow_k).combine(tokens)
    winnowed = winnow(kgrams, w=params.winnow_window, k=params.winnow_k)
    return Prints(keys, figures, batch.set_rows(), signatures, terms, windows, window_offsets,
                  Ragged(winnowed.hashes, winnowed.offsets), Ragged(winnowed.positions, winnowed.offsets))
