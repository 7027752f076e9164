"""Fuzz the loaders and the whole scan with random and mutated inputs.

Every case is a fresh temporary folder of 1-8 files: random bytes; valid JSON,
JSONL, HTML and text articles in UTF-8 (with or without BOM), UTF-16, UTF-32,
Windows-1252 and other legacy code pages, then mutated (bit flips, inserted
NULs and quotes and braces, deleted or duplicated runs, truncation, splices of
two inputs); huge lines; deep HTML and JSON nesting; odd JSON values (numbers
for text, lone surrogate escapes, big integers, nested ids); sometimes a
symlink loop, a broken symlink, a subfolder or a FIFO. Each case runs
:func:`dedup.load.load_articles` and then ``Scanner().scan`` on what it gave,
renders the JSON report and checks a few invariants.

A *crash* is any exception escaping ``load_articles``, ``Scanner.scan`` or the
report rendering. An *invariant* failure is a loaded article with empty or
UTF-8-unencodable text, a Skipped without a reason, a report that does not
survive ``json.loads(json.dumps(...))``, or a passage whose text is not the
article's ``text[start:end]``. A case running longer than ``--case-timeout``
seconds counts as a *hang*; one over ``--slow`` seconds is listed (not a failure).
Failing cases are copied to ``--crash-dir``; ``--replay CASE_SEED`` rebuilds and
reruns one case.

Usage::

    .venv/bin/python benchmarks/fuzz_loaders.py --seconds 180
    .venv/bin/python benchmarks/fuzz_loaders.py --seconds 30 --seed 7 --json /tmp/fuzz.json

Exit status: 0 when nothing failed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from dedup.article import Article, Skipped
from dedup.load import SUFFIXES, load_articles
from dedup.pipeline import Scanner
from dedup.report import to_json

_WORD_TEXT = (
    "the port strike union workers said on Tuesday minister talks ships cargo harbour pay jobs crane fuel "
    "grain council budget school rail festival museum director exhibition café naïve “quoted” — – … € "
    "Zürich São Paulo Москва 東京 กรุงเทพ القاهرة Δελφοί 😀 Mr. U.S. Dr. 3.5% 1,200 $4bn"
)
WORDS = _WORD_TEXT.split()
ENCODINGS = [
    "utf-8",
    "utf-8-sig",
    "utf-16",
    "utf-16-le",
    "utf-16-be",
    "utf-32",
    "cp1252",
    "latin-1",
    "cp1251",
    "cp1250",
    "iso-8859-7",
    "shift_jis",
    "gb18030",
    "koi8-r",
    "mac-roman",
    "utf-7",
]
NASTY = [
    b"\x00",
    b'"',
    b"{",
    b"}",
    b"[",
    b"]",
    b"\\",
    b"\n",
    b"\r",
    b"\r\n",
    b"<",
    b">",
    b"</",
    b"&",
    b"&#",
    b"&#xD800;",
    b"&#0;",
    b"&#x110000;",
    b"\xff",
    b"\xfe",
    b"\xef\xbb\xbf",
    b"\xc3",
    b"\x80",
    b"\x93",
    b"\\ud800",
    b"\\u0000",
    b"<![CDATA[",
    b"<!--",
    b"-->",
    b"<?xml",
    b"<!DOCTYPE",
    b"\t",
    b" " * 50,
]


# --------------------------------------------------------------------------- generators


def words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def prose(rng: random.Random) -> str:
    paragraphs = [words(rng, rng.randint(1, 60)) + "." for _ in range(rng.randint(1, 6))]
    separator = rng.choice(["\n\n", "\n", "\r\n\r\n", "\r\n", "\n \n", "\u2028", "\n\n\n\n"])
    return separator.join(paragraphs)


def encode(rng: random.Random, text: str) -> bytes:
    encoding = rng.choice(ENCODINGS)
    return text.encode(encoding, errors=rng.choice(["replace", "ignore", "xmlcharrefreplace"]))


def json_value(rng: random.Random, depth: int = 0) -> Any:
    choice = rng.randrange(9 if depth < 3 else 6)
    if choice == 0:
        return None
    if choice == 1:
        return rng.choice([True, False, 0, -1, 2**70, 1e308, -0.0, 3.14])
    if choice in (2, 3, 4, 5):
        return rng.choice([prose(rng), words(rng, 3), "", " ", "\ud800", "x\udc80y", "2025-03-03", "31-FEB-2025"])
    if choice == 6:
        return [json_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {rng.choice(["id", "text", "title", "k"]): json_value(rng, depth + 1) for _ in range(rng.randint(0, 3))}


def record(rng: random.Random) -> dict[str, Any]:
    """A usually valid article record, sometimes with a wrong type or odd value in a field."""
    out: dict[str, Any] = {"text": prose(rng)}
    if rng.random() < 0.7:
        out["id"] = rng.choice([f"id-{rng.randrange(50)}", rng.randrange(50), "", " ", "[/x]", "a/b", "\ud83d"])
    for name in ("title", "outlet", "url"):
        if rng.random() < 0.3:
            out[name] = words(rng, 3)
    if rng.random() < 0.5:
        key = rng.choice(["published", "date"])
        out[key] = rng.choice(
            [
                "2025-03-03",
                "2025-03-03T10:00:00Z",
                "2025-03-03T10:00:00+05:30",
                "26-FEB-1987 15:01:01.79",
                "yesterday",
                "",
                "9999-99-99",
                20250303,
                None,
                "2025-03-03T25:00:00",
            ]
        )
    if rng.random() < 0.15:
        field = rng.choice(["id", "text", "title", "outlet", "url", "published"])
        out[field] = json_value(rng)
    return out


def gen_json(rng: random.Random) -> bytes:
    if rng.random() < 0.15:  # deep nesting
        depth = rng.choice([100, 1000, 10_000, 100_000])
        return ("[" * depth + '{"text": "deep"}' + "]" * depth).encode()
    if rng.random() < 0.5:
        data: Any = record(rng)
    else:
        data = [record(rng) if rng.random() < 0.9 else json_value(rng) for _ in range(rng.randint(0, 5))]
    return json.dumps(data, ensure_ascii=rng.random() < 0.5).encode("utf-8", "surrogatepass")


def gen_jsonl(rng: random.Random) -> bytes:
    lines: list[bytes] = []
    for _ in range(rng.randint(0, 8)):
        kind = rng.random()
        if kind < 0.7:
            lines.append(json.dumps(record(rng), ensure_ascii=rng.random() < 0.5).encode("utf-8", "surrogatepass"))
        elif kind < 0.8:
            lines.append(b"")
        elif kind < 0.9:
            lines.append(json.dumps(json_value(rng)).encode())
        else:
            lines.append(json.dumps({"id": "huge", "text": words(rng, 20) * rng.randint(100, 3000)}).encode())
    data = rng.choice([b"\n", b"\r\n"]).join(lines)
    if rng.random() < 0.2:
        data = data.decode("utf-8", "surrogatepass").encode(
            rng.choice(["utf-16", "utf-32", "utf-8-sig", "cp1252"]), "replace"
        )
    return data


def gen_html(rng: random.Random) -> bytes:
    body = "".join(f"<p>{words(rng, rng.randint(3, 40))}</p>\n" for _ in range(rng.randint(0, 6)))
    if rng.random() < 0.3:
        depth = rng.choice([100, 1000, 5000, 20_000])
        tag = rng.choice(["div", "span", "section", "b", "table"])
        body = f"<{tag}>" * depth + body + f"</{tag}>" * (depth if rng.random() < 0.5 else 0)
    extras = [
        "<nav><a href='/'>Home</a></nav>",
        "<script>var x = '</p>';</script>",
        "<!-- comment -->",
        "<style>p{}</style>",
        "&amp; &nbsp; &#8220;&#8221; &#xD800; &#0; &bogus;",
        "<![CDATA[ x ]]>",
        "<footer>Copyright</footer>",
        "<meta charset='windows-1252'>",
        "<title>T&eacute;st</title>",
    ]
    page = f"<html><head>{rng.choice(extras)}</head><body>{rng.choice(extras)}<article>{body}</article></body></html>"
    return encode(rng, page) if rng.random() < 0.3 else page.encode()


def gen_text(rng: random.Random) -> bytes:
    kind = rng.random()
    if kind < 0.1:
        return b""
    if kind < 0.2:
        return bytes(rng.choice(b" \t\r\n\x0b\x0c") for _ in range(rng.randint(1, 50)))
    if kind < 0.3:  # one huge line
        return (words(rng, 10) + " ").encode() * rng.randint(1000, 20_000)
    text = prose(rng)
    return encode(rng, text) if rng.random() < 0.5 else text.encode()


def gen_random(rng: random.Random) -> bytes:
    n = rng.choice([0, 1, 2, 16, 256, 4096, 50_000])
    if rng.random() < 0.5:
        return rng.randbytes(n)
    return bytes(rng.choice(b'\x00\x80\xff{}[]<>"\n abc\xe9\x93') for _ in range(n))


GENERATORS: dict[str, Callable[[random.Random], bytes]] = {
    ".json": gen_json,
    ".jsonl": gen_jsonl,
    ".html": gen_html,
    ".htm": gen_html,
    ".txt": gen_text,
    ".md": gen_text,
}


def mutate(rng: random.Random, data: bytes, other: bytes) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        op = rng.randrange(7)
        pos = rng.randint(0, len(buf))
        if op == 0 and buf:  # bit flip
            i = rng.randrange(len(buf))
            buf[i] ^= 1 << rng.randrange(8)
        elif op == 1:
            buf[pos:pos] = rng.choice(NASTY)
        elif op == 2 and buf:  # delete a run
            del buf[pos : pos + rng.randint(1, 64)]
        elif op == 3 and buf:  # duplicate a run
            end = min(len(buf), pos + rng.randint(1, 256))
            buf[pos:pos] = buf[pos:end] * rng.randint(1, 20)
        elif op == 4:  # truncate
            del buf[pos:]
        elif op == 5 and other:  # splice another input in
            start = rng.randrange(len(other))
            buf[pos:pos] = other[start : start + rng.randint(1, 512)]
        elif op == 6:
            buf[pos:pos] = b"\x00" * rng.randint(1, 8)
    return bytes(buf)


def make_case(rng: random.Random, folder: Path) -> list[str]:
    """Write one case into ``folder``; return a short description of each file."""
    described = []
    previous = b""
    for index in range(rng.randint(1, 8)):
        suffix = rng.choice(SUFFIXES)
        generator_suffix = suffix if rng.random() < 0.8 else rng.choice(SUFFIXES)  # content of another format
        kind = "random" if rng.random() < 0.15 else generator_suffix
        data = gen_random(rng) if kind == "random" else GENERATORS[generator_suffix](rng)
        mutated = rng.random() < 0.5
        if mutated:
            data = mutate(rng, data, previous)
        sub = folder / rng.choice(["", "", "sub", "sub/deeper", "[x]"])
        sub.mkdir(parents=True, exist_ok=True)
        name = f"f{index}{suffix.upper() if rng.random() < 0.1 else suffix}"
        (sub / name).write_bytes(data)
        previous = data
        described.append(f"{sub.relative_to(folder) / name}: {kind}{' mutated' if mutated else ''}, {len(data)} B")
    extra = rng.random()
    if extra < 0.05:
        if (folder / "sub").is_dir():
            os.symlink("..", folder / "sub" / "loop")
        else:
            os.symlink(".", folder / "loop")
        described.append("symlink loop")
    elif extra < 0.1:
        os.symlink("missing.txt", folder / "dangling.txt")
        described.append("broken symlink")
    elif extra < 0.13 and hasattr(os, "mkfifo"):
        os.mkfifo(folder / "pipe.jsonl")
        described.append("fifo")
    elif extra < 0.16:
        target = next(folder.rglob("f*"), None)
        if target is not None and target.is_file():
            os.symlink(target, folder / f"alias{target.suffix}")
            described.append("file symlink")
    return described


SCANNERS: list[Callable[[], Scanner]] = [
    Scanner,
    lambda: Scanner(same_story=None),
    lambda: Scanner(passages=False),
    lambda: Scanner(shingle_size=1, batch_size=3),
]


# --------------------------------------------------------------------------- checks


class Hang(BaseException):
    pass


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    raise Hang()


def check(articles: list[Article], skipped: list[Skipped], report: dict[str, Any]) -> list[str]:
    problems = []
    for article in articles:
        if not article.text.strip():
            problems.append(f"article {article.id!r} has empty text")
        try:
            article.text.encode("utf-8")
            article.id.encode("utf-8")
        except UnicodeEncodeError:
            problems.append(f"article {article.id!r} is not encodable as UTF-8")
    problems.extend(f"skipped {s.path!r} without a reason" for s in skipped if not s.reason)
    if json.loads(json.dumps(report)) != report:
        problems.append("report changes through a JSON round trip")
    texts = {a.id: a.text for a in articles}
    for entry in report["articles"]:
        text = entry["text"] if entry.get("text") is not None else texts[entry["id"]]
        for passage in entry["passages"]:
            if text[passage["start"] : passage["end"]] != passage["text"]:
                problems.append(f"passage of {entry['id']!r} at {passage['start']} is not text[start:end]")
                break
    return problems


def _where(exc: BaseException) -> str:
    """The innermost frame of a traceback as ``file:line``: what tells one bug from another."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "?"
    last = frames[-1]
    return f"{Path(last.filename).name}:{last.lineno}"


