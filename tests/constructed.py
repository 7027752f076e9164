"""Constructed reuse cases built from real Reuters-21578 stories (read at run time, never stored).

Each builder takes the story pool (:func:`load_stories`) and a seeded
``random.Random`` and returns a :class:`Case`: the article texts, which pairs
truly share copy, and where (character ranges of the planted copy in both
texts). The texts of ``../shared`` are only read; nothing is written.

Builders (issue 9):

* :func:`excerpt_case` -- 2 paragraphs of a wire story inside an article about
  5 times longer made of paragraphs of other stories;
* :func:`halves_case` -- the first halves of two wire stories in one article;
* :func:`truncated_case` -- a figure-rich story cut after about 60 % of its
  paragraphs, with paragraphs full of other figures added;
* :func:`widget_case` -- unrelated articles sharing a share-widget block and a
  quoted tweet (``n_pages`` of them);
* :func:`write_thru_case` -- one wire story in three write-thru versions (each
  adds or changes paragraphs), all carried by one outlet with its footer.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from dedup.normalize import normalize

_PARAGRAPH = re.compile(r"\n\s*&\\t|\n\s*\n")
_DIGIT = re.compile(r"\d")

WIDGET = (
    "A link has been sent to your friend's email address.\n\n"
    "A link has been posted to your Facebook feed.\n\n"
    "To find out more about Facebook commenting please read the Conversation Guidelines and FAQs.\n\n"
    "Join the Conversation: share this story, sign up for our newsletters and get the latest headlines "
    "delivered to your inbox every morning, or follow us on Twitter and Instagram for more."
)
TWEET = (
    "\u201cWe will not be pushed around by anyone, and we will keep fighting for every single job "
    "in this country until the very last day,\u201d the minister wrote on Twitter. "
    "pic.twitter.com/x7Qm2LpZ9a \u2014 Jane Minister (@janeminister) March 3, 2018"
)
FOOTER = (
    "Copyright 2018 The Daily Example. All rights reserved. This material may not be published, broadcast, "
    "rewritten or redistributed without permission. Follow The Daily Example on social media for updates."
)


@dataclass(frozen=True)
class Story:
    id: str
    paragraphs: tuple[str, ...]

    @property
    def words(self) -> int:
        return sum(len(p.split()) for p in self.paragraphs)


@dataclass
class Case:
    """Texts, the pairs that truly share copy, and the planted copy's ranges.

    ``planted[(a, b)]`` lists ``(a_start, a_end, b_start, b_end)`` character
    ranges of copied text (one per planted block).
    """

    texts: list[str]
    ids: list[str]
    truth: set[tuple[int, int]] = field(default_factory=set)
    planted: dict[tuple[int, int], list[tuple[int, int, int, int]]] = field(default_factory=dict)


def _clean(text: str) -> tuple[str, ...]:
    text = re.sub(r"\s*Reuter\s*$", "", text.strip())
    paragraphs = (" ".join(p.split()) for p in _PARAGRAPH.split(text))
    return tuple(p for p in paragraphs if len(p.split()) >= 12)


@lru_cache(maxsize=2)
def load_stories(path: Path) -> tuple[Story, ...]:
    """Reuters stories with at least 3 paragraphs of 12+ words, one per distinct
    normalised body (so no two stories of the pool are copies of each other)."""
    seen: set[str] = set()
    out = []
    with open(path, encoding="utf-8") as stream:
        for line in stream:
            record = json.loads(line)
            paragraphs = _clean(str(record.get("text") or ""))
            if len(paragraphs) < 3:
                continue
            key = normalize(" ".join(paragraphs[:2]))
            if key in seen:
                continue
            seen.add(key)
            out.append(Story(str(record["id"]), paragraphs))
    return tuple(out)


def _join(paragraphs: list[str]) -> tuple[str, list[int]]:
    """Paragraphs joined by blank lines, and the start offset of each."""
    starts, at = [], 0
    for p in paragraphs:
        starts.append(at)
        at += len(p) + 2
    return "\n\n".join(paragraphs), starts


def _filler(pool: tuple[Story, ...], rng: random.Random, n_words: int, avoid: set[str]) -> list[str]:
    """Paragraphs of other stories (one or two each) adding up to about ``n_words``
    (fewer when ``pool`` runs out); the stories used are added to ``avoid``."""
    out: list[str] = []
    order = list(range(len(pool)))
    rng.shuffle(order)
    for index in order:
        if sum(len(p.split()) for p in out) >= n_words:
            break
        story = pool[index]
        if story.id in avoid:
            continue
        avoid.add(story.id)
        start = rng.randrange(len(story.paragraphs))
        out.extend(story.paragraphs[start : start + 2])
    return out


def excerpt_case(
    pool: tuple[Story, ...],
    rng: random.Random,
    n_paragraphs: int = 2,
    ratio: float = 5.0,
    filler_pool: tuple[Story, ...] | None = None,
) -> Case:
    """[source, host]: ``n_paragraphs`` consecutive paragraphs of the source inside a host
    about ``ratio`` times longer than the excerpt, made of other stories (of
    ``filler_pool``, default ``pool``)."""
    source = rng.choice([s for s in pool if len(s.paragraphs) >= n_paragraphs + 2])
    first = rng.randrange(len(source.paragraphs) - n_paragraphs + 1)
    excerpt = list(source.paragraphs[first : first + n_paragraphs])
    n_words = sum(len(p.split()) for p in excerpt)
    around = _filler(filler_pool or pool, rng, int(n_words * (ratio - 1)), {source.id})
    at = rng.randrange(len(around) + 1)
    host_paragraphs = around[:at] + excerpt + around[at:]
    host, host_starts = _join(host_paragraphs)
    src, src_starts = _join(list(source.paragraphs))
    block = (
        host_starts[at],
        host_starts[at + n_paragraphs - 1] + len(excerpt[-1]),
        src_starts[first],
        src_starts[first + n_paragraphs - 1] + len(excerpt[-1]),
    )
    return Case([src, host], [source.id, f"host-of-{source.id}"], {(0, 1)}, {(0, 1): [block[2:] + block[:2]]})


def halves_case(pool: tuple[Story, ...], rng: random.Random) -> Case:
    """[story A, story B, host]: the host is the first half of A's paragraphs, then of B's."""
    a, b = rng.sample([s for s in pool if len(s.paragraphs) >= 4], 2)
    half_a = list(a.paragraphs[: len(a.paragraphs) // 2])
    half_b = list(b.paragraphs[: len(b.paragraphs) // 2])
    host, starts = _join(half_a + half_b)
    text_a, _ = _join(list(a.paragraphs))
    text_b, _ = _join(list(b.paragraphs))
    len_a = len("\n\n".join(half_a))
    len_b = len("\n\n".join(half_b))
    planted = {(0, 2): [(0, len_a, 0, len_a)], (1, 2): [(0, len_b, starts[len(half_a)], starts[len(half_a)] + len_b)]}
    return Case([text_a, text_b, host], [a.id, b.id, f"halves-{a.id}-{b.id}"], {(0, 2), (1, 2)}, planted)


def _figures(story: Story) -> int:
    return sum(1 for word in " ".join(story.paragraphs).split() if _DIGIT.search(word))


def truncated_case(pool: tuple[Story, ...], rng: random.Random) -> Case:
    """[source, copy]: a story with 15+ figures cut after ~60 % of its paragraphs,
    plus two paragraphs of another figure-rich story."""
    rich = [s for s in pool if len(s.paragraphs) >= 5 and _figures(s) >= 15]
    source, other = rng.sample(rich, 2)
    keep = max(2, round(len(source.paragraphs) * 0.6))
    added = list(other.paragraphs[-2:])
    copy, _ = _join(list(source.paragraphs[:keep]) + added)
    src, _ = _join(list(source.paragraphs))
    length = len("\n\n".join(source.paragraphs[:keep]))
    return Case([src, copy], [source.id, f"truncated-{source.id}"], {(0, 1)}, {(0, 1): [(0, length, 0, length)]})


def widget_case(pool: tuple[Story, ...], rng: random.Random, n_pages: int = 2) -> Case:
    """``n_pages`` unrelated stories, each embedding the same quoted tweet after its first
    paragraph and ending with the same share widget. No pair truly shares copy."""
    stories = rng.sample(pool, n_pages)
    texts = ["\n\n".join([s.paragraphs[0], TWEET, *s.paragraphs[1:], WIDGET]) for s in stories]
    return Case(texts, [f"widget-{s.id}" for s in stories])


def write_thru_case(pool: tuple[Story, ...], rng: random.Random) -> Case:
    """[v1, v2, v3] of one story as carried by one outlet (its footer on each):
    v1 the first 3 paragraphs; v2 changes v1's last paragraph and adds 2; v3
    rewrites the lead and adds the rest. Every pair truly shares copy."""
    source = rng.choice([s for s in pool if len(s.paragraphs) >= 7 and len(s.paragraphs[1].split()) >= 30])
    p = list(source.paragraphs)
    changed = "UPDATE: " + " ".join(reversed(p[2].split()))
    v1 = p[:3]
    v2 = [*p[:2], changed, *p[3:5]]
    v3 = ["Officials confirmed the news late on the day, adding details to earlier reports.", *p[1:2], changed, *p[3:]]
    texts = ["\n\n".join([*v, FOOTER]) for v in (v1, v2, v3)]
    return Case(texts, [f"{source.id}-v{i}" for i in (1, 2, 3)], {(0, 1), (0, 2), (1, 2)})
