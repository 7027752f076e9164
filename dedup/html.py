"""The HTML report: one self-contained file, rendered from a :class:`~dedup.result.ScanResult`.

Article text, ids, titles and urls are untrusted (they come from the web): every one
goes through Jinja2 with autoescaping on, and control and bidi characters are shown
escaped. The page loads nothing (inline CSS and SVG), and its Content-Security-Policy
allows exactly its own stylesheet and its one small script (by SHA-256 hash): an
article's ``<script>``, ``onerror=`` or ``javascript:`` link can neither render as
markup nor run.

Scale: clusters are paginated inside the file (CSS ``:target``, no script needed), each
member's passages sit in a collapsed ``<details>``, and cluster details stop at a byte
budget (``max_bytes``), with a note saying what was left out.
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from .compare import ROW_KINDS
from .report import added_words, cluster_order, summary_line, words
from .result import ArticleResult, ClusterResult, PairResult, Passage, ScanResult
from .safe import visible, visible_block, visible_text

__all__ = ["DEFAULT_MAX_BYTES", "render_compare_html", "render_html"]

DEFAULT_MAX_BYTES = 18_000_000
PER_PAGE = 20
MEMBER_TEXT_CAP = 40_000  # characters of passages shown per member; the rest is counted
GRAPH_NODES = 24
KINDS = {
    "verbatim": "shared verbatim (half its word 3-shingles or more in another member)",
    "rewritten": "shared, rewritten (another member carries its content in other words)",
    "added": "added by this outlet",
    "own": "not found in other members, not marked added",
}
RELATION_COLOURS = {"exact": "#1b7837", "near_duplicate": "#5aae61", "derived": "#2166ac", "same_story": "#b2abd2"}

_env: Environment | None = None


def environment() -> Environment:
    global _env
    if _env is None:
        _env = Environment(
            loader=PackageLoader("dedup", "templates"),
            autoescape=True,  # every template, every string: untrusted text is data
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        _env.filters["vis"] = lambda value: visible("" if value is None else value)
        _env.filters["vline"] = lambda value: visible_text("" if value is None else str(value))
        _env.filters["vblock"] = lambda value: visible_block("" if value is None else str(value))
        _env.filters["pct"] = lambda value: f"{100 * value:.0f}%"
        _env.filters["num"] = lambda value: f"{value:,}"
    return _env


def _asset(name: str) -> str:
    return resources.files("dedup").joinpath("templates", name).read_text(encoding="utf-8")


def _csp_hash(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


def _page_assets() -> dict[str, Any]:
    css, script = _asset("report.css"), _asset("report.js")
    csp = (f"default-src 'none'; style-src '{_csp_hash(css)}'; script-src '{_csp_hash(script)}'; "
           "base-uri 'none'; form-action 'none'")
    return {"css": Markup(css), "script": Markup(script), "csp": csp}


def safe_url(url: str | None) -> str | None:
    """Only http(s) urls become links; anything else (``javascript:``, ``data:``) is shown as text."""
    if url and url.strip().lower().startswith(("http://", "https://")) and not any(ord(c) < 33 for c in url.strip()):
        return url.strip()
    return None


# --------------------------------------------------------------------------- view model


@dataclass
class PassageView:
    text: str
    kind: str
    note: str
    start: int
    end: int
    label: str | None = None


@dataclass
class MemberView:
    number: int
    id: str
    anchor: str
    title: str | None
    outlet: str | None
    url: str | None
    url_text: str | None
    published: str | None
    relation: str
    scores: dict[str, float] | None
    words: int
    counts: dict[str, int]
    sections: list[dict[str, Any]]
    passages: list[PassageView] = field(default_factory=list)
    hidden_chars: int = 0
    core_hidden: int = 0
    same_as: int | None = None
    open: bool = False
    bar: list[dict[str, Any]] = field(default_factory=list)


def passage_kind(passage: Passage, others: set[int] | None = None) -> str:
    """added, own, or shared: verbatim / rewritten as the result says (``Passage.verbatim``);
    without that field, verbatim when half the passage's word 3-shingles occur in another
    member (``others``: their shingles), else rewritten; ``shared`` when neither is known."""
    if passage.added:
        return "added"
    if passage.support <= 0:
        return "own"
    verbatim = getattr(passage, "verbatim", None)
    if verbatim is None:
        if others is None:
            return "shared"
        own = _shingles(passage.text)
        verbatim = bool(own) and len(own & others) >= VERBATIM_SHARE * len(own)
    return "verbatim" if verbatim else "rewritten"


VERBATIM_SHARE = 0.5
_WORD = re.compile(r"\w+")


def _shingles(text: str) -> set[int]:
    """Word 3-shingles (hashed in-process: for comparing within one report only)."""
    tokens = _WORD.findall(text.lower())
    return {hash((tokens[i], tokens[i + 1], tokens[i + 2])) for i in range(len(tokens) - 2)}


def _passage_note(passage: Passage, kind: str, number_of: dict[str, int]) -> str:
    """A short tag: ``added · score 0.94``, ``verbatim · matches #3 x (0.98) · 2 others``."""
    if kind == "added":
        return f"added · score {passage.score:.2f}"  # the label follows as a badge
    if kind == "own":
        return "own: no other member carries it, not scored as added"
    matched = getattr(passage, "matched", None)
    if matched:
        where = f"matches #{number_of[matched]} " if matched in number_of else "matches "
        where += f"{visible(matched)} ({passage.match:.2f})"
    else:
        where = f"best match {passage.match:.2f}"
    return f"{kind} · {where} · {passage.support} other{'s' if passage.support != 1 else ''}"


