"""A persistent, incremental index: check an article against everything stored, add it, remove it.

:class:`Index` is a driver, like :class:`~dedup.pipeline.Scanner`: it calls
the same stage functions (``fingerprint``, ``BandedLSH.probe``, ``verify``,
``postings.probe``/``self_join``, ``passage_links``, ``credible``,
``informative``, ``families_for_df``, ``representatives``, ``Idf``,
``probe_neighbours``, ``best_per_row``, ``family_labels``, ``story_labels``,
``attribute``, ``assemble``) with the new articles on one side and the stored
ones on the other, and :class:`~dedup.store.SqlStore` reads and writes the
rows. No maths here: only which articles take part, in which order (always by
id, as in a scan), and what is written.

One operation, for new articles ``N`` against the stored ones:

1. candidates: stored articles with the same exact key, those sharing an LSH
   band key (``(band, key)`` equality in SQL), and those holding one of the
   new passage fingerprints that is not too common (``passages`` table); one
   per distinct text (the lowest id), paired by ``BandedLSH.probe`` and
   ``postings.probe`` (within ``N``: the self-joins);
2. copy families (:mod:`dedup.family_df`): the stored families of the texts,
   merged by the new close LSH links; the change of the family frequencies of
   shingles and passage fingerprints (a scan's ``common_shingles`` and the
   postings' document frequency) follows from the families' sets;
3. verbatim tier on distinct texts: ``verify``, ``passage_links`` (passage
   pairs and long runs), ``credible`` with the shingles common to more than
   ``winnow_max_df`` families left out; links given to every copy;
4. representatives: the close-copy groups touched by the new links, read whole
   from the stored links; the lowest id of each group is counted in the
   document frequencies;
5. same story: the stored first copies in the time window holding a weighted
   term of the new texts, stacked with the windows of long ones as
   ``story_links`` stacks them, TF-IDF with the index's document frequencies
   (including ``N``), ``probe_neighbours`` for each new row's ``k`` best, plus
   the stored rows whose own ``k`` best the new one enters (a query searches
   each stored text it reaches again with the current weights; an add uses
   the ``k``-th best cosine kept per row in ``topk``); verified and
   ``credible`` first, the rest
   ``same_story``, given to every copy of each text;
6. a query then forms families and stories (``family_labels``,
   ``story_labels``) on the connected component of its links over the stored
   links, attributes its story and reports each pair's shared spans; an add
   writes the article, its band keys, passage fingerprints, links, family,
   counted flags, family counts and document frequencies in one transaction.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import functools
import math
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import scipy.sparse as sp

from . import relation
from .article import Article, parse_published
from .assemble import assemble, link_spans, pair_order
from .attribution import attribute, provenance
from .candidates import BandedLSH
from .evidence import SharedRuns, credible, informative
from .family_df import PASSAGES, SHINGLES, FamilyCounts, family_delta
from .fingerprint import Prints, fingerprint
from .index_rows import (
    FirstCopies,
    article_of,
    band_rows,
    compact_columns,
    csr_rows,
    decode_terms,
    decode_windows,
    delta_rows,
    encode_windows,
    enter_topk,
    extra_of,
    kth_best,
    link_rows,
    links_from_rows,
    new_windows,
    passage_rows,
    term_row,
    topk_matrix,
    topk_rows,
)
from .link import Links, families_for_df, representatives, verify, with_cosines
from .params import Params
from .pipeline import passage_links
from .postings import Postings, probe
from .postings import self_join as postings_join
from .ragged import Ragged
from .result import ClusterResult, Passage, Section
from .sign import EMPTY_SIGNATURE_VALUE
from .store import SqlStore, StoreError, open_store
from .stories import family_labels, story_labels
from .story import Idf, best_per_row, probe_neighbours, shared_terms
from .verify import Overlaps

__all__ = ["Index", "Match", "QueryResult", "StoreError"]

_T = TypeVar("_T")


def _locked(method: Callable[..., _T]) -> Callable[..., _T]:
    """One operation at a time on an ``Index`` (threads of one process may share it)."""

    @functools.wraps(method)
    def run(self: Index, *args: Any, **kwargs: Any) -> _T:
        with self._lock:
            return method(self, *args, **kwargs)

    return run

QUERY_ID = "<query>"
# where a stored link was found: the verbatim tier (exact copies, LSH), the same-story search, passage
# fingerprints and long runs; and close LSH pairs the evidence rejected, kept only to join copy families
_VERBATIM, _STORY, _PASSAGE, _FAMILY_ONLY = 0, 1, 2, 3
_REPORTED = (_VERBATIM, _STORY, _PASSAGE)
_COUNTED_ONCE = (_VERBATIM, _PASSAGE)  # close links of these make the groups the df count once
_FAMILY = (_VERBATIM, _FAMILY_ONLY)  # close links of these make copy families
_EPSILON_DAYS = 1e-6  # the SQL window is widened by this; probe_neighbours applies the exact one
_MAX_COMPONENT = 5000  # articles read when following stored links (clustering, close-copy groups)
_TERM_CACHE = 100_000  # decoded term rows kept per process (immutable: keyed by seq)
_FAMILY_CACHE = 2_000_000  # stored family counts kept by queries (until the index changes)
_UNREAD = np.empty(0, np.float32)  # a stored article's topk not read yet
_ROUNDING = 1e-5  # cosines of one pair computed in two products may differ by this much (float32)


@dataclass(frozen=True)
class Match:
    """A stored article related to the query, with the scores a scan would give the pair."""

    id: str
    relation: str
    jaccard: float
    containment_query_in_match: float
    containment_match_in_query: float
    cosine: float
    source: str | None = None
    spans: list[dict[str, int]] = field(default_factory=list)
    title: str | None = None
    outlet: str | None = None
    published: _dt.datetime | None = None


@dataclass
class QueryResult(Sequence[Match]):
    """The matches of a query, best first (a sequence of :class:`Match`), and what the query added."""

    matches: list[Match]
    passages: list[Passage]
    added_sections: list[Section]
    cluster: ClusterResult | None
    id: str = QUERY_ID

    def __len__(self) -> int:
        return len(self.matches)

    def __getitem__(self, item: Any) -> Any:
        return self.matches[item]

    def __iter__(self) -> Iterator[Match]:
        return iter(self.matches)

    def __repr__(self) -> str:
        return f"QueryResult({len(self.matches)} matches, {len(self.added_sections)} added sections)"


@dataclass
class _Node:
    """One article taking part in an operation: new (``seq`` None) or stored."""

    id: str
    key: bytes
    day: float
    seq: int | None = None
    signature: np.ndarray | None = None
    shingles: np.ndarray | None = None
    figures: np.ndarray | None = None
    counted: bool = False
    topk: np.ndarray = field(default_factory=lambda: np.empty(0, np.float32))
    article: Article | None = None
    passages: np.ndarray | None = None
    passage_positions: np.ndarray | None = None
    family: int | None = None
    text: str | None = None


@dataclass(frozen=True)
class _DfDelta:
    """A change of the document frequencies: sorted terms and what each gains (no zero change)."""

    terms: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    values: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))

    @classmethod
    def of(cls, rows: sp.csr_matrix, signs: Sequence[int]) -> _DfDelta:
        """The change when the articles of ``rows`` (term counts) are counted (+1) or not any more (-1)."""
        per_value = np.repeat(np.asarray(signs, dtype=np.int64), np.diff(rows.indptr))
        terms, inverse = np.unique(rows.indices.astype(np.int64), return_inverse=True)
        values = np.bincount(inverse.ravel(), weights=per_value, minlength=len(terms)).astype(np.int64)
        return cls(terms[values != 0], values[values != 0])

    def __len__(self) -> int:
        return len(self.terms)


@dataclass(frozen=True)
class _Near:
    """A same-story neighbour: row ``row_part`` of text ``row`` (0: the whole text, ``w + 1``: its
    window ``w``) and row ``column_part`` of text ``column``, their cosine, and whether they share
    enough weighted terms."""

    row: int
    row_part: int
    column: int
    column_part: int
    score: float
    shared: bool


@dataclass(frozen=True)
class _Texts:
    """Nodes taking part in one stage, in id order (their positions are the stage's article numbers)."""

    numbers: np.ndarray
    position: dict[int, int]
    prints: Prints
    days: np.ndarray


@dataclass(frozen=True)
class _Families:
    """Copy families of one operation: the label of each new article, the stored families each label
    joins, and the family frequencies with the change."""

    counts: FamilyCounts
    label_of: dict[int, int]
    joined: dict[int, list[int]]


class _LazyTexts(Sequence[str]):
    """The texts of some nodes, read from the store when first asked for (the shared runs need few)."""

    def __init__(self, index: Index, nodes: dict[int, _Node], numbers: np.ndarray) -> None:
        self.owner, self.nodes, self.numbers = index, nodes, numbers

    def __len__(self) -> int:
        return len(self.numbers)

    def __getitem__(self, item: Any) -> Any:
        node = self.nodes[int(self.numbers[item])]
        if node.text is None:
            node.text = str(self.owner.store.articles([int(self.numbers[item])], ("text",))[0][1])
        return node.text


@dataclass
class _Linked:
    """What one operation found: links between nodes (``pairs`` hold node numbers) and the
    document-frequency changes; new nodes are ``-1 - i``, stored ones their seq."""

    nodes: dict[int, _Node]
    links: Links
    tier: np.ndarray
    counted: dict[int, bool]
    df_delta: _DfDelta
    n_delta: int
    topk_new: dict[int, np.ndarray]
    topk_stored: dict[int, np.ndarray]
    new_terms: sp.csr_matrix | None = None
    new_prints: Prints | None = None
    families: _Families | None = None

    def reported(self) -> Links:
        """The links a scan reports (not those kept only to join copy families)."""
        return self.links.take(self.tier != _FAMILY_ONLY)


class Index:
    """A durable index of articles: ``query`` before publishing, ``add`` after.

    Parameters
    ----------
    url : str or path
        A SQLite file (created if missing), ``":memory:"``, or ``postgresql://...``
        (needs ``pip install 'dedup[postgres]'``).
    params : Params, optional
        Settings; an existing index keeps its own and refuses other matching ones
        (:meth:`Params.matching`). Keyword arguments override single parameters.
    """

    def __init__(self, url: str | os.PathLike[str] = ":memory:", params: Params | None = None,
                 **overrides: Any) -> None:
        wanted = (params or Params()).replace(**overrides) if overrides else params
        self.url = os.fspath(url)
        self._lock = threading.RLock()
        self.store: SqlStore = open_store(self.url)
        try:
            stored = self.store.prepare((wanted or Params()).matching())
        except StoreError:
            self.store.close()
            raise
        except Exception as exc:
            self.store.close()
            raise StoreError(f"{self.store.where} is not a readable dedup index ({exc}); it was left untouched") \
                from None
        if wanted is not None and stored != wanted.matching():
            self.store.close()
            different = sorted(k for k in set(stored) | set(wanted.matching())
                               if stored.get(k) != wanted.matching().get(k))
            shown = ", ".join(f"{k}: index {stored.get(k)!r}, given {wanted.matching().get(k)!r}" for k in different)
            raise StoreError(f"{self.store.where} was built with other parameters ({shown}); open it without "
                             "params, or build a new index with these")
        base = wanted or Params()
        self.params = Params.from_dict({**base.to_dict(), **stored})
        self.lsh = BandedLSH(self.params.lsh_threshold, self.params.num_perm, max_bucket=self.params.max_bucket)
        self._version: str | None = None
        self._df = np.zeros(0, np.int64)
        self._n_docs = 0
        self._terms: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._everyone: FirstCopies | None = None  # queries only: a write sees its own changes
        self._in_write = False
        self._family_reads = FamilyCounts(self._read_family_df)
        self._windows: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}
        self._spread: dict[Any, Any] = {}  # the version, its terms in use, the spread weights per n_docs

    # ------------------------------------------------------------------ context, basics

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @_locked
    def close(self) -> None:
        self.store.close()

    @_locked
    def __len__(self) -> int:
        return self.store.count()

    @_locked
    def __iter__(self) -> Iterator[str]:
        """The stored ids, in order."""
        return iter(self.store.iter_ids())

    @_locked
    def __contains__(self, article_id: object) -> bool:
        return isinstance(article_id, str) and self.store.by_id(article_id, ("seq",)) is not None

    @_locked
    def get(self, article_id: str) -> Article | None:
        """The stored article with this id, or None."""
        row = self.store.by_id(article_id, ("id", "text", "title", "outlet", "url", "published", "extra"))
        return article_of(*row) if row else None

    @_locked
    def stats(self) -> dict[str, Any]:
        """Counts: articles, links by relation, documents counted in the document frequencies, size."""
        with self.store.read():
            meta = self.store.meta()
            links = self.store.link_count(_REPORTED)
            return {
                "articles": self.store.count(),
                "links": sum(links.values()),
                "links_by_relation": {relation.name(k): v for k, v in sorted(links.items(), reverse=True)},
                "df_documents": int(meta["n_docs"]),
                "schema_version": int(meta["schema_version"]),
                "bytes": self.store.size_bytes(),
                "backend": self.store.dialect,
                "params": self.params.matching(),
            }

    # ------------------------------------------------------------------ public operations

    @_locked
    def query(self, item: str | Article, passages: bool = True, **fields: Any) -> QueryResult:
        """What a scan of (index + this article) reports for it: its matches, best first, and
        the passages it added relative to its cluster. Reads only; nothing is stored.

        A stored article with the query's id is left out (the query is its new version).
        ``passages=False`` returns the matches only (no clustering, attribution or
        ``source``): the quick check.
        """
        article = _as_article(item, fields, QUERY_ID)
        prints = fingerprint([article.text], self.params)
        with self.store.read():
            self._sync()
            excluded = self.store.seqs_of_ids([article.id])
            linked = self._link([article], prints, set(excluded.values()))
            if passages:
                return self._describe(article, linked, set(excluded.values()))
            return self._matches_only(article, linked)

    def _matches_only(self, article: Article, linked: _Linked) -> QueryResult:
        nodes, links = linked.nodes, linked.reported()
        rows = {int(r[0]): r[1:] for r in self.store.articles(
            sorted({int(n) for n in links.pairs.ravel() if n >= 0}), ("title", "outlet", "published"))}
        numbers = sorted({int(n) for n in links.pairs.ravel()}, key=lambda n: nodes[n].id)
        position = {n: i for i, n in enumerate(numbers)}
        local, runs = _relabel(links, position), self._runs(nodes, np.array(numbers, dtype=np.int64))
        matches = []
        for k, (a, b) in enumerate(links.pairs.tolist()):
            query_first = a < 0
            other = b if query_first else a
            title, outlet, published = rows[other]
            matches.append(Match(
                id=nodes[other].id,
                relation=relation.name(links.relation[k]),
                jaccard=float(links.jaccard[k]),
                containment_query_in_match=float(links.containment_a_in_b[k] if query_first
                                                 else links.containment_b_in_a[k]),
                containment_match_in_query=float(links.containment_b_in_a[k] if query_first
                                                 else links.containment_a_in_b[k]),
                cosine=float(links.cosine[k]), spans=link_spans(local, k, runs),
                title=title, outlet=outlet, published=parse_published(published) if published else None,
            ))
        matches.sort(key=lambda m: (-relation.code(m.relation), -max(m.jaccard, m.cosine), m.id))
        return QueryResult(matches, [], [], None, article.id)

    def add(self, item: str | Article, text: str | None = None, **fields: Any) -> None:
        """Store one article (``add(article)`` or ``add(id, text, published=..., outlet=..., title=..., url=...)``);
        an article with the same id is replaced. Returns once committed."""
        if isinstance(item, Article):
            if text is not None or fields:
                raise TypeError("add(article) takes no other arguments")
            article = item
        else:
            if text is None:
                raise TypeError("add(id, text, ...) needs the text")
            article = _as_article(text, {**fields, "id": item}, item)
        self.add_many([article])

    def add_many(self, articles: Iterable[Article], batch_size: int = 1000) -> int:
        """Store articles, one transaction per batch of ``batch_size``; returns how many were stored.

        Within a batch the last article with an id wins; every batch is linked against
        the stored articles and the rest of its batch, as a scan of both would be.
        """
        done = 0
        batch: dict[str, Article] = {}
        for article in articles:
            if not isinstance(article, Article):
                raise TypeError(f"add_many() expects Article items, got {type(article).__name__}")
            batch[article.id] = article
            if len(batch) >= batch_size:
                done += self._write_batch(list(batch.values()))
                batch = {}
        if batch:
            done += self._write_batch(list(batch.values()))
        return done

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """A write transaction; on failure the caches are dropped (they may hold uncommitted changes)."""
        try:
            self._in_write = True
            with self.store.write():
                yield
        except BaseException:
            self._version = None
            self._terms.clear()
            self._windows.clear()
            self._family_reads = FamilyCounts(self._read_family_df)
            self._everyone = None
            raise
        finally:
            self._in_write = False

    @_locked
    def remove(self, article_id: str) -> bool:
        """Remove an article (True if it was there). Document frequencies and close-copy groups follow."""
        with self._writing():
            self._sync()
            found = self.store.seqs_of_ids([article_id])
            if found:
                self._remove(list(found.values()))
                self._commit_meta()
        return bool(found)

    @_locked
    def expire(self, before: str | _dt.datetime | _dt.date) -> int:
        """Remove the articles published before this time (undated ones stay); returns how many."""
        when = parse_published(before)
        if when is None:
            raise ValueError("expire(before=...) needs a date")
        with self._writing():
            self._sync()
            ids = self.store.ids_before(when.timestamp() / 86400.0)
            if ids:
                self._remove(list(self.store.seqs_of_ids(ids).values()))
                self._commit_meta()
        return len(ids)

    # ------------------------------------------------------------------ the document frequencies

    def _sync(self) -> None:
        """Reload the document frequencies when another connection changed them."""
        meta = self.store.meta()
        if meta["version"] == self._version:
            return
        df = np.zeros(self.params.n_features, np.int64)
        rows = self.store.df()
        if rows:
            terms, counts = np.array(rows, dtype=np.int64).T
            df[terms] = counts
        self._df, self._n_docs, self._version = df, int(meta["n_docs"]), meta["version"]
        self._meta = meta

    def _commit_meta(self) -> None:
        version = str(int(self._meta["version"]) + 1)
        if self._family_reads.version == self._version:  # the counts kept include this write's changes
            self._family_reads.version = version
        if self._everyone is not None and self._everyone.version == self._version and self._everyone.followed:
            self._everyone.version, self._everyone.followed = version, False
        else:
            self._everyone = None
        self.store.set_meta({"n_docs": str(self._n_docs), "version": version, "next_seq": self._meta["next_seq"]})
        self._meta = {**self._meta, "version": version, "n_docs": str(self._n_docs)}
        self._version = version

    def _apply_df(self, delta: _DfDelta, n_delta: int) -> None:
        if delta:
            self._df[delta.terms] += delta.values
            self.store.add_df(list(zip(delta.terms.tolist(), delta.values.tolist(), strict=True)))
        self._n_docs += n_delta

    def _idf(self, delta: _DfDelta, n_delta: int, columns: np.ndarray | None) -> Idf:
        """The index's current weights plus ``delta``: over ``columns`` only (compact) or all terms."""
        params = self.params
        if columns is None:
            return self._full_idf(delta, n_delta)
        df = self._df[columns]
        if delta and len(columns):  # columns are sorted and distinct
            at = np.minimum(np.searchsorted(columns, delta.terms), len(columns) - 1)
            inside = columns[at] == delta.terms
            df[at[inside]] += delta.values[inside]
        return Idf(self._n_docs + n_delta, df, params.max_df, params.max_df_floor, params.full_idf_docs)

    def _full_idf(self, delta: _DfDelta, n_delta: int) -> Idf:
        """An :class:`Idf` over the whole hashed term space (what ``attribute`` takes).

        A term's weight is a function of its document frequency (and of ``n_docs``)
        alone, so the weights are those of a compact ``Idf`` over the terms in use
        plus one absent term (``df = 0``), spread over the full space: the same values
        as ``Idf.weights`` computed over 2^20 terms, without computing 2^20 of them.
        The spread weights of the stored frequencies are kept per index version and
        ``n_docs``; a query's own change is then written over the terms it changes.
        """
        params = self.params
        n_docs = self._n_docs + n_delta

        def weights_of(df: np.ndarray) -> np.ndarray:
            return Idf(n_docs, df, params.max_df, params.max_df_floor, params.full_idf_docs).weights

        if "present" not in self._spread or self._spread["version"] != self._version:
            self._spread = {"version": self._version, "present": np.flatnonzero(self._df)}
        if n_docs not in self._spread:  # a query counted in the df has one more document than one not
            present = self._spread["present"]
            compact = weights_of(np.concatenate(([0], self._df[present])))
            spread = np.full(params.n_features, compact[0], dtype=compact.dtype)
            spread[present] = compact[1:]
            self._spread[n_docs] = spread
        weights = self._spread[n_docs]
        if delta:  # delta.terms are sorted and distinct
            weights = weights.copy()
            weights[delta.terms] = weights_of(self._df[delta.terms] + delta.values)
        full = Idf(n_docs, self._df, params.max_df, params.max_df_floor, params.full_idf_docs)
        full.__dict__["weights"] = weights  # Idf.weights is a cached_property: this is its value (only it is read)
        return full

    # ------------------------------------------------------------------ loading nodes

    def _load(self, seqs: Iterable[int], nodes: dict[int, _Node], full: bool = True) -> None:
        """Stored nodes (with shingles and signature when ``full``) into ``nodes``."""
        wanted = [s for s in seqs if s not in nodes or (full and nodes[s].shingles is None)]
        if not wanted:
            return
        columns = ("id", "exact_key", "day", "counted", "topk", "family") + (
            ("signature", "shingles", "figures", "passages", "passage_positions") if full else ())
        for row in self.store.articles(wanted, columns):
            seq, article_id, key, day, counted, topk, family = row[:7]
            node = _Node(str(article_id), bytes(key), math.nan if day is None else float(day), int(seq),
                         counted=bool(counted), topk=np.frombuffer(topk, np.float32), family=int(family))
            if full:
                node.signature = np.frombuffer(row[7], np.uint32)
                node.shingles = np.frombuffer(row[8], np.uint64)
                node.figures = np.frombuffer(row[9], np.uint64)
                node.passages = np.frombuffer(row[10], np.uint64)
                node.passage_positions = np.frombuffer(row[11], np.int64)
            if int(seq) in nodes and nodes[int(seq)].text is not None:
                node.text = nodes[int(seq)].text
            nodes[int(seq)] = node

    def _term_rows(self, nodes: dict[int, _Node], numbers: Sequence[int],
                   new_terms: sp.csr_matrix | None) -> sp.csr_matrix:
        """Raw term counts of these nodes, one row each (new nodes from their prints)."""
        missing = [n for n in numbers if n >= 0 and n not in self._terms]
        if missing:
            if len(self._terms) + len(missing) > _TERM_CACHE:
                self._terms.clear()
            for seq, blob in self.store.articles(missing, ("terms",)):
                self._terms[int(seq)] = decode_terms(blob)
        rows = []
        for n in numbers:
            if n >= 0:
                rows.append(self._terms[n])
            else:
                assert new_terms is not None
                rows.append(term_row(new_terms, -1 - n))
        return csr_rows(rows, self.params.n_features)

    # ------------------------------------------------------------------ linking (query and add)

    def _link(self, new: list[Article], prints: Prints, excluded: set[int]) -> _Linked:
        params = self.params
        nodes: dict[int, _Node] = {}
        for i, article in enumerate(new):
            nodes[-1 - i] = _Node(article.id, bytes(prints.exact_keys[i]), _day(article), None,
                                  prints.signatures[i], prints.shingles.row(i), prints.figures.row(i),
                                  article=article, passages=prints.passages.row(i),
                                  passage_positions=prints.passage_positions.row(i), text=article.text)
        new_numbers = [-1 - i for i in range(len(new))]
        new_keys = sorted({nodes[n].key for n in new_numbers})

        # 1. candidates: exact keys, LSH band keys and passage fingerprints, in SQL
        found = {s for s, _ in self.store.exact_candidates(new_keys)}
        nonempty = [n for n in new_numbers if not np.all(nodes[n].signature == EMPTY_SIGNATURE_VALUE)]
        if nonempty:
            keys = self.lsh.band_keys(np.stack([_signature(nodes[n]) for n in nonempty])).view(np.int64)
            wanted = np.unique(np.stack([np.broadcast_to(np.arange(keys.shape[1]), keys.shape).ravel(),
                                         keys.ravel()], axis=1), axis=0)
            found.update(self.store.band_candidates(list(map(tuple, wanted.tolist()))))
        self._load(found - excluded, nodes)

        # 2. the verbatim tier on distinct texts (each the lowest id of its copies, as a scan's)
        by_key, texts, query, stored = self._texts(nodes, new_keys)
        lsh_pairs = self._lsh_pairs(texts, query, stored)
        by_lsh = verify(texts.prints, texts.prints, lsh_pairs, params)
        families = self._families(nodes, texts, by_lsh, by_key, new_numbers)
        # the stored texts sharing fingerprints that are not too common (only those can make pairs)
        fingerprints = np.unique(prints.passages.values)
        fingerprints = fingerprints[families.counts.holding(PASSAGES, fingerprints) <= params.winnow_max_df]
        more = set(self.store.passage_holders(fingerprints.view(np.int64).tolist())) - excluded - set(nodes)
        if more:
            self._load(more, nodes)
            by_key, wider, query, stored = self._texts(nodes, new_keys)
            remap = np.array([wider.position[by_key[nodes[n].key][0]] for n in texts.numbers.tolist()],
                             dtype=np.int64).reshape(-1)
            if np.array_equal(wider.numbers[remap], texts.numbers):  # the same first copies: same pairs
                lsh_pairs = remap[lsh_pairs].reshape(-1, 2)
                by_lsh = Links(remap[by_lsh.pairs].reshape(-1, 2), *(getattr(by_lsh, f) for f in _SCORES))
            else:
                lsh_pairs = self._lsh_pairs(wider, query, stored)
                by_lsh = verify(wider.prints, wider.prints, lsh_pairs, params)
                families = self._families(nodes, wider, by_lsh, by_key, new_numbers)
            texts = wider
        passage_pairs = self._passage_pairs(texts, query, stored, families)
        found_links = Links.concat([by_lsh, passage_links(texts.prints, lsh_pairs, by_lsh, passage_pairs,
                                                          self._runs(nodes, texts.numbers), params)])
        tier = np.concatenate([np.full(len(by_lsh), _VERBATIM, np.int8),
                               np.full(len(found_links) - len(by_lsh), _PASSAGE, np.int8)])
        keep = self._credible(nodes, texts, found_links, families.counts)
        # close LSH links the evidence rejects still join copy families (a scan's families_for_df)
        family_only = ~keep & (tier == _VERBATIM) & (found_links.relation >= relation.NEAR_DUPLICATE)
        tier[family_only] = _FAMILY_ONLY
        keep |= family_only
        text_links, tier = _renumber(found_links.take(keep), texts.numbers), tier[keep]
        exact = self._verify(nodes, _node_pairs([(k, k) for k in new_keys], by_key, nodes, params.max_exact_group))
        expanded, expanded_tier = _expand(text_links, tier, by_key, nodes, params.max_exact_group)
        verbatim = Links.concat([exact, expanded])
        verbatim_tier = np.concatenate([np.full(len(exact), _VERBATIM, np.int8), expanded_tier])

        # 3. representatives of the touched close-copy groups, and the document-frequency change
        credited = verbatim.take(verbatim_tier != _FAMILY_ONLY)
        counted, df_delta, n_delta = self._representatives(nodes, new_numbers, credited, excluded, prints)

        found_parts, tiers = [verbatim], [verbatim_tier]
        topk_new: dict[int, np.ndarray] = {}
        topk_stored: dict[int, np.ndarray] = {}
        if params.same_story is not None and prints.terms is not None:
            story, topk_new, topk_stored = self._same_story(nodes, new_numbers, new_keys, credited, excluded,
                                                            prints, df_delta, n_delta, families.counts)
            found_parts.append(story)
            tiers.append(np.full(len(story), _STORY, np.int8))
        links = Links.concat(found_parts)
        tier = np.concatenate(tiers)
        if params.same_story is not None and prints.terms is not None and len(links):
            links = self._with_cosines(nodes, links, prints, df_delta, n_delta)
        return _Linked(nodes, links, tier, counted, df_delta, n_delta, topk_new, topk_stored, prints.terms, prints,
                       families)

    def _texts(self, nodes: dict[int, _Node],
               new_keys: list[bytes]) -> tuple[dict[bytes, list[int]], _Texts, np.ndarray, np.ndarray]:
        """The distinct texts of the loaded nodes (the first copy of each), and the positions of the
        new texts and of the stored ones among them."""
        by_key = _by_key(nodes)
        new_key_set = set(new_keys)
        texts = self._local(nodes, [members[0] for members in by_key.values()])
        query = np.array([texts.position[by_key[k][0]] for k in new_keys], dtype=np.int64)
        stored = np.array([texts.position[m[0]] for k, m in by_key.items() if k not in new_key_set], dtype=np.int64)
        return by_key, texts, query, stored

    def _local(self, nodes: dict[int, _Node], numbers: Iterable[int]) -> _Texts:
        """Some nodes in id order, with their prints (passages too) and days."""
        ordered = sorted(set(numbers), key=lambda n: nodes[n].id)
        self._load([n for n in ordered if n >= 0], nodes)
        return _Texts(np.array(ordered, dtype=np.int64), {n: i for i, n in enumerate(ordered)},
                      _prints(nodes, ordered), np.array([nodes[n].day for n in ordered], dtype=float))

    def _lsh_pairs(self, texts: _Texts, query: np.ndarray, stored: np.ndarray) -> np.ndarray:
        """LSH candidate pairs of distinct texts (positions, lower first): the query texts against the
        stored ones (``BandedLSH.probe``) and among themselves (the self-join)."""
        signatures = texts.prints.signatures
        parts = [np.empty((0, 2), np.int64)]
        if len(query) and len(stored):
            found = self.lsh.probe(signatures[query], signatures[stored])
            parts.append(np.stack([query[found[:, 0]], stored[found[:, 1]]], axis=1))
        if len(query) > 1:
            parts.append(query[self.lsh.candidate_pairs(signatures[query])].reshape(-1, 2))
        return _sorted_pairs(np.concatenate(parts))

    def _families(self, nodes: dict[int, _Node], texts: _Texts, by_lsh: Links, by_key: dict[bytes, list[int]],
                  new_numbers: list[int]) -> _Families:
        """Copy families after the new texts join: the stored families of the distinct texts, merged by
        the close LSH links (``families_for_df``), and the change of the family frequencies."""
        n = len(texts.numbers)
        stored_family = np.array([next((nodes[m].family for m in by_key[nodes[t].key] if m >= 0), -1)
                                  for t in texts.numbers.tolist()], dtype=np.int64)
        order = np.flatnonzero(stored_family >= 0)
        order = order[np.argsort(stored_family[order], kind="stable")]
        same = stored_family[order][1:] == stored_family[order][:-1]
        edges = np.concatenate([by_lsh.pairs[by_lsh.relation >= relation.NEAR_DUPLICATE],
                                np.stack([order[:-1][same], order[1:][same]], axis=1)])
        labels = families_for_df(n, Links(edges, np.full(len(edges), relation.EXACT, np.int8),
                                          *(np.zeros(len(edges)),) * 5))
        new_text = stored_family < 0
        label_of = {m: int(labels[texts.position[by_key[nodes[m].key][0]]]) for m in new_numbers}
        joined = {label: sorted(set(stored_family[(labels == label) & ~new_text].tolist()))
                  for label in sorted(set(label_of.values()))}
        changed = [label for label, ids in joined.items() if len(ids) > 1 or (new_text & (labels == label)).any()]
        old_of = {label: joined[label] for label in changed}
        counts = FamilyCounts(self._stored_family_df)
        old = sorted({f for ids in old_of.values() for f in ids})
        members = self.store.family_members(old) if old else []
        scratch = {m: nodes[m] for m in members if m in nodes}  # not ``nodes``: the query's own id may be one
        self._load(members, scratch)
        label_of_family = {f: label for label, ids in old_of.items() for f in ids}
        fresh = [int(i) for i in np.flatnonzero(new_text & np.isin(labels, changed))]
        before_groups = np.array([scratch[m].family for m in members], dtype=np.int64)
        after_groups = np.concatenate([[label_of_family[int(f)] for f in before_groups],
                                       labels[fresh]]).astype(np.int64)
        for kind, column in ((SHINGLES, "shingles"), (PASSAGES, "passages")):
            before = Ragged.from_rows([getattr(scratch[m], column) for m in members])
            after = Ragged.concat([before, Ragged.from_rows([getattr(nodes[int(texts.numbers[i])], column)
                                                             for i in fresh])])
            counts.delta[kind] = family_delta(before, before_groups, after, after_groups)
        return _Families(counts, label_of, joined)

    def _stored_family_df(self, kind: int, keys: np.ndarray) -> np.ndarray:
        """Stored family counts of keys (int64), kept in memory while the index does not change
        (this process's own writes keep them up to date: :meth:`_add_family_counts`)."""
        cache = self._family_reads
        if cache.version != self._version or cache.size() > _FAMILY_CACHE:
            cache = self._family_reads = FamilyCounts(self._read_family_df, version=self._version)
        return cache.holding(kind, keys.view(np.uint64))

    def _add_family_counts(self, kind: int, keys: np.ndarray, delta: np.ndarray) -> None:
        """Write a change of family counts, and apply it to the counts kept in memory."""
        self.store.add_family_df(kind, delta_rows(keys, delta))
        self._family_reads.add(kind, keys, delta)

    def _read_family_df(self, kind: int, keys: np.ndarray) -> np.ndarray:
        found = self.store.family_df(kind, keys.tolist())
        return np.fromiter((found.get(k, 0) for k in keys.tolist()), np.int64, len(keys))

    def _passage_pairs(self, texts: _Texts, query: np.ndarray, stored: np.ndarray, families: _Families) -> np.ndarray:
        """Pairs of distinct texts sharing passage fingerprints (positions, lower first): ``probe`` of the
        query texts against the stored ones, ``self_join`` among the query texts, with the family
        frequencies of the whole index."""
        params = self.params
        if not len(query):
            return np.empty((0, 2), np.int64)
        holding = families.counts.of(PASSAGES)

        def postings(rows: np.ndarray) -> Postings:  # families are not read: their counts come from ``holding``
            return Postings.build(texts.prints.passage_prints(rows, params.winnow_k, params.winnow_window),
                                  rows, rows)

        mine, theirs = postings(query), postings(stored)
        options = (params.winnow_min_shared, params.winnow_max_df, params.winnow_max_bucket)
        parts = [probe(mine, theirs, *options, families_holding=holding).pairs]
        if len(query) > 1:
            among = postings_join(theirs.rows(theirs.lookup(mine.keys)).merge(mine), *options,
                                  families_holding=holding).pairs
            parts.append(among[np.isin(among[:, 0], query) & np.isin(among[:, 1], query)])
        return _sorted_pairs(np.concatenate(parts))

    def _runs(self, nodes: dict[int, _Node], numbers: np.ndarray) -> SharedRuns:
        """The shared runs of these nodes (by position), their texts read when a pair needs them."""
        params = self.params
        return SharedRuns(_LazyTexts(self, nodes, numbers), params.winnow_k, params.min_run_words,
                          params.shingle_size)

    def _credible(self, nodes: dict[int, _Node], texts: _Texts, links: Links, counts: FamilyCounts) -> np.ndarray:
        """``credible`` on links between distinct texts (positions of ``texts``), with the shingles
        common to more than ``winnow_max_df`` families of the whole index left out (``informative``)."""
        params = self.params
        check = (links.relation >= relation.DERIVED) & (links.relation != relation.EXACT)
        involved = np.unique(links.pairs[check])
        shingles = np.unique(texts.prints.shingles.take(involved).values)
        common = shingles[counts.holding(SHINGLES, shingles) > params.winnow_max_df]
        rare = informative(texts.prints.shingles, common)
        return credible(links, texts.prints, self._runs(nodes, texts.numbers), texts.days, params, rare)

    def _verify(self, nodes: dict[int, _Node], pairs: list[tuple[int, int]]) -> Links:
        """``verify`` on node pairs ``(a, b)``, ``a`` the lower id; pairs of the result are node numbers."""
        if not pairs:
            return Links.empty()
        numbers, side, local = _local(nodes, pairs)
        return _renumber(verify(side, side, local, self.params), numbers)

    def _representatives(
        self, nodes: dict[int, _Node], new_numbers: list[int], verbatim: Links, excluded: set[int], prints: Prints
    ) -> tuple[dict[int, bool], _DfDelta, int]:
        """Which articles of the touched close-copy groups are counted in the document frequencies
        (``representatives``: the lowest id of each group), and the change it makes to them."""
        close = verbatim.take(verbatim.relation >= relation.NEAR_DUPLICATE)
        stored_links = self._component({int(n) for n in close.pairs.ravel() if n >= 0}, excluded, close_only=True)
        group = Links.concat([close, stored_links])
        members = sorted({int(n) for n in group.pairs.ravel()} | set(new_numbers))
        self._load([n for n in members if n >= 0], nodes, full=False)
        members.sort(key=lambda n: nodes[n].id)
        position = {n: i for i, n in enumerate(members)}
        local = np.array([[position[int(a)], position[int(b)]] for a, b in group.pairs], dtype=np.int64)
        first = representatives(len(members), Links(local.reshape(-1, 2), *(getattr(group, f) for f in _SCORES)))
        flags = np.zeros(len(members), bool)
        flags[first] = True
        counted: dict[int, bool] = {}
        changed: list[tuple[int, int]] = []
        for n, flag in zip(members, flags.tolist(), strict=True):
            before = nodes[n].counted if n >= 0 else False
            counted[n] = flag
            if flag != before:
                changed.append((n, 1 if flag else -1))
        df_delta = _DfDelta()
        if changed and prints.terms is not None:
            rows = self._term_rows(nodes, [n for n, _ in changed], prints.terms)
            df_delta = _DfDelta.of(rows, [sign for _, sign in changed])
        return counted, df_delta, sum(sign for _, sign in changed)

    def _component(self, seqs: set[int], excluded: set[int], close_only: bool,
                   tiers: Sequence[int] = _COUNTED_ONCE) -> Links:
        """The stored links of these tiers in the connected component(s) of these articles (node
        numbers = seqs); ``close_only``: exact and near-duplicate links only."""
        seen = set(seqs) - excluded
        frontier = set(seen)
        rows: dict[tuple[int, int], tuple[Any, ...]] = {}
        while frontier and len(seen) < _MAX_COMPONENT:
            found = self.store.links_of(sorted(frontier), tiers, close_only=close_only)
            frontier = set()
            for row in found:
                a, b = int(row[0]), int(row[1])
                if a in excluded or b in excluded:
                    continue
                rows[(a, b)] = row
                for n in (a, b):
                    if n not in seen:
                        seen.add(n)
                        frontier.add(n)
        return links_from_rows(list(rows.values()))

    def _same_story(
        self,
        nodes: dict[int, _Node],
        new_numbers: list[int],
        new_keys: list[bytes],
        known: Links,
        excluded: set[int],
        prints: Prints,
        df_delta: _DfDelta,
        n_delta: int,
        counts: FamilyCounts,
    ) -> tuple[Links, dict[int, np.ndarray], dict[int, np.ndarray]]:
        """Same-story links of the new texts: their ``k`` nearest stored (or new) texts in the window,
        and the stored texts whose own ``k``-th best cosine they reach; verified verbatim first."""
        params = self.params
        assert params.same_story is not None
        k = params.story_neighbours
        # each new text is searched as a scan searches it: from its first copy (lowest id, new or stored)
        by_key_all = _by_key(nodes)
        by_key_new = _by_key({n: nodes[n] for n in new_numbers})
        rows = [by_key_all[key][0] for key in new_keys]
        new_key_set = set(new_keys)
        own: list[_Near] = []
        every: list[_Near] = []
        beaten: set[int] = set()
        for group in _time_groups([nodes[n].day for n in rows], params.window_days):
            self._neighbours(nodes, [rows[i] for i in group], rows, new_key_set, excluded, prints, df_delta,
                             n_delta, own, every, None if self._in_write else beaten)
        best: dict[tuple[int, int], list[float]] = {}
        for near in own:
            best.setdefault((near.row, near.row_part), []).append(near.score)
        topk_new = {}
        for n in rows:
            found = [best.get((n, part), []) for part in range(1 + self._n_windows(nodes, n, prints))]
            for member in by_key_new[nodes[n].key]:
                topk_new[member] = topk_rows(found, k)
        stored = [near for near in every if near.column >= 0]
        topk_stored: dict[int, np.ndarray] = {}
        if self._in_write:  # an add: the stored k-th best cosines (see the README's limits)
            unread = sorted({near.column for near in stored if nodes[near.column].topk is _UNREAD})
            for seq, blob in self.store.topk(unread).items():
                nodes[seq].topk = np.frombuffer(blob, np.float32)
            reverse = [(near.row, near.column) for near in stored
                       if near.shared and near.score >= kth_best(nodes[near.column].topk, near.column_part, k)]
            for near in stored:
                current = topk_stored.get(near.column, topk_matrix(nodes[near.column].topk, k))
                topk_stored[near.column] = enter_topk(current, near.column_part, near.score, k)
        else:  # a query: the k best of each stored text it reaches, searched now with the current weights
            reverse = self._entered(nodes, stored, own, beaten, rows, new_key_set, excluded, prints, df_delta,
                                    n_delta)
        candidates = sorted({(near.row, near.column) for near in own if near.shared} | set(reverse))
        known_texts = {frozenset((nodes[int(a)].key, nodes[int(b)].key)) for a, b in known.pairs}
        text_pairs = []
        for r, c in candidates:
            a, b = sorted((r, c), key=lambda n: nodes[n].id)
            if frozenset((nodes[a].key, nodes[b].key)) not in known_texts:
                text_pairs.append((a, b))
        text_pairs = sorted(set(text_pairs))
        if not text_pairs:
            return Links.empty(), topk_new, topk_stored
        self._load([n for p in text_pairs for n in p if n >= 0], nodes)
        copies = self._verify(nodes, text_pairs)
        if len(copies):  # the evidence decides which verified copies are copies (the others: same_story)
            local = self._local(nodes, copies.pairs.ravel().tolist())
            in_local = _relabel(copies, local.position)
            copies = copies.take(self._credible(nodes, local, in_local, counts))
        verbatim = {(int(a), int(b)) for a, b in copies.pairs}
        story = [p for p in text_pairs if p not in verbatim]
        # every copy of each text takes its links (as a scan's expand)
        stored_keys = sorted({nodes[n].key for p in text_pairs for n in p if n >= 0})
        copies_of = [s for s, _ in self.store.exact_candidates(stored_keys) if s not in excluded]
        self._load(copies_of, nodes)
        loaded = set(copies_of)
        everyone = {n: node for n, node in nodes.items() if n < 0 or n in loaded}
        groups = _by_key(everyone)
        expanded_copies = _node_pairs([(nodes[a].key, nodes[b].key) for a, b in sorted(verbatim)], groups, nodes,
                                       params.max_exact_group)
        expanded_story = _node_pairs([(nodes[a].key, nodes[b].key) for a, b in story], groups, nodes,
                                      params.max_exact_group)
        copies = self._verify(nodes, expanded_copies)
        return Links.concat([copies, self._same_story_links(nodes, expanded_story)]), topk_new, topk_stored

    def _entered(self, nodes: dict[int, _Node], stored: list[_Near], own: list[_Near], beaten: set[int],
                 rows: list[int], new_keys: set[bytes], excluded: set[int], prints: Prints, df_delta: _DfDelta,
                 n_delta: int) -> list[tuple[int, int]]:
        """Pairs ``(row, stored)`` where a new row is among the ``k`` best of a stored text it reaches
        (sharing enough terms): each such stored text searched as a scan of (index + new) searches it,
        ``probe_neighbours`` over its own window with the current weights and the new rows among the
        columns. Exact where a ``k``-th best kept from an earlier add is not (the weights drift).
        Not searched: texts already paired with every new row (``own``), and those ``beaten`` (``k``
        rows of other texts above every new row's cosine with them, found in the new rows' window)."""
        taken = {(near.row, near.column) for near in own if near.shared}
        reached = sorted({near.column for near in stored if near.shared and near.column not in beaten
                          and any((r, near.column) not in taken for r in rows)}, key=lambda n: nodes[n].id)
        if not reached:
            return []
        found: list[_Near] = []
        for group in _time_groups([nodes[n].day for n in reached], self.params.window_days):
            self._neighbours(nodes, [reached[i] for i in group], rows, new_keys, excluded, prints, df_delta,
                             n_delta, found, None)
        mine = set(rows)
        return [(near.column, near.row) for near in found if near.shared and near.column in mine]

    def _same_story_links(self, nodes: dict[int, _Node], pairs: list[tuple[int, int]]) -> Links:
        """``same_story`` links of node pairs, with their shingle overlaps (as ``story_links`` gives them)."""
        if not pairs:
            return Links.empty()
        numbers, side, local = _local(nodes, pairs)
        overlaps = Overlaps.compute(side.shingles, side.shingles, local)
        return _renumber(Links.from_overlaps(local, relation.codes(len(local), relation.SAME_STORY), overlaps), numbers)

    def _neighbours(
        self,
        nodes: dict[int, _Node],
        rows: list[int],
        batch_rows: list[int],
        new_keys: set[bytes],
        excluded: set[int],
        prints: Prints,
        df_delta: _DfDelta,
        n_delta: int,
        own: list[_Near],
        every: list[_Near] | None,
        beaten: set[int] | None = None,
    ) -> None:
        """``probe_neighbours`` for some new texts (close in time) against the first copies in their
        window and the batch's other texts: each row's ``k`` best (``own``) and every pair above
        the threshold (``every``), with whether they share enough weighted terms; ``beaten``: the
        stored texts reached that cannot take a new row into their ``k`` best (:func:`_beaten`)."""
        params = self.params
        assert params.same_story is not None
        k = params.story_neighbours
        days = np.array([nodes[n].day for n in rows])
        low = high = None
        if params.window_days is not None and np.isfinite(days).all():
            low = float(days.min()) - params.window_days - _EPSILON_DAYS
            high = float(days.max()) + params.window_days + _EPSILON_DAYS
        if self._in_write:
            window = self.store.window(low, high)
        else:
            window = self._sharing(self._weighted_terms(nodes, rows, prints, df_delta, n_delta), low, high)
        info = {w[0]: w for w in window if w[0] not in excluded and w[2] not in new_keys}
        for seq, article_id, key, day in info.values():
            if seq not in nodes:
                nodes[seq] = _Node(article_id, key, math.nan if day is None else float(day), seq, topk=_UNREAD)
        entries = sorted([(w[1], w[0]) for w in info.values()] + [(nodes[n].id, n) for n in batch_rows])
        columns = [n for _, n in entries]
        # stacked as story_links stacks them: every text, then the windows of each long one
        windows, offsets = self._window_rows(columns, prints)
        counts = sp.vstack([self._term_rows(nodes, columns, prints.terms), windows]).tocsr()
        used, compact = compact_columns(counts)
        vectors = self._idf(df_delta, n_delta, used).transform(compact)
        sizes = np.diff(offsets)
        owner = np.concatenate([np.arange(len(columns)), np.repeat(np.arange(len(columns)), sizes)])
        part = np.concatenate([np.zeros(len(columns), np.int64), np.arange(int(offsets[-1])) -
                               np.repeat(offsets[:-1], sizes) + 1])
        column_days = np.array([info[n][3] if n in info else nodes[n].day for n in columns], dtype=float)[owner]
        column_of = {n: i for i, n in enumerate(columns)}
        mine = np.array([column_of[n] for n in rows])
        stacked_rows = np.flatnonzero(np.isin(owner, mine))
        row_vectors, row_days, row_owner = vectors[stacked_rows], column_days[stacked_rows], owner[stacked_rows]
        extra = int(1 + sizes[mine].max()) if len(mine) else 1  # the rows of a text's own that can be among its best
        searches = [(k + extra, own)] + ([(len(owner), every)] if every is not None else [])
        for width, out in searches:
            pairs, scores = probe_neighbours(row_vectors, row_days, vectors, column_days, k=width,
                                             min_cosine=params.same_story, window_days=params.window_days,
                                             min_shared_terms=0)
            keep = row_owner[pairs[:, 0]] != owner[pairs[:, 1]]
            pairs, scores = pairs[keep], scores[keep]
            if width == k + extra:
                best = np.sort(best_per_row(pairs[:, 0], pairs[:, 1], scores, k))
                pairs, scores = pairs[best], scores[best]
            shared = shared_terms(row_vectors, vectors, pairs) >= params.story_min_terms \
                if len(pairs) else np.zeros(0, bool)
            r, c = stacked_rows[pairs[:, 0]], pairs[:, 1]
            if out is every and beaten is not None:
                stored_column = ~np.isin(owner[c], mine)
                beaten.update(columns[int(n)] for n in _beaten(vectors, column_days, owner, mine, c[stored_column],
                                                               scores[stored_column], k, params.window_days))
            out.extend(_Near(columns[a], int(pa), columns[b], int(pb), float(score), bool(ok))
                       for a, pa, b, pb, score, ok in zip(owner[r].tolist(), part[r].tolist(), owner[c].tolist(),
                                                          part[c].tolist(), scores.tolist(), shared.tolist(),
                                                          strict=True))

    def _weighted_terms(self, nodes: dict[int, _Node], rows: list[int], prints: Prints,
                        df_delta: _DfDelta, n_delta: int) -> np.ndarray:
        """The terms of these texts that have a weight (not too common) with the current frequencies."""
        used = np.unique(self._term_rows(nodes, rows, prints.terms).indices).astype(np.int64)
        return used[self._idf(df_delta, n_delta, used).weights > 0]

    def _sharing(self, terms: np.ndarray, low: float | None,
                 high: float | None) -> list[tuple[int, str, bytes, float | None]]:
        """The stored first copies dated in ``[low, high]`` (any date when None) or undated that hold
        any of these terms: the only ones whose cosine with texts made of them can be above 0, so the
        only columns the search needs (``probe_neighbours`` keeps no column below ``same_story`` > 0).
        From an in-memory copy of every first copy's term counts (read once; this process's writes
        keep it up to date, another process's make it read again)."""
        everyone = self._everyone
        if everyone is None or everyone.version != self._version:
            everyone = self._everyone = FirstCopies(self._version, self.store.first_copies(), self.params.n_features)
        return everyone.holding(terms, low, high)

    def _follow_first_copies(self, keys: list[bytes]) -> None:
        """Inside a write: the in-memory first copies of these texts re-read (see :class:`FirstCopies`)."""
        everyone = self._everyone
        if everyone is not None and everyone.version == self._version and keys:
            everyone.replace(keys, self.store.first_copies(keys))
            everyone.followed = True

    def _n_windows(self, nodes: dict[int, _Node], n: int, prints: Prints) -> int:
        """How many windows an article has (long ones only)."""
        if n < 0:
            return len(new_windows(prints, -1 - n))
        if n not in self._windows:
            self._window_rows([n], prints)
        return len(self._windows[n])

    def _with_cosines(self, nodes: dict[int, _Node], links: Links, new: Prints,
                      df_delta: _DfDelta, n_delta: int) -> Links:
        """``with_cosines`` on the linked articles: whole articles and the windows of long ones, weighted
        with the index's document frequencies (over the terms in use: the same values)."""
        numbers = sorted({int(n) for n in links.pairs.ravel()}, key=lambda n: nodes[n].id)
        counts = self._term_rows(nodes, numbers, new.terms)
        windows, offsets = self._window_rows(numbers, new)
        used, compact = compact_columns(sp.vstack([counts, windows]).tocsr())
        idf = self._idf(df_delta, n_delta, used)
        terms, window_counts = compact[: len(numbers)], compact[len(numbers) :]
        side = Prints(np.zeros(len(numbers), "S16"), Ragged.empty(len(numbers)), Ragged.empty(len(numbers)),
                      np.zeros((len(numbers), 1), np.uint32), terms, window_counts, offsets)
        position = {n: i for i, n in enumerate(numbers)}
        local = _relabel(links, position)
        return _renumber(with_cosines(local, side, idf, idf.transform(terms)), np.array(numbers, dtype=np.int64))

    def _window_rows(self, numbers: Sequence[int], new: Prints) -> tuple[sp.csr_matrix, np.ndarray]:
        """Term counts of the windows of these articles (long ones have some) and their offsets."""
        missing = [n for n in numbers if n >= 0 and n not in self._windows]
        if missing:
            if len(self._windows) + len(missing) > _TERM_CACHE:
                self._windows.clear()
            for seq, blob in self.store.articles(missing, ("windows",)):
                self._windows[int(seq)] = decode_windows(blob)
        rows: list[tuple[np.ndarray, np.ndarray]] = []
        sizes = []
        for n in numbers:
            found = self._windows[n] if n >= 0 else new_windows(new, -1 - n)
            rows.extend(found)
            sizes.append(len(found))
        offsets = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
        return csr_rows(rows, self.params.n_features), offsets

    # ------------------------------------------------------------------ the query's cluster and passages

    def _describe(self, article: Article, linked: _Linked, excluded: set[int]) -> QueryResult:
        params = self.params
        nodes, links = linked.nodes, linked.reported()
        matched = sorted({int(n) for n in links.pairs.ravel() if n >= 0})
        stored = self._component(set(matched), excluded, close_only=False, tiers=_REPORTED)
        self._load({int(n) for n in stored.pairs.ravel()}, nodes, full=False)
        if linked.new_prints is not None and linked.new_terms is not None and len(stored):
            stored = self._with_cosines(nodes, stored, linked.new_prints, linked.df_delta, linked.n_delta)
        every = Links.concat([links, stored])
        members = sorted({int(n) for n in every.pairs.ravel()} | {-1}, key=lambda n: nodes[n].id)
        position = {n: i for i, n in enumerate(members)}
        local = _relabel(every, position)
        families = family_labels(len(members), local, params.min_density)
        labels = story_labels(len(members), local, families, params.story_resolution)
        mine = labels[position[-1]]
        keep = [n for n in members if n == -1 or n in set(matched) or (mine >= 0 and labels[position[n]] == mine)]
        articles = self._articles(nodes, keep, article)
        shown = {n: i for i, n in enumerate(keep)}
        inside = np.array([int(a) in shown and int(b) in shown for a, b in every.pairs], dtype=bool)
        chosen = every.take(inside) if len(every) else every
        local_links = _relabel(chosen, shown)
        sub_labels = np.array([0 if mine >= 0 and labels[position[n]] == mine else -1 for n in keep], np.int64)
        sub_families = np.where(sub_labels >= 0, families[[position[n] for n in keep]], -1)
        # only links inside the cluster and the query's own links are reported
        own = np.any(local_links.pairs == shown[-1], axis=1) if len(local_links) else np.zeros(0, bool)
        in_cluster = (sub_labels[local_links.pairs[:, 0]] >= 0) & (sub_labels[local_links.pairs[:, 1]] >= 0) \
            if len(local_links) else np.zeros(0, bool)
        local_links = local_links.take(own | in_cluster)
        shingles = Ragged.from_rows([self._shingles(nodes, n) for n in keep])
        idf = self._idf(linked.df_delta, linked.n_delta, None) if params.same_story is not None else None
        passages = attribute(articles, shingles, sub_labels, idf, params)
        result = assemble(articles, [], local_links, sub_labels, sub_families, passages,
                          *provenance(articles, passages, sub_labels, local_links))
        # the spans of the query's own pairs only (a scan reports them for every pair)
        runs = SharedRuns([a.text for a in articles], params.winnow_k, params.min_run_words, params.shingle_size)
        ids = [a.id for a in articles]
        spans = {ids[int(b if a == shown[-1] else a)]: link_spans(local_links, k, runs)
                 for k, (a, b) in enumerate(local_links.pairs.tolist()) if shown[-1] in (a, b)}
        me = result.article(article.id)
        matches = []
        for pair in sorted(result.pairs, key=pair_order):
            if article.id not in (pair.a, pair.b):
                continue
            other, query_first = (pair.b, True) if pair.a == article.id else (pair.a, False)
            other_article = articles[[a.id for a in articles].index(other)]
            matches.append(Match(
                id=other,
                relation=pair.relation,
                jaccard=pair.jaccard,
                containment_query_in_match=pair.containment_a_in_b if query_first else pair.containment_b_in_a,
                containment_match_in_query=pair.containment_b_in_a if query_first else pair.containment_a_in_b,
                cosine=pair.cosine,
                source=pair.source,
                spans=spans.get(other, []),
                title=other_article.title,
                outlet=other_article.outlet,
                published=other_article.published,
            ))
        cluster = result.clusters[0] if result.clusters and me.cluster else None
        return QueryResult(matches, me.passages, me.added_sections, cluster, article.id)

    def _shingles(self, nodes: dict[int, _Node], n: int) -> np.ndarray:
        if nodes[n].shingles is None:
            self._load([n], nodes)
        shingles = nodes[n].shingles
        assert shingles is not None
        return shingles

    def _articles(self, nodes: dict[int, _Node], numbers: list[int], query: Article) -> list[Article]:
        rows = {int(r[0]): r[1:] for r in self.store.articles(
            [n for n in numbers if n >= 0], ("id", "text", "title", "outlet", "url", "published", "extra"))}
        return [query if n < 0 else article_of(*rows[n]) for n in numbers]

    # ------------------------------------------------------------------ writing

    @_locked
    def _write_batch(self, batch: list[Article]) -> int:
        batch = sorted(batch, key=lambda a: a.id)
        prints = fingerprint([a.text for a in batch], self.params)
        with self._writing():
            self._sync()
            replaced = self.store.seqs_of_ids([a.id for a in batch])
            if replaced:
                self._remove(list(replaced.values()))
            linked = self._link(batch, prints, set())
            next_seq = int(self._meta["next_seq"])
            seq_of = {-1 - i: next_seq + i for i in range(len(batch))}
            self._meta["next_seq"] = str(next_seq + len(batch))
            family_of = self._write_families(linked, seq_of)
            rows = []
            for i, article in enumerate(batch):
                node = linked.nodes[-1 - i]
                terms = term_row(prints.terms, i) if prints.terms is not None else None
                rows.append((
                    seq_of[-1 - i], article.id, article.published.isoformat() if article.published else None,
                    None if math.isnan(node.day) else node.day, article.outlet, article.title, article.url,
                    article.text, extra_of(article), node.key, prints.signatures[i].tobytes(),
                    prints.shingles.row(i).tobytes(), prints.figures.row(i).tobytes(),
                    terms[0].tobytes() + terms[1].tobytes() if terms is not None else None,
                    encode_windows(new_windows(prints, i)),
                    int(linked.counted.get(-1 - i, True)),
                    linked.topk_new.get(-1 - i, np.empty(0, np.float32)).astype(np.float32).tobytes(),
                    prints.passages.row(i).tobytes(), prints.passage_positions.row(i).astype(np.int64).tobytes(),
                    family_of[-1 - i],
                ))
                if terms is not None:
                    self._terms[seq_of[-1 - i]] = terms
            self.store.insert_articles(rows)
            self.store.insert_passages(passage_rows([seq_of[-1 - i] for i in range(len(batch))], prints.passages))
            nonempty = [i for i in range(len(batch)) if not np.all(prints.signatures[i] == EMPTY_SIGNATURE_VALUE)]
            if nonempty:
                keys = self.lsh.band_keys(prints.signatures[nonempty]).view(np.int64)
                self.store.insert_bands(band_rows(keys, np.array([seq_of[-1 - i] for i in nonempty])))
            self.store.insert_links(link_rows(linked.links, linked.tier, lambda n: seq_of.get(n, n)))
            self.store.set_counted([(n, int(flag)) for n, flag in linked.counted.items() if n >= 0])
            self.store.renumber_copies(sorted({bytes(k) for k in prints.exact_keys}))
            self._follow_first_copies(sorted({bytes(k) for k in prints.exact_keys}))
            self.store.set_topk([(seq, blob.tobytes()) for seq, blob in linked.topk_stored.items()])
            self._apply_df(linked.df_delta, linked.n_delta)
            self._commit_meta()
        return len(batch)

    def _write_families(self, linked: _Linked, seq_of: dict[int, int]) -> dict[int, int]:
        """The copy family of each new article (the lowest stored family it joins, else its label's
        lowest seq), the stored families merged into it, and the new family frequencies."""
        families = linked.families
        assert families is not None
        fresh: dict[int, int] = {}
        for n, label in sorted(families.label_of.items(), key=lambda item: seq_of[item[0]]):
            fresh.setdefault(label, seq_of[n])
        family_of = {}
        for n, label in families.label_of.items():
            joined = families.joined.get(label, [])
            family_of[n] = joined[0] if joined else fresh[label]
        for joined in families.joined.values():
            if len(joined) > 1:
                self.store.merge_families(joined[0], joined[1:])
        for kind, (keys, delta) in families.counts.delta.items():
            self._add_family_counts(kind, keys, delta)
        return family_of

    def _remove_families(self, gone: set[int], nodes: dict[int, _Node]) -> None:
        """Copy families after articles leave: the rest of each family they were in, split into the
        connected parts of its family links (``families_for_df``), each numbered by its lowest seq;
        the family frequencies follow."""
        members = self.store.family_members(sorted({_family(nodes[n]) for n in gone}))
        self._load(members, nodes)
        remaining = [m for m in members if m not in gone]
        position = {m: i for i, m in enumerate(remaining)}
        stored = self._component(set(remaining), gone, close_only=True, tiers=_FAMILY)
        inside = [k for k, (a, b) in enumerate(stored.pairs.tolist()) if a in position and b in position]
        edges = [(position[int(a)], position[int(b)]) for a, b in stored.pairs[inside].tolist()]
        by_key: dict[bytes, int] = {}
        for m in remaining:  # copies of one text are one text, linked to its first copy or not
            first = by_key.setdefault(nodes[m].key, position[m])
            if first != position[m]:
                edges.append((first, position[m]))
        pairs = np.array(edges, dtype=np.int64).reshape(-1, 2)
        labels = families_for_df(len(remaining), Links(pairs, np.full(len(pairs), relation.EXACT, np.int8),
                                                       *(np.zeros(len(pairs)),) * 5))
        lowest = {int(label): remaining[int(np.flatnonzero(labels == label)[0])] for label in np.unique(labels)}
        after = np.array([lowest[int(label)] for label in labels], dtype=np.int64)
        self.store.set_family([(m, int(f)) for m, f in zip(remaining, after.tolist(), strict=True)
                               if f != nodes[m].family])
        before = np.array([_family(nodes[m]) for m in members], dtype=np.int64)
        for kind, column in ((SHINGLES, "shingles"), (PASSAGES, "passages")):
            keys, delta = family_delta(Ragged.from_rows([getattr(nodes[m], column) for m in members]), before,
                                       Ragged.from_rows([getattr(nodes[m], column) for m in remaining]), after)
            self._add_family_counts(kind, keys, delta)
        for m, f in zip(remaining, after.tolist(), strict=True):
            nodes[m].family = int(f)

    def _remove(self, seqs: list[int]) -> None:
        """Delete articles inside the current write transaction; promote new representatives."""
        gone = set(seqs)
        nodes: dict[int, _Node] = {}
        self._load(seqs, nodes)
        group = self._component(gone, set(), close_only=True)
        members = sorted({int(n) for n in group.pairs.ravel()} | gone)
        self._load(members, nodes, full=False)
        remaining = sorted((n for n in members if n not in gone), key=lambda n: nodes[n].id)
        position = {n: i for i, n in enumerate(remaining)}
        inside = np.array([int(a) in position and int(b) in position for a, b in group.pairs], dtype=bool)
        kept = group.take(inside) if len(group) else group
        flags = np.zeros(len(remaining), bool)
        flags[representatives(len(remaining), _relabel(kept, position))] = True
        changed = [(n, -1) for n in seqs if nodes[n].counted]
        changed += [(n, 1 if flag else -1) for n, flag in zip(remaining, flags.tolist(), strict=True)
                    if flag != nodes[n].counted]
        delta = _DfDelta()
        if changed and self.params.same_story is not None:
            rows = self._term_rows(nodes, [n for n, _ in changed], None)
            delta = _DfDelta.of(rows, [sign for _, sign in changed])
        self.store.set_counted([(n, int(flag)) for n, flag in zip(remaining, flags.tolist(), strict=True)
                                if flag != nodes[n].counted])
        band_rows = []
        for n in seqs:
            signature = nodes[n].signature
            assert signature is not None
            if not np.all(signature == EMPTY_SIGNATURE_VALUE):
                keys = self.lsh.band_keys(signature[None, :]).view(np.int64)[0]
                band_rows += [(band, int(k), n) for band, k in enumerate(keys.tolist())]
        self.store.delete_bands(band_rows)
        self._remove_families(gone, nodes)
        self.store.delete_passages(passage_rows(seqs, Ragged.from_rows([_or_empty(nodes[n].passages, np.uint64)
                                                                         for n in seqs])))
        self.store.delete_articles(seqs)
        self.store.renumber_copies(sorted({nodes[n].key for n in seqs}))
        self._follow_first_copies(sorted({nodes[n].key for n in seqs}))
        self._apply_df(delta, sum(sign for _, sign in changed))
        for n in seqs:
            self._terms.pop(n, None)
            self._windows.pop(n, None)


