"""The result objects of a scan. Every output (JSON, CSV, table, HTML) is a view of these."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from .article import Skipped

__all__ = ["ArticleResult", "ClusterResult", "PairResult", "Passage", "ScanResult", "Section"]

RELATIONS = ("exact", "near_duplicate", "derived", "same_story")
LABELS = ("interview", "boilerplate", "attribution", "byline", "caption")


@dataclass(slots=True)
class Passage:
    """A paragraph (or sentence of a long one): ``text == article.text[start:end]``.

    ``support`` counts the other cluster members carrying it (verbatim or
    rewritten); ``added`` means none does; ``score`` ranks added passages.
    """

    text: str
    start: int
    end: int
    added: bool = False
    score: float = 0.0
    label: str | None = None
    support: int = 0
    match: float = 0.0


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


@dataclass
class ClusterResult:
    id: str
    members: list[str]
    origin: str | None = None
    relations: dict[str, int] = field(default_factory=dict)
    core: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class ScanResult:
    articles: list[ArticleResult]
    pairs: list[PairResult]
    clusters: list[ClusterResult]
    skipped: list[Skipped] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON report (../shared/DESIGN.md contract, plus extra fields)."""

        def clean(value: Any) -> Any:
            if isinstance(value, datetime):
                return value.isoformat()
            if isinstance(value, float):
                return round(value, 4)
            if isinstance(value, dict):
                return {k: clean(v) for k, v in value.items()}
            if isinstance(value, list):
                return [clean(v) for v in value]
            return value

        return {
            "articles": [clean(asdict(a)) for a in self.articles],
            "pairs": [clean(asdict(p)) for p in self.pairs],
            "clusters": [clean(asdict(c)) for c in self.clusters],
            "skipped": [{"path": s.path, "line": s.line, "reason": s.reason} for s in self.skipped],
            "stats": clean(self.stats),
            "params": clean(self.params),
        }

    def article(self, article_id: str) -> ArticleResult:
        for item in self.articles:
            if item.id == article_id:
                return item
        raise KeyError(article_id)
