"""Winnowing fingerprints of word *k*-grams, for a whole batch at once.

Winnowing (Schleimer, Wilkerson & Aiken, SIGMOD 2003; the MOSS algorithm)
keeps a small, position-stable subset of a document's *k*-gram hashes: slide a
window over ``w`` consecutive *k*-gram hashes and select the minimum hash of
each window -- the **rightmost** one on ties ("robust winnowing") -- recording
each selected position once. A document shorter than one window (fewer than
``w`` *k*-grams) keeps the rightmost minimum of all its *k*-grams.

**Guarantee.** Two documents that share a run of at least ``w + k - 1``
consecutive tokens share at least one fingerprint: the run holds ``w``
consecutive equal *k*-gram hashes in both, a whole window, whose minimum both
select. Runs shorter than ``k`` tokens are never seen (noise threshold). The
expected density is :math:`2 / (w + 1)` fingerprints per *k*-gram.

Defaults ``k=5``, ``w=10``: a fingerprint every 5.5 *k*-grams on average
(99k for 2,750 Reuters stories; 472k for all 19,779), and any 14-token run
shares one; :mod:`dedup.postings` says why ``w=10`` (measured there).

The *k*-gram hashes are :class:`dedup.shingle.ShingleHasher` 64-bit hashes
(stable across processes and machines; never Python's ``hash()``), and the
input is its :class:`~dedup.shingle.ShingleBatch` layout:
``hashes[offsets[d]:offsets[d + 1]]`` are document ``d``'s *k*-gram hashes in
text order. Everything is vectorised over the flattened batch; there is no
loop over documents.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .shingle import ShingleBatch, ShingleHasher
from .sortunique import sorted_unique

__all__ = ["DEFAULT_K", "DEFAULT_W", "Fingerprints", "concat", "fingerprint_texts", "ranges", "winnow"]

DEFAULT_K = 5
DEFAULT_W = 10

_MAGIC = b"DDWN"
_VERSION = 1
_HEADER = struct.Struct("<4sHHHQQ")  # magic, version, k, w, n_docs, n_prints


@dataclass(frozen=True)
class Fingerprints:
    """Winnowed fingerprints of a batch of documents, CSR layout.

    ``hashes[offsets[d]:offsets[d + 1]]`` are document ``d``'s selected *k*-gram
    hashes (uint64) and ``positions[...]`` the index of each one's *k*-gram in
    the document, i.e. of its first token (int64), in text order.
    """

    hashes: np.ndarray  # uint64
    positions: np.ndarray  # int64, k-gram (= first token) index inside its document
    offsets: np.ndarray  # int64, n_docs + 1 entries
    k: int = DEFAULT_K
    w: int = DEFAULT_W

    @property
    def n_docs(self) -> int:
        return len(self.offsets) - 1

    def __len__(self) -> int:
        return len(self.hashes)

    def doc(self, d: int) -> tuple[np.ndarray, np.ndarray]:
        """Document ``d``'s ``(hashes, positions)``."""
        lo, hi = int(self.offsets[d]), int(self.offsets[d + 1])
        return self.hashes[lo:hi], self.positions[lo:hi]

    def doc_index(self) -> np.ndarray:
        """The document of every fingerprint (int64, same length as ``hashes``)."""
        return np.repeat(np.arange(self.n_docs, dtype=np.int64), np.diff(self.offsets))

    def to_bytes(self) -> bytes:
        """A self-describing little-endian serialisation (see :meth:`from_bytes`)."""
        header = _HEADER.pack(_MAGIC, _VERSION, self.k, self.w, self.n_docs, len(self.hashes))
        return b"".join(
            (
                header,
                np.ascontiguousarray(self.offsets, dtype="<i8").tobytes(),
                np.ascontiguousarray(self.hashes, dtype="<u8").tobytes(),
                np.ascontiguousarray(self.positions, dtype="<i8").tobytes(),
            )
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> Fingerprints:
        magic, version, k, w, n_docs, n_prints = _HEADER.unpack_from(data, 0)
        if magic != _MAGIC or version != _VERSION:
            raise ValueError("not a dedup fingerprint blob (bad magic or version)")
        expected = _HEADER.size + 8 * (n_docs + 1) + 16 * n_prints
        if len(data) != expected:
            raise ValueError(f"fingerprint blob has {len(data)} bytes, expected {expected}")
        at = _HEADER.size
        offsets = np.frombuffer(data, dtype="<i8", count=n_docs + 1, offset=at).astype(np.int64)
        at += 8 * (n_docs + 1)
        hashes = np.frombuffer(data, dtype="<u8", count=n_prints, offset=at).astype(np.uint64)
        at += 8 * n_prints
        positions = np.frombuffer(data, dtype="<i8", count=n_prints, offset=at).astype(np.int64)
        return cls(hashes=hashes, positions=positions, offsets=offsets, k=k, w=w)


def ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``concatenate([arange(s, s + n) for s, n in zip(starts, lengths)])``, vectorised."""
    lengths = np.asarray(lengths, dtype=np.int64)
    total = int(lengths.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64)
    begin = np.cumsum(lengths) - lengths
    return np.repeat(np.asarray(starts, dtype=np.int64) - begin, lengths) + np.arange(total, dtype=np.int64)


def _rightmost_window_minima(h: np.ndarray, w: int) -> np.ndarray:
    """For every window start ``i`` in ``0..len(h)-w``, the global index of the
    rightmost minimum of ``h[i:i+w]``. ``O(n w)`` time, ``O(n)`` memory."""
    m = len(h) - w + 1
    low = h[:m].copy()
    for j in range(1, w):
        np.minimum(low, h[j : j + m], out=low)
    chosen = np.full(m, -1, dtype=np.int8)
    for j in range(w - 1, -1, -1):
        hit = (chosen < 0) & (h[j : j + m] == low)
        chosen[hit] = j
    return np.arange(m, dtype=np.int64) + chosen


def winnow(batch: ShingleBatch, w: int = DEFAULT_W, k: int = DEFAULT_K) -> Fingerprints:
    """Winnow every document of ``batch`` with windows of ``w`` *k*-gram hashes.

    ``k`` is only recorded (it is the shingle size ``batch`` was hashed with).
    Returns :class:`Fingerprints`; a document with no *k*-grams has none.
    Documents are processed in groups of about 2^20 *k*-grams, so scratch
    memory stays bounded (about 40 bytes per *k*-gram of one group).
    """
    if not isinstance(w, int) or not 1 <= w <= 127:
        raise ValueError(f"window w must be an int in 1..127, got {w!r}")
    h = np.asarray(batch.hashes, dtype=np.uint64)
    offsets = np.asarray(batch.offsets, dtype=np.int64)
    n_docs = len(offsets) - 1
    picked = [_winnow_group(h, offsets, lo, hi, w) for lo, hi in _groups(offsets)]
    positions = np.concatenate(picked) if picked else np.empty(0, dtype=np.int64)
    doc = np.searchsorted(offsets, positions, side="right") - 1
    per_doc = np.bincount(doc, minlength=n_docs).astype(np.int64)
    return Fingerprints(
        hashes=h[positions],
        positions=positions - offsets[doc],
        offsets=np.concatenate(([0], np.cumsum(per_doc))).astype(np.int64),
        k=k,
        w=w,
    )


_GROUP = 1 << 20


def _groups(offsets: np.ndarray) -> list[tuple[int, int]]:
    """Consecutive document ranges of about ``_GROUP`` k-grams each (a bigger document alone)."""
    n_docs = len(offsets) - 1
    if n_docs <= 0:
        return []
    cuts = np.searchsorted(offsets, np.arange(_GROUP, int(offsets[-1]) + 1, _GROUP), side="right") - 1
    bounds = sorted_unique(np.concatenate(([0], np.clip(cuts, 1, n_docs), [n_docs])))
    return list(zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True))


def _winnow_group(h: np.ndarray, offsets: np.ndarray, lo: int, hi: int, w: int) -> np.ndarray:
    """Global positions selected in documents ``lo..hi-1``, sorted, each once."""
    base = int(offsets[lo])
    part = h[base : int(offsets[hi])]
    local = offsets[lo : hi + 1] - base
    counts = np.diff(local)
    selected = []
    if len(part) >= w:
        starts = _rightmost_window_minima(part, w)
        doc_end = np.repeat(local[1:], counts)[: len(starts)]
        selected.append(starts[np.arange(len(starts), dtype=np.int64) + w <= doc_end])
    short = np.flatnonzero((counts > 0) & (counts < w))
    if len(short):  # one window of the whole document: its rightmost minimum
        members = ranges(local[short], counts[short])
        owner = np.repeat(np.arange(len(short)), counts[short])
        first = np.concatenate(([0], np.cumsum(counts[short])[:-1]))
        low = np.minimum.reduceat(part[members], first)
        selected.append(np.maximum.reduceat(np.where(part[members] == low[owner], members, -1), first))
    found = np.concatenate(selected) if selected else np.empty(0, dtype=np.int64)
    return sorted_unique(found) + base


def fingerprint_texts(
    texts: Sequence[str], k: int = DEFAULT_K, w: int = DEFAULT_W, *, normalized: bool = False
) -> Fingerprints:
    """Fingerprints of raw texts: :class:`ShingleHasher` *k*-gram hashes, winnowed.

    Texts are hashed and winnowed in groups of about 1 MB, so only the
    fingerprints of the whole batch are ever held (the *k*-gram hashes of one
    group at a time). Use ``winnow(ShingleHasher(k).transform(texts))`` to keep
    the *k*-gram hashes too (:mod:`dedup.spans` extends matches along them).
    """
    hasher = ShingleHasher(k)
    parts, group, size = [], [], 0
    for text in texts:
        group.append(text)
        size += len(text)
        if size >= _TEXT_GROUP:
            parts.append(winnow(hasher.transform(group, normalized=normalized), w=w, k=k))
            group, size = [], 0
    if group or not parts:
        parts.append(winnow(hasher.transform(group, normalized=normalized), w=w, k=k))
    return concat(parts)


_TEXT_GROUP = 1 << 20


def concat(parts: Sequence[Fingerprints]) -> Fingerprints:
    """The fingerprints of several batches as one batch (documents in order)."""
    if not parts:
        return Fingerprints(np.empty(0, np.uint64), np.empty(0, np.int64), np.zeros(1, np.int64))
    counts = np.concatenate([np.diff(p.offsets) for p in parts])
    return Fingerprints(
        hashes=np.concatenate([p.hashes for p in parts]),
        positions=np.concatenate([p.positions for p in parts]),
        offsets=np.concatenate(([0], np.cumsum(counts))).astype(np.int64),
        k=parts[0].k,
        w=parts[0].w,
    )
