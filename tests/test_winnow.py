"""Passage-level reuse kernels (issue 9): winnowing, postings, shared spans, quotations.

The constructed cases read real Reuters-21578 stories from ../shared at test time
(skipped when absent); the rest runs on generated text.
"""

from __future__ import annotations

import collections
import itertools
import random

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from dedup.normalize import normalize, token_text
from dedup.postings import DEFAULT_MAX_DF, DEFAULT_MIN_SHARED, Postings, join_prints, probe, self_join
from dedup.quotes import count_apart, quoted_mask, span_kind
from dedup.shingle import ShingleBatch, ShingleHasher
from dedup.spans import DEFAULT_MIN_WORDS, pair_spans, shared_runs, spans_for_pairs, token_offsets
from dedup.winnow import DEFAULT_K, DEFAULT_W, Fingerprints, fingerprint_texts, winnow

from . import constructed
from .helpers import DATA, filler, need
from .test_properties import texts as tricky_texts

REUTERS = DATA / "reuters21578" / "documents.jsonl"


def _pool() -> tuple[constructed.Story, ...]:
    return constructed.load_stories(need(REUTERS))


def _hash(texts: list[str]) -> tuple[ShingleBatch, Fingerprints]:
    batch = ShingleHasher(DEFAULT_K).transform(texts)
    return batch, winnow(batch)


def _candidates(texts: list[str], families: np.ndarray | None = None, **kwargs):
    batch, prints = _hash(texts)
    cand = self_join(Postings.build(prints, families), **kwargs)
    return batch, cand


def _coverage(spans: list, start: int, end: int, side: str) -> float:
    """Share of text[start:end] covered by the spans on one side ('a' or 'b')."""
    covered = np.zeros(end - start, dtype=bool)
    for s in spans:
        lo, hi = (s.a_start, s.a_end) if side == "a" else (s.b_start, s.b_end)
        covered[max(lo, start) - start : max(min(hi, end) - start, 0)] = True
    return float(covered.mean())


def _assert_spans_agree(text_a: str, text_b: str, spans: list) -> None:
    for s in spans:
        left = token_text(normalize(text_a[s.a_start : s.a_end])).split()
        right = token_text(normalize(text_b[s.b_start : s.b_end])).split()
        assert left == right and len(left) == s.words


# --------------------------------------------------------------------------- winnowing


def _reference_winnow(h: list[int], w: int) -> list[int]:
    if not h:
        return []
    if len(h) < w:
        low = min(h)
        return [max(i for i, x in enumerate(h) if x == low)]
    picked = set()
    for i in range(len(h) - w + 1):
        window = h[i : i + w]
        low = min(window)
        picked.add(i + max(j for j, x in enumerate(window) if x == low))
    return sorted(picked)


def _batch(docs: list[np.ndarray]) -> ShingleBatch:
    lengths = [len(d) for d in docs]
    hashes = np.concatenate(docs).astype(np.uint64) if docs else np.empty(0, np.uint64)
    return ShingleBatch(hashes=hashes, offsets=np.concatenate(([0], np.cumsum(lengths))).astype(np.int64))


def test_winnow_matches_the_definition_on_random_batches():
    rng = np.random.default_rng(0)
    for _ in range(200):
        w = int(rng.integers(1, 12))
        docs = [rng.integers(0, int(rng.integers(1, 30)), int(n)).astype(np.uint64) for n in rng.integers(0, 40, 5)]
        prints = winnow(_batch(docs), w=w)
        assert prints.n_docs == len(docs)
        for d, doc in enumerate(docs):
            hashes, positions = prints.doc(d)
            expected = _reference_winnow(doc.tolist(), w)
            assert positions.tolist() == expected  # rightmost minimum, each position once, in order
            assert hashes.tolist() == [int(doc[i]) for i in expected]