# ---------------------------------------------------------------------- helpers (no maths: shapes and rows)

_SCORES = ("relation", "shared", "jaccard", "containment_a_in_b", "containment_b_in_a", "cosine")


def _local(nodes: dict[int, _Node], pairs: list[tuple[int, int]]) -> tuple[np.ndarray, Prints, np.ndarray]:
    """The nodes of some pairs in id order, their prints, and the pairs as positions among them."""
    numbers = sorted({n for p in pairs for n in p}, key=lambda n: nodes[n].id)
    position = {n: i for i, n in enumerate(numbers)}
    local = np.array([[position[a], position[b]] for a, b in pairs], dtype=np.int64)
    return np.array(numbers, dtype=np.int64), _prints(nodes, numbers), local


def _as_article(item: str | Article, fields: dict[str, Any], default_id: str) -> Article:
    if isinstance(item, Article):
        if fields:
            raise TypeError("query(article) takes no other arguments")
        return item
    if not isinstance(item, str):
        raise TypeError(f"expected a text or an Article, got {type(item).__name__}")
    unknown = set(fields) - {"id", "published", "outlet", "title", "url"}
    if unknown:
        raise TypeError(f"unknown fields: {', '.join(sorted(unknown))} (known: published, outlet, title, url)")
    return Article(id=str(fields.pop("id", default_id)), text=item, **fields)


