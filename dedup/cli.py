"""The ``dedup`` command: a thin shell over :class:`dedup.Scanner`."""

from __future__ import annotations

import io
import json
import os
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

from .article import Article, Skipped
from .compare import SpecError, comparison, distinct, load_spec, render_compare_table
from .html import render_compare_html, render_html
from .load import DEFAULT_MAX_BYTES, iter_articles
from .params import Params
from .pipeline import Scanner
from .report import output_problem, render_table, table_text, to_csv, to_json, write_atomic, write_json
from .result import ScanResult
from .safe import visible

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
    html = "html"


class PassageMode(str, Enum):
    all = "all"
    added = "added"
    none = "none"


class CompareFormat(str, Enum):
    table = "table"
    json = "json"
    html = "html"


class Engine(str, Enum):
    local = "local"
    dask = "dask"


class Interrupted(BaseException):
    """Raised from SIGTERM so that the scan unwinds like Ctrl-C.

    A ``BaseException``, like ``KeyboardInterrupt``: the loader tolerates any
    ``Exception`` from its third-party parsers, and the signal may arrive inside one.
    """


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise Interrupted()


def _stdout() -> Console:
    """The console for tables: the terminal's width; 160 columns when piped to a file or a
    program and COLUMNS is not set (rich would otherwise assume 80)."""
    if not sys.stdout.isatty() and "COLUMNS" not in os.environ:
        return Console(width=160)
    return Console()


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[bold red]error:[/] {escape(visible(message))}")
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
    workers: Annotated[
        int, typer.Option(min=0, help="Processes for fingerprints and passages (0: one per idle core; not results).")
    ] = DEFAULTS.workers,
    no_passages: Annotated[bool, typer.Option("--no-passages", help="Skip passage attribution.")] = False,
    passages: Annotated[
        PassageMode,
        typer.Option("--passages", help="JSON: all passages with text; 'added': only added passages and sections, "
                                        "offsets without text; 'none': no attribution (as --no-passages)."),
    ] = PassageMode.all,
    limit: Annotated[
        int | None, typer.Option(min=0, help="Table and HTML: show this many clusters, largest reuse first "
                                             "(table default 25; 0 = all).")
    ] = None,
    min_size: Annotated[
        int, typer.Option(min=2, help="Table and HTML: only clusters of at least this many members.")
    ] = 2,
    html_max_mb: Annotated[
        float, typer.Option(min=0.5, help="HTML: cluster details stop at this size; the rest is listed, with a note.")
    ] = 18.0,
    max_bytes: Annotated[int, typer.Option(min=1, help="Skip files larger than this many bytes.")] = DEFAULT_MAX_BYTES,
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 if any input was skipped.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress or skip messages on stderr.")] = False,
    engine: Annotated[
        Engine, typer.Option(help="local: this process; dask: a Dask cluster (pip install 'dedup[dask]').")
    ] = Engine.local,
    scheduler: Annotated[
        str | None, typer.Option(help="--engine dask: address of a running scheduler (default: a LocalCluster).")
    ] = None,
    parquet: Annotated[
        Path | None, typer.Option(help="Also write pairs, clusters and added sections as Parquet files here.")
    ] = None,
) -> None:
    """Scan PATH for articles carrying the same wire copy or the same story.

    With --engine dask, PATH may also be partitioned JSONL/Parquet that the workers read
    themselves: a glob, a folder of .parquet files, or an fsspec URL (s3://bucket/news/*.jsonl).
    """
    if scheduler is not None and engine is not Engine.dask:
        raise _fail("--scheduler needs --engine dask")
    source = _dask_source(path) if engine is Engine.dask else path
    if isinstance(source, Path) and not path.exists():
        raise _fail(f"path not found: {path} -- give a folder or a file of articles")
    problem = None if output is None else output_problem(output)
    if problem is not None:
        raise _fail(f"--output {output} {problem}" if problem.startswith("is ") else f"--output {output}: {problem}")
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
            passages=not no_passages and passages is not PassageMode.none,
            workers=workers,
        )
    )
    mode = "none" if no_passages else passages.value
    table_limit = 25 if limit is None else limit

    def content(result: ScanResult) -> str:
        if format is Format.csv:
            return to_csv(result)
        if format is Format.json:
            return to_json(result, passages=mode)
        if format is Format.html:
            return render_html(result, max_bytes=int(html_max_mb * 1_000_000), limit=limit, min_size=min_size,
                               title=f"dedup report: {path.name or path}")
        return table_text(result, limit=table_limit, min_size=min_size)

    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        result = _run(scanner, path, max_bytes, quiet) if engine is Engine.local else _run_dask(
            scanner.params, source, scheduler, max_bytes, quiet)
        if parquet is not None:
            from .dask import write_parquet

            try:
                write_parquet(result, parquet)
            except ImportError as exc:
                raise _fail(f"--parquet needs pyarrow: pip install 'dedup[dask]' ({exc})") from None
        if output is not None:
            try:
                if format is Format.json:
                    write_atomic(output, lambda stream: write_json(result, stream, passages=mode))
                else:
                    write_atomic(output, content(result))
            except OSError as exc:
                raise _fail(f"cannot write --output {output}: {exc.strerror or exc}") from None
            if not quiet:
                err.print(f"wrote {escape(visible(output))}")
        elif format is not Format.table:
            sys.stdout.write(content(result))
        else:
            _stdout().print(render_table(result, limit=table_limit, min_size=min_size))
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
                    err.print(f"[yellow]skipped[/] {escape(visible(item))}")
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


