"""The stored form of an index's rows: prints, windows, same-story ``topk`` and links as the bytes and
tuples :class:`dedup.store.SqlStore` writes, and back. Shapes only, no maths."""

from __future__ import annotations

import itertools
import json
import math
from typing import Any

import numpy as np
import scipy.sparse as sp

from .article import Article, parse_published
from .fingerprint import Prints
from .link import Links
from .ragged import Ragged

__all__ = [
    "FirstCopies", "article_of", "band_rows", "compact_columns", "csr_rows", "decode_terms", "decode_windows",
    "delta_rows", "encode_windows", "enter_topk", "extra_of", "kth_best", "link_rows", "links_from_rows", "new_windows",
    "passage_rows", "term_row", "topk_matrix", "topk_rows"
]


def term_row(matrix: sp.csr_matrix, i: int) -> tuple[np.ndarray, np.ndarray]:
    """Row ``i`` of a CSR matrix as (int32 columns, float32 values): the stored form of term counts."""
    start, end = matrix.indptr[i], matrix.indptr[i + 1]
    return matrix.indices[start:end].astype(np.int32), matrix.data[start:end].astype(np.float32)


def decode_terms(blob: bytes | None) -> tuple[np.ndarray, np.ndarray]:
    """Stored term counts back to (int32 columns, float32 values)."""
    if not blob:
        return np.empty(0, np.int32), np.empty(0, np.float32)
    half = len(blob) // 2
    return np.frombuffer(blob[:half], np.int32), np.frombuffer(blob[half:], np.float32)


