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
from typing import TextIO

from rich import box
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from .result import PairResult, ScanResult

__all__ = ["FORMATS", "OutputPathError", "output_problem", "render_table", "to_csv", "to_json", "write_atomic"]

FORMATS = ("table", "json", "csv")
CSV_FIELDS = ("a", "b", "relation", "jaccard", "containment_a_in_b", "containment_b_in_a", "cosine", "source",
              "cluster")


def to_json(result: ScanResult, indent: int | None = 2) -> str:
    return json.dumps(result.to_dict(), ensure_ascii=False, indent=indent) + "\n"


def write_json(result: ScanResult, stream: TextIO) -> None:
    """The JSON report written article by article: the same document as :func:`to_json`
    without indentation, never held in memory whole (a 100,000-article report is
    several times the size of its texts)."""
    head = result.to_dict(articles=False)
    stream.write('{"articles": [')
    for number, article in enumerate(result.articles):
        stream.write(",\n" if number else "\n")
        stream.write(json.dumps(result.article_dict(article), ensure_ascii=False))
    stream.write("\n]")
    for key, value in head.items():
        stream.write(f",\n{json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}")
    stream.write("}\n")


def to_csv(result: ScanResult) -> str:
    """One row per reported pair."""
    cluster_of = {a.id: a.cluster for a in result.articles}
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for pair in result.pairs:
        writer.writerow(
            {
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
        )
    return buffer.getvalue()


def render_table(result: ScanResult, max_sections: int = 3) -> Group:
    """Per cluster: members with their relation to the origin (or first member) and
    scores, then the top added sections of each member; a summary line last."""
    by_id = {a.id: a for a in result.articles}
    pair_of: dict[tuple[str, str], PairResult] = {}
    for pair in result.pairs:
        pair_of[(pair.a, pair.b)] = pair
        pair_of[(pair.b, pair.a)] = pair
    parts: list[Table | Text] = []
    for cluster in result.clusters:
        anchor = cluster.origin or cluster.members[0]
        relations = ", ".join(f"{k} {v}" for k, v in sorted(cluster.relations.items()))
        origin = f"origin {cluster.origin}" if cluster.origin else "origin unknown"
        title = f"{cluster.id}: {len(cluster.members)} articles, {origin} ({relations})"
        table = Table(title=Text(title), title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
        table.add_column("article", overflow="fold", min_width=24)
        table.add_column(f"vs {'origin' if cluster.origin else 'first'}", no_wrap=True)
        for column in ("jacc", "in", "holds", "cos", "added"):
            table.add_column(column, justify="right", no_wrap=True)
        for member in cluster.members:
            link = pair_of.get((anchor, member))
            added = sum(len(s.text.split()) for s in by_id[member].added_sections)
            added_cell = f"{added}w" if added else ""
            member_cell = Text(member)  # ids are data, never markup
            if member == anchor:
                table.add_row(member_cell, "origin" if cluster.origin else "-", "", "", "", "", added_cell)
            elif link is None:
                table.add_row(member_cell, "(via others)", "", "", "", "", added_cell)
            else:
                inside, holds = ((link.containment_a_in_b, link.containment_b_in_a) if link.a == member
                                 else (link.containment_b_in_a, link.containment_a_in_b))
                table.add_row(member_cell, link.relation, f"{link.jaccard:.2f}", f"{inside:.2f}", f"{holds:.2f}",
                              f"{link.cosine:.2f}", added_cell)
        parts.append(table)
        lines = Text()
        for member in cluster.members:
            for section in by_id[member].added_sections[:max_sections]:
                lines.append(f"  + {member}  ", style="bold")
                lines.append(f"{section.score:.2f} {section.label or 'added'}: ", style="red")
                lines.append(f"{_clip(section.text, 90)}\n")
        if cluster.core:
            lines.append(f"  wire core: {len(cluster.core)} passages shared by 2+ members, e.g. ", style="dim")
            lines.append(_clip(cluster.core[0]["text"], 90) + "\n", style="dim")
        parts.append(lines)
    stats = result.stats
    by_relation = ", ".join(f"{k} {v}" for k, v in sorted(stats.get("pairs_by_relation", {}).items()))
    summary = (
        f"{stats.get('articles', 0)} articles, {stats.get('clusters', 0)} clusters, "
        f"{stats.get('pairs', 0)} pairs ({by_relation or 'none'}), {stats.get('skipped', 0)} skipped"
    )
    parts.append(Text(summary, style="bold"))
    return Group(*parts)


def table_text(result: ScanResult, width: int = 160) -> str:
    console = Console(file=io.StringIO(), width=width, force_terminal=False, color_system=None)
    console.print(render_table(result))
    output = console.file.getvalue()  # type: ignore[attr-defined]
    return str(output)


def _clip(text: str, length: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= length else flat[: length - 1] + "\u2026"


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
