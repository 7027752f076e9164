"""Is a shared span a quotation? So a verifier can count it apart from copied narration.

Two articles quoting the same statement, or embedding the same tweet, share
its words without one copying the other. :func:`span_kind` says so for a span
of one article's original text:

* ``"quotation"`` -- at least ``min_share`` (default 0.6) of the span's
  letters and digits lie inside quotation marks. Quoted regions are found per
  paragraph: ``“ ... ”`` (and ``« »``, ``„ “``) pair up; straight ``"`` marks
  toggle; a quote still open at the end of a paragraph closes there (news
  style opens every paragraph of a long quote and closes only the last). An
  opening mark inside a word (mojibake such as ``â€“``) opens nothing.
* ``"tweet"`` -- the span, or the rest of its last line (up to 300 characters), carry the marks of
  an embedded tweet: ``pic.twitter.com/``, ``twitter.com/<user>/status``, or
  the embed signature ``— Name (@handle) Month D, YYYY``.
* ``None`` -- anything else (narration).

Deliberately simple: no attribution parsing ("said"), no nesting beyond one level.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np

__all__ = ["count_apart", "quoted_mask", "span_kind"]

_OPEN = {"\u201c": "\u201d", "\u00ab": "\u00bb", "\u201e": "\u201c"}
_TWEET = re.compile(
    r"pic\.twitter\.com/|twitter\.com/\w+/status|"
    r"\(@\w{1,15}\)\s*(January|February|March|April|May|June|July|August|September|October|November|December)"
    r"\s+\d{1,2},\s+\d{4}",
    re.IGNORECASE,
)
_TWEET_LOOKAHEAD = 300
# An opening mark follows white space, the start, or one of these; one inside a word
# (mojibake such as "â€“" for a dash, an inch mark) opens nothing.
_BEFORE_OPENING = "([{\u2014\u2013-:;,/'\u2018"


def quoted_mask(text: str) -> np.ndarray:
    """Boolean per character of ``text``: inside quotation marks (marks included)."""
    mask = np.zeros(len(text), dtype=bool)
    closer: str | None = None
    opened = 0
    for at, char in enumerate(text):
        if char == "\n":
            if closer is not None:
                mask[opened:at] = True
                closer = None
            continue
        if closer is None:
            opens = at == 0 or text[at - 1].isspace() or text[at - 1] in _BEFORE_OPENING
            if char in _OPEN and opens:
                closer, opened = _OPEN[char], at
            elif char == '"' and opens:
                closer, opened = '"', at
        elif char == closer or (closer == '"' and char == "\u201d"):
            mask[opened : at + 1] = True
            closer = None
    if closer is not None:
        mask[opened:] = True
    return mask


def span_kind(text: str, start: int, end: int, min_share: float = 0.6, mask: np.ndarray | None = None) -> str | None:
    """``"tweet"``, ``"quotation"`` or None for ``text[start:end]`` (see the module doc).

    ``mask`` (from :func:`quoted_mask`) may be passed to classify many spans of one text.
    """
    line_end = text.find("\n", max(start, end - 1))
    stop = min(len(text) if line_end < 0 else line_end, end + _TWEET_LOOKAHEAD)
    if _TWEET.search(text, start, max(stop, end)):
        return "tweet"
    inside = quoted_mask(text) if mask is None else mask
    chars = np.fromiter((c.isalnum() for c in text[start:end]), dtype=bool, count=end - start)
    if not chars.any():
        return None
    share = float(np.count_nonzero(inside[start:end] & chars)) / float(np.count_nonzero(chars))
    return "quotation" if share >= min_share else None


def count_apart(text: str, spans: Iterable[tuple[int, int, int]], min_share: float = 0.6) -> dict[str, int]:
    """Words of shared spans ``(start, end, words)`` of ``text`` by kind:
    ``{"narration": ..., "quotation": ..., "tweet": ...}`` -- what a verifier
    weighs separately (copied narration is evidence of copying; a shared
    quotation or tweet is evidence of a shared source)."""
    out = {"narration": 0, "quotation": 0, "tweet": 0}
    mask = quoted_mask(text)
    for start, end, words in spans:
        out[span_kind(text, start, end, min_share, mask) or "narration"] += words
    return out
