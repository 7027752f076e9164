"""Corpora for the benchmarks: a seeded synthetic news generator, readers for the shared data,
and :class:`Corpus` (one corpus with the output of each stage, computed once).

The synthetic corpus imitates a news feed closely enough for timing: articles of
about 600 words in sentences and paragraphs, roughly 45 % English function words
and 55 % content words drawn from a Zipf distribution over a 50,000-word
pseudo-vocabulary, plus a few rare "entity" words per story so that articles on
one story share their names (the same-story tier has real work to do). A share
of the articles (``copy_share``, 10 % by default) are derived copies of an
earlier article: lightly edited (a few words replaced), truncated, and/or with
one to three paragraphs appended, published up to two days after the source.

Everything is a function of the seed: the same ``(n, seed)`` gives the same
corpus on every machine. Nothing is read from disk.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from dedup import Article, Params
from dedup.candidates import BandedLSH
from dedup.fingerprint import fingerprint
from dedup.link import representatives, verify
from dedup.normalize import normalize, token_text
from dedup.ragged import Ragged
from dedup.shingle import ShingleBatch, ShingleHasher
from dedup.sign import MinHasher
from dedup.story import Idf, term_counts

PARAMS = Params()  # the scan's defaults: every stage benchmark uses these

__all__ = [
    "SEED",
    "Corpus",
    "data_dir",
    "iter_records",
    "read_articles",
    "synthetic_articles",
    "text_megabytes",
]

SEED = 20240501


def _split(words: str) -> tuple[str, ...]:
    return tuple(words.split())


_VOCABULARY_SIZE = 50_000
_FUNCTION_WORDS = _split(
    "the of and to a in that is was he for it with as his on be at by i this had not are but from or have an "
    "they which one you were her all she there would their we him been has when who will more no if out so said "
    "what up its about into than them can only other new some could time these two may then do first any my now "
    "such like our over man me even most made after also did many before must through back years where much your "
    "way well down should because each just those people how too little state good very make world still own see "
    "men work long get here between both life being under never day same another know while last might us great "
    "old year off come since against go came right used take three"
)
_SYLLABLES = _split(
    "ba be bi bo bu ca ce ci co cu da de di do du fa fe fi fo fu ga ge gi go gu ha he hi ho hu ja jo ka ke ki ko "
    "ku la le li lo lu ma me mi mo mu na ne ni no nu pa pe pi po pu ra re ri ro ru sa se si so su ta te ti to tu "
    "va ve vi vo wa we wi wo ya yo za ze zi zo an en in on ar er ir or al el il ol st tr pr gr br kr pl bl"
)
_OUTLETS = tuple(f"outlet-{i:02d}" for i in range(20))
_EPOCH = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)


# --------------------------------------------------------------------------- shared data


def data_dir() -> Path:
    """The shared data folder: ``$DEDUP_DATA`` or ``<repo>/../shared/data``."""
    default = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
    return Path(os.environ.get("DEDUP_DATA", str(default)))


def iter_records(path: Path) -> Iterator[dict]:
    """JSON objects of a JSONL file with a non-blank ``text`` field, in file order."""
    with open(path, encoding="utf-8") as stream:
        for line in stream:
            if not line.strip():
                continue
            record = json.loads(line)
            if isinstance(record, dict) and isinstance(record.get("text"), str) and record["text"].strip():
                yield record


def read_articles(path: Path, limit: int | None = None) -> list[Article]:
    """Articles of a JSONL file (records with empty text left out). A date the library
    refuses is dropped rather than losing the article, so the texts are always the same."""
    articles: list[Article] = []
    for number, record in enumerate(iter_records(path), start=1):
        if limit is not None and len(articles) >= limit:
            break
        default_id = f"{path.parent.name}#{number}"
        try:
            articles.append(Article.from_record(record, default_id=default_id))
        except ValueError:
            record = {k: v for k, v in record.items() if k not in ("date", "published")}
            articles.append(Article.from_record(record, default_id=default_id))
    return articles


def text_megabytes(texts: list[str]) -> float:
    """Size of the texts in MB (10^6 bytes) of UTF-8."""
    return sum(len(t.encode("utf-8")) for t in texts) / 1e6


# --------------------------------------------------------------------------- synthetic corpus


def _vocabulary(rng: np.random.Generator) -> list[str]:
    words: set[str] = set()
    out: list[str] = []
    syllables = np.array(_SYLLABLES)
    function = set(_FUNCTION_WORDS)
    while len(out) < _VOCABULARY_SIZE:
        lengths = rng.integers(2, 5, size=4096)
        picks = rng.integers(0, len(syllables), size=(4096, 4))
        for length, row in zip(lengths, picks, strict=True):
            word = "".join(syllables[row[:length]])
            if word not in words and word not in function:
                words.add(word)
                out.append(word)
    return out[:_VOCABULARY_SIZE]


class _Writer:
    """Draws sentences and paragraphs of pseudo-English from one random generator."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.vocabulary = _vocabulary(rng)
        ranks = np.arange(1, _VOCABULARY_SIZE + 1, dtype=float)
        zipf = 1.0 / (ranks + 2.7) ** 1.07
        self.content_cdf = np.cumsum(zipf / zipf.sum())
        franks = np.arange(1, len(_FUNCTION_WORDS) + 1, dtype=float)
        fz = 1.0 / franks**0.9
        self.function_cdf = np.cumsum(fz / fz.sum())

    def words(self, count: int, entities: np.ndarray) -> list[str]:
        rng = self.rng
        kind = rng.random(count)
        content = np.searchsorted(self.content_cdf, rng.random(count) * self.content_cdf[-1])
        content = np.minimum(content, _VOCABULARY_SIZE - 1)
        function = np.minimum(
            np.searchsorted(self.function_cdf, rng.random(count) * self.function_cdf[-1]), len(_FUNCTION_WORDS) - 1
        )
        entity = entities[rng.integers(0, len(entities), size=count)]
        vocab, fwords = self.vocabulary, _FUNCTION_WORDS
        return [
            fwords[f] if k < 0.45 else vocab[e] if k < 0.51 else vocab[c]
            for k, c, f, e in zip(kind.tolist(), content.tolist(), function.tolist(), entity.tolist(), strict=True)
        ]

    def paragraphs(self, n_words: int, entities: np.ndarray) -> list[str]:
        """Paragraphs of 2-4 sentences of 10-32 words, about ``n_words`` words in all."""
        words = self.words(n_words, entities)
        rng = self.rng
        sentences: list[str] = []
        position = 0
        while position < len(words):
            length = int(rng.integers(10, 33))
            chunk = words[position : position + length]
            position += length
            if rng.random() < 0.15 and len(chunk) > 6:
                cut = int(rng.integers(3, len(chunk) - 2))
                chunk[cut] = chunk[cut] + ","
            sentences.append(" ".join(chunk).capitalize() + ".")
        out: list[str] = []
        index = 0
        while index < len(sentences):
            size = int(rng.integers(2, 5))
            out.append(" ".join(sentences[index : index + size]))
            index += size
        return out

    def edit(self, paragraphs: list[str], share: float) -> list[str]:
        """Replace about ``share`` of the words by other content words (a copy editor's touch)."""
        rng = self.rng
        out = []
        for paragraph in paragraphs:
            words = paragraph.split(" ")
            hits = np.flatnonzero(rng.random(len(words)) < share)
            for i in hits.tolist():
                replacement = self.vocabulary[int(rng.integers(0, 5000))]
                words[i] = replacement + ("." if words[i].endswith(".") else "")
            out.append(" ".join(words))
        return out


