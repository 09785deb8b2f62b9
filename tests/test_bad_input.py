"""Bad input, catalogued (docs/errors.md): each mistake gets exit 2 and one line naming the
file, the line and the field, and nothing already on disk is damaged."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

import dealcalc as dc
from dealcalc.cli import main

TEXT = Path(dc.example_path("ussm-fwo")).read_text(encoding="utf-8")

CASES = [
    # (what, old text, new text, command, expected in the message)
    (
        "wrong type",
        "ore_tpa: {value: 1.0e6",
        "ore_tpa: {value: lots",
        "npv",
        ":89: streams.copper.ore_tpa: Input should be a valid number",
    ),
    (
        "negative tonnage",
        "ore_tpa: {value: 1.0e6",
        "ore_tpa: {value: -1.0e6",
        "npv",
        ":89: streams.copper.ore_tpa: Input should be greater than or equal to 0",
    ),
    ("NaN price", "    copper: {value: 9500", "    copper: {value: .nan", "npv", "price_decks.base.copper"),
    ("a 10,000-year horizon", "  end_year: 2042", "  end_year: 12042", "npv", ":18: valuation.end_year"),
    (
        "schedule not summing to 1",
        "    capex_schedule: [0.5, 0.5]\n    ramp_up",
        "    capex_schedule: [0.5, 0.6]\n    ramp_up",
        "npv",
        "fractions must sum to 1, they sum to 1.1",
    ),
    (
        "dates out of order",
        "ad_valorem: {2025-04-05: 0.10, 2025-08-07: 0.19, 2026-07-01:",
        "ad_valorem: {2025-08-07: 0.19, 2025-04-05: 0.10, 2026-07-01:",
        "npv",
        ":239: trade.schedules.ieepa_struck_down.ad_valorem: give the dates in order",
    ),
    (
        "sales shares above 1",
        "sales_shares: {us: {value: 1.0",
        "sales_shares: {eu: 0.5, us: {value: 1.0",
        "npv",
        "sales_shares add up to more than 1",
    ),
    (
        "misspelt key",
        "    capex_schedule: [0.5, 0.5]\n    ramp_up",
        "    capex_shedule: [0.5, 0.5]\n    ramp_up",
        "validate",
        "did you mean 'capex_schedule'",
    ),
    (
        "a correlation matrix that is not positive definite",
        "    - [phases.*.capex_usd, streams.*.opex_usd_per_t_ore, 0.5]",
        "    - [phases.*.capex_usd, streams.*.opex_usd_per_t_ore, 0.9]\n"
        "    - [phases.*.capex_usd, streams.copper.recovery, 0.9]\n"
        "    - [streams.*.opex_usd_per_t_ore, streams.copper.recovery, -0.9]",
        "montecarlo",
        ": uncertainty: correlations: the correlation matrix is not positive definite",
    ),
    (
        # found by test_fuzz's nightly profile: PyYAML's bare ValueError used to escape
        "a date no calendar has",
        '  copper: {unit: t, description: "Cu metal price (LME), USD/t"}',
        "  copper: 2025-13-45",
        "npv",
        ":27: '2025-13-45' is not a valid date: month must be in 1..12",
    ),
    (
        "YAML that builds Python objects",
        "name: USSM",
        "name: !!python/object/apply:os.system [ls]\nx: USSM",
        "npv",
        "could not determine a constructor",
    ),
]


@pytest.mark.parametrize(("what", "old", "new", "command", "expected"), CASES, ids=[c[0] for c in CASES])
def test_bad_files_get_one_clear_line(
    tmp_path: Path, what: str, old: str, new: str, command: str, expected: str
) -> None:
    assert old in TEXT, what
    bad = tmp_path / "bad.yaml"
    bad.write_text(TEXT.replace(old, new, 1), encoding="utf-8")
    args = [command, str(bad)] + (["-n", "100"] if command == "montecarlo" else [])
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, (what, result.output)
    assert expected in result.output and str(bad) in result.output, (what, result.output)
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1


def test_outputs_are_never_damaged(tmp_path: Path) -> None:
    path = str(dc.example_path("ussm-fwo"))
    out = tmp_path / "table.csv"
    out.write_text("precious\n", encoding="utf-8")
    for args in (["table", path, "--csv", str(out)], ["montecarlo", path, "-n", "50", "--out", str(out)]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2 and "--force" in result.output
        assert out.read_text(encoding="utf-8") == "precious\n"
    missing = tmp_path / "no" / "such" / "dir" / "x.json"
    result = CliRunner().invoke(main, ["sensitivity", "tornado", path, "--out", str(missing)])
    assert result.exit_code == 2 and "does not exist" in result.output
    result = CliRunner().invoke(main, ["sensitivity", "tornado", path, "--out", str(tmp_path / "x.txt")])
    assert result.exit_code == 2 and "unknown output type" in result.output
    for option in ("--xlsx", "--csv"):  # the ledger's files are named for what they are
        result = CliRunner().invoke(main, ["table", path, option, str(tmp_path / "ledger.txt")])
        assert result.exit_code == 2 and f"{option}: unknown output type" in result.output
        assert not (tmp_path / "ledger.txt").exists()


def _without_privilege(
    args: list[str], cwd: Path, *, module: bool = True
) -> subprocess.CompletedProcess[str]:
    """The CLI in a process that file modes bind: as root, every capability is dropped first
    (util-linux's setpriv), since root otherwise writes through read-only modes."""
    command = [sys.executable, *(["-m", "dealcalc"] if module else []), *args]
    if os.geteuid() == 0:
        command = ["setpriv", "--inh-caps=-all", "--bounding-set=-all", *command]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX file modes")
def test_read_only_and_unreadable_paths() -> None:
    folder = Path(tempfile.mkdtemp(prefix="dealcalc-ro-"))
    try:
        folder.chmod(0o755)
        deal = folder / "deal.yaml"
        deal.write_text(TEXT, encoding="utf-8")
        deal.chmod(0o644)
        if os.geteuid() == 0 and shutil.which("setpriv") is None:
            pytest.skip("running as root without util-linux's setpriv to drop privileges")
        locked = folder / "locked"
        locked.mkdir()
        kept = locked / "table.csv"
        kept.write_text("precious\n", encoding="utf-8")
        kept.chmod(0o444)
        locked.chmod(0o555)
        # a read-only folder: refused with the reason, even with --force; the old file is intact
        for args in (
            ["table", str(deal), "--csv", str(kept), "--force"],
            ["table", str(deal), "--csv", str(locked / "new.csv")],
        ):
            result = _without_privilege(args, folder)
            assert result.returncode == 2, result.stderr
            assert "cannot write here" in result.stderr and "Traceback" not in result.stderr
        # the API: the same error, as an InputError
        code = (
            "import dealcalc as dc\nfrom dealcalc.io import write_atomic\n"
            f"try:\n    write_atomic({str(kept)!r}, 'x', force=True)\n"
            "except dc.InputError as exc:\n    print('InputError:', exc)\n"
        )
        api = _without_privilege(["-c", code], folder, module=False)
        assert api.returncode == 0 and "InputError:" in api.stdout and "cannot write here" in api.stdout, api
        assert kept.read_text(encoding="utf-8") == "precious\n"
        assert sorted(p.name for p in locked.iterdir()) == ["table.csv"]  # no temporary file left
        # an unreadable input file
        secret = folder / "secret.yaml"
        secret.write_text(TEXT, encoding="utf-8")
        secret.chmod(0o000)
        result = _without_privilege(["npv", str(secret)], folder)
        assert result.returncode == 2 and "is not readable" in result.stderr, result.stderr
        assert str(secret) in result.stderr and "Traceback" not in result.stderr
    finally:
        for path in folder.rglob("*"):
            path.chmod(0o755 if path.is_dir() else 0o644)
        shutil.rmtree(folder)


@pytest.mark.parametrize("value", ["2025-02-30", "0000-01-01", "2025-01-01 25:00:00"])
def test_an_impossible_date_in_set_is_one_clear_line(value: str) -> None:
    result = CliRunner().invoke(
        main, ["npv", str(dc.example_path("ussm-fwo")), "--set", f"valuation.end_year={value}"]
    )
    assert result.exit_code == 2, result.output
    assert f"--set valuation.end_year: '{value}' is not a valid date" in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1


BOMB = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{k}: &{k} [{', '.join([f'*{p}'] * 9)}]\n" for p, k in zip("abcdefgh", "bcdefghi", strict=True)
)