def _bar(counts: dict[str, int], total: int, width: float = 220.0) -> list[dict[str, Any]]:
    x = 0.0
    out = []
    for kind in ("verbatim", "rewritten", "shared", "own", "added"):
        n = counts.get(kind, 0)
        if not n or not total:
            continue
        w = width * n / total
        out.append({"kind": kind, "x": round(x, 1), "w": round(max(w, 0.5), 1), "words": n})
        x += w
    return out


def _member(number: int, article: ArticleResult, anchor: str, has_origin: bool,
            link: PairResult | None, number_of: dict[str, int], core: set[tuple[int, int]],
            others: set[int] | None) -> MemberView:
    """One member's view. The anchor's passages that are the wire core are not repeated,
    nor the text of an exact copy of the anchor (the file stays small at scale)."""
    counts: dict[str, int] = {}
    passages: list[PassageView] = []
    shown_chars = 0
    hidden = 0
    core_hidden = 0
    for p in article.passages:
        kind = passage_kind(p, others)
        text = p.text
        n = words(text)
        counts[kind] = counts.get(kind, 0) + n
        if article.id == anchor and (p.start, p.end) in core:
            core_hidden += 1
            continue
        if shown_chars + len(text) > MEMBER_TEXT_CAP:
            hidden += len(text)
            continue
        shown_chars += len(text)
        passages.append(PassageView(text, kind, _passage_note(p, kind, number_of), p.start, p.end, p.label))
    total = sum(counts.values()) or article.words
    if article.id == anchor:
        relation, scores = ("origin" if has_origin else "first member"), None
    elif link is None:
        relation, scores = "via others", None
    else:
        copied, kept = ((link.containment_a_in_b, link.containment_b_in_a) if link.a == article.id
                        else (link.containment_b_in_a, link.containment_a_in_b))
        relation = link.relation
        scores = {"jaccard": link.jaccard, "copied": copied, "kept": kept, "cosine": link.cosine}
    published = article.published.isoformat() if isinstance(article.published, datetime) else article.published
    return MemberView(
        number=number,
        id=article.id,
        anchor=f"{number}",
        title=article.title,
        outlet=article.outlet,
        url=safe_url(article.url),
        url_text=article.url,
        published=published,
        relation=relation,
        scores=scores,
        words=total,
        counts=counts,
        sections=[{"label": s.label or "added", "score": s.score, "start": s.start, "end": s.end,
                   "words": words(s.text), "text": s.text} for s in article.added_sections],
        passages=passages,
        hidden_chars=hidden,
        core_hidden=core_hidden,
        same_as=1 if link is not None and link.relation == "exact" and article.id != anchor else None,
        bar=_bar(counts, total),
    )