def test_a_shared_run_of_w_plus_k_minus_1_tokens_always_shares_a_fingerprint():
    rng = random.Random(3)
    k, w = DEFAULT_K, DEFAULT_W
    for trial in range(100):
        run = " ".join(f"s{trial}x{rng.randrange(10**6)}" for _ in range(w + k - 1))
        a = f"{filler(rng.randrange(0, 60), seed=trial)} {run} {filler(rng.randrange(0, 60), seed=trial + 1000)}"
        b = f"{filler(rng.randrange(0, 60), seed=trial + 2000)} {run} {filler(rng.randrange(0, 60), seed=trial + 3000)}"
        _, prints = _hash([a, b])
        assert set(prints.doc(0)[0].tolist()) & set(prints.doc(1)[0].tolist())


def test_fingerprint_texts_streams_in_groups_with_the_same_result(monkeypatch):
    import dedup.winnow as module

    texts = [filler(n, seed=n) for n in range(0, 400, 7)]
    whole = winnow(ShingleHasher(DEFAULT_K).transform(texts))
    monkeypatch.setattr(module, "_TEXT_GROUP", 500)
    monkeypatch.setattr(module, "_GROUP", 64)
    streamed = fingerprint_texts(texts)
    for name in ("hashes", "positions", "offsets"):
        assert np.array_equal(getattr(streamed, name), getattr(whole, name))


def test_density_and_short_documents():
    batch, prints = _hash([filler(5000, seed=1), "one two", "", "a b c d e f"])
    n_kgrams = len(batch.doc(0))
    assert 1.5 / (DEFAULT_W + 1) < len(prints.doc(0)[0]) / n_kgrams < 2.5 / (DEFAULT_W + 1)
    assert [len(prints.doc(d)[0]) for d in (1, 2, 3)] == [1, 0, 1]


def test_fingerprints_are_stable_and_round_trip_through_bytes():
    _, prints = _hash(["The quick brown fox jumps over the lazy dog and runs far away today."])
    # 64-bit hashes fixed by the algorithm, not by the process (no Python hash()).
    assert prints.doc(0)[0].tolist() == [5729215844929208905] and prints.doc(0)[1].tolist() == [7]
    _, prints = _hash([filler(300, seed=s) for s in range(5)])
    back = Fingerprints.from_bytes(prints.to_bytes())
    assert (back.k, back.w) == (prints.k, prints.w)
    for name in ("hashes", "positions", "offsets"):
        assert np.array_equal(getattr(back, name), getattr(prints, name))
    with pytest.raises(ValueError):
        Fingerprints.from_bytes(prints.to_bytes()[:-1])


# --------------------------------------------------------------------------- postings


def _random_prints(rng: np.random.Generator, n: int, w: int = 4) -> tuple[Fingerprints, list]:
    """Random fingerprints (small key space: many shared) at increasing random positions."""
    docs = []
    for m in rng.integers(0, 40, n):
        keys = rng.integers(0, int(rng.integers(5, 150)), int(m)).astype(np.uint64)
        docs.append((keys, np.cumsum(rng.integers(1, 7, int(m))).astype(np.int64)))
    lengths = [len(k) for k, _ in docs]
    offsets = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
    hashes = np.concatenate([k for k, _ in docs]) if docs else np.empty(0, np.uint64)
    positions = np.concatenate([p for _, p in docs]) if docs else np.empty(0, np.int64)
    return Fingerprints(hashes.astype(np.uint64), positions, offsets, w=w), docs


def _subset(docs: list, ids: np.ndarray, w: int) -> Fingerprints:
    chosen = [docs[d] for d in ids]
    offsets = np.concatenate(([0], np.cumsum([len(k) for k, _ in chosen]))).astype(np.int64)
    hashes = np.concatenate([k for k, _ in chosen]) if chosen else np.empty(0, np.uint64)
    positions = np.concatenate([p for _, p in chosen]) if chosen else np.empty(0, np.int64)
    return Fingerprints(hashes.astype(np.uint64), positions.astype(np.int64), offsets, w=w)


