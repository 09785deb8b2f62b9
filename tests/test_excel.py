"""The Excel model recomputes dealcalc's numbers with live formulas.

Each workbook is recomputed by an independent formula engine (the ``formulas`` package, which
parses and evaluates the cells as a spreadsheet would); every ledger line, the tax memo lines,
NPV and IRR must agree with dealcalc. Changing an input cell must move the workbook's results
exactly as dealcalc moves with the same change. Regimes written as a stack of levies (the two
published studies, and stacks that use every feature of one) recompute their levies on the
Stack sheet.
"""

from __future__ import annotations

import copy
import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

import dealcalc as dc
from dealcalc.engine import resolve
from dealcalc.io import parse_deal
from dealcalc.models.finance import DebtTranche
from dealcalc.params import apply_scenario, get, with_changes
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
        self.model = formulas.ExcelModel().loads(str(path)).finish()
        self.values = self._solve(changes or {})

    def _solve(self, changes: dict[str, float]) -> dict[str, Any]:
        given = {}
        for label, value in changes.items():
            row = self._row("Inputs", label)
            given[f"'[model.xlsx]INPUTS'!B{row}"] = value
        solution = self.model.calculate(inputs=given)
        return {k.split("]", 1)[1].upper(): v.value for k, v in solution.items() if "]" in k}

    def changed(self, changes: dict[str, float]) -> Recomputed:
        """The same workbook recomputed after an analyst changed input cells (by label); it is
        loaded once, which is most of the formula engine's time."""
        other = copy.copy(self)
        other.values = self._solve(changes)
        return other

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
    # a deal without debt: the split is live too (the levered tax is the unlevered one)
    _assert_parties(workbook, dc.evaluate(deal, keep_ledger=True))