def _graph(members: list[MemberView], pairs: list[PairResult], origin: str | None) -> dict[str, Any]:
    """Members on a circle (the first ``GRAPH_NODES``), links coloured by relation."""
    nodes = members[:GRAPH_NODES]
    size, radius = 220.0, 86.0
    centre = size / 2
    position = {}
    out_nodes = []
    for i, m in enumerate(nodes):
        angle = 2 * math.pi * i / max(1, len(nodes)) - math.pi / 2
        x, y = centre + radius * math.cos(angle), centre + radius * math.sin(angle)
        position[m.id] = (round(x, 1), round(y, 1))
        out_nodes.append({"x": round(x, 1), "y": round(y, 1), "n": m.number, "id": m.id,
                          "origin": m.id == origin})
    edges = [{"x1": position[p.a][0], "y1": position[p.a][1], "x2": position[p.b][0], "y2": position[p.b][1],
              "relation": p.relation, "colour": RELATION_COLOURS.get(p.relation, "#999"), "a": p.a, "b": p.b}
             for p in pairs if p.a in position and p.b in position]
    return {"size": size, "nodes": out_nodes, "edges": edges, "left_out": max(0, len(members) - len(nodes))}


def _others_shingles(articles: list[ArticleResult]) -> dict[str, set[int]]:
    """Per member, the shingles of the other members -- only when the result's passages do
    not say themselves whether they are verbatim (``Passage.verbatim``)."""
    passages = [p for a in articles for p in a.passages]
    if not passages or all(hasattr(p, "verbatim") for p in passages):
        return {}
    own = {a.id: _shingles(a.passages[0].source if a.passages else (a.text or "")) for a in articles}
    return {a.id: set().union(*(own[b.id] for b in articles if b.id != a.id)) for a in articles}


def _cluster_view(cluster: ClusterResult, by_id: dict[str, ArticleResult],
                  pairs: list[PairResult]) -> dict[str, Any]:
    anchor = cluster.origin or cluster.members[0]
    link_of = {}
    for p in pairs:
        if anchor in (p.a, p.b):
            link_of[p.b if p.a == anchor else p.a] = p
    ordered = [m for m in [anchor] + [m for m in cluster.members if m != anchor] if m in by_id]
    number_of = {m: i + 1 for i, m in enumerate(ordered)}
    core = {(int(x["start"]), int(x["end"])) for x in cluster.core if x.get("article") == anchor}
    others = _others_shingles([by_id[m] for m in ordered])
    members = [_member(i + 1, by_id[m], anchor, cluster.origin is not None, link_of.get(m), number_of, core,
                       others.get(m))
               for i, m in enumerate(ordered)]
    most_added = max(members, key=lambda m: (m.counts.get("added", 0), -m.number), default=None)
    if most_added is not None and most_added.counts.get("added", 0) > 0:
        most_added.open = True  # the member that added most is shown unfolded
    families = [{"id": str(f.get("id")), "members": list(f.get("members", [])), "origin": f.get("origin")}
                for f in (getattr(cluster, "families", None) or []) if isinstance(f, dict)]
    return {
        "id": cluster.id,
        "origin": cluster.origin,
        "relations": dict(sorted(cluster.relations.items())),
        "core": cluster.core,
        "members": members,
        "graph": _graph(members, pairs, cluster.origin),
        "families": families,
    }


def _row(cluster: ClusterResult, by_id: dict[str, ArticleResult], reuse: int, page: int | None) -> dict[str, Any]:
    members = [by_id[m] for m in cluster.members if m in by_id]
    anchor = by_id.get(cluster.origin or cluster.members[0])
    titled = next((a for a in ([anchor] if anchor else []) + members if a.title), None)
    outlets = sorted({a.outlet for a in members if a.outlet})
    added = sum(added_words(a) for a in members)
    labels = sorted({s.label for a in members for s in a.added_sections if s.label})
    search = " ".join([cluster.id, *cluster.members[:30], *(a.title or "" for a in members[:30]), *outlets,
                       *labels, *cluster.relations]).lower()
    return {
        "id": cluster.id,
        "size": len(cluster.members),
        "origin": cluster.origin,
        "title": titled.title if titled else None,
        "outlets": outlets,
        "relations": dict(sorted(cluster.relations.items())),
        "reuse": reuse,
        "added": added,
        "labels": labels,
        "page": page,
        "search": visible(search),
        "relation_keys": " ".join(sorted(cluster.relations)),
    }