def run_case(scanner: Scanner, folder: Path, max_bytes: int) -> tuple[str | None, str, str, int, int]:
    """(failure kind or None, signature, detail, articles, skipped) of one case."""
    stage = "load"
    try:
        articles, skipped = load_articles(folder, max_bytes=max_bytes)
        stage = "scan"
        result = scanner.scan([*articles, *skipped])
        stage = "report"
        rendered = to_json(result)
        rendered.encode("utf-8")
        report = json.loads(rendered)
    except Hang:
        return "hang", f"hang during {stage}", f"longer than --case-timeout during {stage}", 0, 0
    except Exception as exc:
        signature = f"{type(exc).__name__} during {stage} at {_where(exc)}"
        return "crash", signature, traceback.format_exc(limit=-8), 0, 0
    problems = check(articles, skipped, report)
    if problems:
        signature = problems[0].split(" at ")[0].split("'")[0]
        return "invariant", signature, "; ".join(problems[:5]), len(articles), len(skipped)
    return None, "", "", len(articles), len(skipped)


def _build(case_seed: int, folder: Path) -> tuple[list[str], int, Scanner]:
    """Write case ``case_seed`` into ``folder``: its files, --max-bytes and scanner settings."""
    case_rng = random.Random(case_seed)
    described = make_case(case_rng, folder)
    max_bytes = case_rng.choice([200, 5_000, 1_000_000, 20_000_000])
    return described, max_bytes, case_rng.choice(SCANNERS)()