def _signature(node: _Node) -> np.ndarray:
    assert node.signature is not None
    return node.signature


def _day(article: Article) -> float:
    return article.published.timestamp() / 86400.0 if article.published else math.nan


def _by_key(nodes: dict[int, _Node]) -> dict[bytes, list[int]]:
    """Nodes of each exact key, lowest id first."""
    out: dict[bytes, list[int]] = {}
    for n in sorted(nodes, key=lambda n: nodes[n].id):
        if nodes[n].shingles is not None or n < 0:
            out.setdefault(nodes[n].key, []).append(n)
    return out


def _node_pairs(text_pairs: list[tuple[bytes, bytes]], by_key: dict[bytes, list[int]],
                nodes: dict[int, _Node], max_group: int) -> list[tuple[int, int]]:
    """Every pair of articles carrying a pair of texts, one of them new, lower id first.

    As in a scan (``exact_pairs``, ``expand``): the copies of a text held by more
    than ``max_group`` articles pair with its first copy only, and only that first
    copy takes the text's links to other texts.
    """
    out: set[tuple[int, int]] = set()
    for first, second in text_pairs:
        left, right = by_key.get(first, []), by_key.get(second, [])
        if first == second and len(left) > max_group:
            candidates = [(left[0], other) for other in left[1:]]
        else:
            if len(left) > max_group:
                left = left[:1]
            if len(right) > max_group:
                right = right[:1]
            candidates = [(a, b) for a in left for b in right]
        for a, b in candidates:
            if a != b and (a < 0 or b < 0):
                out.add((a, b) if nodes[a].id < nodes[b].id else (b, a))
    return sorted(out, key=lambda p: (nodes[p[0]].id, nodes[p[1]].id))


