"""The command line, end to end on the bundled samples."""

import csv
import io
import json
import subprocess
import sys

from typer.testing import CliRunner

from dedup.cli import app

from .helpers import REPO, SAMPLES, SHARED

runner = CliRunner()


def test_scan_samples_table_shows_the_clusters():
    result = runner.invoke(app, ["scan", str(SAMPLES), "--quiet"], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    assert "c1: 10 articles" in result.output
    assert "interview" in result.output
    assert "c2: 2 articles" in result.output


def test_scan_samples_json_meets_the_contract(tmp_path):
    out = tmp_path / "report.json"
    result = runner.invoke(app, ["scan", str(SAMPLES), "--format", "json", "--output", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    ids = {a["id"] for a in report["articles"]}
    assert "wire/reuters_port_strike.txt" in ids and "reuters-2025-03-03-port" in ids
    interview = next(a for a in report["articles"] if a["id"] == "outlets/newsnow_interview.txt")
    assert interview["added_sections"][0]["label"] == "interview"
    unrelated = next(a for a in report["articles"] if a["id"] == "other/museum_exhibition.txt")
    assert unrelated["cluster"] is None and unrelated["added_sections"] == []
    # HTML offsets index the extracted text, which the report carries; the checker
    # reads files from disk, so it is given the report without the HTML article.
    html = next(a for a in report["articles"] if a["id"].endswith(".html"))
    assert all(html["text"][p["start"] : p["end"]] == p["text"] for p in html["passages"])
    checker = SHARED / "tools" / "check_report.py"
    if checker.exists():
        report["articles"] = [a for a in report["articles"] if a is not html]
        report["pairs"] = [p for p in report["pairs"] if html["id"] not in (p["a"], p["b"])]
        out.write_text(json.dumps(report))
        check = subprocess.run([sys.executable, str(checker), str(out), str(SAMPLES)], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout


def test_scan_csv_has_one_row_per_pair():
    result = runner.invoke(app, ["scan", str(SAMPLES), "--format", "csv", "--quiet"])
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows and {"a", "b", "relation", "jaccard", "containment_a_in_b", "cosine", "source"} <= set(rows[0])
    assert {r["relation"] for r in rows} >= {"exact", "near_duplicate", "derived", "same_story"}


def test_missing_path_is_a_usage_error_naming_it(tmp_path):
    missing = tmp_path / "nowhere"
    result = runner.invoke(app, ["scan", str(missing)])
    assert result.exit_code == 2
    assert "nowhere" in result.output and "not found" in result.output


def test_bad_option_value_is_a_usage_error():
    result = runner.invoke(app, ["scan", str(SAMPLES), "--derived", "7"])
    assert result.exit_code == 2


def test_verbatim_only_flag_drops_same_story_links():
    result = runner.invoke(app, ["scan", str(SAMPLES), "--format", "json", "--no-same-story", "--quiet"])
    report = json.loads(result.stdout)
    assert report["pairs"] and all(p["relation"] != "same_story" for p in report["pairs"])


def test_compare_shows_shared_and_added_passages():
    result = runner.invoke(
        app,
        ["compare", str(SAMPLES / "wire" / "reuters_port_strike.txt"),
         str(SAMPLES / "outlets" / "newsnow_interview.txt")],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    assert "derived" in result.output
    assert "shared" in result.output and "added" in result.output and "interview" in result.output


def test_python_dash_m_entry_point():
    done = subprocess.run([sys.executable, "-m", "dedup", "--help"], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0 and "scan" in done.stdout