def render_html(result: ScanResult, max_bytes: int = DEFAULT_MAX_BYTES, limit: int | None = None,
                min_size: int = 2, title: str = "dedup report") -> str:
    """The scan as one self-contained HTML page (see the module docstring)."""
    env = environment()
    by_id = {a.id: a for a in result.articles}
    pairs_of: dict[str, list[PairResult]] = {}
    cluster_of = {a.id: a.cluster for a in result.articles}
    for p in result.pairs:
        if cluster_of.get(p.a) is not None and cluster_of.get(p.a) == cluster_of.get(p.b):
            pairs_of.setdefault(str(cluster_of[p.a]), []).append(p)
    ordered = cluster_order(result, min_size)
    listed = ordered if not limit or limit <= 0 else ordered[:limit]
    cluster_template = env.get_template("cluster.j2")

    views = []
    reuse_of: dict[str, int] = {}
    for cluster in listed:
        view = _cluster_view(cluster, by_id, pairs_of.get(cluster.id, []))
        reuse_of[cluster.id] = sum(m.counts.get("verbatim", 0) + m.counts.get("rewritten", 0)
                                   + m.counts.get("shared", 0) for m in view["members"][1:])
        views.append(view)
    base = {
        "title": title,
        "summary": summary_line(result),
        "n_articles": len(result.articles),
        "n_clustered": sum(len(c.members) for c in result.clusters),
        "n_clusters": len(result.clusters),
        "n_pairs": len(result.pairs),
        "relation_counts": dict(sorted(result.stats.get("pairs_by_relation", {}).items())),
        "relation_colours": RELATION_COLOURS,
        "cluster_relations": _clusters_by_relation(result.clusters),
        "not_listed": len(result.clusters) - len(listed),
        "min_size": min_size,
        "skipped": result.skipped[:200],
        "n_skipped": len(result.skipped),
        "kinds": KINDS,
        **_page_assets(),
    }

    def page(details: list[tuple[str, Markup, int]]) -> str:
        pages = [[(cid, html) for cid, html, _ in details[i : i + PER_PAGE]]
                 for i in range(0, len(details), PER_PAGE)]
        page_of = {cid: n + 1 for n, chunk in enumerate(pages) for cid, _ in chunk}
        rows = [_row(c, by_id, reuse_of.get(c.id, 0), page_of.get(c.id)) for c in listed]
        left_out = listed[len(details):]
        return str(env.get_template("report.j2").render(
            rows=rows, pages=pages,
            left_out={"clusters": len(left_out), "articles": sum(len(c.members) for c in left_out),
                      "max_bytes": max_bytes},
            **base))

    # Details, largest reuse first, while they fit; then the page is checked whole and
    # trimmed from the end until it is within max_bytes.
    details: list[tuple[str, Markup, int]] = []
    used = 0
    budget = max_bytes - 200_000 - 420 * len(listed)
    for cluster, view in zip(listed, views, strict=True):
        html = cluster_template.render(c=view, kinds=KINDS)
        size = len(html.encode("utf-8"))
        if used + size > budget:
            break
        used += size
        details.append((cluster.id, Markup(html), size))  # rendered by the autoescaping template
    out = page(details)
    while len(out.encode("utf-8")) > max_bytes and details:
        excess = len(out.encode("utf-8")) - max_bytes
        while details and excess > 0:
            excess -= details.pop()[2]
        out = page(details)
    return out


def _clusters_by_relation(clusters: list[ClusterResult]) -> dict[str, int]:
    """Clusters by their strongest relation (exact > near_duplicate > derived > same_story)."""
    order = ("exact", "near_duplicate", "derived", "same_story")
    counts = dict.fromkeys(order, 0)
    for c in clusters:
        strongest = next((r for r in order if c.relations.get(r)), None)
        if strongest:
            counts[strongest] += 1
    return counts


def render_compare_html(comparison: dict[str, Any], title: str = "dedup compare") -> str:
    """A comparison (:func:`dedup.compare.comparison`) as one self-contained HTML page."""
    env = environment()
    return str(env.get_template("compare.j2").render(title=title, c=comparison, kinds=ROW_KINDS, **_page_assets()))