def synthetic_articles(
    n: int,
    *,
    seed: int = SEED,
    words: int = 600,
    copy_share: float = 0.10,
    story_size: float = 1.5,
) -> list[Article]:
    """``n`` synthetic news articles, ``copy_share`` of them derived copies of earlier ones.

    Parameters
    ----------
    n : int
        Number of articles.
    seed : int
        Seed of the generator; the corpus is a function of ``(n, seed)`` and the other arguments.
    words : int
        Mean article length in words (originals; standard deviation a quarter of it).
    copy_share : float
        Share of the articles that copy an earlier one: 40 % lightly edited
        (2 % of words replaced), 35 % the same with one to three paragraphs
        appended, 25 % truncated to 50-90 % of the paragraphs, plus one appended paragraph.
    story_size : float
        Mean number of original articles per story (they share the story's entity words).
    """
    rng = np.random.default_rng(seed)
    writer = _Writer(rng)
    n_copies = round(n * copy_share)
    n_original = n - n_copies
    n_stories = max(1, round(n_original / story_size))
    story_day = rng.uniform(0.0, 365.0, size=n_stories)
    story_of = rng.integers(0, n_stories, size=n_original)
    # copies are placed at random positions; each copies a random earlier original
    is_copy = np.zeros(n, dtype=bool)
    is_copy[
        rng.choice(np.arange(1, n) if n > 1 else np.arange(n), size=min(n_copies, max(n - 1, 0)), replace=False)
    ] = True
    entities_cache: dict[int, np.ndarray] = {}

    def entities(story: int) -> np.ndarray:
        if story not in entities_cache:
            entities_cache[story] = np.random.default_rng((seed, story)).integers(3000, _VOCABULARY_SIZE, size=24)
        return entities_cache[story]

    articles: list[Article] = []
    # (article index, day, story) of each original: its paragraphs are re-read from its text
    # (paragraphs hold no blank line), so the generator holds every text once, not twice
    originals: list[tuple[int, float, int]] = []
    next_original = 0
    for index in range(n):
        outlet = _OUTLETS[int(rng.integers(0, len(_OUTLETS)))]
        if is_copy[index] and originals:
            source, day, story = originals[int(rng.integers(0, len(originals)))]
            paragraphs = articles[source].text.split("\n\n")
            kind = rng.random()
            if kind < 0.40:
                body = writer.edit(paragraphs, 0.02)
            elif kind < 0.75:
                body = writer.edit(paragraphs, 0.01) + writer.paragraphs(int(rng.integers(40, 200)), entities(story))
            else:
                keep = max(1, round(len(paragraphs) * float(rng.uniform(0.5, 0.9))))
                body = paragraphs[:keep] + writer.paragraphs(int(rng.integers(40, 120)), entities(story))
            day = day + float(rng.uniform(0.0, 2.0))
        else:
            story = int(story_of[min(next_original, n_original - 1)])
            next_original += 1
            length = int(np.clip(rng.normal(words, words / 4), words / 3, words * 2))
            body = writer.paragraphs(length, entities(story))
            day = float(story_day[story] + rng.uniform(0.0, 3.0))
            originals.append((index, day, story))
        articles.append(
            Article(
                id=f"syn-{index:07d}",
                text="\n\n".join(body),
                title=body[0][:60],
                outlet=outlet,
                published=_EPOCH + dt.timedelta(days=day),
            )
        )
    return articles