def new_windows(prints: Prints, i: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The windows of new article ``i`` as stored rows."""
    if prints.windows is None or prints.window_offsets is None:
        return []
    start, end = int(prints.window_offsets[i]), int(prints.window_offsets[i + 1])
    return [term_row(prints.windows, w) for w in range(start, end)]


def encode_windows(rows: list[tuple[np.ndarray, np.ndarray]]) -> bytes:
    """The windows of an article as one blob: their count, their sizes, then every column, then every value."""
    sizes = np.array([len(r[0]) for r in rows], dtype=np.int32)
    return b"".join([np.int32(len(rows)).tobytes(), sizes.tobytes(), *(r[0].tobytes() for r in rows),
                     *(r[1].tobytes() for r in rows)])


def decode_windows(blob: bytes | None) -> list[tuple[np.ndarray, np.ndarray]]:
    """The blob of :func:`encode_windows` back to rows."""
    if not blob:
        return []
    count = int(np.frombuffer(blob, np.int32, 1)[0])
    sizes = np.frombuffer(blob, np.int32, count, 4)
    total = int(sizes.sum())
    indices = np.frombuffer(blob, np.int32, total, 4 + 4 * count)
    data = np.frombuffer(blob, np.float32, total, 4 + 4 * count + 4 * total)
    bounds = np.concatenate(([0], np.cumsum(sizes)))
    return [(indices[a:b], data[a:b]) for a, b in itertools.pairwise(bounds.tolist())]


def csr_rows(rows: list[tuple[np.ndarray, np.ndarray]], n_features: int) -> sp.csr_matrix:
    """Stored rows as one CSR matrix over ``n_features`` columns."""
    sizes = np.array([len(r[0]) for r in rows], dtype=np.int64)
    indptr = np.concatenate(([0], np.cumsum(sizes)))
    indices = np.concatenate([r[0] for r in rows]) if rows else np.empty(0, np.int32)
    data = np.concatenate([r[1] for r in rows]) if rows else np.empty(0, np.float32)
    return sp.csr_matrix((data, indices, indptr), shape=(len(rows), n_features))


def compact_columns(counts: sp.csr_matrix) -> tuple[np.ndarray, sp.csr_matrix]:
    """The columns in use, and the same rows over those only (same column order: the same sums)."""
    used_mask = np.zeros(counts.shape[1], dtype=bool)
    used_mask[counts.indices] = True
    used = np.flatnonzero(used_mask)
    renumber = np.empty(counts.shape[1], dtype=np.int32)  # read only at used columns
    renumber[used] = np.arange(len(used), dtype=np.int32)
    return used, sp.csr_matrix((counts.data, renumber[counts.indices], counts.indptr),
                               shape=(counts.shape[0], max(len(used), 1)))


def topk_matrix(blob: np.ndarray, k: int) -> np.ndarray:
    """A stored ``topk``: the ``k`` best cosines of each row of an article (its whole text, then its
    windows), best first, ``-inf`` where a row has fewer."""
    return np.asarray(blob, np.float32).reshape(-1, k)


def kth_best(topk: np.ndarray, part: int, k: int) -> float:
    """The cosine a new article must reach to enter the ``k`` best of a stored article's row ``part``."""
    matrix = topk_matrix(topk, k)
    return float(matrix[part, k - 1]) if part < len(matrix) else -math.inf


def topk_rows(found: list[list[float]], k: int) -> np.ndarray:
    """Rows' best cosines as a ``topk`` matrix."""
    out = np.full((len(found), k), -np.inf, np.float32)
    for part, scores in enumerate(found):
        best = np.sort(np.array(scores, dtype=np.float32))[::-1][:k]
        out[part, : len(best)] = best
    return out


def enter_topk(topk: np.ndarray, part: int, score: float, k: int) -> np.ndarray:
    """A ``topk`` matrix after a new cosine of row ``part``."""
    out = np.array(topk, np.float32)
    if part >= len(out):
        out = np.vstack([out, np.full((part + 1 - len(out), k), -np.inf, np.float32)])
    out[part] = np.sort(np.append(out[part], np.float32(score)))[::-1][:k]
    return out
def links_from_rows(rows: list[tuple[Any, ...]]) -> Links:
    """Stored ``links`` rows (``LINK_COLUMNS`` order) as :class:`Links` (pairs are seqs)."""
    if not rows:
        return Links.empty()
    a, b, rel, _tier, shared, jaccard, c_ab, c_ba, cosine = (np.array(col) for col in zip(*rows, strict=True))
    return Links(np.stack([a, b], axis=1).astype(np.int64), rel.astype(np.int8), shared.astype(float),
                 jaccard.astype(float), c_ab.astype(float), c_ba.astype(float), cosine.astype(float))


def link_rows(links: Links, tier: np.ndarray, seq: Any) -> list[tuple[Any, ...]]:
    """Links as ``links`` rows; ``seq`` maps a node number to its seq."""
    return [
        (seq(int(a)), seq(int(b)), int(r), int(t), int(s), float(j), float(cab), float(cba), float(c))
        for (a, b), r, t, s, j, cab, cba, c in zip(
            links.pairs.tolist(), links.relation.tolist(), tier.tolist(), links.shared.tolist(),
            links.jaccard.tolist(), links.containment_a_in_b.tolist(), links.containment_b_in_a.tolist(),
            links.cosine.tolist(), strict=True)
    ]


def passage_rows(seqs: list[int], passages: Ragged) -> list[tuple[int, int]]:
    """``(fingerprint, seq)`` rows of the passages table, each fingerprint of an article once, in key
    order (B-tree inserts in order are the fast ones)."""
    keys = passages.values.view(np.int64)
    owner = np.repeat(np.asarray(seqs, dtype=np.int64), passages.sizes())
    order = np.lexsort((owner, keys))
    keys, owner = keys[order], owner[order]
    first = np.ones(len(keys), dtype=bool)
    first[1:] = (keys[1:] != keys[:-1]) | (owner[1:] != owner[:-1])
    return list(zip(keys[first].tolist(), owner[first].tolist(), strict=True))


def band_rows(keys: np.ndarray, seqs: np.ndarray) -> list[tuple[int, int, int]]:
    """``(band, key, seq)`` rows of band keys (``keys``: one row of int64 keys per article), in key order."""
    band = np.broadcast_to(np.arange(keys.shape[1]), keys.shape).ravel()
    owner = np.repeat(np.asarray(seqs, dtype=np.int64), keys.shape[1])
    flat = keys.ravel()
    order = np.lexsort((owner, flat, band))
    return list(zip(band[order].tolist(), flat[order].tolist(), owner[order].tolist(), strict=True))


def delta_rows(keys: np.ndarray, delta: np.ndarray) -> list[tuple[int, int]]:
    """``(key, change)`` rows of the family counts (keys as signed 64-bit integers, in that order),
    no zero change."""
    nonzero = delta != 0
    signed = keys[nonzero].view(np.int64)
    order = np.argsort(signed, kind="stable")
    return list(zip(signed[order].tolist(), delta[nonzero][order].tolist(), strict=True))


def article_of(article_id: Any, text: Any, title: Any, outlet: Any, url: Any, published: Any, extra: Any) -> Article:
    """A stored ``articles`` row as an :class:`Article`."""
    return Article(str(article_id), str(text), title, outlet, url, parse_published(published) if published else None,
                   extra=json.loads(extra) if extra else {})


def extra_of(article: Article) -> str | None:
    """An article's extra fields as stored (JSON, keys sorted), or None."""
    if not article.extra:
        return None
    return json.dumps(article.extra, sort_keys=True, default=str)


class FirstCopies:
    """Every stored first copy in memory at one version of the index: ``(seq, id, exact_key, day)``
    rows and which terms each holds (CSC: one column per term), in parts; a write of this process
    replaces the first copies of the texts it touched (a new part; the old rows marked dead) and
    the parts are merged when there are too many."""

    MAX_PARTS = 8

    def __init__(self, version: str | None, rows: list[tuple[Any, ...]], n_features: int) -> None:
        self.version = version
        self.n_features = n_features
        self.followed = False  # whether the current write has been applied
        self._parts: list[tuple[np.ndarray, list[tuple[int, str, bytes, float | None]], sp.csc_matrix,
                                np.ndarray]] = []  # days, rows, terms, alive
        self._where: dict[bytes, list[tuple[int, int]]] = {}  # text -> (part, row) of its first copy
        self._add(rows)

    def _add(self, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        days = np.array([np.nan if r[3] is None else float(r[3]) for r in rows], dtype=float)
        terms = csr_rows([decode_terms(r[4]) for r in rows], self.n_features).tocsc()
        part = len(self._parts)
        self._parts.append((days, [(int(r[0]), str(r[1]), bytes(r[2]), r[3]) for r in rows], terms,
                            np.ones(len(rows), dtype=bool)))
        for i, r in enumerate(rows):
            self._where.setdefault(bytes(r[2]), []).append((part, i))

    def replace(self, keys: list[bytes], rows: list[tuple[Any, ...]]) -> None:
        """The first copies of these texts are now ``rows`` (``(seq, id, exact_key, day, terms)``)."""
        for key in keys:
            for part, i in self._where.pop(key, []):
                self._parts[part][3][i] = False
        self._add(rows)
        if len(self._parts) > self.MAX_PARTS:
            self._merge()

    def _merge(self) -> None:
        alive = np.concatenate([p[3] for p in self._parts])
        days = np.concatenate([p[0] for p in self._parts])[alive]
        rows = [r for r, keep in zip((r for p in self._parts for r in p[1]), alive.tolist(), strict=True) if keep]
        terms = sp.vstack([p[2] for p in self._parts]).tocsr()[alive].tocsc()
        self._parts = [(days, rows, terms, np.ones(len(rows), dtype=bool))]
        self._where = {}
        for i, r in enumerate(rows):
            self._where.setdefault(r[2], []).append((0, i))

    def holding(self, terms: np.ndarray, low: float | None,
                high: float | None) -> list[tuple[int, str, bytes, float | None]]:
        """The rows dated in ``[low, high]`` (any date when None) or undated that hold any of ``terms``."""
        out: list[tuple[int, str, bytes, float | None]] = []
        for days, rows, counts, alive in self._parts:
            holders = np.unique(counts[:, terms].indices)
            holders = holders[alive[holders]]
            if low is not None and high is not None:
                when = days[holders]
                holders = holders[np.isnan(when) | ((when >= low) & (when <= high))]
            out.extend(rows[int(i)] for i in holders)
        return out