@pytest.mark.parametrize(
    ("what", "text", "expected"),
    [
        (
            "a recursive alias",
            "name: x\nvaluation: &v [*v]\n",
            ":2: an alias refers to a value that contains it",
        ),
        ("a billion laughs", BOMB, ":6: the file expands to more than 200,000 values through its aliases"),
        (
            "nesting 150 deep",
            "name: " + "[" * 150 + "]" * 150 + "\n",
            ":1: values nested more than 100 levels",
        ),
        (
            "nesting 5,000 deep",
            "name: " + "[" * 5000 + "]" * 5000 + "\n",
            ": values nested too deeply to read",
        ),
    ],
)
def test_hostile_yaml_is_refused_quickly(tmp_path: Path, what: str, text: str, expected: str) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(bad)])
    assert result.exit_code == 2, (what, result.output)
    assert expected in result.output and "Traceback" not in result.output, (what, result.output)
    assert len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (  # a refinery's output is its capacity: a recovery on it would change nothing
            "capacity_units_per_year: {value: 4000,",
            "recovery: 0.92\n    capacity_units_per_year: {value: 4000,",
            "streams.antimony_refined: recovery does not apply here (a processing stream's output",
        ),
        (  # conversion belongs to a refinery stream
            "    opex_usd_per_t_ore: {value: 22,",
            "    conversion_cost_usd_per_unit: 40\n    opex_usd_per_t_ore: {value: 22,",
            "streams.copper: conversion_cost_usd_per_unit does not apply here",
        ),
        (  # gold is paid in the copper concentrate: no concentrate of its own to charge
            "    refining_charge_usd_per_unit: {value: 5,",
            "    treatment_charge_usd_per_dmt: 30\n    refining_charge_usd_per_unit: {value: 5,",
            "give concentrate_grade",
        ),
    ],
)
def test_a_stream_field_that_would_change_nothing_is_refused(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    assert old in TEXT
    bad = tmp_path / "bad.yaml"
    bad.write_text(TEXT.replace(old, new, 1), encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(bad)])
    assert result.exit_code == 2 and expected in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1
