"""Two articles lined up passage by passage: what they share verbatim, what one
rewrote, what each added. A view of :meth:`dedup.Scanner.compare`'s result.

The scan says which passages are added (``Passage.added``); to put the two sides
next to each other, passages are paired by a monotone alignment (like ``diff``, over
passages) on word 3-shingle containment -- or the pair's shared ``spans`` when the
result carries them -- and, for rewrites, on shared content words.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from .article import Article, Skipped
from .load import iter_articles
from .result import ArticleResult, PairResult, Passage, ScanResult
from .safe import visible, visible_text

__all__ = ["ROW_KINDS", "align", "comparison", "load_spec", "render_compare_table"]

ROW_KINDS = {
    "verbatim": "shared verbatim",
    "rewritten": "same content, rewritten",
    "moved": "shared, at another place on the other side (its paragraph number given)",
    "shared": "carried by the other side, no single counterpart",
    "added": "added by this side",
    "own": "only on this side, not marked added",
}
VERBATIM = 0.5  # 3-shingle containment of the shorter passage in the other
REWRITTEN = 0.35  # content-word overlap for a rewritten pair
_WORD = re.compile(r"\w+")


class SpecError(ValueError):
    """An article argument that names nothing readable."""


def load_spec(spec: str, max_bytes: int | None = None) -> Article:
    """``FILE``, or ``FILE#ID`` for the record ``ID`` of a JSONL or JSON file.

    A file whose name contains ``#`` is taken as a file when it exists.
    """
    path = Path(spec)
    record: str | None = None
    if not path.is_file() and "#" in spec:
        head, _, record = spec.rpartition("#")
        path = Path(head)
    if not path.is_file():
        raise SpecError(f"not a file: {spec}" + (f" (nor {path})" if record is not None else ""))
    loaded = list(iter_articles(path) if max_bytes is None else iter_articles(path, max_bytes=max_bytes))
    found = [a for a in loaded if isinstance(a, Article)]
    if record is not None:
        chosen = [a for a in found if a.id == record]
        if not chosen:
            sample = ", ".join(visible(a.id) for a in found[:5])
            raise SpecError(f"no record with id {record!r} in {path}"
                            + (f" (ids there: {sample}{', ...' if len(found) > 5 else ''})" if found else ""))
        return chosen[0]
    if not found:
        reasons = "; ".join(str(s) for s in loaded if isinstance(s, Skipped)) or "no article in it"
        raise SpecError(f"cannot read {path}: {reasons}")
    return found[0]


def distinct(first: Article, second: Article) -> tuple[Article, Article]:
    """The same id twice (two files named alike): the second gets ``(2)``, metadata kept."""
    if first.id == second.id:
        second = dataclasses.replace(second, id=f"{second.id} (2)")
    return first, second


# --------------------------------------------------------------------------- alignment


def _shingles(text: str) -> tuple[set[tuple[str, ...]], set[str]]:
    tokens = [t.lower() for t in _WORD.findall(text)]
    grams = {tuple(tokens[i : i + 3]) for i in range(max(0, len(tokens) - 2))} or {tuple(tokens)}
    content = {t for t in tokens if len(t) > 3}
    return grams, content


def _overlap(x: set[Any], y: set[Any]) -> float:
    if not x or not y:
        return 0.0
    return len(x & y) / min(len(x), len(y))


def _span_share(a: Passage, b: Passage, spans: list[dict[str, int]]) -> float:
    """Share of the shorter passage inside shared runs that join these two passages."""
    covered = 0
    for span in spans:
        on_a = min(a.end, span["a_end"]) - max(a.start, span["a_start"])
        on_b = min(b.end, span["b_end"]) - max(b.start, span["b_start"])
        if on_a > 0 and on_b > 0:
            covered += min(on_a, on_b)
    shorter = min(a.end - a.start, b.end - b.start)
    return min(1.0, covered / shorter) if shorter > 0 else 0.0


def align(first: list[Passage], second: list[Passage],
          spans: list[dict[str, int]] | None = None) -> list[tuple[int | None, int | None, str, float, int | None]]:
    """Rows ``(i, j, kind, similarity, elsewhere)`` in reading order: passage ``i`` of the
    first article beside passage ``j`` of the second (either may be None). A passage
    left alone by the in-order alignment whose counterpart is elsewhere (paragraphs
    moved) is ``moved``, with the index of that counterpart on the other side."""
    fa = [_shingles(p.text) for p in first]
    fb = [_shingles(p.text) for p in second]
    n, m = len(first), len(second)
    score = [[0.0] * m for _ in range(n)]
    verbatim = [[False] * m for _ in range(n)]
    for i in range(n):
        for j in range(m):
            copy = _overlap(fa[i][0], fb[j][0])
            if spans:
                copy = max(copy, _span_share(first[i], second[j], spans))
            if copy >= VERBATIM:
                score[i][j], verbatim[i][j] = 1.0 + copy, True
            else:
                words = _overlap(fa[i][1], fb[j][1])
                if words >= REWRITTEN and min(len(fa[i][1]), len(fb[j][1])) >= 3:
                    score[i][j] = words
    best = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            options = [best[i + 1][j], best[i][j + 1]]
            if score[i][j] > 0:
                options.append(best[i + 1][j + 1] + score[i][j])
            best[i][j] = max(options)
    rows: list[tuple[int | None, int | None, str, float, int | None]] = []
    i = j = 0

    def similarity(x: int, y: int) -> float:
        return round(score[x][y] - (1.0 if verbatim[x][y] else 0.0), 4)

    while i < n or j < m:
        if i < n and j < m and score[i][j] > 0 and best[i][j] == best[i + 1][j + 1] + score[i][j]:
            kind = "verbatim" if verbatim[i][j] else "rewritten"
            rows.append((i, j, kind, similarity(i, j), None))
            i, j = i + 1, j + 1
        elif j >= m or (i < n and best[i][j] == best[i + 1][j]):
            other = max(range(m), key=lambda y: score[i][y], default=None)
            if other is not None and score[i][other] > 0:
                rows.append((i, None, "moved", similarity(i, other), other))
            else:
                rows.append((i, None, _alone(first[i]), 0.0, None))
            i += 1
        else:
            other = max(range(n), key=lambda x: score[x][j], default=None)
            if other is not None and score[other][j] > 0:
                rows.append((None, j, "moved", similarity(other, j), other))
            else:
                rows.append((None, j, _alone(second[j]), 0.0, None))
            j += 1
    return rows


def _alone(passage: Passage) -> str:
    if passage.added:
        return "added"
    return "shared" if passage.support > 0 else "own"


def _side(passage: Passage, index: int) -> dict[str, Any]:
    out = passage.to_dict() | {"paragraph": index + 1}
    for name in ("matched", "verbatim"):
        if hasattr(passage, name):
            out[name] = getattr(passage, name)
    return out


def _meta(article: ArticleResult) -> dict[str, Any]:
    published = article.published.isoformat() if article.published else None
    return {"id": article.id, "title": article.title, "outlet": article.outlet, "url": article.url,
            "published": published, "words": article.words,
            "added_sections": [{"start": s.start, "end": s.end, "score": round(s.score, 4), "label": s.label,
                                "text": s.text} for s in article.added_sections]}


def comparison(result: ScanResult, differences_only: bool = False, first: str | None = None) -> dict[str, Any]:
    """The lined-up view of :meth:`Scanner.compare`'s result, as plain data (the JSON
    of ``dedup compare --format json``). ``first``: the id shown as A (the scan may
    order its articles by id)."""
    one, two = result.articles
    if first is not None and two.id == first:
        one, two = two, one
    first_article, second = one, two
    pair: PairResult | None = result.pairs[0] if result.pairs else None
    spans = getattr(pair, "spans", None) if pair is not None else None
    if pair is not None and spans and pair.a != first_article.id:
        spans = [{"a_start": s["b_start"], "a_end": s["b_end"], "b_start": s["a_start"], "b_end": s["a_end"]}
                 for s in spans]
    rows = []
    counts: dict[str, int] = {}
    for i, j, kind, similarity, elsewhere in align(first_article.passages, second.passages, spans):
        counts[kind] = counts.get(kind, 0) + 1
        if differences_only and kind == "verbatim":
            continue
        a_side = _side(first_article.passages[i], i) if i is not None else None
        b_side = _side(second.passages[j], j) if j is not None else None
        row = {"kind": kind, "similarity": similarity, "a": a_side, "b": b_side, "elsewhere": None}
        if elsewhere is not None:  # the counterpart of a moved passage: side and paragraph number
            row["elsewhere"] = {"side": "b" if i is not None else "a", "paragraph": elsewhere + 1}
        rows.append(row)
    return {
        "a": _meta(first_article),
        "b": _meta(second),
        "pair": dataclasses.asdict(pair) if pair is not None else None,
        "differences_only": differences_only,
        "counts": counts,
        "rows": rows,
    }


# --------------------------------------------------------------------------- terminal view

_STYLE = {"verbatim": "green", "rewritten": "blue", "moved": "magenta", "shared": "cyan", "added": "red",
          "own": "yellow"}


def _cell(side: dict[str, Any] | None, kind: str, elsewhere: dict[str, Any] | None, name: str) -> Text:
    if side is None:
        if elsewhere is not None and elsewhere["side"] == name:
            return Text(f"(its counterpart is {name.upper()} \u00b6{elsewhere['paragraph']}, elsewhere)",
                        style="dim")
        return Text("")
    cell = Text(f"\u00b6{side['paragraph']} ", style="dim")
    if side["added"]:
        tag = f"+ added {side['score']:.2f}" + (f" {side['label']}" if side["label"] else "")
        cell.append(tag + "\n", style="bold red")
    elif kind in ("shared", "own", "moved"):
        cell.append(f"{kind}\n", style=_STYLE[kind])
    cell.append(visible_text(side["text"]))
    return cell


def render_compare_table(data: dict[str, Any]) -> Group:
    """Header (relation and scores), a legend, then the two articles side by side, one
    row per aligned passage. Every string from the input is shown with control
    characters escaped."""
    a, b, pair = data["a"], data["b"], data["pair"]
    parts: list[Text | Table] = []
    if pair is None:
        parts.append(Text("not linked: no verbatim overlap or same-story similarity above the thresholds",
                          style="bold"))
    else:
        first_is_a = pair["a"] == a["id"]
        a_in_b = pair["containment_a_in_b"] if first_is_a else pair["containment_b_in_a"]
        b_in_a = pair["containment_b_in_a"] if first_is_a else pair["containment_a_in_b"]
        head = Text()
        head.append(pair["relation"], style="bold")
        head.append(f"  jaccard {pair['jaccard']:.2f}  A in B {a_in_b:.2f}  B in A {b_in_a:.2f}  "
                    f"cosine {pair['cosine']:.2f}  source ")
        head.append(visible(pair["source"] or "unknown"))
        parts.append(head)
    for name, meta in (("A", a), ("B", b)):
        line = Text(f"{name}: ", style="bold")
        line.append(visible(meta["id"]))
        about = " · ".join(visible(meta[k]) for k in ("outlet", "title", "published") if meta.get(k))
        if about:
            line.append(f"  ({about})", style="dim")
        line.append(f"  {meta['words']} words")
        parts.append(line)
    counts = ", ".join(f"{k} {v}" for k, v in sorted(data["counts"].items()))
    parts.append(Text(f"passages: {counts or 'none'}" +
                      (" -- differences only (verbatim rows hidden)" if data["differences_only"] else ""),
                      style="dim"))
    legend = Text("rows: ", style="dim")
    for kind, meaning in ROW_KINDS.items():
        legend.append(f"{kind}", style=_STYLE[kind])
        legend.append(f" = {meaning}; ", style="dim")
    parts.append(legend)
    table = Table(show_lines=True, expand=True)
    table.add_column(Text("A: " + visible(a["id"])), ratio=1, overflow="fold")
    table.add_column("", width=10, no_wrap=True)
    table.add_column(Text("B: " + visible(b["id"])), ratio=1, overflow="fold")
    for row in data["rows"]:
        kind = row["kind"]
        middle = Text(kind, style=_STYLE[kind])
        if kind in ("verbatim", "rewritten", "moved"):
            middle.append(f"\n{row['similarity']:.2f}", style="dim")
        elsewhere = row.get("elsewhere")
        table.add_row(_cell(row["a"], kind, elsewhere, "a"), middle, _cell(row["b"], kind, elsewhere, "b"))
    parts.append(table)
    return Group(*parts)