def report_digest(result: Any) -> str:
    """SHA-256 (16 hex digits) of a scan's JSON report without its timings: equal digests, equal results."""
    report = result.to_dict()
    report["stats"].pop("seconds", None)
    report["stats"].pop("cpu_seconds", None)
    return hashlib.sha256(json.dumps(report, sort_keys=True, default=str).encode()).hexdigest()[:16]


# --------------------------------------------------------------------------- benchmark corpus


@dataclass
class Corpus:
    """One benchmark corpus and the intermediate results of each stage, computed once
    (outside any timing) so every stage is timed on the output of the previous one."""

    name: str
    articles: list[Article]
    records: list[dict[str, Any]]
    cache: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def texts(self) -> list[str]:
        return [a.text for a in self.articles]

    @cached_property
    def megabytes(self) -> float:
        return text_megabytes(self.texts)

    @cached_property
    def batch(self) -> ShingleBatch:
        return ShingleHasher(PARAMS.shingle_size).transform(self.texts)

    @cached_property
    def sets(self) -> Ragged:
        return self.batch.set_rows()

    @cached_property
    def signatures(self) -> np.ndarray:
        return MinHasher(PARAMS.num_perm, PARAMS.seed).transform(self.batch)

    @cached_property
    def candidate_pairs(self) -> np.ndarray:
        return lsh().candidate_pairs(self.signatures)

    @cached_property
    def tokenized(self) -> list[str]:
        return [token_text(normalize(t)) for t in self.texts]

    @cached_property
    def counts(self) -> sp.csr_matrix:
        return term_counts(self.tokenized, PARAMS.n_features)

    @cached_property
    def idf(self) -> Idf:
        """Fitted as the scan fits it: each group of close copies counted once."""
        prints = fingerprint(self.texts, PARAMS)
        links = verify(prints, prints, self.candidate_pairs, PARAMS)
        return Idf.fit(self.counts[representatives(len(self.texts), links)], PARAMS)

    @cached_property
    def vectors(self) -> sp.csr_matrix:
        return self.idf.transform(self.counts)

    @cached_property
    def times(self) -> np.ndarray | None:
        days = np.array(
            [a.published.timestamp() / 86400.0 if a.published else np.nan for a in self.articles], dtype=float
        )
        return days if np.isfinite(days).any() else None

    def write_jsonl(self, path: Path) -> Path:
        with open(path, "w", encoding="utf-8") as stream:
            for record in self.records:
                stream.write(json.dumps(record, ensure_ascii=False) + "\n")
        return path


def lsh() -> BandedLSH:
    return BandedLSH(PARAMS.lsh_threshold, PARAMS.num_perm, max_bucket=PARAMS.max_bucket)


def datasketch_candidate_pairs(texts: list[str], threshold: float = 0.2, num_perm: int = 128) -> set[tuple[int, int]]:
    """What a datasketch user writes by hand: a ``MinHash`` per text over the same 3-word
    shingles, ``MinHashLSH`` query then insert. The baseline the scan is timed against."""
    from datasketch import MinHash, MinHashLSH

    from dedup.shingle import shingles

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    pairs: set[tuple[int, int]] = set()
    for index, text in enumerate(texts):
        minhash = MinHash(num_perm=num_perm)
        minhash.update_batch(shingles(text, 3))
        pairs.update((other, index) for other in lsh.query(minhash))
        lsh.insert(index, minhash)
    return pairs
