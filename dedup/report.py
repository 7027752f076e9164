"""Views of a :class:`~dedup.result.ScanResult`: JSON, CSV, a terminal table; atomic writing.

Outputs are written to a temporary file beside the target and renamed over
it, so an interrupted run leaves the previous file or none -- never half a report.
A symlink is written through: the file it points to is replaced atomically, the
link stays a link. A FIFO or a character device (``/dev/null``, ``/dev/stdout``,
a shell's ``>(gzip > r.gz)``) is streamed to, never replaced. Anything else that
is not a regular file (a block device, a socket) is refused.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from rich.cells import cell_len, set_cell_size
from rich.console import Console, ConsoleOptions, Group, RenderResult
from rich.text import Text

from .result import ArticleResult, ClusterResult, PairResult, ScanResult
from .safe import csv_cell, visible, visible_text

__all__ = ["FORMATS", "PASSAGE_MODES", "OutputPathError", "article_dict", "cluster_order", "output_problem",
           "render_table", "to_csv", "to_json", "write_atomic", "write_json"]

FORMATS = ("table", "json", "csv", "html")
PASSAGE_MODES = ("all", "added", "none")
CSV_FIELDS = ("a", "b", "relation", "jaccard", "containment_a_in_b", "containment_b_in_a", "cosine", "source",
              "cluster")
TABLE_LEGEND = (
    ("relation", "link to the origin (or first member); via others: no direct link"),
    ("jacc", "Jaccard of word 3-shingles with the origin: 1.00 = same wording"),
    ("copied", "share of this article found in the origin (how much is its copy)"),
    ("kept", "share of the origin found in this article (how much of it was kept)"),
    ("cos", "TF-IDF cosine with the origin: same story even when rewritten"),
    ("added", "words this outlet added; its top sections follow on + lines"),
)


def article_dict(article: ArticleResult, passages: str = "all") -> dict[str, Any]:
    """One article of the JSON report. ``passages``: ``all`` (every passage with its text),
    ``added`` (only the added passages and sections, offsets without text: the text is
    ``article[start:end]``), ``none`` (no passages, no sections)."""
    if passages == "all":
        return ScanResult.article_dict(article)
    out = ScanResult.article_dict(ArticleResult(**{
        f: getattr(article, f) for f in ArticleResult.__dataclass_fields__ if f not in ("passages", "added_sections")
    }))
    if passages == "added":
        out["passages"] = [{k: v for k, v in p.to_dict().items() if k != "text"} for p in article.passages if p.added]
        out["added_sections"] = [{"start": s.start, "end": s.end, "score": round(s.score, 4), "label": s.label}
                                 for s in article.added_sections]
    else:
        out["passages"] = []
        out["added_sections"] = []
    return out


def to_json(result: ScanResult, indent: int | None = 2, passages: str = "all") -> str:
    report = result.to_dict(articles=False)
    report = {"articles": [article_dict(a, passages) for a in result.articles]} | report
    return json.dumps(report, ensure_ascii=False, indent=indent) + "\n"


def write_json(result: ScanResult, stream: TextIO, passages: str = "all") -> None:
    """The JSON report written article by article: the same document as :func:`to_json`
    without indentation, never held in memory whole (a 100,000-article report is
    several times the size of its texts)."""
    head = result.to_dict(articles=False)
    stream.write('{"articles": [')
    for number, article in enumerate(result.articles):
        stream.write(",\n" if number else "\n")
        stream.write(json.dumps(article_dict(article, passages), ensure_ascii=False))
    stream.write("\n]")
    for key, value in head.items():
        stream.write(f",\n{json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}")
    stream.write("}\n")


def to_csv(result: ScanResult) -> str:
    """One row per reported pair. Cells are safe to open in a spreadsheet: no control
    characters (shown escaped) and no formulas (a leading ``= + - @``, tab or CR gets ``'``)."""
    cluster_of = {a.id: a.cluster for a in result.articles}
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for pair in result.pairs:
        row = {
            "a": pair.a,
            "b": pair.b,
            "relation": pair.relation,
            "jaccard": f"{pair.jaccard:.4f}",
            "containment_a_in_b": f"{pair.containment_a_in_b:.4f}",
            "containment_b_in_a": f"{pair.containment_b_in_a:.4f}",
            "cosine": f"{pair.cosine:.4f}",
            "source": pair.source or "",
            "cluster": cluster_of.get(pair.a) if cluster_of.get(pair.a) == cluster_of.get(pair.b) else "",
        }
        writer.writerow({k: csv_cell(v) for k, v in row.items()})
    return buffer.getvalue()


def words(text: str) -> int:
    return len(text.split())


def shared_words(article: ArticleResult) -> int:
    """Words of the article's passages that other cluster members carry."""
    return sum(words(p.text) for p in article.passages if not p.added and p.support > 0)


def added_words(article: ArticleResult) -> int:
    return sum(words(s.text) for s in article.added_sections)


def cluster_order(result: ScanResult, min_size: int = 2) -> list[ClusterResult]:
    """Clusters of at least ``min_size`` members, largest reuse first: the words of
    shared copy carried by the members other than the origin (with no passages, the
    number of members), then size, then id."""
    by_id = {a.id: a for a in result.articles}

    def reuse(cluster: ClusterResult) -> int:
        anchor = cluster.origin or cluster.members[0]
        return sum(shared_words(by_id[m]) for m in cluster.members if m != anchor and m in by_id)

    kept = [c for c in result.clusters if len(c.members) >= min_size]
    scored = [(reuse(c), c) for c in kept]
    scored.sort(key=lambda rc: (-rc[0], -len(rc[1].members), rc[1].id))
    return [c for _, c in scored]


def summary_line(result: ScanResult) -> str:
    stats = result.stats
    by_relation = ", ".join(f"{k} {v}" for k, v in sorted(stats.get("pairs_by_relation", {}).items()))
    return (
        f"{stats.get('articles', len(result.articles))} articles, {stats.get('clusters', len(result.clusters))} "
        f"clusters, {stats.get('pairs', len(result.pairs))} pairs ({by_relation or 'none'}), "
        f"{stats.get('skipped', len(result.skipped))} skipped"
    )


def _line(*parts: tuple[str, str]) -> Text:
    """One output line, never wrapped: cut with an ellipsis at the console width."""
    text = Text(no_wrap=True, overflow="ellipsis", end="\n")
    for content, style in parts:
        text.append(content, style=style)
    return text


def render_table(result: ScanResult, max_sections: int = 3, limit: int | None = None, min_size: int = 2) -> Group:
    """The summary and a legend first; then per cluster (largest reuse first, ``limit``
    clusters of ``min_size`` members or more) one line per member -- relation to the
    origin (or first member), scores, title/outlet when known -- and the top added
    sections. Every string from the input is shown with its control characters escaped."""
    by_id = {a.id: a for a in result.articles}
    pair_of: dict[tuple[str, str], PairResult] = {}
    for pair in result.pairs:
        pair_of[(pair.a, pair.b)] = pair
        pair_of[(pair.b, pair.a)] = pair
    clusters = cluster_order(result, min_size)
    shown = clusters if limit is None or limit <= 0 else clusters[:limit]
    parts: list[MemberLines | Text] = [Text(summary_line(result), style="bold")]
    if len(shown) < len(result.clusters):
        cut = [f"showing {len(shown)} of {len(result.clusters)} clusters, largest reuse first"]
        if len(shown) < len(clusters):
            cut.append("--limit 0 shows all")
        if len(clusters) < len(result.clusters):
            cut.append(f"{len(result.clusters) - len(clusters)} below --min-size {min_size}")
        parts.append(_line(("; ".join(cut), "")))
    if shown:
        parts.append(_line(("columns: ", "dim")))
        for name, meaning in TABLE_LEGEND:
            legend = Text(f"  {name:<9}", style="bold dim")
            legend.append(meaning, style="dim")
            parts.append(legend)
    for cluster in shown:
        anchor = cluster.origin or cluster.members[0]
        relations = ", ".join(f"{k} {v}" for k, v in sorted(cluster.relations.items()))
        origin = f"origin {visible(cluster.origin)}" if cluster.origin else "origin unknown"
        parts.append(Text(""))
        parts.append(Text(f"{cluster.id}: {len(cluster.members)} articles, {origin} ({relations})", style="bold"))
        members = [by_id[m] for m in cluster.members if m in by_id]
        rows: list[list[str]] = []
        for member in members:
            link = pair_of.get((anchor, member.id))
            added = added_words(member)
            about = ": ".join(visible(x) for x in (member.outlet, member.title) if x)
            row = [visible(member.id), about]
            if member.id == anchor:
                row += ["origin" if cluster.origin else "(first)", "", "", "", ""]
            elif link is None:
                row += ["via others", "", "", "", ""]
            else:
                copied, kept = ((link.containment_a_in_b, link.containment_b_in_a) if link.a == member.id
                                else (link.containment_b_in_a, link.containment_a_in_b))
                row += [link.relation, f"{link.jaccard:.2f}", f"{copied:.2f}", f"{kept:.2f}", f"{link.cosine:.2f}"]
            row.append(f"{added}w" if added else "")
            rows.append(row)
        parts.append(MemberLines(rows))
        for member in members:
            for section in member.added_sections[:max_sections]:
                parts.append(_line((f"  + {visible(member.id)}  ", "bold"),
                                   (f"{section.score:.2f} {section.label or 'added'}: ", "red"),
                                   (visible_text(section.text), "")))
        if cluster.core:
            parts.append(_line((f"  wire core: {len(cluster.core)} passages shared by 2+ members, e.g. ", "dim"),
                               (visible_text(cluster.core[0]["text"]), "dim")))
    return Group(*parts)


class MemberLines:
    """The members of one cluster, one line each at any console width: the numeric
    columns keep their width, the article id (and title) are cut with an ellipsis."""

    HEAD = ("article", "outlet: title", "relation", "jacc", "copied", "kept", "cos", "added")
    FIXED = (14, 4, 6, 4, 4, 5)

    def __init__(self, rows: list[list[str]]) -> None:
        self.rows = rows

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        fixed = sum(self.FIXED) + 2 * len(self.FIXED)
        described = any(row[1] for row in self.rows)
        free = max(12, width - fixed)
        longest = max([len(self.HEAD[0])] + [cell_len(row[0]) for row in self.rows])
        if described:
            about_longest = min(60, max(cell_len(row[1]) for row in self.rows))
            id_width = min(longest, max(10, free - 2 - min(about_longest, free // 3)))
            about_width = max(6, min(about_longest, free - id_width - 2))
        else:
            id_width, about_width = min(longest, free), 0
        for number, row in enumerate([list(self.HEAD), *self.rows]):
            line = Text(no_wrap=True, overflow="ellipsis", style="bold" if number == 0 else "")
            line.append(_fit_middle(row[0], id_width) if number else _fit(row[0], id_width))
            if described:
                line.append("  " + _fit(row[1], about_width))
            line.append("  " + _fit(row[2], self.FIXED[0]))
            for cell, cell_width in zip(row[3:], self.FIXED[1:], strict=True):
                line.append("  " + cell.rjust(cell_width))
            line.truncate(width, overflow="ellipsis")
            yield line
            if number == 0:
                yield Text("\u2500" * min(width, cell_len(line.plain)), style="dim")


def _fit(value: str, width: int) -> str:
    """``value`` in exactly ``width`` cells: cut with an ellipsis, or padded."""
    if cell_len(value) > width:
        return set_cell_size(value, width - 1) + "\u2026"
    return set_cell_size(value, width)


def _fit_middle(value: str, width: int) -> str:
    """An id in exactly ``width`` cells, cut in the middle (``outlets/…_trimmed.txt``):
    ids that share a folder differ at the end."""
    if cell_len(value) <= width:
        return set_cell_size(value, width)
    head = max(1, (width - 1) // 3)
    tail = width - 1 - head
    end = value
    while cell_len(end) > tail:
        end = end[1:]
    return set_cell_size(set_cell_size(value, head) + "\u2026" + end, width)


def table_text(result: ScanResult, width: int = 160, limit: int | None = None, min_size: int = 2) -> str:
    console = Console(file=io.StringIO(), width=width, force_terminal=False, color_system=None)
    console.print(render_table(result, limit=limit, min_size=min_size))
    output = console.file.getvalue()  # type: ignore[attr-defined]
    return str(output)


def _mode_for(target: Path) -> int:
    """The existing file's permissions, or what a plain ``open`` would give (0666 less umask)."""
    try:
        return target.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


class OutputPathError(OSError):
    """An output path dedup will not write to; ``str(error)`` says why and what to do."""


def _kind(mode: int) -> str:
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "not a regular file"


def output_problem(path: str | Path) -> str | None:
    """Why ``path`` cannot take a report (a folder, a block device, a socket, no such folder), or None.

    Regular files (or none yet, in an existing folder), symlinks to them, FIFOs and
    character devices are fine.
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        parent = Path(os.path.realpath(path)).parent
        if not parent.is_dir():
            return f"{parent} is not an existing folder; create it or write elsewhere"
        return None
    except OSError as exc:
        return f"cannot use it: {exc.strerror or exc}"
    if stat.S_ISREG(mode) or stat.S_ISFIFO(mode) or stat.S_ISCHR(mode):
        return None
    return f"is {_kind(mode)}; give a file path (or a FIFO or character device to stream to)"


def write_atomic(path: str | Path, content: str | Callable[[TextIO], None]) -> None:
    """Write ``content`` (a string, or a function writing to a stream) to ``path``
    through a temporary file and an atomic rename.

    A symlink is followed and the file it points to replaced (the link is kept); a FIFO
    or character device is written to directly. Raises :class:`OutputPathError` for
    block devices, sockets and folders, which are never touched.
    """
    problem = output_problem(path)
    if problem is not None:
        raise OutputPathError(f"{path} {problem}" if problem.startswith("is ") else problem)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        mode = 0
    if stat.S_ISFIFO(mode) or stat.S_ISCHR(mode):
        with open(path, "w", encoding="utf-8", newline="") as stream:
            _write(stream, content)
        return
    target = Path(os.path.realpath(path))  # through symlinks: replace what the link points to
    directory = target.parent
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        os.chmod(temporary, _mode_for(target))
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            _write(stream, content)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def _write(stream: TextIO, content: str | Callable[[TextIO], None]) -> None:
    if isinstance(content, str):
        stream.write(content)
    else:
        content(stream)