def _prints(nodes: dict[int, _Node], numbers: list[int]) -> Prints:
    """The prints of some nodes (no term counts)."""
    chosen = [nodes[n] for n in numbers]
    for node in chosen:
        assert node.shingles is not None and node.figures is not None and node.signature is not None
    signatures = np.stack([_signature(node) for node in chosen]) if chosen else np.empty((0, 1), np.uint32)
    return Prints(np.array([node.key for node in chosen], dtype="S16"),
                  Ragged.from_rows([node.figures for node in chosen]),  # type: ignore[misc]
                  Ragged.from_rows([node.shingles for node in chosen]),  # type: ignore[misc]
                  signatures, None,
                  passages=Ragged.from_rows([_or_empty(node.passages, np.uint64) for node in chosen]),
                  passage_positions=Ragged.from_rows([_or_empty(node.passage_positions, np.int64)
                                                      for node in chosen], dtype=np.int64))


def _family(node: _Node) -> int:
    assert node.family is not None
    return node.family


def _or_empty(values: np.ndarray | None, dtype: type) -> np.ndarray:
    return values if values is not None else np.empty(0, dtype)


def _sorted_pairs(pairs: np.ndarray) -> np.ndarray:
    """Distinct pairs, lower position first, sorted."""
    pairs = np.sort(np.asarray(pairs, dtype=np.int64).reshape(-1, 2), axis=1)
    return np.unique(pairs, axis=0) if len(pairs) else pairs