def test_changing_inputs_in_the_workbook_moves_npv_as_dealcalc_does(tmp_path: Path) -> None:
    changes = {
        "Price: antimony": 40000.0,
        "Capex: refinery": 350e6,
        "Operating cost: copper": 30.0,
        "Royalty rate": 0.07,
        "Income tax rate": 0.25,
        "Receivable days": 60.0,
        "Discount rate, as stated (nominal)": 0.09,
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
    real = 1.09 / (1 + v.inflation_rate) - 1  # the sheet converts the stated nominal rate (Fisher)
    at_9 = dc.npv(real, flows, timing=v.timing) * (1 + real) ** v.valuation_offset()
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


def _assert_parties(workbook: Recomputed, valuation: Any) -> None:
    """Every party's cash row and NPV as the workbook recomputes them equal dealcalc's, and the
    parties' cash adds up to the cash before state take (the check row is nil)."""
    table = valuation.party_table()
    scale = float(np.abs(table["Cash before state take [USD]"].to_numpy()).max())
    n = table.shape[0]
    parties = workbook.cells["Parties"]

    def row(label: str) -> np.ndarray:
        r = workbook._row("Parties", label)
        return np.array(
            [workbook.value("Parties", f"{openpyxl.utils.get_column_letter(3 + t)}{r}") for t in range(n)]
        )

    for party in valuation.deal.party_names():
        label = f"{party} [USD]"
        assert str(parties.cell(row=workbook._row("Parties", label), column=3).value).startswith("=")
        np.testing.assert_allclose(
            row(label), table[label].to_numpy(), rtol=0, atol=1e-9 * scale, err_msg=label
        )
        npv = workbook.value("Summary", f"B{workbook._row('Summary', f'NPV, {party}')}")
        assert npv == pytest.approx(valuation.values[f"{party}.npv_usd"][0], rel=1e-9, abs=1e-3), party
    np.testing.assert_allclose(
        row("Check: parties' cash less cash before state take (0)"), 0.0, atol=1e-9 * scale
    )


DEBT = [
    "Debt drawn [USD]",
    "Interest paid [USD]",
    "Interest capitalised [USD]",
    "Principal repaid [USD]",
    "Debt fees [USD]",
    "Debt balance [USD]",
]


def _assert_debt(workbook: Recomputed, valuation: Any) -> None:
    """The debt lines as the workbook recomputes them (formulas, not values) equal dealcalc's to
    1e-9 relative."""
    table = valuation.party_table()
    scale = float(np.abs(table["Debt balance [USD]"].to_numpy()).max())
    ledger = workbook.cells["Ledger"]
    for label in [*DEBT, "Interest, fees and amortised capitalised interest, deducted [USD]"]:
        row = workbook._row("Ledger", label)
        assert all(
            str(ledger.cell(row=row, column=3 + t).value).startswith("=") for t in range(table.shape[0])
        )
        if label in table:
            np.testing.assert_allclose(
                workbook.line(label), table[label].to_numpy(), rtol=1e-9, atol=1e-12 * scale, err_msg=label
            )


def test_every_partys_cash_and_npv_recompute_after_changes(tmp_path: Path) -> None:
    """The levered tax (interest deducted), withholding, the owners' split, the lenders and each
    government's take are formulas: after a grade, a tax rate, the withholding rate and an
    owner's discount rate changed, every party's cash and NPV are dealcalc's for that deal. The
    debt schedule is formulas too: after the refinery's capex, its loan's interest rate and fee
    and the other loan's share of capex changed, the drawdowns, capitalised and paid interest,
    repayments, fees and balance, the levered tax and every party's cash and NPV are dealcalc's."""
    workbook = Recomputed(excel_model(DEAL), tmp_path)
    base = dc.evaluate(DEAL, keep_ledger=True)
    _assert_parties(workbook, base)
    _assert_debt(workbook, base)
    cells = {
        "Grade: copper": 0.009,
        "Income tax rate": 0.25,
        "Dividend withholding rate": 0.1,
        "Discount rate of ussm, as stated (nominal)": 0.2,
    }
    paths = {
        "streams.copper.grade": 0.009,
        "fiscal.income_tax_rate": 0.25,
        "finance.dividend_withholding_rate": 0.1,
        "finance.equity.ussm.discount_rate": 0.2,
    }
    _assert_parties(workbook.changed(cells), dc.evaluate(with_changes(DEAL, paths), keep_ledger=True))
    cells = {
        "Capex: refinery": 360e6,
        "Loan eca_refinery: interest rate (nominal)": 0.11,
        "Loan eca_refinery: upfront fee": 0.02,
        "Loan dfi_concentrators: share of capex": 0.6,
    }
    paths = {
        "phases.refinery.capex_usd": 360e6,
        "finance.debt.eca_refinery.interest_rate": 0.11,
        "finance.debt.eca_refinery.upfront_fee": 0.02,
        "finance.debt.dfi_concentrators.share_of_capex": 0.6,
    }
    changed, expected = workbook.changed(cells), dc.evaluate(with_changes(DEAL, paths), keep_ledger=True)
    _assert_debt(changed, expected)
    _assert_parties(changed, expected)
    _assert_same(changed, expected)
    for label in DEBT:  # the change moved every line of the schedule
        assert not np.allclose(changed.line(label), base.party_table()[label].to_numpy()), label


def test_untaxed_dividends_and_a_tax_holiday_split_as_dealcalc_does(tmp_path: Path) -> None:
    # a holiday leaves the levered tax nil in years that pay dividends: the untaxed withholding;
    # and the other repayment rules: a linear loan with grace whose tenor runs past the horizon
    # (the last year clears it), a loan at a real rate (Fisher with the inflation cell)
    changes = {
        "fiscal.holiday_years": 3,
        "fiscal.minimum_tax_rate": 0.0,
        "fiscal.alternative_tax_rate": 0.0,
        "finance.debt.eca_refinery.repayment": "linear",
        "finance.debt.eca_refinery.grace_years": 2,
        "finance.debt.eca_refinery.tenor_years": 15,
        "finance.debt.dfi_concentrators.interest_rate_basis": "real",
        "finance.debt.dfi_concentrators.interest_rate": 0.05,
    }
    deal = with_changes(DEAL, changes)
    valuation = dc.evaluate(deal, keep_ledger=True)
    table = valuation.party_table()
    untaxed = (table["Dividends before withholding [USD]"] > 0) & (table["Income tax, levered [USD]"] == 0)
    assert untaxed.any()
    workbook = Recomputed(excel_model(deal), tmp_path)
    _assert_parties(workbook, valuation)
    _assert_debt(workbook, valuation)
    balance = table["Debt balance [USD]"].to_numpy()  # the horizon's last year clears the balance
    assert balance[-2] > 0 and balance[-1] == pytest.approx(0.0, abs=1e-6)
    changed = workbook.changed(
        {"Loan dfi_concentrators: interest rate (real)": 0.04, "Capex: concentrators": 2e8}
    )
    paths = {"finance.debt.dfi_concentrators.interest_rate": 0.04, "phases.concentrators.capex_usd": 2e8}
    _assert_debt(changed, dc.evaluate(with_changes(deal, paths), keep_ledger=True))


def test_a_loan_sized_on_a_cover_ratio_keeps_the_split_as_values() -> None:
    book = openpyxl.load_workbook(io.BytesIO(excel_model(DEAL, "refinery_debt_sculpted")))
    sheet = book["Parties"]
    assert "cover ratio" in str(sheet.cell(row=2, column=1).value)
    assert not any(str(c.value).startswith("=") for r in sheet.iter_rows() for c in r if c.value is not None)
    summary = [str(c.value) for r in book["Summary"].iter_rows() for c in r if c.value is not None]
    assert not any(f"NPV, {party}" in summary for party in DEAL.party_names())
    assert any("cover ratio" in text for text in summary)


def test_debt_terms_the_workbook_does_not_write_keep_the_split_as_values() -> None:
    # a term of a loan beyond those the workbook writes (here a reserve account, as a newer
    # engine may have) sends the debt and the split to values, with the term named on the sheet
    class WithReserve(DebtTranche):
        reserve_months: int = 0

    loan = WithReserve(**DEAL.finance.debt["eca_refinery"].model_dump(), reserve_months=6)
    debt = dict(DEAL.finance.debt, eca_refinery=loan)
    deal = DEAL.model_copy(update={"finance": DEAL.finance.model_copy(update={"debt": debt})})
    book = openpyxl.load_workbook(io.BytesIO(excel_model(deal)))
    sheet = book["Parties"]
    assert "finance.debt.eca_refinery.reserve_months" in str(sheet.cell(row=2, column=1).value)
    assert not any(str(c.value).startswith("=") for r in sheet.iter_rows() for c in r if c.value is not None)
    assert not any(str(c.value).startswith("Loan ") for r in book["Ledger"].iter_rows() for c in r)
    summary = [str(c.value) for r in book["Summary"].iter_rows() for c in r if c.value is not None]
    assert any("reserve_months" in text for text in summary)


def _libreoffice_summary(book: bytes, cells: dict[str, float], tmp: Path) -> dict[str, str]:
    """The Summary sheet as LibreOffice Calc (headless, set to recalculate on load) shows it,
    after an analyst changed input cells (by label) and saved the workbook."""
    import csv
    import os
    import shutil
    import subprocess

    office = shutil.which("soffice") or shutil.which("libreoffice")
    if office is None:
        if os.environ.get("DEALCALC_REQUIRE_LIBREOFFICE"):
            pytest.fail("LibreOffice is required here (DEALCALC_REQUIRE_LIBREOFFICE) but not installed")
        pytest.skip("LibreOffice is not installed (apt-get install libreoffice-calc-nogui)")
    workbook = openpyxl.load_workbook(io.BytesIO(book))
    for row in workbook["Inputs"].iter_rows(min_col=1, max_col=2):
        if row[0].value in cells:
            row[1].value = cells[row[0].value]
    changed = tmp / "changed.xlsx"
    workbook.save(changed)  # as an analyst's edit would: the old results are not kept
    profile = tmp / "profile"
    (profile / "user").mkdir(parents=True)
    (profile / "user" / "registrymodifications.xcu").write_text(RECALC_ALWAYS, encoding="utf-8")
    command = [
        office,
        f"-env:UserInstallation={profile.as_uri()}",
        "--headless",
        "--convert-to",
        "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,1",
        "--outdir",
        str(tmp / "out"),
        str(changed),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr
    text = (tmp / "out" / "changed-Summary.csv").read_text(encoding="utf-8")
    return {r[0]: r[1] for r in csv.reader(text.splitlines()) if len(r) > 1}


def test_libreoffice_recomputes_the_workbook_after_a_price_change(tmp_path: Path) -> None:
    """A real spreadsheet (LibreOffice Calc, headless) opens the workbook after an analyst changed
    the antimony price, recalculates it, and lands on dealcalc's NPV and IRR for that price."""
    found = _libreoffice_summary(excel_model(DEAL), {"Price: antimony": 40000.0}, tmp_path)
    expected = dc.evaluate(with_changes(DEAL, {"price_decks.base.antimony": 40000.0}))
    assert float(found["NPV, after tax"]) == pytest.approx(expected.npv_usd[0], rel=1e-9, abs=1.0)
    assert float(found["IRR, after tax"].rstrip("%")) / 100 == pytest.approx(expected.irr[0], abs=1e-9)
    assert float(found["NPV, after tax"]) != pytest.approx(dc.evaluate(DEAL).npv_usd[0], rel=1e-3)


def test_libreoffice_recomputes_after_grade_recovery_tariff_and_royalty_changes(tmp_path: Path) -> None:
    """The physical, trade, fiscal and debt drivers are live: LibreOffice recalculates the
    workbook after a grade, a recovery, a tariff rate, a royalty rate, the refinery's capex and
    its loan's interest rate changed (one run) and lands on dealcalc's NPV and IRR, and every
    party's NPV, of the same changed deal."""
    deal = apply_scenario(DEAL, "tariff_19")
    cells = {
        "Grade: copper": 0.009,
        "Recovery: antimony_concentrate": 0.8,
        "Tariff reciprocal_19 from 2025-08-07": 0.25,
        "Royalty rate": 0.07,
        "Capex: refinery": 360e6,
        "Loan eca_refinery: interest rate (nominal)": 0.11,
    }
    paths = {
        "streams.copper.grade": 0.009,
        "streams.antimony_concentrate.recovery": 0.8,
        "trade.schedules.reciprocal_19.ad_valorem.2025-08-07": 0.25,
        "fiscal.royalty_rate": 0.07,
        "phases.refinery.capex_usd": 360e6,
        "finance.debt.eca_refinery.interest_rate": 0.11,
    }
    expected = dc.evaluate(with_changes(deal, paths))
    found = _libreoffice_summary(excel_model(DEAL, "tariff_19"), cells, tmp_path)
    assert float(found["NPV, after tax"]) == pytest.approx(expected.npv_usd[0], rel=1e-9, abs=1.0)
    assert float(found["IRR, after tax"].rstrip("%")) / 100 == pytest.approx(expected.irr[0], abs=1e-9)
    assert float(found["NPV, pre-tax"]) == pytest.approx(expected.pre_tax_npv_usd[0], rel=1e-9, abs=1.0)
    assert float(found["NPV, after tax"]) != pytest.approx(dc.evaluate(deal).npv_usd[0], rel=1e-3)
    # every party's NPV recomputes too: the debt, levered tax, withholding, the owners' split,
    # the lenders, each government
    base = dc.evaluate(deal)
    for party in deal.party_names():
        got = float(found[f"NPV, {party}"])
        assert got == pytest.approx(expected.values[f"{party}.npv_usd"][0], rel=1e-9, abs=1e-3), party
        assert got != pytest.approx(base.values[f"{party}.npv_usd"][0], rel=1e-6), party


def test_cached_values_read_correctly_without_recalculation() -> None:
    """A viewer that does not recalculate shows dealcalc's numbers: every formula cell of the
    ledger, the Streams sheet's revenue and the metrics carry dealcalc's values as results."""
    valuation = dc.evaluate(DEAL, keep_ledger=True)
    written = excel_model(DEAL)
    book = openpyxl.load_workbook(io.BytesIO(written), data_only=True)
    formulas_of = openpyxl.load_workbook(io.BytesIO(written))
    sheet = book["Ledger"]
    table = valuation.table()
    scale = float(np.abs(table.to_numpy()).max())
    rows = {sheet.cell(row=r, column=1).value: r for r in range(1, sheet.max_row + 1)}
    for label in [*LINES, "Income tax paid, money of the day [USD]"]:
        got = np.array([sheet.cell(row=rows[label], column=c).value for c in range(3, 3 + table.shape[0])])
        if label in table:
            np.testing.assert_allclose(got, table[label].to_numpy(), rtol=0, atol=1e-6 * scale, err_msg=label)
    tax = [
        sheet.cell(row=rows["Income tax paid, money of the day [USD]"], column=c).value for c in range(3, 20)
    ]
    assert max(tax) > 0  # not cached zeros
    summary = book["Summary"]
    assert summary["B5"].value == pytest.approx(valuation.npv_usd[0], rel=1e-12)
    # the debt schedule, the levered tax and each party's cash and NPV are cached as dealcalc's
    parties = valuation.party_table()
    for label in DEBT:
        got = np.array([sheet.cell(row=rows[label], column=c).value for c in range(3, 3 + table.shape[0])])
        assert str(formulas_of["Ledger"].cell(row=rows[label], column=3).value).startswith("=")
        np.testing.assert_allclose(got, parties[label].to_numpy(), rtol=1e-12, atol=1e-6, err_msg=label)
    cash = book["Parties"]
    found = {cash.cell(row=r, column=1).value: r for r in range(1, cash.max_row + 1)}
    for party in DEAL.party_names():
        label = f"{party} [USD]"
        got = np.array([cash.cell(row=found[label], column=c).value for c in range(3, 3 + table.shape[0])])
        np.testing.assert_allclose(got, parties[label].to_numpy(), rtol=1e-12, atol=1e-6, err_msg=label)
        at = {summary.cell(row=r, column=1).value: r for r in range(1, summary.max_row + 1)}[f"NPV, {party}"]
        assert summary.cell(row=at, column=2).value == pytest.approx(valuation.values[f"{party}.npv_usd"][0])
    streams = book["Streams"]
    found = {streams.cell(row=r, column=1).value: r for r in range(1, streams.max_row + 1)}
    got = [streams.cell(row=found["copper: revenue"], column=c).value for c in range(3, 20)]
    np.testing.assert_allclose(got, table["Revenue: copper [USD]"].to_numpy(), rtol=1e-12)
    run = book["Run"]
    assert any(str(c.value) == "base case" for row in run.iter_rows() for c in row)
    for name in book.sheetnames:
        assert book[name].freeze_panes is not None, name
    changed = with_changes(DEAL, {"streams.copper.grade": 0.009})
    run = openpyxl.load_workbook(io.BytesIO(excel_model(changed)), data_only=True)["Run"]
    labels = [str(c.value) for row in run.iter_rows() for c in row]
    assert "base case" not in labels and any("streams.copper.grade" in x for x in labels)


# ------------------------------------------------------------------- regimes written as stacks
PUBLISHED = Path(__file__).parents[1] / "examples" / "published"
#: Memo lines of dealcalc's ledger that the workbook does not show (the tariff's incidence).
NOT_SHOWN = ("Tariff borne by buyers", "Duty collected by")


def _assert_every_line(workbook: Recomputed, valuation: Any) -> list[str]:
    """Every line of dealcalc's ledger but the tariff memo lines (each cash line, each levy line,
    the allowances, each levy's base and losses carried) is in the workbook and agrees, and so
    do NPV and IRR; returns the lines checked."""
    table = valuation.table()
    scale = float(np.abs(table.to_numpy()).max())
    checked = []
    for label in map(str, table.columns):
        if label.startswith(NOT_SHOWN):
            continue
        got = workbook.line(label)
        np.testing.assert_allclose(got, table[label].to_numpy(), rtol=0, atol=1e-8 * scale, err_msg=label)
        checked.append(label)
    np.testing.assert_allclose(workbook.value("Summary", "B5"), valuation.npv_usd[0], rtol=1e-9, atol=1.0)
    np.testing.assert_allclose(workbook.value("Summary", "B6"), valuation.irr[0], rtol=0, atol=1e-9)
    np.testing.assert_allclose(
        workbook.value("Summary", "B7"), valuation.pre_tax_npv_usd[0], rtol=1e-9, atol=1.0
    )
    return checked


def _levy_lines_are_formulas(workbook: Recomputed, deal: dc.Deal) -> None:
    sheet = workbook.cells["Ledger"]
    for levy in resolve(deal, {}, 1).fiscal.levies:
        row = workbook._row("Ledger", f"{levy.label} [USD]")
        for column in range(3, sheet.max_column + 1):
            assert str(sheet.cell(row=row, column=column).value).startswith("="), levy.label


def _casino_changes(deal: dc.Deal) -> tuple[dict[str, float], dict[str, Any]]:
    """Copper low enough for losses carried forward (20-year vintages), the income-tax and NSR
    rates, and the top rate of the Yukon royalty's ladder."""
    ladder = get(deal, "fiscal.levies.yukon_mining_royalty.brackets")
    ladder[9]["rate"] = 0.14
    cells = {
        "Price: copper": 2.5,
        "income_tax: rate": 0.30,
        "nsr_royalty: rate": 0.03,
        "yukon_mining_royalty: bracket 9 rate": 0.14,
    }
    paths = {
        "price_decks.base.copper": 2.5,
        "fiscal.levies.income_tax.rate": 0.30,
        "fiscal.levies.nsr_royalty.rate": 0.03,
        "fiscal.levies.yukon_mining_royalty.brackets": ladder,
    }
    return cells, paths


def _arctic_changes(deal: dc.Deal) -> tuple[dict[str, float], dict[str, Any]]:
    """Copper low enough for losses carried without limit (at most 80 % of income), the federal
    rate, a depletion rate and the Alaska corporate tax's cap on losses."""
    cells = {
        "Price: copper": 2.2,
        "us_federal_income_tax: rate": 0.25,
        "Depletion rate zinc": 0.10,
        "alaska_income_tax: losses offset at most": 0.6,
    }
    paths = {
        "price_decks.base.copper": 2.2,
        "fiscal.levies.us_federal_income_tax.rate": 0.25,
        "fiscal.depletion.percentage.zinc": 0.10,
        "fiscal.levies.alaska_income_tax.losses.cap_fraction": 0.6,
    }
    return cells, paths


@pytest.mark.parametrize(
    ("study", "changes"),
    [("casino_2022.yaml", _casino_changes), ("arctic_2023.yaml", _arctic_changes)],
    ids=["casino", "arctic"],
)
def test_a_published_study_recomputes_its_levy_stack_and_follows_its_inputs(
    tmp_path: Path, study: str, changes: Any
) -> None:
    # Casino: an NSR royalty, the Yukon ladder on its own allowances' book, income tax with a
    # pool limited to income, losses for 20 years and closure refunded; Arctic: the licence tax
    # with its own depletion and a 3.5-year holiday, Alaska brackets and the federal tax with
    # depletion and losses capped at 80 %, both Alaska taxes deductible federally, MACRS
    deal = dc.load(PUBLISHED / study)
    workbook = Recomputed(excel_model(deal), tmp_path)
    checked = _assert_every_line(workbook, dc.evaluate(deal))
    assert {f"Base of {name} [USD]" for name in deal.fiscal.levies or {}} <= set(checked)
    _levy_lines_are_formulas(workbook, deal)
    cells, paths = changes(deal)
    expected = dc.evaluate(with_changes(deal, paths))
    assert max(expected.table().filter(like="Losses carried").max()) > 0  # the losses bite
    assert expected.npv_usd[0] != pytest.approx(dc.evaluate(deal).npv_usd[0], rel=1e-3)
    _assert_every_line(workbook.changed(cells), expected)


BUNDLED = (Path(__file__).parents[1] / "examples" / "ussm_fwo_2025.yaml").read_text(encoding="utf-8")


def _with_fiscal(fiscal: dict[str, Any]) -> dc.Deal:
    """The bundled deal (real terms at 2.5 % inflation: taxes in money of the day) under a stack."""
    data = yaml.safe_load(BUNDLED)
    data["fiscal"] = fiscal
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    return parse_deal(text, folder=Path(__file__).parents[1] / "examples")


INCOME = "ebitda + salvage - allowances - closure - royalties"
STACKS: dict[str, dict[str, Any]] = {
    # a slab, losses kept 6 years, and a floor (minimum tax or ACT) topping up the income tax
    # with its credit: the simple regime written as a stack
    "pakistan": {
        "levies": {
            "royalty": {"base": "mine_value", "rate": 0.05, "line": "royalty", "label": "Royalty"},
            "income_tax": {
                "base": INCOME,
                "brackets": [{"above": 0, "rate": 0.29}, {"above": 1.78e6, "rate": 0.39}],
                "slab": True,
                "losses": {"carry_forward_years": 6},
                "label": "Income tax",
            },
            "minimum_tax": {
                "alternatives": [{"base": "turnover", "rate": 0.0125}, {"base": INCOME, "rate": 0.17}],
                "tops_up": ["income_tax"],
                "label": "Income tax",
            },
        },
        "depreciation_years": 10,
    },
    # levies sharing a label, chains of deductible levies, a duty credited against the income
    # tax, losses kept longer than the life (one pool), a private levy
    "mexico": {
        "preset": "mexico_2025",
        "levies": {
            "special_mining_duty": {"deductible_from": ["profit_sharing"], "credit_against": ["income_tax"]},
            "income_tax": {"losses": {"carry_forward_years": 30}},
        },
    },
    # sliding scales (a price stepping, the margin interpolated, cumulative revenue), arrears and
    # instalments, a credit carried through a holiday, a rate by year, the cap after the holiday,
    # a declining-balance pool limited to income whose rest is lost, percentage and cost
    # depletion, a reclamation reserve, losses without limit capped at 70 %, refunds at the
    # rate, losses carried back 2 years and forward 3, a second book, bonus and sum of years
    "features": {
        "levies": {
            "price_royalty": {
                "base": "revenue:copper",
                "scale": {"variable": "price:copper", "points": [[5000, 0.02], [9000, 0.04], [12000, 0.06]]},
                "line": "royalty",
                "timing": "arrears",
            },
            "margin_royalty": {
                "base": "mine_nsr",
                "scale": {
                    "variable": "margin",
                    "points": [[0.0, 0.01], [0.5, 0.05], [0.9, 0.08]],
                    "interpolate": "linear",
                },
                "line": "royalty",
                "label": "Royalty",
            },
            "windfall": {
                "base": "revenue",
                "scale": {"variable": "cumulative_revenue", "points": [[1.0e9, 0.005], [5.0e9, 0.01]]},
                "timing": [0.5, 0.3, 0.2],
                "line": "royalty",
                "label": "Royalty",
            },
            "resource_levy": {"base": "revenue", "rate": 0.01, "credit_against": ["income_tax"]},
            "surtax": {
                "base": "ebitda - allowances:other - initial_capex",
                "rate": 0.05,
                "losses": {"refund": True},
            },
            "income_tax": {
                "base": INCOME + " - depletion - closure_accrued + closure",
                "rate": {2026: 0.25, 2033: 0.3},
                "holiday": {"years": 2.5, "cap_after": 0.2},
                "losses": {"carry_forward_years": None, "cap_fraction": 0.7},
                "depletion": {"percentage": {"copper": 0.1}, "limit_fraction": 0.4, "cost_basis_usd": 5.0e8},
            },
            "dividend_tax": {
                "base": "0.1*ebitda - income_tax",
                "rate": 0.1,
                "losses": {"carry_forward_years": 3, "carry_back_years": 2},
            },
        },
        "capital_classes": {
            "pool": {
                "method": "declining_balance",
                "rate": 0.3,
                "limited_to_income": True,
                "takes": ["initial"],
                "end": "lost",
            },
            "sustaining": {
                "method": "sum_of_years",
                "years": 5,
                "takes": ["sustaining"],
                "bonus_fraction": 0.2,
            },
            "other_book": {
                "method": "straight_line",
                "years": 8,
                "half_year": True,
                "takes": ["initial", "sustaining"],
                "book": "other",
            },
        },
    },
}


@pytest.mark.parametrize("stack", list(STACKS))
def test_every_feature_of_a_levy_stack_recomputes(tmp_path: Path, stack: str) -> None:
    deal = _with_fiscal(STACKS[stack])
    valuation = dc.evaluate(deal)
    workbook = Recomputed(excel_model(deal), tmp_path)
    _assert_every_line(workbook, valuation)
    table = valuation.table()
    if stack == "features":  # each feature bites
        assert (table["Surtax [USD]"] > 0).any()  # refunded at the rate
        assert (table["Dividend tax [USD]"] > 0).any()  # refunded by a loss carried back
        assert table["Losses carried: dividend_tax [USD]"].max() > 0  # and forward
        assert table["Losses carried: income_tax [USD]"].max() > 0
        assert table["Allowances: pool [USD]"].sum() < table["Initial capex [USD]"].abs().sum()  # lost
        # copper across the price scale's points, the income-tax rates and the cap: the
        # workbook moves as dealcalc does
        cells = {"Price: copper": 12500.0, "income_tax: cap after the holiday": 0.1}
        paths = {"price_decks.base.copper": 12500.0, "fiscal.levies.income_tax.holiday.cap_after": 0.1}
        _assert_every_line(workbook.changed(cells), dc.evaluate(with_changes(deal, paths)))


def test_libreoffice_recomputes_a_published_stack_after_changes(tmp_path: Path) -> None:
    """LibreOffice Calc recomputes the Arctic workbook's levy stack after an analyst changed the
    copper price and the federal rate, to dealcalc's NPV and IRR for them."""
    deal = dc.load(PUBLISHED / "arctic_2023.yaml")
    cells, paths = _arctic_changes(deal)
    found = _libreoffice_summary(excel_model(deal), cells, tmp_path)
    expected = dc.evaluate(with_changes(deal, paths))
    assert float(found["NPV, after tax"]) == pytest.approx(expected.npv_usd[0], rel=1e-9, abs=1.0)
    assert float(found["IRR, after tax"].rstrip("%")) / 100 == pytest.approx(expected.irr[0], abs=1e-9)


def test_a_workbook_of_a_case_where_a_stream_closes_is_refused_not_written_wrong() -> None:
    """The Streams sheet does not write temporary closures: a case in which one binds is refused
    with a way out; a rule that never binds writes the workbook as before."""
    from dealcalc.params import apply_scenario, with_changes

    rule = apply_scenario(DEAL, "copper_care_and_maintenance")
    assert excel_model(rule)[:2] == b"PK"
    binding = with_changes(rule, {"streams.copper.temporary_closure.close_below_margin_usd": 3e7})
    with pytest.raises(dc.InputError, match="closes temporarily"):
        excel_model(binding)


def test_a_workbook_of_a_case_with_an_offtake_contract_is_refused_not_written_wrong() -> None:
    with pytest.raises(dc.InputError, match="offtake"):
        excel_model(DEAL, "us_ndpr_floor_contract")


def test_a_workbook_of_a_case_with_a_metal_stream_is_refused_not_written_wrong() -> None:
    with pytest.raises(dc.InputError, match="sold for cash"):
        excel_model(DEAL, "gold_stream")


def test_a_workbook_of_shares_that_change_by_year_keeps_the_split_as_values() -> None:
    """Shares by year are not followed by the split's formulas: the Parties sheet keeps
    dealcalc's values and says why (it used to fail on the share)."""
    from dealcalc.params import with_changes

    shares = {
        "finance.equity.ussm.share": {2026: 0.5, 2030: 0.6},
        "finance.equity.fwo.share": {2026: 0.5, 2030: 0.4},
    }
    book = excel_model(with_changes(DEAL, shares))
    openpyxl = pytest.importorskip("openpyxl")
    import io

    sheet = openpyxl.load_workbook(io.BytesIO(book))["Parties"]
    text = " ".join(str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None)
    assert "share changes by period" in text