def _brute_force(docs, families, min_shared, max_df, max_bucket, w=4) -> dict[tuple[int, int], int]:
    """The bucket rule written out: df over families, edges of common blocks, template buckets."""
    holders = collections.defaultdict(set)
    first_at = {}  # (key, doc) -> position of its first occurrence
    for d, (keys, positions) in enumerate(docs):
        for h, p in zip(keys.tolist(), positions.tolist(), strict=True):
            holders[h].add(d)
            first_at.setdefault((h, d), p)
    common = {h for h, members in holders.items() if len({families[d] for d in members}) > max_df}
    common_at = collections.defaultdict(list)
    for (h, d), p in first_at.items():
        if h in common:
            common_at[d].append(p)
    counts: collections.Counter[tuple[int, int]] = collections.Counter()
    for h, members in holders.items():
        if h in common or len(members) > max_bucket:
            continue
        evidence = [d for d in members if all(abs(first_at[(h, d)] - c) >= w for c in common_at[d])]
        counts.update(itertools.combinations(sorted(evidence), 2))
    return {pair: n for pair, n in counts.items() if n >= min_shared}


def test_self_join_is_the_bucket_rule():
    rng = np.random.default_rng(1)
    for _ in range(150):
        n = int(rng.integers(2, 30))
        prints, docs = _random_prints(rng, n)
        families = rng.integers(0, max(1, n // 2), n)
        rule = {
            "min_shared": int(rng.integers(1, 4)),
            "max_df": int(rng.integers(1, 6)),
            "max_bucket": int(rng.integers(2, 12)),
        }
        found = self_join(Postings.build(prints, families), **rule)
        got = {(int(a), int(b)): int(s) for (a, b), s in zip(found.pairs, found.shared, strict=True)}
        assert got == _brute_force(docs, families, rule["min_shared"], rule["max_df"], rule["max_bucket"])


def _same_candidates(got, expected) -> None:
    assert np.array_equal(got.pairs, expected.pairs) and np.array_equal(got.shared, expected.shared)
    assert (got.dropped_df, got.dropped_bucket) == (expected.dropped_df, expected.dropped_bucket)


def test_join_prints_in_key_ranges_is_the_self_join_of_the_whole_table():
    rng = np.random.default_rng(11)
    ranges_seen = set()
    for trial in range(150):
        n = int(rng.integers(2, 30))
        prints, docs = _random_prints(rng, n)
        families = rng.integers(0, max(1, n // 2), n)
        rule = {
            "min_shared": int(rng.integers(1, 4)),
            "max_df": int(rng.integers(1, 6)),
            "max_bucket": int(rng.integers(2, 12)),
        }
        rows_per_part = [1, 7, 50, 1 << 20][trial % 4]
        ranges_seen.add(int(np.ceil(np.log2(max(len(prints), 1) / rows_per_part))) > 2)
        found = join_prints(prints, families, rows_per_part=rows_per_part, **rule)
        _same_candidates(found, self_join(Postings.build(prints, families), **rule))
        got = {(int(a), int(b)): int(s) for (a, b), s in zip(found.pairs, found.shared, strict=True)}
        assert got == _brute_force(docs, families, rule["min_shared"], rule["max_df"], rule["max_bucket"])
    assert ranges_seen == {True, False}  # many key ranges, and one


def test_pairs_are_counted_the_same_in_many_small_steps(monkeypatch):
    import dedup.postings as module

    rng = np.random.default_rng(7)
    prints, docs = _random_prints(rng, 40)
    families = np.arange(40)
    expected = _brute_force(docs, families, 2, 50, 500)
    monkeypatch.setattr(module, "_PAIRS_PER_STEP", 5)
    found = self_join(Postings.build(prints, families))
    assert {(int(a), int(b)): int(s) for (a, b), s in zip(found.pairs, found.shared, strict=True)} == expected


def test_probe_agrees_with_self_join_on_random_data():
    rng = np.random.default_rng(2)
    for _ in range(150):
        n = int(rng.integers(2, 30))
        prints, docs = _random_prints(rng, n)
        families = rng.integers(0, max(1, n // 2), n)
        rule = {
            "min_shared": int(rng.integers(1, 4)),
            "max_df": int(rng.integers(1, 6)),
            "max_bucket": int(rng.integers(2, 12)),
        }
        everything = self_join(Postings.build(prints, families), **rule)
        is_query = rng.random(n) < 0.4
        sides = {}
        for flag in (True, False):
            ids = np.flatnonzero(is_query == flag)
            sides[flag] = Postings.build(_subset(docs, ids, 4), families[ids], doc_ids=ids)
        stored = Postings.from_bytes(sides[False].to_bytes())  # as read back from an index
        probed = probe(sides[True], stored, **rule)
        got = {(int(a), int(b)): int(s) for (a, b), s in zip(probed.pairs, probed.shared, strict=True)}
        expected = {}
        for (a, b), s in zip(everything.pairs.tolist(), everything.shared.tolist(), strict=True):
            if is_query[a] != is_query[b]:
                expected[(a, b) if is_query[a] else (b, a)] = s
        assert got == expected


def test_postings_merge_is_the_table_of_the_union():
    rng = np.random.default_rng(4)
    prints, _ = _random_prints(rng, 12)
    whole = Postings.build(prints)
    half = prints.offsets[6]
    first = Fingerprints(prints.hashes[:half], prints.positions[:half], prints.offsets[:7], w=4)
    second = Fingerprints(prints.hashes[half:], prints.positions[half:], prints.offsets[6:] - half, w=4)
    merged = Postings.build(first).merge(Postings.build(second, doc_ids=np.arange(6, 12)))
    for name in ("keys", "docs", "families", "positions"):
        assert np.array_equal(getattr(merged, name), getattr(whole, name))


def test_templates_are_skipped_and_counted_not_exploded():
    template = " ".join(f"t{i}" for i in range(200))
    texts = [f"{filler(100, seed=s)} {template}" for s in range(30)]
    _, everything = _candidates(texts, max_df=1000, max_bucket=1000)
    assert len(everything) == 30 * 29 // 2 and everything.shared.min() > 30
    # a window at the template's edge may select a k-gram in only some pages: a
    # few such fingerprints remain; the template's body (in every page) is gone
    _, cand = _candidates(texts, max_bucket=20)
    assert cand.dropped_bucket > 30 and cand.dropped_df == 0 and (len(cand) == 0 or cand.shared.max() <= 3)
    _, cand = _candidates(texts, max_df=10)
    assert cand.dropped_df > 30 and (len(cand) == 0 or cand.shared.max() <= 3)


def test_document_frequency_counts_families_not_articles():
    """30 verbatim copies of one story count once: the story's own excerpt survives max_df=20."""
    wire = filler(400, seed=7)
    excerpt = " ".join(wire.split()[100:160])
    texts = [wire] * 30 + [f"{filler(300, seed=8)} {excerpt} {filler(300, seed=9)}"]
    families = np.array([0] * 30 + [1])
    _, by_family = _candidates(texts, families, max_df=20)
    assert (29, 30) in {tuple(p) for p in by_family.pairs.tolist()} and by_family.dropped_df == 0
    _, by_article = _candidates(texts, None, max_df=20)  # every article its own family
    assert not any(30 in p for p in by_article.pairs.tolist()) and by_article.dropped_df > 0


# --------------------------------------------------------------------------- token offsets and spans


FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(text=tricky_texts)
def test_token_offsets_agree_with_the_tokeniser(text):
    offsets = token_offsets(text)
    tokens = token_text(normalize(text)).split()
    assert len(offsets) == len(tokens)
    assert np.all(offsets.starts < offsets.ends) and np.all(np.diff(offsets.starts) >= 0)
    if offsets.exact:
        for start, end, token in zip(offsets.starts, offsets.ends, tokens, strict=True):
            # equal, except a character NFKC expands into several tokens ("½" -> "1", "2")
            assert token in token_text(normalize(text[start:end])).split()


def test_token_offsets_exact_on_real_texts():
    paths = [DATA / name / "documents.jsonl" for name in ("news_pages_2018", "clough_stevenson_short_answers")]
    import json

    seen = 0
    for path in paths:
        for line in need(path).read_text(encoding="utf-8").splitlines():
            text = json.loads(line)["text"]
            offsets = token_offsets(text)
            assert offsets.exact
            pieces = [text[s:e] for s, e in zip(offsets.starts, offsets.ends, strict=True)]
            assert [token_text(normalize(p)) for p in pieces] == token_text(normalize(text)).split()
            seen += 1
    assert seen > 150


def test_token_offsets_across_composing_sequences():
    # "=" + U+0338 composes to "≠" (a symbol) in whole-text NFKC: the pieces still give the key's tokens
    text = "first para here\nsecond a =\u0338 b para"
    offsets = token_offsets(text)
    tokens = token_text(normalize(text)).split()
    assert len(offsets) == len(tokens)
    if offsets.exact:
        pieces = [text[s:e] for s, e in zip(offsets.starts, offsets.ends, strict=True)]
        assert [token_text(normalize(p)) for p in pieces] == tokens


def test_shared_runs_are_maximal_and_exact():
    rng = random.Random(5)
    for trial in range(40):
        words = [f"v{rng.randrange(40)}" for _ in range(300)]  # small vocabulary: many spurious k-grams
        a = words[:]
        b = [f"x{rng.randrange(40)}" for _ in range(50)] + words[rng.randrange(100) :]
        b[rng.randrange(60, len(b))] = "edited"
        batch, _ = _hash([" ".join(a), " ".join(b)])
        for ta, tb, n in shared_runs(batch.doc(0), batch.doc(1), DEFAULT_K, min_words=DEFAULT_K).tolist():
            assert a[ta : ta + n] == b[tb : tb + n], trial
            assert ta == 0 or tb == 0 or a[ta - 1] != b[tb - 1]
            assert ta + n == len(a) or tb + n == len(b) or a[ta + n] != b[tb + n]


@FAST
@given(left=tricky_texts, right=tricky_texts, middle=tricky_texts)
def test_span_text_normalises_to_the_same_tokens_on_both_sides(left, right, middle):
    shared = f"{middle} {filler(40, seed=11)}"
    text_a = f"{left} {shared} {filler(30, seed=12)}"
    text_b = f"{filler(20, seed=13)} {shared} {right}"
    batch, _ = _hash([text_a, text_b])
    spans = pair_spans(text_a, text_b, batch.doc(0), batch.doc(1), DEFAULT_K, min_words=DEFAULT_K)
    assert spans and max(s.words for s in spans) >= 40
    for s in spans:
        if s.exact:
            left_tokens = token_text(normalize(text_a[s.a_start : s.a_end])).split()
            right_tokens = token_text(normalize(text_b[s.b_start : s.b_end])).split()
            # an NFKC expansion at a span's edge may add a token on one side only
            assert abs(len(left_tokens) - s.words) <= 1 and abs(len(right_tokens) - s.words) <= 1


# --------------------------------------------------------------------------- quotations


def test_quotations_and_tweets_are_recognised():
    text = (
        "The minister spoke on Monday.\n"
        "\u201cWe will not be pushed around by anyone, and we will keep fighting,\u201d she said.\n"
        '"This is one quote\n"And it goes on in the next paragraph," he added.\n'
        "Officials said the talks would resume next week in Geneva.\n" + constructed.TWEET
    )
    quoted = text[text.index("\u201cWe") + 1 : text.index(",\u201d")]
    start = text.index(quoted)
    assert span_kind(text, start, start + len(quoted)) == "quotation"
    narration = "Officials said the talks would resume next week in Geneva."
    start = text.index(narration)
    assert span_kind(text, start, start + len(narration)) is None
    start = text.index("And it goes")
    assert span_kind(text, start, start + 20) == "quotation"  # open quote carried over a paragraph
    start = text.index("\u201cWe will not be pushed around by anyone, and we will keep fighting for")
    assert span_kind(text, start, start + 80) == "tweet"
    assert quoted_mask("no quotes here").sum() == 0
    start = text.index("Officials")
    spans = [(start, start + len(narration), 10), (text.index("We will not be pushed"), text.index(",\u201d she"), 14)]
    assert count_apart(text, spans) == {"narration": 10, "quotation": 14, "tweet": 0}


# --------------------------------------------------------------------------- constructed cases (real text)


@pytest.mark.parametrize("seed", range(8))
def test_two_paragraph_excerpt_inside_an_article_five_times_longer(seed):
    case = constructed.excerpt_case(_pool(), random.Random(seed), n_paragraphs=2, ratio=5.0)
    batch, cand = _candidates(case.texts)
    assert {tuple(p) for p in cand.pairs.tolist()} == case.truth
    (spans,) = spans_for_pairs(case.texts, batch, cand.pairs, DEFAULT_K)
    ((a_start, a_end, b_start, b_end),) = case.planted[(0, 1)]
    assert _coverage(spans, a_start, a_end, "a") > 0.97 and _coverage(spans, b_start, b_end, "b") > 0.97
    _assert_spans_agree(case.texts[0], case.texts[1], spans)


@pytest.mark.parametrize("seed", range(6))
def test_halves_of_two_stories_are_linked_to_both_and_attributed(seed):
    case = constructed.halves_case(_pool(), random.Random(seed))
    batch, cand = _candidates(case.texts)
    pairs = [tuple(p) for p in cand.pairs.tolist()]
    assert set(pairs) == case.truth
    all_spans = spans_for_pairs(case.texts, batch, cand.pairs, DEFAULT_K)
    boundary = case.planted[(1, 2)][0][2]  # where the second story starts in the host
    for pair, spans in zip(pairs, all_spans, strict=True):
        ((_, _, b_start, b_end),) = case.planted[pair]
        assert _coverage(spans, b_start, b_end, "b") > 0.97
        for s in spans:  # each host passage attributed to the story it came from (a few words of slack)
            if pair == (0, 2):
                assert s.b_end <= boundary + 40
            else:
                assert s.b_start >= boundary - 40


@pytest.mark.parametrize("seed", range(6))
def test_truncated_figure_rich_copy_with_other_figures(seed):
    case = constructed.truncated_case(_pool(), random.Random(seed))
    batch, cand = _candidates(case.texts)
    assert {tuple(p) for p in cand.pairs.tolist()} == case.truth
    (spans,) = spans_for_pairs(case.texts, batch, cand.pairs, DEFAULT_K)
    ((_, _, b_start, b_end),) = case.planted[(0, 1)]
    assert _coverage(spans, b_start, b_end, "b") > 0.97


def test_widget_and_tweet_shared_by_unrelated_articles():
    pool = _pool()
    two = constructed.widget_case(pool, random.Random(1), n_pages=2)
    batch, cand = _candidates(two.texts)
    # alone, two pages do share the block: a candidate whose only evidence is clutter and a tweet
    assert len(cand) == 1
    (spans,) = spans_for_pairs(two.texts, batch, cand.pairs, DEFAULT_K)
    text = two.texts[0]
    tweet, widget = text.index(constructed.TWEET), text.index(constructed.WIDGET)
    assert len(spans) == 2
    first, second = sorted(spans, key=lambda s: s.a_start)
    assert tweet <= first.a_start and first.a_end <= tweet + len(constructed.TWEET)
    assert widget <= second.a_start and second.a_end <= widget + len(constructed.WIDGET)
    # the tweet counts apart from narration; the widget is only discounted by document frequency
    assert span_kind(text, first.a_start, first.a_end) == "tweet"
    assert span_kind(text, second.a_start, second.a_end) is None
    # the same widget and tweet on many unrelated pages (more families than max_df): never a pair
    many = constructed.widget_case(pool, random.Random(2), n_pages=DEFAULT_MAX_DF + 10)
    _, cand = _candidates(many.texts)
    assert len(cand) == 0 and cand.dropped_df > 0


def test_widget_pages_do_not_hide_a_real_excerpt_among_them():
    pool = _pool()
    many = constructed.widget_case(pool, random.Random(3), n_pages=DEFAULT_MAX_DF + 10)
    case = constructed.excerpt_case(pool, random.Random(4), n_paragraphs=2, ratio=5.0)
    texts = many.texts + [f"{t}\n\n{constructed.WIDGET}" for t in case.texts]
    n = len(many.texts)
    _, cand = _candidates(texts)
    assert {tuple(p) for p in cand.pairs.tolist()} == {(n, n + 1)}


@pytest.mark.parametrize("seed", range(4))
def test_write_thru_versions_share_every_common_paragraph(seed):
    case = constructed.write_thru_case(_pool(), random.Random(seed))
    batch, cand = _candidates(case.texts)
    pairs = [tuple(p) for p in cand.pairs.tolist()]
    assert set(pairs) == case.truth
    for (a, b), spans in zip(pairs, spans_for_pairs(case.texts, batch, cand.pairs, DEFAULT_K), strict=True):
        _assert_spans_agree(case.texts[a], case.texts[b], spans)
        common = set(case.texts[a].split("\n\n")) & set(case.texts[b].split("\n\n"))
        for paragraph in common:
            if len(paragraph.split()) >= DEFAULT_MIN_WORDS:
                start = case.texts[a].index(paragraph)
                assert _coverage(spans, start, start + len(paragraph), "a") > 0.97


def test_default_min_shared_guarantee():
    """Any run of at least min_shared * w + k - 1 tokens makes a candidate (w disjoint windows)."""
    length = DEFAULT_MIN_SHARED * DEFAULT_W + DEFAULT_K - 1
    assert length <= DEFAULT_MIN_WORDS
    rng = random.Random(6)
    for trial in range(60):
        run = " ".join(f"r{trial}y{rng.randrange(10**6)}" for _ in range(length))
        texts = [
            f"{filler(200, seed=trial)} {run} {filler(50, seed=trial + 1)}",
            f"{filler(90, seed=trial + 2)} {run} {filler(300, seed=trial + 3)}",
        ]
        _, cand = _candidates(texts)
        assert len(cand) == 1


def _cluttered_texts(seed: int, n_excerpt_cases: int, excerpt_seed: int, n_stories: int) -> list[str]:
    """Widget pages (a fingerprint above max_df), wire excerpts inside long pages, and plain stories."""
    pool = _pool()
    rng = random.Random(seed)
    texts = constructed.widget_case(pool, rng, n_pages=DEFAULT_MAX_DF + 5).texts
    for case in range(n_excerpt_cases):
        texts += constructed.excerpt_case(pool, random.Random(excerpt_seed + case)).texts
    return texts + ["\n\n".join(s.paragraphs) for s in rng.sample(pool, n_stories)]


def test_join_prints_agrees_with_self_join_on_real_text_with_clutter():
    texts = _cluttered_texts(9, 10, 200, 200)
    _, prints = _hash(texts)
    families = np.arange(len(texts))
    families[-100:] //= 2  # some families of two
    expected = self_join(Postings.build(prints, families))
    assert expected.dropped_df > 0 and len(expected) >= 5  # common fingerprints, so the edge rule acts
    for rows_per_part in (97, 4096):
        _same_candidates(join_prints(prints, families, rows_per_part=rows_per_part), expected)


def test_probe_agrees_with_self_join_on_real_text_with_clutter():
    texts = _cluttered_texts(8, 20, 100, 300)
    _, prints = _hash(texts)
    families = np.arange(len(texts))
    everything = self_join(Postings.build(prints, families))
    is_query = np.array([random.Random(d).random() < 0.3 for d in range(len(texts))])
    q, s = np.flatnonzero(is_query), np.flatnonzero(~is_query)

    def part(ids: np.ndarray) -> Postings:
        offsets = prints.offsets
        pieces = [prints.doc(int(d)) for d in ids]
        fp = Fingerprints(
            np.concatenate([h for h, _ in pieces]),
            np.concatenate([p for _, p in pieces]),
            np.concatenate(([0], np.cumsum([int(offsets[d + 1] - offsets[d]) for d in ids]))).astype(np.int64),
            w=prints.w,
        )
        return Postings.build(fp, families[ids], doc_ids=ids)

    probed = probe(part(q), part(s))
    got = {(int(a), int(b)): int(n) for (a, b), n in zip(probed.pairs, probed.shared, strict=True)}
    expected = {
        ((a, b) if is_query[a] else (b, a)): n
        for (a, b), n in zip(everything.pairs.tolist(), everything.shared.tolist(), strict=True)
        if is_query[a] != is_query[b]
    }
    assert got == expected and len(expected) >= 5