def _expand(links: Links, tier: np.ndarray, by_key: dict[bytes, list[int]], nodes: dict[int, _Node],
            max_group: int) -> tuple[Links, np.ndarray]:
    """Links between distinct texts (node numbers) given to every copy of each end that makes a pair
    with a new article (``_node_pairs``: the scan's ``expand`` with its cap), with their tier."""
    chosen, swapped, pairs = [], [], []
    for k, (a, b) in enumerate(links.pairs.tolist()):
        for x, y in _node_pairs([(nodes[a].key, nodes[b].key)], by_key, nodes, max_group):
            chosen.append(k)
            swapped.append(nodes[x].key != nodes[a].key)
            pairs.append((x, y))
    if not chosen:
        return Links.empty(), np.empty(0, np.int8)
    grown, swap = links.take(np.array(chosen)), np.array(swapped)
    return Links(np.array(pairs, dtype=np.int64), grown.relation, grown.shared, grown.jaccard,
                 np.where(swap, grown.containment_b_in_a, grown.containment_a_in_b),
                 np.where(swap, grown.containment_a_in_b, grown.containment_b_in_a),
                 grown.cosine), tier[np.array(chosen)]


def _renumber(links: Links, numbers: np.ndarray) -> Links:
    return Links(numbers[links.pairs].reshape(-1, 2), *(getattr(links, f) for f in _SCORES))


