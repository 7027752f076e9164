"""The result objects of a scan. Every output (JSON, CSV, table, HTML) is a view of these."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from .article import Skipped

__all__ = ["ArticleResult", "ClusterResult", "Family", "PairResult", "Passage", "ScanResult", "Section"]



@dataclass(slots=True)
class Passage:
    """A paragraph (or sentence of a long one) of ``source``, the article text:
    ``text == source[start:end]``, sliced when asked for, never stored twice.

    ``support`` counts the other cluster members carrying it (verbatim or
    rewritten); ``added`` means none does; ``score`` ranks added passages;
    ``matched`` is the id of the member with the best evidence for it (None when
    no member carries it) and ``verbatim`` whether some member carries it word
    for word (else rewritten).
    """

    source: str = field(repr=False)
    start: int
    end: int
    added: bool = False
    score: float = 0.0
    label: str | None = None
    support: int = 0
    match: float = 0.0
    matched: str | None = None
    verbatim: bool = False

    @property
    def text(self) -> str:
        return self.source[self.start : self.end]

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "start": self.start,
            "end": self.end,
            "added": self.added,
            "score": round(self.score, 4),
            "label": self.label,
            "support": self.support,
            "match": round(self.match, 4),
            "matched": self.matched,
            "verbatim": self.verbatim,
        }


@dataclass
class Section:
    """A maximal run of added passages, labelled."""

    text: str
    start: int
    end: int
    score: float
    label: str | None = None


@dataclass
class ArticleResult:
    id: str
    cluster: str | None = None
    passages: list[Passage] = field(default_factory=list)
    added_sections: list[Section] = field(default_factory=list)
    title: str | None = None
    outlet: str | None = None
    url: str | None = None
    published: datetime | None = None
    wire_credit: str | None = None
    words: int = 0
    text: str | None = None  # the loaded text, given when it is not the file's own (extracted from HTML)


@dataclass
class PairResult:
    a: str
    b: str
    relation: str
    jaccard: float
    containment_a_in_b: float
    containment_b_in_a: float
    cosine: float
    source: str | None = None
    spans: list[dict[str, int]] = field(default_factory=list)  # shared runs: a_start, a_end, b_start, b_end, words


@dataclass
class Family:
    """Articles of one story that carry the same wire copy, with their own origin and core."""

    id: str
    members: list[str]
    origin: str | None = None
    core: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class ClusterResult:
    """A story: the articles about one event; ``families`` are its groups of verbatim copies."""

    id: str
    members: list[str]
    origin: str | None = None
    relations: dict[str, int] = field(default_factory=dict)
    core: list[dict[str, Any]] = field(default_factory=list)
    families: list[Family] = field(default_factory=list)


@dataclass
class ScanResult:
    articles: list[ArticleResult]
    pairs: list[PairResult]
    clusters: list[ClusterResult]
    skipped: list[Skipped] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)

    def to_dict(self, articles: bool = True) -> dict[str, Any]:
        """The JSON report (../shared/DESIGN.md contract, plus extra fields);
        ``articles=False`` leaves the (large) article list out."""
        out = {
            "articles": [self.article_dict(a) for a in self.articles] if articles else [],
            "pairs": [_clean(asdict(p)) for p in self.pairs],
            "clusters": [_clean(asdict(c)) for c in self.clusters],
            "skipped": [{"path": s.path, "line": s.line, "reason": s.reason} for s in self.skipped],
            "stats": _clean(self.stats),
            "params": _clean(self.params),
        }
        if not articles:
            del out["articles"]
        return out

    @staticmethod
    def article_dict(article: ArticleResult) -> dict[str, Any]:
        """One article of the report (passages serialised without copying the article)."""
        fields = {f: getattr(article, f) for f in ArticleResult.__dataclass_fields__ if f != "passages"}
        out = _clean(fields | {"added_sections": [asdict(s) for s in article.added_sections]})
        out["passages"] = [p.to_dict() for p in article.passages]
        return out

    def article(self, article_id: str) -> ArticleResult:
        """The article with this id (``KeyError`` if none)."""
        index = self.__dict__.get("_by_id")
        if index is None or len(index) != len(self.articles):
            index = {item.id: item for item in self.articles}
            self.__dict__["_by_id"] = index
        return index[article_id]


def _clean(value: Any) -> Any:
    """JSON-ready: datetimes as ISO 8601, floats rounded to 4 places."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value
