"""The Excel model recomputes dealcalc's numbers with live formulas.

Each workbook is recomputed by an independent formula engine (the ``formulas`` package, which
parses and evaluates the cells as a spreadsheet would); every ledger line, the tax memo lines,
NPV and IRR must agree with dealcalc. Changing an input cell must move the workbook's results
exactly as dealcalc moves with the same change.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import dealcalc as dc
from dealcalc.params import with_changes
from dealcalc.report.excel import excel_model

formulas = pytest.importorskip("formulas")
openpyxl = pytest.importorskip("openpyxl")

DEAL = dc.load(dc.example_path("ussm-fwo"))
LINES = [
    *[c for c in dc.evaluate(DEAL).table().columns if str(c).startswith("Revenue: ")],
    "Selling charges (TC/RC, freight) [USD]",
    "Tariff borne by the exporter [USD]",
    "Royalty [USD]",
    "Mining and processing [USD]",
    "Refining conversion [USD]",
    "Purchased feed [USD]",
    "Overheads [USD]",
    "Working capital [USD]",
    "Initial capex [USD]",
    "Sustaining capex [USD]",
    "Closure [USD]",
    "Income tax [USD]",
    "EBITDA [USD]",
    "Pre-tax cash flow [USD]",
    "After-tax cash flow [USD]",
    "Depreciation [USD]",
    "Taxable income after losses [USD]",
    "Losses carried forward [USD]",
    "Minimum tax or ACT floor [USD]",
]


class Recomputed:
    """A workbook recomputed by the formula engine, read by sheet and label."""

    def __init__(self, book: bytes, tmp: Path, changes: dict[str, float] | None = None) -> None:
        path = tmp / "model.xlsx"
        path.write_bytes(book)
        self.cells = openpyxl.load_workbook(io.BytesIO(book))  # formulas, not values
        model = formulas.ExcelModel().loads(str(path)).finish()
        given = {}
        for label, value in (changes or {}).items():
            row = self._row("Inputs", label)
            given[f"'[model.xlsx]INPUTS'!B{row}"] = value
        solution = model.calculate(inputs=given)
        self.values = {k.split("]", 1)[1].upper(): v.value for k, v in solution.items() if "]" in k}

    def _row(self, sheet: str, label: str) -> int:
        for row in self.cells[sheet].iter_rows(min_col=1, max_col=1):
            if row[0].value == label:
                return int(row[0].row)
        raise KeyError(label)

    def value(self, sheet: str, cell: str) -> float:
        return float(np.asarray(self.values[f"{sheet.upper()}'!{cell}"]).ravel()[0])

    def line(self, label: str) -> np.ndarray:
        row = self._row("Ledger", label)
        sheet = self.cells["Ledger"]
        out = []
        for col in range(3, sheet.max_column + 1):
            letter = openpyxl.utils.get_column_letter(col)
            out.append(self.value("Ledger", f"{letter}{row}"))
        return np.array(out)


def _assert_same(workbook: Recomputed, valuation: Any, *, npv: bool = True) -> None:
    table = valuation.table()
    scale = float(np.abs(table.to_numpy()).max())
    for label in LINES:
        np.testing.assert_allclose(
            workbook.line(label), table[label].to_numpy(), rtol=0, atol=1e-8 * scale, err_msg=label
        )
    if npv:
        np.testing.assert_allclose(workbook.value("Summary", "B5"), valuation.npv_usd[0], rtol=1e-9, atol=1.0)
        np.testing.assert_allclose(
            workbook.value("Summary", "B7"), valuation.pre_tax_npv_usd[0], rtol=1e-9, atol=1.0
        )
    np.testing.assert_allclose(workbook.value("Summary", "B6"), valuation.irr[0], rtol=0, atol=1e-9)
    np.testing.assert_allclose(workbook.value("Summary", "B8"), valuation.pre_tax_irr[0], rtol=0, atol=1e-9)


def test_the_workbook_recomputes_dealcalcs_ledger_and_metrics(tmp_path: Path) -> None:
    workbook = Recomputed(excel_model(DEAL), tmp_path)
    _assert_same(workbook, dc.evaluate(DEAL))
    # the ledger is formulas, not values, and the inputs carry their provenance
    ledger = workbook.cells["Ledger"]
    row = workbook._row("Ledger", "After-tax cash flow [USD]")
    assert str(ledger.cell(row=row, column=3).value).startswith("=")
    inputs = workbook.cells["Inputs"]
    row = workbook._row("Inputs", "Royalty rate")
    assert inputs.cell(row=row, column=4).value == "fiscal.royalty_rate"
    assert "Balochistan" in str(inputs.cell(row=row, column=6).value)


def test_a_deal_from_its_mine_plan_recomputes_too(tmp_path: Path) -> None:
    # direct lines (an operating cost), an NSR royalty, capex and closure by year, a refinery fed
    # by two own concentrates and bought feed: every cash line of its ledger is recomputed
    deal = dc.load(Path(__file__).parents[1] / "examples" / "mine_plan" / "zinc_district.yaml")
    v = dc.evaluate(deal)
    workbook = Recomputed(excel_model(deal), tmp_path)
    table = v.table()
    scale = float(np.abs(table.to_numpy()).max())
    checked = []
    for label in [str(c) for c in table.columns if str(c).endswith("[USD]")]:
        try:
            got = workbook.line(label)
        except KeyError:
            continue  # a memo line the workbook does not show (the tariff memo)
        np.testing.assert_allclose(got, table[label].to_numpy(), rtol=0, atol=1e-8 * scale, err_msg=label)
        checked.append(label)
    for label in ("Royalty [USD]", "Purchased feed [USD]", "community_fund [USD]", "Closure [USD]"):
        assert label in checked
    assert "Income tax [USD]" in checked and "After-tax cash flow [USD]" in checked
    np.testing.assert_allclose(workbook.value("Summary", "B5"), v.npv_usd[0], rtol=1e-9, atol=1.0)
    np.testing.assert_allclose(workbook.value("Summary", "B6"), v.irr[0], rtol=0, atol=1e-9)
    assert workbook._row("Ledger", "community_fund [USD]") > 0


def test_changing_inputs_in_the_workbook_moves_npv_as_dealcalc_does(tmp_path: Path) -> None:
    changes = {
        "Price: antimony": 40000.0,
        "Capex: refinery": 350e6,
        "Operating cost: copper": 30.0,
        "Royalty rate": 0.07,
        "Income tax rate": 0.25,
        "Receivable days": 60.0,
        "Discount rate, as used (deal's basis)": 0.09,
    }
    workbook = Recomputed(excel_model(DEAL), tmp_path, changes)
    changed = with_changes(
        DEAL,
        {
            "price_decks.base.antimony": 40000.0,
            "phases.refinery.capex_usd": 350e6,
            "streams.copper.opex_usd_per_t_ore": 30.0,
            "fiscal.royalty_rate": 0.07,
            "fiscal.income_tax_rate": 0.25,
            "working_capital.receivable_days": 60.0,
        },
    )
    expected = dc.evaluate(changed)
    flows = expected.table()["After-tax cash flow [USD]"].to_numpy()
    v = DEAL.valuation
    at_9 = dc.npv(0.09, flows, timing=v.timing) * 1.09 ** v.valuation_offset()
    assert workbook.value("Summary", "B5") == pytest.approx(at_9, rel=1e-9, abs=1.0)
    assert workbook.value("Summary", "B6") == pytest.approx(expected.irr[0], abs=1e-9)
    _assert_same(workbook, expected, npv=False)


def test_losses_holiday_cap_and_floors(tmp_path: Path) -> None:
    # low prices give years of losses carried forward (and expiring), a holiday then a cap
    deal = with_changes(
        DEAL,
        {
            "fiscal.holiday_years": 2,
            "fiscal.income_tax_cap_after_holiday": 0.2,
            "fiscal.loss_carry_forward_years": 2,
        },
        scale={"price_decks.base.*": 0.55},
    )
    valuation = dc.evaluate(deal)
    assert valuation.table()["Losses carried forward [USD]"].max() > 0
    _assert_same(Recomputed(excel_model(deal), tmp_path), valuation)


def test_a_named_scenario_and_the_cli(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from dealcalc.cli import main

    out = tmp_path / "deal.xlsx"
    result = CliRunner().invoke(
        main, ["table", str(dc.example_path("ussm-fwo")), "--scenario", "tariff_19", "--xlsx", str(out)]
    )
    assert result.exit_code == 0, result.output
    _assert_same(Recomputed(out.read_bytes(), tmp_path), dc.evaluate(DEAL, "tariff_19"))


RECALC_ALWAYS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse">
<value>0</value></prop></item>
</oor:items>
"""


