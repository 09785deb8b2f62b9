"""The deal commands of the CLI, with good and bad files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import dealcalc as dc
from dealcalc.cli import main

EXAMPLE = str(Path(__file__).parents[1] / "examples" / "ussm_fwo_2025.yaml")


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_npv_json_has_npv_irr_rate_and_timing() -> None:
    code, out, _ = run("npv", EXAMPLE, "--json")
    assert code == 0
    payload = json.loads(out)
    v = dc.evaluate(dc.load(EXAMPLE))
    assert payload["metrics"]["npv_usd"] == pytest.approx(v.npv_usd[0], rel=1e-12)
    assert payload["metrics"]["irr"] == pytest.approx(v.irr[0], rel=1e-12)
    assert payload["settings"]["timing"] == "end"
    assert payload["metrics"]["discount_rate"] == pytest.approx(v.discount_rate[0])
    assert payload["run"]["discount_rate"] == pytest.approx(v.discount_rate[0])


def test_npv_table_scenario_and_set() -> None:
    code, out, _ = run("npv", EXAMPLE)
    assert code == 0 and "NPV" in out and "base case" in out
    code, out, _ = run("npv", EXAMPLE, "--scenario", "spot_2025", "--json")
    assert json.loads(out)["scenario"] == "spot_2025"
    code, out, _ = run("irr", EXAMPLE, "--set", "fiscal.royalty_rate=0.0", "--json")
    base = json.loads(run("irr", EXAMPLE, "--json")[1])
    assert code == 0 and json.loads(out)["metrics"]["irr"] > base["metrics"]["irr"]


def test_compare_shows_every_scenario() -> None:
    code, out, _ = run("compare", EXAMPLE, "--json")
    assert code == 0
    names = [s["scenario"] for s in json.loads(out)["scenarios"]]
    assert names == ["base", *dc.load(EXAMPLE).scenarios]
    code, out, _ = run("compare", EXAMPLE)
    assert code == 0 and "no_refinery" in out


def test_table_csv_is_atomic_and_kept(tmp_path: Path) -> None:
    out = tmp_path / "ledger.csv"
    assert run("table", EXAMPLE, "--csv", str(out))[0] == 0
    text = out.read_text()
    assert text.startswith("# USSM") and "\nyear,Revenue: copper [USD]" in text
    code, _, err = run("table", EXAMPLE, "--csv", str(out), "--scenario", "spot_2025")
    assert code == 2 and "--force" in err and out.read_text() == text
    code, printed, _ = run("table", EXAMPLE)
    assert code == 0 and "After-tax cash flow (US$ M)" in printed and "2042" in printed


def test_validate_and_paths() -> None:
    code, out, _ = run("validate", EXAMPLE)
    assert code == 0 and "valid" in out and "29 scenarios" in out
    code, out, _ = run("validate", EXAMPLE, "--paths")
    assert "phases.refinery.capex_usd" in out.splitlines()


def test_example_writes_a_copy(tmp_path: Path) -> None:
    target = tmp_path / "deal.yaml"
    assert run("example", "ussm-fwo", "--out", str(target))[0] == 0
    assert target.read_bytes() == dc.example_path("ussm-fwo").read_bytes()
    assert run("example", "ussm-fwo", "--out", str(target))[0] == 2


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "    sustaining_capex_usd_per_year: {value: 6.0e6",
            "    sustaining_capx_usd_per_year: {value: 6.0e6",
            ":77: phases.refinery.sustaining_capx_usd_per_year: unknown field "
            "(did you mean 'sustaining_capex_usd_per_year'?)",
        ),
        (
            "grade: {value: 0.008",
            "grade: {value: 1.008",
            ":90: streams.copper.grade: 1.008 is 100.8 %; did you mean 0.01008?",
        ),
        (
            "phase: refinery\n    product: apt",
            "phase: refinary\n    product: apt",
            ": streams.apt.phase: 'refinary' is not a phase",
        ),
        (
            "name: USSM",
            "name: !!python/object/apply:os.system [ls]\nx: USSM",
            ":10: could not determine a constructor",
        ),
        ("  royalty_rate: {value: 0.05", "  royalty_rate: {value: .nan", ": fiscal.royalty_rate:"),
        (
            "      schedule: {value: annex_ii",
            "      schedule: {value: annex_iii",
            ":203: trade.destinations.us.schedule: 'annex_iii' is not a schedule (did you mean 'annex_ii'?)",
        ),
        (
            "    eca_refinery:\n",
            "    eca_refinery:\n      tenor_yeers: 3\n",
            "finance.debt.eca_refinery.tenor_yeers: unknown field (did you mean 'tenor_years'?)",
        ),
        (
            "    ussm: {share: {value: 0.5",
            "    ussm: {share: {value: 0.6",
            ": finance: equity shares must sum to 1, they sum to 1.1",
        ),
        (
            "      ad_valorem: {2025-04-05: 0.10, 2025-08-07: 0.19}\n      products:\n        antimony: {any",
            # a tariff rate may exceed 1 (up to 10: 145 % is a real rate); 19 is a per cent
            "      ad_valorem: {2025-04-05: 0.10, 2025-08-07: 19}\n      products:\n        antimony: {any",
            ":209: trade.schedules.annex_ii.ad_valorem.2025-08-07: 19 is 1900 %; did you mean 0.19?",
        ),
    ],
)
def test_bad_files_exit_2_with_file_line_and_field(tmp_path: Path, old: str, new: str, expected: str) -> None:
    text = Path(EXAMPLE).read_text()
    assert old in text
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace(old, new, 1))
    for command in ("npv", "validate", "compare"):
        code, out, err = run(command, str(bad))
        assert code == 2, (command, out, err)
        assert expected in err and str(bad) in err
        assert "Traceback" not in out + err and len(err.strip().splitlines()) == 1


def test_bad_options_exit_2() -> None:
    assert "did you mean 'spot_2025'" in run("npv", EXAMPLE, "--scenario", "spot")[2]
    code, _, err = run("npv", EXAMPLE, "--set", "fiscal.royalty_rat=0.1")
    assert code == 2 and "did you mean 'fiscal.royalty_rate'" in err
    code, _, err = run("npv", EXAMPLE, "--set", "fiscal.royalty_rate")
    assert code == 2 and "PATH=VALUE" in err
    code, _, err = run("npv", EXAMPLE, "--set", "fiscal.royalty_rate=2")
    assert code == 2 and "fiscal.royalty_rate" in err
    code, _, err = run("npv", EXAMPLE, "--set", "trade.destinations.us.schedule=reciprocal_91")
    assert code == 2 and "did you mean 'reciprocal_" in err
    code, _, err = run("npv", EXAMPLE, "--set", "trade.schedules.reciprocal_19.ad_valorem.2025-08-07=0.25")
    assert code == 0, err


def test_table_xlsx_holds_the_ledger_and_provenance(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    out = tmp_path / "ledger.xlsx"
    code, _, err = run("table", EXAMPLE, "--xlsx", str(out))
    assert code == 0, err
    # readers that do not recalculate see dealcalc's values cached in the formula cells
    book = openpyxl.load_workbook(out, data_only=True)
    sheet = book["Ledger"]
    labels = [c.value for c in sheet["A"]]
    row = labels.index("After-tax cash flow [USD]") + 1
    values = [sheet.cell(row=row, column=3 + t).value for t in range(17)]
    expected = dc.evaluate(dc.load(EXAMPLE)).table()["After-tax cash flow [USD]"].tolist()
    assert values == pytest.approx(expected, rel=1e-12)
    assert "fiscal.royalty_rate" in [c.value for c in book["Inputs"]["D"]]
    assert "fiscal.royalty_rate" in [c.value for c in book["Assumptions"]["A"]]
    assert run("table", EXAMPLE, "--xlsx", str(out))[0] == 2  # kept without --force


def test_missing_excel_extra_names_the_install_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "xlsxwriter" else real(name, *a)
    )
    code, _, err = run("table", EXAMPLE, "--xlsx", str(tmp_path / "x.xlsx"))
    assert code == 2 and "pip install 'dealcalc[excel]'" in err
