"""The ``dedup`` command: a thin shell over :class:`dedup.Scanner`."""

from __future__ import annotations

import dataclasses
import signal
import sys
from collections.abc import Iterator
from enum import Enum
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from .article import Article, Skipped
from .load import DEFAULT_MAX_BYTES, iter_articles
from .params import Params
from .pipeline import Scanner
from .report import render_table, table_text, to_csv, to_json, write_atomic, write_json
from .result import ScanResult

app = typer.Typer(
    help="Find duplicate and derivative news content: wire copy, rewrites, and what each outlet added.",
    no_args_is_help=True,
    add_completion=False,
)
err = Console(stderr=True)
DEFAULTS = Params()
_DEFAULT_SAME_STORY = DEFAULTS.same_story if DEFAULTS.same_story is not None else 0.3
_DEFAULT_WINDOW = DEFAULTS.window_days if DEFAULTS.window_days is not None else 2.0


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


class Interrupted(BaseException):
    """Raised from SIGTERM so that the scan unwinds like Ctrl-C.

    A ``BaseException``, like ``KeyboardInterrupt``: the loader tolerates any
    ``Exception`` from its third-party parsers, and the signal may arrive inside one.
    """


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise Interrupted()


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[bold red]error:[/] {escape(message)}")
    return typer.Exit(code)


@app.command()
def scan(
    path: Annotated[Path, typer.Argument(help="Folder (scanned recursively) or file of articles.")],
    format: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.table,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here (atomically) instead of stdout.")
    ] = None,
    shingle_size: Annotated[int, typer.Option(min=1, max=64, help="Words per shingle.")] = DEFAULTS.shingle_size,
    num_perm: Annotated[int, typer.Option(min=16, max=1024, help="MinHash permutations.")] = DEFAULTS.num_perm,
    seed: Annotated[int, typer.Option(help="MinHash seed (datasketch-compatible).")] = DEFAULTS.seed,
    lsh_threshold: Annotated[
        float, typer.Option(min=0.01, max=0.99, help="Jaccard where LSH candidates start.")
    ] = DEFAULTS.lsh_threshold,
    near_duplicate: Annotated[
        float, typer.Option(min=0.01, max=1.0, help="Jaccard for 'near_duplicate'.")
    ] = DEFAULTS.near_duplicate,
    derived: Annotated[
        float, typer.Option(min=0.01, max=1.0, help="Containment (either way) for 'derived'.")
    ] = DEFAULTS.derived,
    min_shared: Annotated[int, typer.Option(min=1, help="Shingles a verbatim pair must share.")] = DEFAULTS.min_shared,
    same_story: Annotated[
        float, typer.Option(min=0.01, max=0.99, help="TF-IDF cosine for 'same_story'.")
    ] = _DEFAULT_SAME_STORY,
    no_same_story: Annotated[bool, typer.Option("--no-same-story", help="Verbatim tier only.")] = False,
    window_days: Annotated[
        float, typer.Option(min=0.0, help="Max days apart for same-story (when dated).")
    ] = _DEFAULT_WINDOW,
    no_window: Annotated[
        bool, typer.Option("--no-window", help="Compare dated articles whatever their dates.")
    ] = False,
    min_density: Annotated[
        float, typer.Option(min=0.01, max=1.0, help="Linked share needed to merge clusters.")
    ] = DEFAULTS.min_density,
    no_passages: Annotated[bool, typer.Option("--no-passages", help="Skip passage attribution.")] = False,
    max_bytes: Annotated[int, typer.Option(min=1, help="Skip files larger than this many bytes.")] = DEFAULT_MAX_BYTES,
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 if any input was skipped.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress or skip messages on stderr.")] = False,
) -> None:
    """Scan PATH for articles carrying the same wire copy or the same story."""
    if not path.exists():
        raise _fail(f"path not found: {path} -- give a folder or a file of articles")
    if output is not None and output.is_dir():
        raise _fail(f"--output {output} is a folder; give a file path")
    if output is not None and not output.absolute().parent.is_dir():
        raise _fail(f"--output {output}: {output.parent} is not an existing folder; create it or write elsewhere")
    scanner = Scanner(
        DEFAULTS.replace(
            shingle_size=shingle_size,
            num_perm=num_perm,
            seed=seed,
            lsh_threshold=lsh_threshold,
            near_duplicate=near_duplicate,
            derived=derived,
            min_shared=min_shared,
            same_story=None if no_same_story else same_story,
            window_days=None if no_window else window_days,
            min_density=min_density,
            passages=not no_passages,
        )
    )
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        result = _run(scanner, path, max_bytes, quiet)
        content = {"json": to_json, "csv": to_csv}.get(format.value)
        if output is not None:
            try:
                if format is Format.json:
                    write_atomic(output, lambda stream: write_json(result, stream))
                else:
                    write_atomic(output, content(result) if content else table_text(result))
            except OSError as exc:
                raise _fail(f"cannot write --output {output}: {exc.strerror or exc}") from None
            if not quiet:
                err.print(f"wrote {escape(str(output))}")
        elif content is not None:
            sys.stdout.write(content(result))
        else:
            Console().print(render_table(result))
    except (KeyboardInterrupt, Interrupted):
        err.print("interrupted: no report written")
        raise typer.Exit(130) from None
    finally:
        signal.signal(signal.SIGTERM, previous)
    if strict and result.skipped:
        raise typer.Exit(1)


