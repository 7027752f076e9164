"""Views of a :class:`~dedup.result.ScanResult`: JSON, CSV, a terminal table; atomic writing.

Outputs are written to a temporary file beside the target and renamed over
it, so an interrupted run leaves the previous file or none -- never half a report.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from pathlib import Path

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from .result import ScanResult

__all__ = ["to_json", "to_csv", "render_table", "write_atomic", "FORMATS"]

FORMATS = ("table", "json", "csv")
CSV_FIELDS = ("a", "b", "relation", "jaccard", "containment_a_in_b", "containment_b_in_a", "cosine", "source",
              "cluster")


def to_json(result: ScanResult, indent: int | None = 2) -> str:
    return json.dumps(result.to_dict(), ensure_ascii=False, indent=indent) + "\n"


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
    """Clusters with their members, relation to the origin, scores and top added sections."""
    by_id = {a.id: a for a in result.articles}
    pair_of = {}
    for pair in result.pairs:
        pair_of[(pair.a, pair.b)] = pair
        pair_of[(pair.b, pair.a)] = pair
    parts: list[Table | Text] = []
    for cluster in result.clusters:
        anchor = cluster.origin or cluster.members[0]
        origin_note = f"origin {cluster.origin}" if cluster.origin else "origin unknown"
        table = Table(title=f"{cluster.id}: {len(cluster.members)} articles, {origin_note}", title_justify="left",
                      expand=False)
        for column in ("article", f"relation to {anchor}", "jaccard", "contained", "contains", "cosine",
                       "top added section"):
            table.add_column(column, overflow="fold")
        for member in cluster.members:
            pair = pair_of.get((anchor, member))
            if member == anchor:
                cells = ["(anchor)", "", "", "", ""]
            elif pair is None:
                cells = ["(via others)", "", "", "", ""]
            else:
                inside, holds = ((pair.containment_a_in_b, pair.containment_b_in_a) if pair.a == member
                                 else (pair.containment_b_in_a, pair.containment_a_in_b))
                cells = [pair.relation, f"{pair.jaccard:.2f}", f"{inside:.2f}", f"{holds:.2f}", f"{pair.cosine:.2f}"]
            sections = by_id[member].added_sections[:max_sections]
            added = "\n".join(
                f"{s.score:.2f} {s.label or '-'}: {_clip(s.text, 60)}" for s in sections
            )
            table.add_row(member, *cells, added)
        parts.append(table)
        if cluster.core:
            parts.append(Text(f"  wire core ({len(cluster.core)} passages, from {cluster.core[0]['article']}): "
                              f"{_clip(' '.join(p['text'] for p in cluster.core), 160)}\n", style="dim"))
    stats = result.stats
    summary = (
        f"{stats.get('articles', 0)} articles, {stats.get('clusters', 0)} clusters, "
        f"{stats.get('pairs', 0)} pairs {dict(stats.get('pairs_by_relation', {}))}, "
        f"{stats.get('skipped', 0)} skipped"
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


def write_atomic(path: str | Path, content: str) -> None:
    """Write ``content`` to ``path`` through a temporary file and an atomic rename."""
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(content)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise
