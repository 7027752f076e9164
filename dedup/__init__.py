"""dedup: find duplicate and derivative news content.

Load articles, then :class:`Scanner` finds which carry the same wire copy
(Jaccard and containment, both directions), which are rewrites of one story
(TF-IDF cosine), the likely origin, and the passages each outlet added.

>>> from dedup import Scanner, load_articles
>>> articles, skipped = load_articles("samples/")
>>> result = Scanner().scan(articles)
"""

from . import relation
from .article import Article, Skipped
from .index import Index, Match, QueryResult
from .load import iter_articles, load_articles
from .params import Params
from .pipeline import Scanner
from .result import ArticleResult, ClusterResult, PairResult, Passage, ScanResult, Section

__all__ = [
    "Article",
    "ArticleResult",
    "ClusterResult",
    "Index",
    "Match",
    "PairResult",
    "Params",
    "Passage",
    "QueryResult",
    "ScanResult",
    "Scanner",
    "Section",
    "Skipped",
    "iter_articles",
    "load_articles",
    "relation",
]
__version__ = "0.1.0"