def _dask_source(path: Path) -> str | Path:
    """PATH for the Dask engine: a URL or glob as given (``Path`` folds ``s3://`` to ``s3:/``), else the path."""
    import re

    text = re.sub(r"^([A-Za-z][A-Za-z0-9+.-]*):/(?!/)", r"\1://", str(path))
    return text if "://" in text or any(c in text for c in "*?[") else path


def _run_dask(params: Params, source: str | Path, scheduler: str | None, max_bytes: int, quiet: bool) -> ScanResult:
    try:
        from .dask import DaskScanner, local_cluster
    except ImportError as exc:
        raise _fail(f"--engine dask needs the dask extra: pip install 'dedup[dask]' ({exc})") from None
    import logging

    from distributed import Client

    client = Client(scheduler) if scheduler else local_cluster(silence_logs=logging.ERROR)
    if not quiet:
        err.print(f"dask: {len(client.scheduler_info().get('workers', {}))} workers, dashboard {client.dashboard_link}")
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    try:
        with Progress(*columns, console=err, transient=True, disable=quiet) as progress:
            task = progress.add_task("reading", total=None)

            def report(stage: str, done: int, total: int | None) -> None:
                progress.update(task, description=stage, completed=done, total=total)

            result = DaskScanner(params, client, max_bytes=max_bytes).scan(source, progress=report)
    finally:
        cluster = client.cluster if not scheduler else None
        client.close()
        if cluster is not None:
            cluster.close()
    if not quiet:
        for item in result.skipped:
            err.print(f"[yellow]skipped[/] {escape(str(item))}")
        _note_caps(result, params)
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
    first: Annotated[str, typer.Argument(help="An article: FILE, or FILE#ID for a record of a JSONL/JSON file.")],
    second: Annotated[str, typer.Argument(help="Another article: FILE or FILE#ID.")],
    format: Annotated[CompareFormat, typer.Option("--format", "-f", help="Output format.")] = CompareFormat.table,
    differences_only: Annotated[
        bool, typer.Option("--differences-only", "-d", help="Hide the passages shared verbatim.")
    ] = False,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here (atomically) instead of stdout.")
    ] = None,
) -> None:
    """Two articles side by side: their relation, passages lined up (shared verbatim,
    rewritten, added), what each added."""
    if output is not None and (output.is_dir() or not output.absolute().parent.is_dir()):
        raise _fail(f"--output {output}: give a file path in an existing folder")
    try:
        a, b = distinct(load_spec(first), load_spec(second))
    except SpecError as problem:
        raise _fail(str(problem)) from None
    data = comparison(Scanner().compare(a, b), differences_only=differences_only, first=a.id)
    if format is CompareFormat.table and output is None:
        _stdout().print(render_compare_table(data))
        return
    if format is CompareFormat.json:
        text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    elif format is CompareFormat.html:
        text = render_compare_html(data)
    else:
        console = Console(file=io.StringIO(), width=160, force_terminal=False, color_system=None)
        console.print(render_compare_table(data))
        text = console.file.getvalue()  # type: ignore[attr-defined]
    if output is None:
        sys.stdout.write(text)
    else:
        try:
            write_atomic(output, text)
        except OSError as exc:
            raise _fail(f"cannot write --output {output}: {exc.strerror or exc}") from None


def main() -> None:
    app()


from .cli_index import index_app  # noqa: E402  (the ``dedup index`` commands)

app.add_typer(index_app, name="index")
