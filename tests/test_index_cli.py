"""``dedup index add|query|remove|expire|stats --db``."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from dedup import Index
from dedup.cli import app

from .helpers import SAMPLES

runner = CliRunner()


def test_add_query_remove_expire_stats(tmp_path: Path) -> None:
    db = str(tmp_path / "news.db")
    added = runner.invoke(app, ["index", "add", str(SAMPLES / "wire"), str(SAMPLES / "other"), "--db", db])
    assert added.exit_code == 0, added.output
    with Index(db) as index:
        assert len(index) == 5
    found = runner.invoke(app, ["index", "query", str(SAMPLES / "outlets" / "newsnow_interview.txt"), "--db", db,
                                "--format", "json"])
    assert found.exit_code == 0, found.output
    report = json.loads(found.stdout)
    assert [(m["id"], m["relation"]) for m in report["matches"]] == [("reuters_port_strike.txt", "derived")]
    assert report["added_sections"][0]["label"] == "interview"
    table = runner.invoke(app, ["index", "query", str(SAMPLES / "outlets" / "newsnow_interview.txt"), "--db", db],
                          env={"COLUMNS": "200"})
    assert table.exit_code == 0 and "derived" in table.stdout
    stats = runner.invoke(app, ["index", "stats", "--db", db])
    assert stats.exit_code == 0 and json.loads(stats.stdout)["articles"] == 5
    assert runner.invoke(app, ["index", "remove", "afp_heatwave.txt", "--db", db]).exit_code == 0
    missing = runner.invoke(app, ["index", "remove", "afp_heatwave.txt", "--db", db])
    assert missing.exit_code == 2 and "no article" in missing.output
    assert runner.invoke(app, ["index", "expire", "--before", "2030-01-01", "--db", db]).exit_code == 0
    with Index(db) as index:
        assert len(index) == 4  # undated articles never expire
    bad = runner.invoke(app, ["index", "expire", "--before", "someday", "--db", db])
    assert bad.exit_code == 2


def test_foreign_file_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("not an index\n" * 100)
    result = runner.invoke(app, ["index", "stats", "--db", str(path)])
    assert result.exit_code == 2 and "not a readable dedup index" in result.output
    assert path.read_text().startswith("not an index")