def replay(case_seed: int) -> int:
    folder = Path(tempfile.mkdtemp(prefix=f"dedup-fuzz-case-{case_seed}-"))
    described, max_bytes, scanner = _build(case_seed, folder)
    print(f"case {case_seed} in {folder} (--max-bytes {max_bytes}, {scanner.get_params()}):", *described, sep="\n  ")
    clock = time.monotonic()
    kind, signature, detail, n_articles, n_skipped = run_case(scanner, folder, max_bytes)
    print(f"{time.monotonic() - clock:.2f} s, {n_articles} articles, {n_skipped} skipped: {kind or 'ok'} {signature}")
    if detail:
        print(detail)
    return 1 if kind else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=180.0, help="how long to fuzz (default 180)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: time-based, printed)")
    parser.add_argument("--case-timeout", type=int, default=60, help="seconds before a case counts as a hang")
    parser.add_argument("--slow", type=float, default=10.0, help="seconds from which a case is listed as slow")
    parser.add_argument("--crash-dir", type=Path, default=None, help="where failing cases are copied")
    parser.add_argument("--json", type=Path, default=None, help="write the summary here too")
    parser.add_argument(
        "--replay",
        type=int,
        default=None,
        metavar="CASE_SEED",
        help="rebuild one case (its seed is printed with each failure), run it, keep its folder",
    )
    args = parser.parse_args(argv)
    if args.replay is not None:
        return replay(args.replay)
    seed = args.seed if args.seed is not None else int(time.time())
    rng = random.Random(seed)
    crash_dir = args.crash_dir or Path(tempfile.gettempdir()) / f"dedup-fuzz-{seed}"
    use_alarm = hasattr(signal, "SIGALRM")
    if use_alarm:
        signal.signal(signal.SIGALRM, _on_alarm)

    counts: Counter[str] = Counter()
    failures: list[dict[str, Any]] = []
    seen: set[str] = set()
    slowest: tuple[float, int, str] = (0.0, 0, "")
    slow_cases: list[dict[str, Any]] = []
    started = time.monotonic()
    print(f"fuzzing for {args.seconds:.0f} s, seed {seed}", flush=True)
    while time.monotonic() - started < args.seconds:
        case_seed = rng.randrange(2**32)
        with tempfile.TemporaryDirectory(prefix="dedup-fuzz-") as tmp:
            folder = Path(tmp)
            described, max_bytes, scanner = _build(case_seed, folder)
            clock = time.monotonic()
            if use_alarm:
                signal.alarm(args.case_timeout)
            try:
                kind, signature, detail, n_articles, n_skipped = run_case(scanner, folder, max_bytes)
            finally:
                if use_alarm:
                    signal.alarm(0)
            elapsed = time.monotonic() - clock
            counts["cases"] += 1
            counts["files"] += len(described)
            counts["articles"] += n_articles
            counts["skipped"] += n_skipped
            if elapsed > slowest[0]:
                slowest = (elapsed, case_seed, "; ".join(described))
            if elapsed >= args.slow:
                slow_cases.append({"case_seed": case_seed, "seconds": round(elapsed, 1), "files": described})
                print(f"[slow] {elapsed:.1f} s: case {case_seed} (--replay it)", flush=True)
            if kind is None:
                continue
            counts[kind] += 1
            target = crash_dir / f"case-{case_seed}"
            if signature not in seen:
                seen.add(signature)
                shutil.copytree(
                    folder,
                    target,
                    symlinks=True,
                    ignore_dangling_symlinks=True,
                    ignore=lambda d, names: [n for n in names if n.startswith("pipe")],
                )
                last_line = detail.strip().splitlines()[-1] if detail.strip() else ""
                print(f"[{kind}] {signature}: case {case_seed} in {target}\n    {last_line[:300]}", flush=True)
            failures.append(
                {
                    "kind": kind,
                    "signature": signature,
                    "case_seed": case_seed,
                    "files": described,
                    "detail": detail,
                    "copied_to": str(target) if target.exists() else None,
                }
            )
    elapsed_total = time.monotonic() - started
    summary = {
        "seed": seed,
        "seconds": round(elapsed_total, 1),
        "cases": counts["cases"],
        "files": counts["files"],
        "articles_loaded": counts["articles"],
        "skipped": counts["skipped"],
        "crashes": counts["crash"],
        "hangs": counts["hang"],
        "invariant_failures": counts["invariant"],
        "distinct_failures": sorted(seen),
        "slow_cases": slow_cases,
        "slowest_case_seconds": round(slowest[0], 2),
        "slowest_case_seed": slowest[1],
        "slowest_case": slowest[2],
        "failures": failures[:50],
    }
    print(json.dumps({k: v for k, v in summary.items() if k != "failures"}, indent=2, ensure_ascii=False))
    if args.json is not None:
        args.json.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