def test_libreoffice_recomputes_the_workbook_after_a_price_change(tmp_path: Path) -> None:
    """A real spreadsheet (LibreOffice Calc, headless) opens the workbook after an analyst changed
    the antimony price, recalculates it, and lands on dealcalc's NPV and IRR for that price."""
    import csv
    import os
    import shutil
    import subprocess

    office = shutil.which("soffice") or shutil.which("libreoffice")
    if office is None:
        if os.environ.get("DEALCALC_REQUIRE_LIBREOFFICE"):
            pytest.fail("LibreOffice is required here (DEALCALC_REQUIRE_LIBREOFFICE) but not installed")
        pytest.skip("LibreOffice is not installed (apt-get install libreoffice-calc-nogui)")
    book = openpyxl.load_workbook(io.BytesIO(excel_model(DEAL)))
    for row in book["Inputs"].iter_rows(min_col=1, max_col=2):
        if row[0].value == "Price: antimony":
            row[1].value = 40000.0
    changed = tmp_path / "changed.xlsx"
    book.save(changed)  # as an analyst's edit would: the old results are not kept
    profile = tmp_path / "profile"
    (profile / "user").mkdir(parents=True)
    (profile / "user" / "registrymodifications.xcu").write_text(RECALC_ALWAYS, encoding="utf-8")
    command = [
        office,
        f"-env:UserInstallation={profile.as_uri()}",
        "--headless",
        "--convert-to",
        "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,1",
        "--outdir",
        str(tmp_path / "out"),
        str(changed),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "out" / "changed-Summary.csv").read_text(encoding="utf-8")
    rows = list(csv.reader(text.splitlines()))
    found = {r[0]: r[1] for r in rows if len(r) > 1}
    expected = dc.evaluate(with_changes(DEAL, {"price_decks.base.antimony": 40000.0}))
    assert float(found["NPV, after tax"]) == pytest.approx(expected.npv_usd[0], rel=1e-9, abs=1.0)
    assert float(found["IRR, after tax"].rstrip("%")) / 100 == pytest.approx(expected.irr[0], abs=1e-9)
    assert float(found["NPV, after tax"]) != pytest.approx(dc.evaluate(DEAL).npv_usd[0], rel=1e-3)