def _relabel(links: Links, position: dict[int, int]) -> Links:
    local = np.array([[position[int(a)], position[int(b)]] for a, b in links.pairs], dtype=np.int64)
    return Links(local.reshape(-1, 2), *(getattr(links, f) for f in _SCORES))


def _beaten(vectors: sp.csr_matrix, days: np.ndarray, owner: np.ndarray, new: np.ndarray, reached: np.ndarray,
            scores: np.ndarray, k: int, window_days: float | None) -> np.ndarray:
    """Owners of stacked rows ``reached`` (stored texts, with the new rows' cosines ``scores``) whose
    every reached row has at least ``k`` rows of other stored texts in its window above the best new
    cosine with it (by more than float rounding): such a text's ``k`` best take no new row, whatever
    the columns outside this window (they can only add rows above). ``new``: the new texts' owners."""
    if not len(reached):
        return np.empty(0, np.int64)
    rows, inverse = np.unique(reached, return_inverse=True)
    best = np.full(len(rows), -np.inf)
    np.maximum.at(best, inverse.ravel(), scores)
    found = (vectors[rows] @ vectors.T).toarray()
    if window_days is not None:
        found[np.abs(days[rows, None] - days[None, :]) > window_days] = -1.0
    found[(owner[rows, None] == owner[None, :]) | np.isin(owner, new)[None, :]] = -1.0
    full = (found > best[:, None] + _ROUNDING).sum(axis=1) >= k
    texts = owner[rows]
    return np.setdiff1d(texts[full], texts[~full])


def _time_groups(days: list[float], window_days: float | None) -> list[list[int]]:
    """Positions of new texts in groups searched together: dated ones in time order, each group
    spanning at most ``window_days`` (a batch from a whole year does not read the whole year
    for every article); undated ones, or all without a window, as one group."""
    order = sorted(range(len(days)), key=lambda i: (math.isnan(days[i]), days[i] if not math.isnan(days[i]) else 0))
    if window_days is None:
        return [order] if order else []
    groups: list[list[int]] = []
    undated = [i for i in order if math.isnan(days[i])]
    for i in (i for i in order if not math.isnan(days[i])):
        if groups and days[i] - days[groups[-1][0]] <= max(window_days, 1e-9):
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups + ([undated] if undated else [])


