"""The bad-input corpus: every case of tests/bad_inputs/cases.yaml through the CLI.

A case is an input (a base file edited by text replacements, or a file written out, with any
extra files beside it), the command, the exit code and fragments of the message. Each must end
with that exit code and that message, in one line per problem and no traceback, and leave the
files it was given as they were. docs/errors.md lists the messages; this corpus keeps them
honest. Add a case for every new mistake the CLI learns to refuse.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from dealcalc.cli import main

HERE = Path(__file__).parent / "bad_inputs"
BASES = {
    "small": HERE / "small.yaml",
    "bundled": Path(__file__).parents[1] / "examples" / "ussm_fwo_2025.yaml",
}
CASES: list[dict[str, Any]] = yaml.safe_load((HERE / "cases.yaml").read_text(encoding="utf-8"))


def _text(case: dict[str, Any]) -> str:
    if "text" in case:
        return str(case["text"])
    text = BASES[case.get("base", "small")].read_text(encoding="utf-8")
    for old, new in case.get("replace", []):
        count = text.count(old)
        assert count == 1, f"{case['id']}: {old!r} occurs {count} times in the base, not once"
        text = text.replace(old, new)
    return text + str(case.get("append", ""))


def test_the_corpus_is_large_and_its_ids_unique() -> None:
    ids = [c["id"] for c in CASES]
    assert len(ids) >= 200
    assert len(set(ids)) == len(ids), sorted(i for i in ids if ids.count(i) > 1)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_each_bad_input_is_refused_as_the_corpus_says(case: dict[str, Any], tmp_path: Path) -> None:
    deal = tmp_path / case.get("name", "deal.yaml")
    deal.write_text(_text(case), encoding="utf-8")
    for name, content in (case.get("files") or {}).items():
        (tmp_path / name).write_text(str(content), encoding="utf-8")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    args = [str(a).replace("{file}", str(deal)).replace("{dir}", str(tmp_path)) for a in case["args"]]
    result = CliRunner().invoke(main, args)
    out = result.output
    assert "Traceback" not in out, out
    assert result.exit_code == case.get("exit", 2), f"exit {result.exit_code}: {out}"
    fragments = case["message"] if isinstance(case["message"], list) else [case["message"]]
    for fragment in fragments:
        assert str(fragment) in out, f"{fragment!r} not in: {out}"
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file() and p.name in before}
    assert after == before, "a refused command changed a file it was given"
