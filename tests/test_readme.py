"""The README's parameter table and its first commands say what the code does."""

from __future__ import annotations

import re

from dedup import Params

from .helpers import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def _table_defaults() -> dict[str, str]:
    section = README[README.index("## Parameters") : README.index("## How it works")]
    return {m[1]: m[2].strip() for m in re.finditer(r"^\| `(\w+)` \| ([^|]+) \|", section, re.MULTILINE)}


def test_parameter_table_is_the_one_params_makes():
    assert Params.markdown() in README


def test_parameter_table_lists_every_parameter_with_its_default():
    table = _table_defaults()
    for name, default, _ in Params.describe():
        assert name in table, f"README parameter table lacks {name}"
        assert table[name].replace(",", "") == str(default), f"README says {name} = {table[name]}, Params {default}"
    assert set(table) == {name for name, _, _ in Params.describe()}


def test_readme_starts_with_the_two_commands():
    commands = re.findall(r"```bash\n(.+?)\n```", README)
    assert "dedup scan samples/" in commands[0] and "pip install ." in commands[0]
    assert "pytest" in commands[1] and ".[test]" in commands[1]
