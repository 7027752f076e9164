"""The index: a query answers what a scan of (index + the article) answers for it; the API around it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from dedup import Article, Index, Params, Scanner, load_articles
from dedup.fingerprint import fingerprint
from dedup.link import Copies, Links, exact_pairs, expand, verify
from dedup.store import StoreError
from dedup.story import Idf

from .helpers import SAMPLES, SEEDS, WIRE, edit_words, filler, need
from .index_helpers import backend_url, compare_each
from .test_golden import constructed

PARAGRAPHS = [p for p in WIRE.split("\n\n") if p.strip()]
DAY = dt.datetime(2025, 3, 3, 9, 0, tzinfo=dt.timezone.utc)


def samples() -> list[Article]:
    return load_articles(SAMPLES)[0]


def dated_cases() -> list[Article]:
    """Copies, an excerpt found only by the same-story search, dates inside and outside the window."""
    long_page = filler(1500, seed=21) + "\n\n" + PARAGRAPHS[2] + "\n\n" + filler(900, seed=22)
    return [
        Article("a-wire", WIRE, published=DAY, outlet="Wire"),
        Article("b-copy", WIRE, published=DAY + dt.timedelta(hours=2), outlet="B"),
        Article("c-copy", WIRE, published=DAY + dt.timedelta(days=9), outlet="C"),
        Article("d-edited", edit_words(WIRE, 0.1, seed=4), published=DAY + dt.timedelta(hours=5), outlet="D"),
        Article("e-excerpt-page", long_page, published=DAY + dt.timedelta(hours=1), outlet="E"),
        Article("f-late-edit", edit_words(WIRE, 0.5, seed=8), published=DAY + dt.timedelta(days=6), outlet="F"),
        Article("g-undated", "\n\n".join(PARAGRAPHS[:4]), outlet="G"),
        Article("h-other", filler(300, seed=30), published=DAY, outlet="H"),
    ]


def test_query_equals_scan_on_samples(fresh) -> None:
    assert compare_each(samples(), fresh) == []


def test_query_equals_scan_on_samples_added_one_at_a_time() -> None:
    assert compare_each(samples(), lambda: ":memory:", one_by_one=True) == []


@pytest.mark.parametrize("cases", [constructed, dated_cases])
def test_query_equals_scan_on_constructed_cases(cases, tmp_path: Path) -> None:
    assert compare_each(cases(), lambda: backend_url("memory", tmp_path)) == []


def test_query_equals_scan_on_samples_and_constructed_together() -> None:
    assert compare_each([*samples(), *constructed(), *dated_cases()], lambda: ":memory:") == []


SHORT_ITEM = "\n\n".join(PARAGRAPHS[1:4])
LONG_PAGE = filler(1500, seed=21) + "\n\n" + SHORT_ITEM + "\n\n" + filler(1500, seed=22)


def test_the_scan_finds_a_short_item_inside_a_long_page() -> None:
    result = Scanner().scan([Article("short", SHORT_ITEM), Article("page", LONG_PAGE)])
    assert [(p.a, p.b, p.relation) for p in result.pairs] == [("page", "short", "derived")]


@pytest.mark.parametrize("stored, queried", [("short", "page"), ("page", "short")])
def test_index_finds_a_short_item_inside_a_long_page(stored: str, queried: str) -> None:
    texts = {"short": SHORT_ITEM, "page": LONG_PAGE}
    with Index(":memory:") as index:
        index.add(stored, texts[stored])
        assert [(m.id, m.relation) for m in index.query(Article(queried, texts[queried]))] == [(stored, "derived")]


def test_verbatim_only_index_equals_verbatim_scan() -> None:
    articles = samples()
    result = Scanner(same_story=None).scan(articles)
    for article in articles:
        with Index(":memory:", same_story=None) as index:
            index.add_many([a for a in articles if a.id != article.id])
            found = {m.id: (m.relation, m.jaccard) for m in index.query(article)}
        expected = {(p.b if p.a == article.id else p.a): (p.relation, p.jaccard)
                    for p in result.pairs if article.id in (p.a, p.b)}
        assert found == expected


def test_samples_copies_are_found_with_their_relation() -> None:
    articles = {a.id: a for a in samples()}
    expected = {
        "outlets/dailyherald_verbatim.txt": "near_duplicate",
        "outlets/gazette_added.txt": "near_duplicate",
        "outlets/morningstar_edited.txt": "derived",
        "outlets/citypost_trimmed.txt": "derived",
        "outlets/evening_times.html": "derived",
        "outlets/newsnow_interview.txt": "derived",
        "outlets/worldwire_rewrite.md": "same_story",
        "reuters-2025-03-03-port": "exact",
    }
    with Index(":memory:") as index:
        index.add(articles["wire/reuters_port_strike.txt"])
        for copy, wanted in expected.items():
            found = index.query(articles[copy])
            assert [(m.id, m.relation) for m in found] == [("wire/reuters_port_strike.txt", wanted)], copy
    with Index(":memory:") as index:
        index.add(articles["wire/afp_heatwave.txt"])
        assert [m.relation for m in index.query(articles["outlets/sunbulletin_heatwave.txt"])] == ["near_duplicate"]


def test_interview_copy_reports_its_added_interview() -> None:
    articles = samples()
    with Index(":memory:") as index:
        index.add_many([a for a in articles if a.id != "outlets/newsnow_interview.txt"])
        found = index.query(next(a for a in articles if a.id == "outlets/newsnow_interview.txt"))
    assert found.added_sections and found.added_sections[0].label == "interview"
    assert found.cluster is not None and "outlets/newsnow_interview.txt" in found.cluster.members
    assert found[0].containment_match_in_query > 0.9 or found[0].relation == "same_story"


def test_each_seed_finds_its_rewrites() -> None:
    seeds = [Article(p.name, p.read_text(encoding="utf-8")) for p in sorted(need(SEEDS).glob("*.txt"))]
    assert len(seeds) == 5
    for seed in seeds:
        with Index(":memory:") as index:
            index.add_many([s for s in seeds if s.id != seed.id])
            found = index.query(seed)
        assert sorted((m.id, m.relation) for m in found) == sorted(
            (s.id, "same_story") for s in seeds if s.id != seed.id)
    assert compare_each(seeds, lambda: ":memory:") == []


# ---------------------------------------------------------------------- the API


def test_add_get_iterate_len_contains_stats(url: str) -> None:
    with Index(url) as index:
        index.add("story-1", WIRE, published="2025-03-03T10:00:00Z", outlet="wire.example", title="Port strike",
                  url="https://wire.example/1")
        index.add(Article("story-2", edit_words(WIRE, 0.05), outlet="copy.example"))
        assert len(index) == 2 and list(index) == ["story-1", "story-2"] and "story-1" in index
        stored = index.get("story-1")
        assert stored is not None and stored.text == WIRE and stored.outlet == "wire.example"
        assert stored.published == dt.datetime(2025, 3, 3, 10, tzinfo=dt.timezone.utc)
        assert stored.title == "Port strike" and stored.url == "https://wire.example/1"
        assert index.get("missing") is None
        stats = index.stats()
        assert stats["articles"] == 2 and stats["links_by_relation"] == {"near_duplicate": 1}
        assert stats["df_documents"] == 1  # the two copies count once
        found = index.query(WIRE)
        assert [(m.id, m.relation) for m in found] == [("story-1", "exact"), ("story-2", "near_duplicate")]
        assert found[0].containment_query_in_match == 1.0 and found[0].title == "Port strike"


def test_readding_an_id_replaces_it(url: str) -> None:
    with Index(url) as index:
        index.add("a", WIRE)
        index.add("b", filler(300, seed=2))
        assert [m.id for m in index.query(WIRE)] == ["a"]
        index.add("a", filler(400, seed=7))  # the article was rewritten in the CMS
        assert len(index) == 2 and index.query(WIRE).matches == []
        index.add_many([Article("c", WIRE), Article("c", filler(50, seed=3)), Article("d", WIRE)])
        assert len(index) == 4 and [m.id for m in index.query(WIRE)] == ["d"]  # last of an id in a batch wins


def test_query_of_a_stored_id_leaves_the_stored_version_out() -> None:
    with Index(":memory:") as index:
        index.add_many([Article("a", WIRE), Article("b", WIRE)])
        assert [m.id for m in index.query(Article("a", WIRE))] == ["b"]


def test_remove_and_expire(url: str) -> None:
    with Index(url) as index:
        index.add_many([
            Article("old", WIRE, published="2024-08-01"),
            Article("older", edit_words(WIRE, 0.05), published="2024-07-01"),
            Article("new", edit_words(WIRE, 0.08), published="2024-10-01"),
            Article("undated", "\n\n".join(PARAGRAPHS[:5])),
        ])
        assert index.remove("new") and not index.remove("new")
        assert sorted(index) == ["old", "older", "undated"]
        assert index.expire(before="2024-09-01") == 2
        assert list(index) == ["undated"]
        assert index.stats()["links"] == 0
        assert index.expire(before=dt.date(2030, 1, 1)) == 0  # undated articles never expire


def test_bad_arguments() -> None:
    with Index(":memory:") as index:
        with pytest.raises(TypeError):
            index.add("id-only")
        with pytest.raises(TypeError):
            index.add(Article("a", WIRE), "text")
        with pytest.raises(TypeError):
            index.query(WIRE, colour="red")
        with pytest.raises(ValueError):
            index.add("x", WIRE, published="not a date")


# ---------------------------------------------------------------------- document frequencies


def scan_idf(articles: list[Article], params: Params) -> Idf:
    """The document frequencies a scan of these articles uses (its stage functions, in its order)."""
    from dedup.evidence import SharedRuns, credible
    from dedup.pipeline import _days, _weigh

    articles = sorted(articles, key=lambda a: a.id)
    prints = fingerprint([a.text for a in articles], params)
    runs = SharedRuns([a.text for a in articles], params.winnow_k, params.min_run_words, params.shingle_size)
    copies = Copies.of(prints.exact_keys)
    exact, _ = exact_pairs(copies, params.max_exact_group)
    found, _, _, rare = Scanner(params)._verbatim(prints, copies, runs)
    found = found.take(credible(found, prints, runs, _days(articles), params, rare))
    links = Links.concat([verify(prints, prints, exact, params), expand(found, copies, params.max_exact_group)])
    idf, _ = _weigh(prints, links, params)
    assert idf is not None
    return idf


def index_df(index: Index) -> tuple[int, dict[int, int]]:
    return int(index.store.meta()["n_docs"]), dict(index.store.df())


def expected_df(articles: list[Article]) -> tuple[int, dict[int, int]]:
    idf = scan_idf(articles, Params())
    nonzero = np.flatnonzero(idf.document_frequency)
    return idf.n_docs, {int(t): int(idf.document_frequency[t]) for t in nonzero}


def test_document_frequencies_follow_adds_removes_and_expiry(url: str) -> None:
    articles = [
        *samples(),
        Article("zz-copy-of-wire", WIRE, published="2024-01-01"),  # joins the wire's group last
        Article("aa-copy-of-wire", WIRE, published="2024-02-01"),  # lowest id: becomes the group's counted one
    ]
    with Index(url) as index:
        index.add_many(articles[:6])
        assert index_df(index) == expected_df(articles[:6])
        for article in articles[6:]:
            index.add(article)
        assert index_df(index) == expected_df(articles)
        index.remove("aa-copy-of-wire")
        left = [a for a in articles if a.id != "aa-copy-of-wire"]
        assert index_df(index) == expected_df(left)
        index.remove("wire/reuters_port_strike.txt")  # the group's bridge: the group splits
        left = [a for a in left if a.id != "wire/reuters_port_strike.txt"]
        assert index_df(index) == expected_df(left)
        index.expire(before="2024-06-01")
        left = [a for a in left if a.published is None or a.published.year > 2024]
        assert index_df(index) == expected_df(left)
        for article in articles:
            index.remove(article.id)
        assert index_df(index) == (0, {}) and len(index) == 0


def expected_family_df(articles: list[Article], params: Params) -> dict[tuple[int, int], int]:
    """The copy-family frequencies of a scan of these articles: ``(kind, key) -> families``, shingles
    (kind 0) and passage fingerprints (kind 1), families as the scan forms them (``families_for_df``
    over the verified LSH pairs of distinct texts)."""
    from dedup.candidates import BandedLSH
    from dedup.family_df import PASSAGES, SHINGLES, family_counts
    from dedup.link import families_for_df

    articles = sorted(articles, key=lambda a: a.id)
    prints = fingerprint([a.text for a in articles], params)
    distinct = Copies.of(prints.exact_keys).distinct
    pairs, _ = BandedLSH(params.lsh_threshold, params.num_perm, max_bucket=params.max_bucket).candidates(
        prints.signatures[distinct])
    families = families_for_df(len(prints), verify(prints, prints, distinct[pairs].reshape(-1, 2), params))[distinct]
    out = {}
    for kind, rows in ((SHINGLES, prints.shingles), (PASSAGES, prints.passages)):
        keys, counts = family_counts(rows.take(distinct), families)
        out |= {(kind, int(k)): int(c) for k, c in zip(keys.view(np.int64), counts, strict=True)}
    return out


def index_family_df(index: Index) -> dict[tuple[int, int], int]:
    return {(int(kind), int(key)): int(count) for kind, key, count in index.store.family_table()}


def settled_rows(index: Index) -> int:
    return int(index.store._rows("SELECT COUNT(*) FROM family_df")[0][0])


@pytest.mark.parametrize("merge_min", [None, 0])
def test_family_frequencies_follow_adds_merges_removes_and_expiry(url: str, merge_min: int | None) -> None:
    """Shingles and passage fingerprints counted once per copy family: families grow, merge when a
    bridging copy arrives, split when it leaves, as a scan of the stored articles counts them; with the
    counts in SQLite's recent table only (``merge_min`` None: too few rows to merge) and with the
    recent table merged into the settled one at (nearly) every write (0)."""
    left, right = "\n\n".join(PARAGRAPHS[:3]), "\n\n".join(PARAGRAPHS[3:6])
    bridge = left + "\n\n" + right
    articles = [
        Article("a-left", left, published="2024-05-01"),
        Article("b-right", right, published="2024-05-01"),
        Article("c-left-edited", edit_words(left, 0.04, seed=3), published="2024-05-02"),
        Article("d-other", filler(300, seed=5), published="2024-05-02"),
        Article("e-copy-of-left", left),
    ]
    params = Params()
    with Index(url) as index:
        if merge_min is not None:
            index.store.family_merge_min = merge_min
        index.add_many(articles[:2])
        # SQLite writes to the recent table (merged at merge_min); PostgreSQL to the settled one
        assert (settled_rows(index) > 0) == (merge_min is not None or index.store.dialect != "sqlite")
        assert index_family_df(index) == expected_family_df(articles[:2], params)
        for article in articles[2:]:
            index.add(article)
        assert index_family_df(index) == expected_family_df(articles, params)
        # a page holding both halves is close to neither alone; edited copies of it bridge the two
        bridges = [Article("f-bridge", bridge, published="2024-05-03"),
                   Article("g-bridge-edited", edit_words(bridge, 0.03, seed=9), published="2024-05-03")]
        index.add_many(bridges)
        now = articles + bridges
        assert index_family_df(index) == expected_family_df(now, params)
        index.remove("f-bridge")
        now = [a for a in now if a.id != "f-bridge"]
        assert index_family_df(index) == expected_family_df(now, params)
        index.remove("a-left")  # the first copy of a text with another copy: the copy carries the family
        now = [a for a in now if a.id != "a-left"]
        assert index_family_df(index) == expected_family_df(now, params)
        index.expire(before="2024-05-02T12:00:00Z")
        now = [a for a in now if a.published is None or a.published.day > 2]
        assert index_family_df(index) == expected_family_df(now, params)
        for article in now:
            index.remove(article.id)
        assert index_family_df(index) == {}


def test_common_shingles_and_fingerprints_as_in_a_scan() -> None:
    """With a low ``winnow_max_df`` the skeleton rule and the dropping of common passage fingerprints
    decide answers (a scan with them gives other answers than without); the index gives the scan's
    verbatim answers, and the document frequencies of a scan of the stored articles.

    Not the same-story cosines: the query's arrival makes shingles common in a scan of all, which
    turns verified links *between stored articles* down and so changes the groups the df count once
    (the README's "links between stored articles were decided when the later was added")."""
    articles = [*samples(), *constructed()]
    low = Params(winnow_max_df=2)
    verbatim = {(p.a, p.b, p.relation) for p in Scanner(low).scan(articles).pairs if p.relation != "same_story"}
    assert verbatim != {(p.a, p.b, p.relation) for p in Scanner().scan(articles).pairs if p.relation != "same_story"}
    assert compare_each(articles, lambda: ":memory:", params=low, verbatim_only=True) == []
    with Index(":memory:", low) as index:
        index.add_many(articles[1:])
        idf = scan_idf(articles[1:], low)
        assert index_df(index) == (idf.n_docs, {int(t): int(idf.document_frequency[t])
                                                for t in np.flatnonzero(idf.document_frequency)})
        assert index_family_df(index) == expected_family_df(articles[1:], low)


# ---------------------------------------------------------------------- parameters and the file


def test_parameters_are_stored_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "news.db"
    with Index(path, derived=0.3) as index:
        index.add("a", WIRE)
    with Index(path) as index:  # no params: the index's own
        assert index.params.derived == 0.3
    with pytest.raises(StoreError, match=r"derived: index 0\.3, given 0\.2"):
        Index(path, Params())
    with Index(path, Params(derived=0.3, passages=False)) as index:  # attribution settings are free
        assert len(index) == 1


def test_foreign_and_damaged_files_are_refused_and_left_alone(tmp_path: Path) -> None:
    import sqlite3

    text = tmp_path / "notes.db"
    text.write_bytes(b"these are my notes, not a database\n" * 200)
    with pytest.raises(StoreError, match="not a readable dedup index"):
        Index(text)
    assert text.read_bytes().startswith(b"these are my notes")
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE customers (name TEXT)")
    with pytest.raises(StoreError, match="not a dedup index"):
        Index(other)
    damaged = tmp_path / "damaged.db"
    with Index(damaged) as index:
        index.add_many([Article(f"a{i}", filler(300, seed=i)) for i in range(30)])
    data = bytearray(damaged.read_bytes())
    data[4096 * 2 : 4096 * 6] = b"\xff" * (4096 * 4)
    damaged.write_bytes(bytes(data))
    with pytest.raises(StoreError, match="damaged"), Index(damaged) as index:
        len(index), list(index), index.query(WIRE)
    folder = tmp_path / "folder"
    folder.mkdir()
    with pytest.raises(StoreError, match="folder"):
        Index(folder)


def test_schema_version_is_checked(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "news.db"
    Index(path).close()
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE meta SET value = '999' WHERE key = 'schema_version'")
    with pytest.raises(StoreError, match="schema version 999"):
        Index(path)


def test_large_exact_groups_are_capped_as_in_a_scan() -> None:
    """Sixty identical notices: pairs with the group's first copy only, which alone takes the text's links."""
    notice = "\n\n".join(PARAGRAPHS[:3])
    articles = [Article(f"n{i:03d}", notice) for i in range(60)]
    articles += [Article("a-edited", edit_words(notice, 0.05)), Article("z-edited", edit_words(notice, 0.04, seed=2))]
    result = Scanner(same_story=None).scan(articles)
    for article in [articles[0], articles[30], articles[60], articles[61]]:
        with Index(":memory:", same_story=None) as index:
            index.add_many([a for a in articles if a.id != article.id])
            found = {m.id: (m.relation, m.jaccard) for m in index.query(article)}
        expected = {(p.b if p.a == article.id else p.a): (p.relation, p.jaccard)
                    for p in result.pairs if article.id in (p.a, p.b)}
        assert found == expected, article.id


def test_quick_check_gives_the_same_matches() -> None:
    articles = samples()
    for article in articles:
        with Index(":memory:") as index:
            index.add_many([a for a in articles if a.id != article.id])
            full, quick = index.query(article), index.query(article, passages=False)
        assert [(m.id, m.relation, m.jaccard, m.containment_query_in_match, m.cosine, m.spans) for m in full] == \
            [(m.id, m.relation, m.jaccard, m.containment_query_in_match, m.cosine, m.spans) for m in quick]
        assert quick.added_sections == [] and quick.cluster is None


def answers(found) -> list[tuple]:
    return [(m.id, m.relation, m.jaccard, m.containment_query_in_match, m.cosine, m.spans) for m in found]


def test_in_memory_first_copies_follow_writes_of_this_and_other_processes(tmp_path: Path) -> None:
    """The same-story search reads first copies from memory: after this index's own adds, removes and
    replacements, and after another connection's add, a query answers as a freshly opened index."""
    path = tmp_path / "news.db"
    cases = dated_cases() + [Article(f"u{i}", edit_words(WIRE, 0.5, seed=40 + i)) for i in range(3)]
    query = Article("q-rewrite", edit_words(WIRE, 0.45, seed=99), published=DAY + dt.timedelta(hours=3))
    with Index(path) as index:
        for step, article in enumerate(cases):
            index.add(article)
            if step == 4:
                index.add(Article("a-wire", edit_words(WIRE, 0.3, seed=5), published=DAY))  # replaced
            if step == 6:
                index.remove("b-copy")
            mine = answers(index.query(query))
            with Index(path) as fresh:
                assert mine == answers(fresh.query(query)), article.id
        assert any(m[1] == "same_story" for m in mine)
        with Index(path) as other:
            other.add(Article("z-other-process", edit_words(WIRE, 0.4, seed=77), published=DAY))
        mine = answers(index.query(query))
        assert "z-other-process" in [m[0] for m in mine]
        with Index(path) as fresh:
            assert mine == answers(fresh.query(query))


def test_threads_may_share_an_index(tmp_path: Path) -> None:
    import threading

    with Index(tmp_path / "news.db") as index:

        def work(k: int) -> None:
            for i in range(15):
                index.add(Article(f"t{k}-{i}", filler(80, seed=k * 100 + i)))
                index.query(WIRE)

        threads = [threading.Thread(target=work, args=(k,)) for k in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(index) == 45


def test_a_stored_text_is_beaten_only_with_k_other_rows_above_the_new_cosine() -> None:
    """``_beaten``: a stored text is left unsearched only when ``k`` rows of other stored texts in its
    window beat the new row's cosine with it; its own rows, the new rows and rows outside the window
    do not count, and a tie does not beat."""
    import scipy.sparse as sp

    from dedup.index import _beaten

    # rows: 0 the new text, 1 the stored text reached, 2-4 other stored texts, 5 a window of text 1
    vectors = sp.csr_matrix(np.array([
        [1.0, 0.0, 0.0], [0.6, 0.8, 0.0], [0.0, 1.0, 0.0], [0.0, 1.0, 0.0], [0.6, 0.8, 0.0], [0.6, 0.8, 0.0],
    ], dtype=np.float32))
    owner = np.array([0, 1, 2, 3, 4, 1])
    days = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    new = np.array([0])
    reached, score = np.array([1]), np.array([0.6])  # the new row's cosine with row 1
    # rows 2, 3 (0.8) and 4 (1.0) beat 0.6; row 5 is text 1's own
    assert _beaten(vectors, days, owner, new, reached, score, 3, 3.0).tolist() == [1]
    assert _beaten(vectors, days, owner, new, reached, score, 4, 3.0).tolist() == []
    far = days.copy()
    far[4] = 10.0  # outside the window: does not count
    assert _beaten(vectors, far, owner, new, reached, score, 3, 3.0).tolist() == []
    assert _beaten(vectors, far, owner, new, reached, score, 3, None).tolist() == [1]
    # a tie with the new cosine does not beat it (the column order could let the new row in)
    assert _beaten(vectors, days, owner, new, reached, np.array([0.8]), 1, 3.0).tolist() == [1]
    assert _beaten(vectors, days, owner, new, reached, np.array([0.8]), 2, 3.0).tolist() == []
    # a text is beaten only if every row of it the new text reaches is: row 5 reached at 1.0 (a tie)
    both = _beaten(vectors, days, owner, new, np.array([1, 5]), np.array([0.6, 1.0]), 1, 3.0)
    assert both.tolist() == []
