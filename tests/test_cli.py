"""The command line, through click's CliRunner: output, JSON, errors with exit status 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import dealcalc as dc
from dealcalc.cli import main

EXAMPLE = Path(__file__).parents[1] / "examples" / "cashflows.csv"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_flows_prints_a_table_for_the_example() -> None:
    code, out, _ = run("flows", str(EXAMPLE), "--rate", "0.10")
    assert code == 0
    assert "M2 GATE mine" in out and "14.9 %" in out and "225.16" in out


def test_flows_json_matches_the_api() -> None:
    code, out, _ = run("flows", str(EXAMPLE), "--rate", "0.10", "--timing", "end", "--json")
    assert code == 0
    payload = json.loads(out)
    assert payload["kind"] == "flows" and payload["run"]["rate"] == 0.10 and payload["run"]["timing"] == "end"
    first = payload["series"][0]
    assert first["name"] == "M2 GATE mine"
    values = [-5.0, 1.5, 2.0, 2.0, 1.5, 0, 0, 0]
    assert first["npv"] == pytest.approx(dc.npv(0.10, values, timing="end"), rel=1e-12)
    assert first["irr"] == pytest.approx(dc.irr(values), rel=1e-12)
    never = payload["series"][3]
    assert never["discounted_payback_periods"] is None  # NaN becomes null


def test_flows_out_is_atomic_and_refuses_to_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    assert run("flows", str(EXAMPLE), "-r", "0.1", "--out", str(out))[0] == 0
    before = out.read_text()
    code, _, err = run("flows", str(EXAMPLE), "-r", "0.2", "--out", str(out))
    assert code == 2 and "--force" in err and out.read_text() == before
    assert run("flows", str(EXAMPLE), "-r", "0.2", "--out", str(out), "--force")[0] == 0
    assert json.loads(out.read_text())["run"]["rate"] == 0.2
    csv_out = tmp_path / "r.csv"
    assert run("flows", str(EXAMPLE), "-r", "0.1", "--out", str(csv_out))[0] == 0
    header = next(line for line in csv_out.read_text().splitlines() if not line.startswith("#"))
    assert header.startswith("series,npv,irr") and "# rate: 0.1" in csv_out.read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--rate", "10"], "looks like a percentage"),
        (["--rate", "-1.5"], "not a usable rate"),
        (["--rate", "0.1", "--out", "x.txt"], "expected a .json or .csv file"),
    ],
)
def test_bad_options_exit_2_with_one_line(args: list[str], message: str) -> None:
    code, out, err = run("flows", str(EXAMPLE), *args)
    assert code == 2
    assert message in err and "Traceback" not in err + out
    assert len(err.strip().splitlines()) == 1


def test_bad_file_exits_2_naming_file_line_column(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("year,A\n2026,-1\n2027,x1\n")
    code, _, err = run("flows", str(bad), "--rate", "0.1")
    assert code == 2
    assert f"{bad}:3: column 'A': 'x1' is not a number" in err
    code, _, err = run("flows", str(tmp_path / "missing.csv"), "--rate", "0.1")
    assert code == 2 and "file not found" in err


def test_version_and_help() -> None:
    assert dc.__version__ in run("--version")[1]
    code, out, _ = run("flows", "--help")
    assert code == 0 and "one series per column" in out


def test_the_cli_starts_without_importing_scipy_stats() -> None:
    """scipy.stats takes about 0.7 s to import; only Monte Carlo and the quantile tornado need it,
    so `dealcalc npv` must not pay for it."""
    import subprocess
    import sys

    code = "import sys, dealcalc.cli; print('scipy.stats' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