def _run(scanner: Scanner, path: Path, max_bytes: int, quiet: bool) -> ScanResult:
    skipped: list[Skipped] = []

    def items() -> Iterator[Article | Skipped]:
        for item in iter_articles(path, max_bytes=max_bytes):
            if isinstance(item, Skipped):
                skipped.append(item)
                if not quiet:
                    err.print(f"[yellow]skipped[/] {escape(str(item))}")
            yield item

    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True, disable=quiet) as progress:
        task = progress.add_task("reading", total=None)

        def report(stage: str, done: int, total: int | None) -> None:
            progress.update(task, description=stage, completed=done, total=total)

        result = scanner.scan(items(), progress=report)
    if not quiet and skipped:
        err.print(f"{len(skipped)} input(s) skipped (listed above and in the JSON report's 'skipped')")
    if not quiet:
        _note_caps(result, scanner.params)
    if not quiet and result.stats.get("unreadable_dates"):
        err.print(f"[yellow]{result.stats['unreadable_dates']} article(s) kept undated (date unreadable)[/]")
    return result


def _note_caps(result: ScanResult, params: Params) -> None:
    """Say where a bound changed what is listed (the JSON report names the groups)."""
    capped = result.stats.get("capped_exact_groups") or []
    if capped:
        err.print(f"[yellow]{len(capped)} group(s) of more than {params.max_exact_group} identical articles[/]: "
                  "pairs listed from each group's first article only (stats.capped_exact_groups)")
    if result.stats.get("oversized_buckets"):
        err.print(f"[yellow]{result.stats['oversized_buckets']} LSH bucket(s) of more than {params.max_bucket} "
                  "articles[/]: candidates from each bucket's first article only; verified near-duplicates "
                  "cluster as one (stats.collapsed_groups)")


@app.command()
def compare(
    first: Annotated[Path, typer.Argument(help="An article file.")],
    second: Annotated[Path, typer.Argument(help="Another article file.")],
) -> None:
    """Two articles side by side: their relation, the passages they share, what each added."""
    articles: list[Article] = []
    for path in (first, second):
        if not path.is_file():
            raise _fail(f"not a file: {path}")
        loaded = list(iter_articles(path))
        found = [a for a in loaded if isinstance(a, Article)]
        if not found:
            reasons = "; ".join(str(s) for s in loaded if isinstance(s, Skipped)) or "no article in it"
            raise _fail(f"cannot read {path}: {reasons}")
        articles.append(found[0])
    if articles[0].id == articles[1].id:
        articles[1] = dataclasses.replace(articles[1], id=f"{articles[1].id} (2)")
    comparison = Scanner().compare(articles[0], articles[1])
    pair = comparison.pairs[0] if comparison.pairs else None
    console = Console()
    if pair is None:
        console.print("[bold]not linked[/]: no verbatim overlap or same-story similarity above the thresholds")
    else:
        a, b, source = escape(pair.a), escape(pair.b), escape(pair.source or "unknown")
        console.print(
            f"[bold]{pair.relation}[/]  jaccard {pair.jaccard:.2f}  "
            f"{a} in {b} {pair.containment_a_in_b:.2f}  {b} in {a} {pair.containment_b_in_a:.2f}"
            f"  cosine {pair.cosine:.2f}  source {source}"
        )
    table = Table(show_lines=True, expand=True)
    for article in comparison.articles:
        table.add_column(escape(article.id), ratio=1, overflow="fold")
    columns = []
    for article in comparison.articles:
        lines = []
        for p in article.passages:
            if p.added:
                tag = f"[red]+ added {p.score:.2f}{' ' + p.label if p.label else ''}[/]"
            else:
                tag = f"[green]= shared (match {p.match:.2f})[/]"
            lines.append(f"{tag}\n{escape(p.text)}")
        columns.append("\n\n".join(lines))
    table.add_row(*columns)
    console.print(table)


def main() -> None:
    app()


from .cli_index import index_app  # noqa: E402  (the ``dedup index`` commands)

app.add_typer(index_app, name="index")
