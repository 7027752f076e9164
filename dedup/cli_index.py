"""``dedup index ...``: the persistent index from the command line (a thin shell over :class:`dedup.Index`)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from .article import Article, Skipped
from .index import Index, QueryResult
from .load import iter_articles
from .store import StoreError

index_app = typer.Typer(help="A persistent index: check articles against it, add, remove, expire.",
                        no_args_is_help=True)
_err = Console(stderr=True)
Db = Annotated[str, typer.Option("--db", envvar="DEDUP_DB", help="Index: a SQLite file (created if missing) "
                                 "or a postgresql:// URL.")]


class QueryFormat(str, Enum):
    table = "table"
    json = "json"


def _open(db: str) -> Index:
    try:
        return Index(db)
    except StoreError as exc:
        _err.print(f"[bold red]error:[/] {escape(str(exc))}")
        raise typer.Exit(2) from None


def _fail(message: str) -> typer.Exit:
    _err.print(f"[bold red]error:[/] {escape(message)}")
    return typer.Exit(2)


@index_app.command("add")
def add(
    paths: Annotated[list[Path], typer.Argument(help="Folders (scanned recursively) or files of articles.")],
    db: Db,
    batch_size: Annotated[int, typer.Option(min=1, help="Articles per transaction.")] = 1000,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress or skip messages.")] = False,
) -> None:
    """Add (or replace, by id) the articles of PATH... to the index."""
    for path in paths:
        if not path.exists():
            raise _fail(f"path not found: {path}")
    skipped = 0

    def articles() -> Iterator[Article]:
        nonlocal skipped
        for path in paths:
            for item in iter_articles(path):
                if isinstance(item, Skipped):
                    skipped += 1
                    if not quiet:
                        _err.print(f"[yellow]skipped[/] {escape(str(item))}")
                else:
                    yield item

    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    with _open(db) as index, Progress(*columns, console=_err, transient=True, disable=quiet) as progress:
        task = progress.add_task("adding", total=None)
        done = 0
        batch: list[Article] = []
        try:
            for article in articles():
                batch.append(article)
                if len(batch) >= batch_size:
                    done += index.add_many(batch, batch_size=batch_size)
                    batch = []
                    progress.update(task, completed=done)
            if batch:
                done += index.add_many(batch, batch_size=batch_size)
                progress.update(task, completed=done)
        except KeyboardInterrupt:
            _err.print(f"interrupted: {done} article(s) committed, the batch in progress was not")
            raise typer.Exit(130) from None
        total = len(index)
    if not quiet:
        _err.print(f"added {done} article(s); the index holds {total}" + (f"; {skipped} skipped" if skipped else ""))


@index_app.command("query")
def query(
    file: Annotated[Path, typer.Argument(help="An article file (.txt, .md, .html, .json, .jsonl: the first article).")],
    db: Db,
    format: Annotated[QueryFormat, typer.Option("--format", "-f", help="Output format.")] = QueryFormat.table,
) -> None:
    """Check an article against the index: matches, best first, and what it added."""
    if not file.is_file():
        raise _fail(f"not a file: {file}")
    loaded = list(iter_articles(file))
    found = [a for a in loaded if isinstance(a, Article)]
    if not found:
        reasons = "; ".join(str(s) for s in loaded if isinstance(s, Skipped)) or "no article in it"
        raise _fail(f"cannot read {file}: {reasons}")
    with _open(db) as index:
        result = index.query(found[0])
    if format is QueryFormat.json:
        typer.echo(json.dumps(_as_dict(result), indent=1, ensure_ascii=False))
        return
    console = Console()
    if not result.matches:
        console.print("no match in the index")
    else:
        table = Table(expand=True)
        table.add_column("match", overflow="fold", ratio=3)
        for name in ("relation", "jaccard", "query in match", "match in query", "cosine"):
            table.add_column(name, overflow="fold", ratio=1)
        table.add_column("source", overflow="fold", ratio=2)
        for m in result:
            table.add_row(escape(m.id), m.relation, f"{m.jaccard:.2f}", f"{m.containment_query_in_match:.2f}",
                          f"{m.containment_match_in_query:.2f}", f"{m.cosine:.2f}", escape(m.source or ""))
        console.print(table)
    for section in result.added_sections:
        label = f" {section.label}" if section.label else ""
        console.print(f"[red]+ added {section.score:.2f}{label}[/] {escape(section.text[:200])}")


def _as_dict(result: QueryResult) -> dict[str, Any]:
    return {
        "id": result.id,
        "matches": [{"id": m.id, "relation": m.relation, "jaccard": round(m.jaccard, 4),
                     "containment_query_in_match": round(m.containment_query_in_match, 4),
                     "containment_match_in_query": round(m.containment_match_in_query, 4),
                     "cosine": round(m.cosine, 4), "source": m.source, "spans": m.spans} for m in result],
        "added_sections": [{"text": s.text, "start": s.start, "end": s.end, "score": round(s.score, 4),
                            "label": s.label} for s in result.added_sections],
        "cluster": None if result.cluster is None else {"members": result.cluster.members,
                                                        "origin": result.cluster.origin},
    }


@index_app.command("remove")
def remove(article_id: Annotated[str, typer.Argument(help="The id of the article to remove.")], db: Db) -> None:
    """Remove one article."""
    with _open(db) as index:
        if not index.remove(article_id):
            raise _fail(f"no article {article_id!r} in the index")
    _err.print(f"removed {article_id}")


@index_app.command("expire")
def expire(
    db: Db,
    before: Annotated[str, typer.Option("--before", help="ISO 8601 date: articles published before it go.")],
) -> None:
    """Remove the articles published before a date (undated ones stay)."""
    with _open(db) as index:
        try:
            count = index.expire(before=before)
        except ValueError as exc:
            raise _fail(str(exc)) from None
    _err.print(f"expired {count} article(s)")


@index_app.command("stats")
def stats(db: Db) -> None:
    """Articles, links by relation, size."""
    with _open(db) as index:
        typer.echo(json.dumps(index.stats(), indent=1))
