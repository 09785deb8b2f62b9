"""The Excel model (extra ``excel``: xlsxwriter): the project ledger with live formulas.

The workbook recomputes the unlevered project ledger, every levy and the NPV and IRR from an
**Inputs** sheet, so an analyst who changes a price, a capex, an operating cost, a fiscal rate,
a working-capital day count or the discount rate sees NPV and IRR move in the spreadsheet. How
each line is written (methodology §22):

* Lines that are affine in the live inputs (revenue, selling charges, tariff borne, royalty
  base, operating costs, capex, depreciation) are ``base + Σ coefficient × input``. dealcalc
  finds the base and the coefficients from one engine pass over K + 1 basis scenarios (every
  live input at its value, then each one a small step away), which is exact for an affine line
  and copies none of the engine's formulas: a line is ``base + Σ coefficient × (input - its
  value)``. The coefficients sit on the **Drivers** sheet.
* The simple regime's royalty, working capital, the tax (losses carried forward oldest first
  with expiry on the **Losses** sheet, super tax, minimum tax and ACT floors with their credit,
  holidays and the cap after them) and the metrics are spreadsheet formulas on those lines.
* A regime written as a stack of levies gets a **Stack** sheet instead: every levy in order as
  formulas (bases, pools limited to income, depletion, losses forward and back, brackets, slabs
  and sliding scales, holidays, credits, floors, timing), from quantities and allowances that are
  affine lines of the Drivers sheet (``report/excel_stack.py``).

A **Check** column on the Summary sheet holds dealcalc's own numbers, so a reader sees at once
that the spreadsheet agrees; ``tests/test_excel.py`` recomputes the workbook with a formula
engine and checks every line.

The parties' split (the **Parties** sheet) is formulas for the simple regime with loans of a
given share of capex and a given repayment profile: each loan's schedule (drawn as its share of
its phases' capex, interest capitalised while drawing, grace, annuity or linear repayment, the
upfront fee, the balance) from its input cells (Ledger, money of the day), the tax again with
interest, fees and amortised capitalised interest deducted (Ledger), free cash to equity,
dividends and injections, withholding (the untaxed rate where the levered tax is nil), each
owner's, the lenders' and each government's cash, and each party's NPV at its own rate
(Summary). A loan sized on a cover ratio or sculpted, a debt term the workbook does not write
(a reserve account, a sweep, ...), an expropriation or a levy stack keeps the debt and the split
as values, with the reason on the sheet. Monte Carlo is not in the workbook.
"""

from __future__ import annotations

import importlib.util
import io
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from dealcalc.analyses.evaluate import Valuation, evaluate
from dealcalc.analyses.provenance import RunInfo, run_info
from dealcalc.engine import build_ledger, resolve
from dealcalc.engine import lines as reg
from dealcalc.engine.financing import debt_flows, repayment_profile
from dealcalc.engine.fiscal import straight_line
from dealcalc.errors import InputError, MissingExtraError
from dealcalc.models import Deal
from dealcalc.params import Scenarios, apply_scenario
from dealcalc.report.excel_live import Grid, X, const, xmax, xsum
from dealcalc.report.excel_stack import (
    Affine,
    LiveInput,
    Rows,
    StackPlan,
    cell,
    excel_name,
    limited_as_immediate,
    loss_vintages,
    plan_stack,
    write_stack,
)
from dealcalc.report.excel_streams import InputRegistry, StreamsOut, write_streams

__all__ = ["excel_model", "ledger_workbook"]

#: Cash lines the workbook computes with its own formulas; every other cash line of the ledger
#: is affine in the live inputs (base + coefficients x inputs, found by basis runs).
FORMULA_LINES = (reg.ROYALTY, reg.WORKING_CAPITAL, reg.INCOME_TAX)
ROYALTY_BASE = "Royalty base (value owing royalty) [USD]"


@dataclass(frozen=True)
class _Groups:
    """The ledger's cash lines by group, as the workbook lays them out (registered names)."""

    revenue: list[str]
    selling: list[str]
    operating: list[str]
    capital: list[str]  # initial and sustaining capital, closure, salvage
    working_capital: list[str]  # lines of working capital given directly
    closure: list[str]  # closure lines, deducted from taxable profit when spent
    salvage: list[str]  # salvage lines, taxed when received

    @property
    def affine(self) -> list[str]:
        return self.revenue + self.selling + self.operating + self.capital + self.working_capital


def _groups(deal: Deal, ledger_lines: tuple[reg.Line, ...]) -> _Groups:
    def names(group: reg.Group) -> list[str]:
        return [line.name for line in ledger_lines if line.group is group and line not in FORMULA_LINES]

    closure = [reg.CLOSURE.name] + [
        reg.direct(name, line.label or name, line.kind).name
        for name, line in deal.lines.items()
        if line.kind == "closure"
    ]
    salvage = [
        reg.direct(name, line.label or name, line.kind).name
        for name, line in deal.lines.items()
        if line.kind == "salvage"
    ]
    return _Groups(
        revenue=names(reg.Group.REVENUE),
        selling=names(reg.Group.SELLING),
        operating=names(reg.Group.OPERATING),
        capital=names(reg.Group.CAPITAL),
        working_capital=names(reg.Group.WORKING_CAPITAL),
        closure=closure,
        salvage=salvage,
    )


DEPRECIATION = reg.DEPRECIATION.name


def _require_xlsxwriter() -> None:
    if importlib.util.find_spec("xlsxwriter") is None:
        raise MissingExtraError("xlsxwriter", "excel")


def _live_inputs(deal: Deal) -> tuple[list[LiveInput], list[LiveInput]]:
    """(affine inputs found by basis runs, rates used in formulas) of the valued deal."""
    affine: list[LiveInput] = []  # prices, grades, ... are the Streams sheet's inputs
    for name, phase in deal.phases.items():
        if phase.gate.go and isinstance(phase.capex_usd, int | float):
            affine.append(
                LiveInput(
                    f"phases.{name}.capex_usd",
                    f"Capex: {name}",
                    "USD",
                    float(phase.capex_usd),
                    excel_name("capex", name),
                )
            )
    f, wc = deal.fiscal, deal.working_capital
    cap = f.income_tax_cap_after_holiday
    fiscal: list[tuple[str, str, str, object, str]] = [
        ("fiscal.royalty_rate", "Royalty rate", "fraction", f.royalty_rate, "royalty_rate"),
        ("fiscal.income_tax_rate", "Income tax rate", "fraction", f.income_tax_rate, "tax_rate"),
        ("fiscal.super_tax_rate", "Super tax rate", "fraction", f.super_tax_rate, "super_rate"),
        (
            "fiscal.super_tax_threshold_usd",
            "Super tax threshold",
            "USD",
            f.super_tax_threshold_usd,
            "super_threshold",
        ),
        ("fiscal.minimum_tax_rate", "Minimum tax on turnover", "fraction", f.minimum_tax_rate, "min_rate"),
        (
            "fiscal.alternative_tax_rate",
            "Alternative corporate tax",
            "fraction",
            f.alternative_tax_rate,
            "act_rate",
        ),
        (
            "fiscal.income_tax_cap_after_holiday",
            "Tax cap after the holiday",
            "fraction",
            1.0 if cap is None else cap,
            "tax_cap",
        ),
    ]
    named = (fiscal if not f.uses_stack else []) + [
        ("working_capital.receivable_days", "Receivable days", "days", wc.receivable_days, "receivable_days"),
        ("working_capital.inventory_days", "Inventory days", "days", wc.inventory_days, "inventory_days"),
        ("working_capital.payable_days", "Payable days", "days", wc.payable_days, "payable_days"),
    ]
    rates = []
    for path, label, measure, value, fixed_name in named:
        if not isinstance(value, int | float):
            raise InputError(
                "the Excel model takes one number here; a schedule of it is not a live input yet",
                field=path,
                hint="write the ledger as values with --csv, or give one number",
            )
        rates.append(LiveInput(path, label, measure, float(value), fixed_name))
    return affine, rates


def _phase_capex(phase: str) -> str:
    """The Drivers line of a phase's initial capital, which its loans draw on (deal's money)."""
    return f"Initial capital of phase {phase}, drawn on by its loans [USD]"


def _basis(deal: Deal, live: list[LiveInput], plan: StackPlan | None) -> dict[str, Affine]:
    """Base and coefficients of each affine line, from one engine pass over K + 1 scenarios:
    every live input at its value, then each one a small step away (a step, not 0, so that a
    line floored at zero, like a net smelter return, is taken where it is linear).

    For a stack (``plan``), the pass also gives the quantities the levies name, the allowances
    of each class and the capital entering each class limited to income (run as written off at
    once: :func:`~dealcalc.report.excel_stack.limited_as_immediate`)."""
    k = len(live)
    n_years = deal.periods.size
    steps = [1e-3 * max(abs(item.value), 1.0) for item in live]
    overrides: dict[str, Any] = {}
    for i, item in enumerate(live):
        column = np.full(k + 1, item.value)
        column[i + 1] += steps[i]
        overrides[item.path] = column
    if plan is None:
        overrides["fiscal.royalty_rate"] = np.ones(k + 1)  # the royalty line is then minus its base
    scenarios = Scenarios.build(deal, overrides)
    inputs = resolve(deal, scenarios.overrides, scenarios.n)
    if plan is not None:
        inputs = replace(inputs, fiscal=limited_as_immediate(inputs.fiscal))
    ledger, parts = build_ledger(inputs)
    names = _groups(deal, ledger.lines).affine
    table: dict[str, Any] = {name: ledger.line(name) for name in names}
    for phase, capex in parts.capex_by_phase.items():  # what each phase's loans draw on
        table[_phase_capex(phase)] = capex
    if plan is None:
        table[ROYALTY_BASE] = -ledger.line(reg.ROYALTY)
        table[DEPRECIATION] = ledger.line(reg.DEPRECIATION)
    else:
        table |= plan.basis_table(parts.quantities, parts.unlevered)
    out = {}
    for name, raw in table.items():
        values = np.broadcast_to(np.asarray(raw, dtype=np.float64), (k + 1, n_years))
        base = np.asarray(values[0], dtype=np.float64)
        coefficients = {}
        for i, item in enumerate(live):
            c = np.asarray((values[i + 1] - values[0]) / steps[i], dtype=np.float64)
            if np.any(np.abs(c * steps[i]) > 1e-12 * max(1.0, float(np.abs(values).max()))):
                coefficients[item.name] = c
        out[name] = Affine(base, coefficients)
    return out


def excel_model(deal: Deal, scenario: str | None = None) -> bytes:
    """An .xlsx workbook whose ledger, tax and NPV/IRR recompute with live formulas.

    Parameters
    ----------
    deal : Deal
        From :func:`dealcalc.load`.
    scenario : str, optional
        A named scenario of the file (default: the base case).

    Returns
    -------
    bytes
        The workbook; write it with ``Path("deal.xlsx").write_bytes(...)`` or
        ``dealcalc table FILE --xlsx deal.xlsx``.

    Raises
    ------
    MissingExtraError
        xlsxwriter is not installed (``pip install 'dealcalc[excel]'``).

    Examples
    --------
    >>> import dealcalc as dc
    >>> from dealcalc.report.excel import excel_model
    >>> book = excel_model(dc.load(dc.example_path("ussm-fwo")))
    >>> book[:2]   # an xlsx file is a zip archive
    b'PK'
    """
    _require_xlsxwriter()
    import xlsxwriter

    valued = apply_scenario(deal, scenario)
    result = evaluate(valued, keep_ledger=True)
    _refuse_unwritten(valued, result)
    live, rates = _live_inputs(valued)
    resolved = resolve(valued, {}, 1)
    _, project = build_ledger(resolved)  # dealcalc's own build: its levies are the stored results
    ys = valued.periods.labels
    n_years = int(ys.size)
    plan = plan_stack(resolved.fiscal, project.quantities, n_years) if valued.fiscal.uses_stack else None
    affine = _basis(valued, live, plan)

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    bold = book.add_format({"bold": True})
    title = book.add_format({"bold": True, "font_size": 14})
    money = book.add_format({"num_format": "#,##0;[Red]-#,##0"})
    money_bold = book.add_format({"num_format": "#,##0;[Red]-#,##0", "bold": True, "top": 1})
    coef = book.add_format({"num_format": "0.000000"})
    frac = book.add_format({"num_format": "0.00%"})
    editable = book.add_format({"bg_color": "#FFF2CC", "border": 1})
    pct_bold = book.add_format({"num_format": "0.00%", "bold": True})

    num = book.add_format({"num_format": "#,##0.####"})
    edit_num = book.add_format({"num_format": "#,##0.####", "bg_color": "#FFF2CC", "border": 1})
    summary = book.add_worksheet("Summary")
    run = book.add_worksheet("Run")
    inputs = book.add_worksheet("Inputs")
    ledger = book.add_worksheet("Ledger")
    streams_sheet = book.add_worksheet("Streams")
    stack = book.add_worksheet("Stack") if plan is not None else None
    drivers = book.add_worksheet("Drivers")
    losses = book.add_worksheet("Losses")
    parties = book.add_worksheet("Parties")
    assumptions = book.add_worksheet("Assumptions")

    # --- Streams: production, the material balance, sales and duty as formulas -----------
    registry = InputRegistry(n_years)
    streams_sheet.write_string(
        0, 0, f"{valued.name}: streams, material balance and duty (live formulas)", title
    )
    streams_sheet.write_string(
        1,
        0,
        "Inputs on the Inputs sheet (or yellow rows here); profile and escalation are values (dealcalc).",
    )
    sgrid = Grid(streams_sheet, "Streams", 4, 2, n_years)
    _year_header(streams_sheet, 3, 2, ys, bold)
    streams_sheet.write_string(3, 1, "unit", bold)
    streams_sheet.write_string(3, 3 + n_years, "path or note", bold)
    sfmt = {"money": money, "num": num, "coef": coef, "frac": frac, "bold": bold, "edit_num": edit_num}
    flows = write_streams(valued, resolved, sgrid, registry, sfmt)

    # --- Inputs: the live cells, each a defined name ------------------------------------
    inputs.write_string(0, 0, f"{valued.name}: live inputs", title)
    inputs.write_string(1, 0, "Change a yellow cell; the Ledger, the tax and NPV/IRR recompute.")
    for c, head in enumerate(("input", "value", "unit", "parameter path", "label", "source")):
        inputs.write_string(3, c, head, bold)
    rate_used = float(result.discount_rate[0])
    timeline = resolved.timeline
    rows = [*registry.items, *live, *rates, *(plan.inputs if plan is not None else [])]
    v = valued.valuation
    split = _split_plan(valued, resolved)
    if split.live:
        rows += split.inputs
    stated_rate = float(v.discount_rate)
    rows.append(
        LiveInput(
            "valuation.discount_rate",
            f"Discount rate, as stated ({v.discount_rate_basis})",
            "fraction",
            stated_rate,
            "discount_rate_stated",
        )
    )
    rows.append(
        LiveInput(
            "valuation.inflation_rate", "Inflation rate", "fraction", float(v.inflation_rate), "inflation"
        )
    )
    for i, item in enumerate(rows):
        r = 4 + i
        inputs.write_string(r, 0, item.label)
        inputs.write_number(r, 1, item.value, editable)
        inputs.write_string(r, 2, item.unit)
        inputs.write_string(r, 3, item.path)
        prov = valued.provenance.get(item.path)
        if prov is not None:
            inputs.write_string(r, 4, prov.label or "")
            inputs.write_string(r, 5, prov.source or "")
        book.define_name(item.name, f"=Inputs!{cell(r, 1, absolute=True)}")
    r = 4 + len(rows)
    if v.discount_rate_basis == v.basis:
        conversion, how = "discount_rate_stated", "as stated"
    elif v.basis == "real":
        conversion, how = (
            "(1+discount_rate_stated)/(1+inflation)-1",
            "Fisher: (1 + nominal) / (1 + inflation) - 1",
        )
    else:
        conversion, how = (
            "(1+discount_rate_stated)*(1+inflation)-1",
            "Fisher: (1 + real) x (1 + inflation) - 1",
        )
    inputs.write_string(r, 0, f"Discount rate, {v.basis} (the deal's basis)")
    inputs.write_formula(r, 1, "=" + conversion, frac, rate_used)
    inputs.write_string(r, 2, "fraction")
    inputs.write_string(r, 3, how)
    book.define_name("discount_rate", f"=Inputs!{cell(r, 1, absolute=True)}")
    if split.live:
        for party, (name, stated_name, value) in split.rates.items():
            r += 1
            inputs.write_string(r, 0, f"Discount rate of {party}, {v.basis}")
            inputs.write_formula(
                r, 1, "=" + conversion.replace("discount_rate_stated", stated_name), frac, value
            )
            inputs.write_string(r, 2, "fraction")
            inputs.write_string(r, 3, how)
            book.define_name(name, f"=Inputs!{cell(r, 1, absolute=True)}")
    inputs.write_string(
        r + 2,
        0,
        "Inflation converts the discount rates and a loan's real rate; money of the day (row g) is values.",
    )
    inputs.set_column(0, 0, 38)
    inputs.set_column(1, 1, 16)
    inputs.set_column(3, 3, 42)
    inputs.set_column(5, 5, 60)

    # --- Drivers: base and coefficients found by dealcalc ------------------------------
    drv = Rows(drivers, "Drivers", 4, 2, n_years)
    drivers.write_string(
        0, 0, "Drivers: each affine ledger line = base + Σ coefficient × (input - its file value)", title
    )
    drivers.write_string(
        1, 0, "Computed by dealcalc from basis runs of its engine (values; methodology §22)."
    )
    _year_header(drivers, 3, 2, ys, bold)
    assert result.ledger is not None
    groups = _groups(valued, result.ledger.lines)
    simple = not valued.fiscal.uses_stack
    line_names = [*groups.affine, *([ROYALTY_BASE, DEPRECIATION] if simple else [])]
    levy_lines = [line for line in result.ledger.lines if line.group in (reg.Group.ROYALTY, reg.Group.TAX)]
    royalty_lines = [line.name for line in levy_lines if line.group is reg.Group.ROYALTY]
    tax_lines = [line.name for line in levy_lines if line.group is reg.Group.TAX]
    line_names += [name for name in affine if plan is not None and "|" in name]
    if split.live:
        line_names += [_phase_capex(ph) for ph in split.phases]
    for name in line_names:
        parts = affine[name]
        label = plan.driver_label(name) if plan is not None and "|" in name else name
        drv.values(f"{name}|base", label, parts.base, money, "base")
        for input_name, column in parts.coefficients.items():
            drv.values(f"{name}|{input_name}", label, column, coef, f"× {input_name}")

    at_value = {item.name: item.value for item in live}  # where the basis runs were taken

    def affine_formula(name: str) -> Callable[[int], str]:
        def make(t: int) -> str:
            terms = [drv.ref(f"{name}|base", t)]
            terms += [f"{drv.ref(f'{name}|{i}', t)}*({i}-{at_value[i]!r})" for i in affine[name].coefficients]
            return "+".join(terms)

        return make

    # --- Ledger ---------------------------------------------------------------------------
    led = Rows(ledger, "Ledger", 4, 2, n_years)
    led.cache = {str(k): v.to_numpy(dtype=float) for k, v in result.table().items()}
    live_lines, live_q = _stream_lines(valued, flows, groups, led, n_years)
    royalty_on = "mine_nsr" if valued.fiscal.royalty_base == "net_smelter_return" else "mine_value"

    def line_formula(name: str) -> Callable[[int], str]:
        """A ledger line or a stack quantity: from the Streams sheet where it is live there,
        else the Drivers sheet's affine line."""
        if name in live_lines:
            return live_lines[name].f
        if name.startswith("q|") and name[2:] in live_q:
            return live_q[name[2:]].f
        if name == ROYALTY_BASE:
            return live_q[royalty_on].f
        return affine_formula(name)

    def at(key: str, t: int) -> str:  # a Ledger cell, from the Ledger
        return led.ref(key, t, here="Ledger")

    fmt = {"bold": bold, "money": money, "money_bold": money_bold, "frac": frac, "title": title, "coef": coef}
    # money of the day per unit of the deal's money: taxes and working capital are reckoned in it
    g = np.broadcast_to(np.asarray(timeline.to_nominal, dtype=np.float64).reshape(-1), (n_years,))
    stack_lines: dict[str, Callable[[int], str]] = {}
    stk = None
    if plan is not None and stack is not None:
        stk = Rows(stack, "Stack", 4, 2, n_years)
        stack.write_string(0, 0, f"{valued.name}: the levy stack, in money of the day (live formulas)", title)
        stack.write_string(1, 0, "Each levy in order, as dealcalc computes it (methodology §11 and §22).")
        _year_header(stack, 3, 2, ys, bold)
        stack_lines = write_stack(
            stk,
            losses,
            led,
            plan,
            resolved.fiscal,
            project.unlevered,
            np.asarray(project.profile, dtype=np.float64),
            affine,
            line_formula,
            ys,
            g,
            fmt,
        )

    ledger.write_string(0, 0, f"{valued.name}: ledger (US$, inflows positive, live formulas)", title)
    ledger.write_string(1, 0, f"Run: {run_info(valued).label}; {valued.valuation.basis} terms.")
    _year_header(ledger, 3, 2, ys, bold)
    L = "Ledger"
    revenue_lines = groups.revenue
    for name in revenue_lines:
        led.formulas(name, name, line_formula(name), money, _how(name, live_lines))
    for name in groups.selling:
        led.formulas(name, name, line_formula(name), money, _how(name, live_lines))
    if simple:
        led.formulas(
            ROYALTY_BASE,
            ROYALTY_BASE,
            line_formula(ROYALTY_BASE),
            money,
            f"memo; {royalty_on} (Streams)",
            cached=affine[ROYALTY_BASE].base,
        )
        led.formulas(
            reg.ROYALTY.name,
            reg.ROYALTY.name,
            lambda t: f"-royalty_rate*{at(ROYALTY_BASE, t)}",
            money,
            "rate × base",
        )
    else:
        for name in royalty_lines:
            led.formulas(name, name, stack_lines[name], money, "Stack: paid ÷ g")
    for name in groups.operating:
        led.formulas(name, name, line_formula(name), money, _how(name, live_lines))
    # working capital: balance (receivable x turnover + (inventory - payable) x costs) / 365
    led.formulas(
        "turnover",
        "Turnover (revenue less tariff borne) [USD]",
        lambda t: "+".join(at(n, t) for n in [*revenue_lines, reg.TARIFF_BORNE.name]),
        money,
        "memo",
    )
    led.formulas(
        "costs",
        "Operating costs [USD]",
        lambda t: "-(" + "+".join(at(n, t) for n in groups.operating) + ")",
        money,
        "memo",
    )
    last = n_years - 1
    led.values(
        "g", "Money of the day per unit of the deal's money", g, coef, "(1 + inflation)^(t + δ - offset)"
    )
    led.formulas(
        "wc_balance",
        "Working-capital balance, money of the day [USD]",
        lambda t: (
            "0"
            if t == last
            else f"(receivable_days*{at('turnover', t)}+(inventory_days-payable_days)*{at('costs', t)})"
            f"*{at('g', t)}/365"
        ),
        money,
        "memo; recovered at the end",
    )
    led.formulas(
        reg.WORKING_CAPITAL.name,
        reg.WORKING_CAPITAL.name,
        lambda t: (
            f"-{at('wc_balance', t)}/{at('g', t)}"
            if t == 0
            else f"({at('wc_balance', t - 1)}-{at('wc_balance', t)})/{at('g', t)}"
        ),
        money,
        "change of the balance, in the deal's money",
    )
    for name in groups.capital + groups.working_capital:
        led.formulas(name, name, line_formula(name), money, _how(name, live_lines))
    if simple:
        led.formulas(
            reg.INCOME_TAX.name,
            reg.INCOME_TAX.name,
            lambda t: f"-{at('tax', t)}/{at('g', t)}",
            money,
            "tax block below",
        )
    else:
        for name in tax_lines:
            led.formulas(name, name, stack_lines[name], money, "Stack: paid ÷ g")
    royalties = [reg.ROYALTY.name] if simple else royalty_lines
    taxes = [reg.INCOME_TAX.name] if simple else tax_lines
    operating = [*revenue_lines, *groups.selling, *royalties, *groups.operating]
    investment = [reg.WORKING_CAPITAL.name, *groups.working_capital, *groups.capital]
    led.formulas(reg.EBITDA.name, reg.EBITDA.name, _sum_of(led, operating, L), money_bold)
    led.formulas(
        reg.PRE_TAX.name,
        reg.PRE_TAX.name,
        _sum_of(led, operating + investment, L),
        money_bold,
    )
    led.formulas(
        reg.AFTER_TAX.name,
        reg.AFTER_TAX.name,
        lambda t: at(reg.PRE_TAX.name, t) + "".join(f"+{at(name, t)}" for name in taxes),
        money_bold,
    )
    if simple:
        res = project.unlevered.results

        def nominal(x: Any) -> np.ndarray:
            return np.broadcast_to(np.asarray(x, dtype=np.float64).reshape(-1), (n_years,)).copy()

        cached = {
            "tax": nominal(res["income_tax"].paid) + nominal(res["minimum_tax"].paid),
            "taxable": nominal(res["income_tax"].base),
            "carried": nominal(res["income_tax"].losses_carried),
            "floor": nominal(res["minimum_tax"].own),
        }
        losses_top = _tax_block(valued, resolved, led, losses, groups, ys, fmt, affine_formula, cached=cached)
        if split.live and split.debt:
            _levered_tax(
                valued,
                resolved,
                project,
                result,
                split,
                led,
                losses,
                groups,
                ys,
                fmt,
                affine_formula,
                losses_top,
            )
    else:
        led.skip("The levy stack's memo lines, in the deal's money", bold)
        for line in result.ledger.lines:
            if not line.cash and line.name in stack_lines:
                led.formulas(line.name, line.name, stack_lines[line.name], money, "Stack ÷ g")
    led.flush()
    if stk is not None and stack is not None:
        stk.flush()
        stack.set_column(0, 0, 52)
        stack.set_column(1, 1, 30)
        stack.set_column(2, 1 + n_years, 14)
        stack.freeze_panes(4, 2)
    ledger.set_column(0, 0, 44)
    ledger.set_column(1, 1, 22)
    ledger.set_column(2, 1 + n_years, 14)
    ledger.freeze_panes(4, 2)

    # --- Summary: the metrics as formulas, dealcalc's numbers beside them ----------------
    timing = timeline.timing
    shift = {"end": "1", "mid": "(1+discount_rate)^0.5", "t0": "(1+discount_rate)"}[timing]
    offset = timeline.valuation_offset
    gap = f"(1+discount_rate)^({offset:g})" if offset else "1"
    after_span = led.span(reg.AFTER_TAX.name)
    pre_span = led.span(reg.PRE_TAX.name)
    summary.write_string(0, 0, valued.name, title)
    info = run_info(valued)
    summary.write_string(1, 0, f"Run: {info.label}; timing {timing}; change Inputs to recompute (see Run).")
    for c, head in enumerate(("metric", "spreadsheet (live)", "dealcalc", "unit")):
        summary.write_string(3, c, head, bold)
    metrics = [
        (
            "NPV, after tax",
            f"NPV(discount_rate,{after_span})*{shift}*{gap}",
            float(result.npv_usd[0]),
            money_bold,
            "USD",
        ),
        ("IRR, after tax", f"IRR({after_span})", float(result.irr[0]), pct_bold, "fraction"),
        (
            "NPV, pre-tax",
            f"NPV(discount_rate,{pre_span})*{shift}*{gap}",
            float(result.pre_tax_npv_usd[0]),
            money_bold,
            "USD",
        ),
        ("IRR, pre-tax", f"IRR({pre_span})", float(result.pre_tax_irr[0]), pct_bold, "fraction"),
        ("Discount rate", "discount_rate", rate_used, frac, "fraction"),
    ]
    for i, (label, formula, check, fmt, unit) in enumerate(metrics):
        summary.write_string(4 + i, 0, label)
        summary.write_formula(4 + i, 1, "=" + formula, fmt, check)
        if np.isfinite(check):
            summary.write_number(4 + i, 2, check, fmt)
        summary.write_string(4 + i, 3, unit)
    summary.set_column(0, 0, 24)
    summary.set_column(1, 2, 20)

    # --- Parties: the split as formulas where the deal's rules allow, else values ----------
    if split.live:
        pfmt = {"money": money, "money_bold": money_bold, "bold": bold, "title": title}
        npv_rows = _write_parties(parties, valued, resolved, result, split, led, flows, ys, pfmt)
        r0 = 4 + len(metrics)
        for i, (party, span) in enumerate(npv_rows.items()):
            rate_name = split.rates[party][0]
            p_shift = {"end": "1", "mid": f"(1+{rate_name})^0.5", "t0": f"(1+{rate_name})"}[timing]
            p_gap = f"(1+{rate_name})^({offset:g})" if offset else "1"
            check = float(result.values[f"{party}.npv_usd"][0])
            summary.write_string(r0 + i, 0, f"NPV, {party}")
            summary.write_formula(r0 + i, 1, f"=NPV({rate_name},{span})*{p_shift}*{p_gap}", money_bold, check)
            summary.write_number(r0 + i, 2, check, money_bold)
            summary.write_string(r0 + i, 3, "USD")
        note_row = r0 + len(npv_rows) + 1
        summary.write_string(note_row, 0, "dealcalc's column holds its own result as values, for comparison.")
        summary.write_string(
            note_row + 1,
            0,
            "Each party's cash: the Parties sheet (live, the debt schedule on the Ledger too).",
        )
    else:
        _frame(
            parties,
            result.party_table().T,
            ys,
            "Parties, debt and government take (values from dealcalc)",
            bold,
            title,
            money,
        )
        parties.write_string(1, 0, f"Values, not live: {split.reason}.")
        summary.write_string(10, 0, "dealcalc's column holds its own result as values, for comparison.")
        summary.write_string(
            11,
            0,
            f"Parties, debt and government take: the Parties sheet (values from dealcalc: {split.reason}).",
        )
    _assumptions(assumptions, valued, bold, title)
    _run_sheet(run, run_info(valued), bold, title)
    for sheet in book.worksheets():
        _print_setup(sheet)
    book.close()
    return buffer.getvalue()


def _tax_block(
    valued: Deal,
    resolved: Any,
    led: Rows,
    losses: Any,
    groups: _Groups,
    ys: np.ndarray,
    fmt: dict[str, Any],
    affine_formula: Callable[[str], Callable[[int], str]],
    *,
    prefix: str = "",
    interest: Callable[[int], str] | None = None,
    losses_top: int = 0,
    cached: dict[str, np.ndarray] | None = None,
) -> int:
    """The simple regime's income tax as formulas (methodology §11): reckoned in money of the
    day (row ``g``) and brought back to the deal's money."""
    n_years = int(ys.size)
    money, bold, frac = fmt["money"], fmt["bold"], fmt["frac"]

    levered = interest is not None
    cache = cached or {}

    def k(key: str) -> str:
        return prefix + key

    def at(key: str, t: int) -> str:
        return led.ref(k(key) if key in _TAX_KEYS else key, t, here="Ledger")

    def rows(key: str, label: str, make: Callable[[int], str], fmt: Any, how: str = "") -> None:
        led.formulas(k(key), prefix + label, make, fmt, how, cached=cache.get(key))

    led.skip(
        ("Levered income tax (interest deducted)" if levered else "Income tax") + ", in money of the day",
        bold,
    )
    if not levered:
        led.formulas(DEPRECIATION, DEPRECIATION, affine_formula(DEPRECIATION), money, "Drivers")

    def deduct(t: int) -> str:
        return "" if interest is None else f"-{interest(t)}"

    rows(
        "profit",
        "Taxable profit before losses, money of the day [USD]",
        lambda t: (
            f"({at(reg.EBITDA.name, t)}-{at(DEPRECIATION, t)}"
            + "".join(f"+{at(n, t)}" for n in groups.closure + groups.salvage)
            + deduct(t)
            + f")*{at('g', t)}"
        ),
        money,
        "(EBITDA - depreciation - closure + salvage) x g",
    )
    rows("loss", "Loss of the year [USD]", lambda t: f"MAX(-{at('profit', t)},0)", money)
    keep = int(valued.fiscal.loss_carry_forward_years)
    used_in, left_in, next_top = loss_vintages(
        losses,
        losses_top,
        ys,
        keep,
        lambda t: f"MAX({led.ref(k('profit'), t)},0)",
        lambda t: led.ref(k("loss"), t),
        prefix + f"Losses carried forward: oldest first, each for {keep} years",
        fmt,
    )
    rows("used", "Losses used [USD]", lambda t: f"SUM({used_in(t)})", money, "Losses sheet")
    rows(
        "taxable",
        "Taxable income after losses, money of the day [USD]",
        lambda t: f"MAX({at('profit', t)},0)-{at('used', t)}",
        money,
    )
    rows(
        "carried",
        "Losses carried forward, money of the day [USD]",
        lambda t: f"SUM({left_in(t)})",
        money,
    )
    tax_levy = resolved.fiscal.levies[1]
    zeros = np.zeros(n_years)
    led.values(
        k("holiday"), prefix + "Share of the year in a tax holiday", _or(tax_levy.holiday, zeros), None
    )
    led.values(k("after"), prefix + "Cap applies (1 = yes)", _or(tax_levy.capped, zeros), None)
    rows(
        "rate",
        "Combined rate",
        lambda t: (
            f"IF({at('after', t)}=1,MIN(tax_cap,"
            f"tax_rate+IF({at('taxable', t)}>super_threshold,super_rate,0)),"
            f"tax_rate+IF({at('taxable', t)}>super_threshold,super_rate,0))"
        ),
        frac,
        "income + super tax, capped after a holiday",
    )
    rows(
        "normal",
        "Normal tax [USD]",
        lambda t: f"(1-{at('holiday', t)})*{at('rate', t)}*{at('taxable', t)}",
        money,
    )
    rows(
        "floor",
        "Minimum tax or ACT floor, money of the day [USD]",
        lambda t: (
            f"(1-{at('holiday', t)})*MAX(min_rate*MAX({at('turnover', t)}*{at('g', t)},0),"
            f"act_rate*MAX({at('profit', t)},0))"
        ),
        money,
    )
    rows(
        "credit_used",
        "Floor credit used [USD]",
        lambda t: "0" if t == 0 else f"MIN({at('credit', t - 1)},MAX({at('normal', t)}-{at('floor', t)},0))",
        money,
    )
    rows(
        "tax",
        "Income tax paid, money of the day [USD]",
        lambda t: f"MAX({at('normal', t)}-{at('credit_used', t)},{at('floor', t)})",
        fmt["money_bold"],
    )
    rows(
        "credit",
        "Floor credit carried [USD]",
        lambda t: (
            ("0" if t == 0 else at("credit", t - 1))
            + f"-{at('credit_used', t)}+MAX({at('floor', t)}-{at('normal', t)},0)"
        ),
        money,
    )

    if levered:
        return next_top

    def deflated(key: str) -> Callable[[int], str]:
        return lambda t: f"{at(key, t)}/{at('g', t)}"

    for key, line in (
        ("taxable", reg.TAXABLE_INCOME),
        ("carried", reg.LOSSES_CARRIED),
        ("floor", reg.FLOOR_TAX),
    ):
        led.formulas(line.name, line.name, deflated(key), money, "in the deal's money")
    return next_top


@dataclass(frozen=True)
class _Loan:
    """A loan of a given share of capex: the names of its input cells and its phases."""

    share: str
    rate: str  # the stated rate's cell
    fee: str
    real: bool  # the stated rate is real: the loan's (nominal) rate is Fisher's
    phases: tuple[str, ...]

    @property
    def nominal_rate(self) -> str:
        """The loan's rate in money of the day, as a formula of its cells."""
        return f"((1+{self.rate})*(1+inflation)-1)" if self.real else self.rate


#: The terms of a loan and of the finance block the workbook writes as formulas; a deal that
#: sets any other (a reserve account, a cash sweep, a lock-up, default rules, ...) away from its
#: default keeps the debt and the split as values.
_LOAN_TERMS = frozenset(
    [
        "description",
        "share_of_capex",
        "target_dscr",
        "interest_rate",
        "interest_rate_basis",
        "grace_years",
        "tenor_years",
        "repayment",
        "upfront_fee",
        "phases",
    ]
)
_FINANCE_TERMS = frozenset(
    [
        "debt",
        "equity",
        "host_government",
        "dividend_withholding_rate",
        "dividend_withholding_rate_untaxed",
        "discount_rates",
    ]
)


def _refuse_unwritten(deal: Deal, result: Valuation) -> None:
    """The Streams sheet writes neither offtake contracts nor a stream's temporary closure as
    formulas: a workbook of such a case would show the benchmark price, or output in the closed
    years, so it is refused rather than written wrong (a closure rule that never binds changes
    nothing and is fine). Nor are several companies (entities) written: the sheets hold one
    company's levies, debt and owners, and no transfer price."""
    assert result.ledger is not None
    if deal.entities:
        names = ", ".join(deal.entities)
        # errors.md: the workbook writes one company, not entities or the transfer prices between them
        raise InputError(
            f"the case has companies of its own (entities: {names}); the workbook writes one company, "
            "not entities or the transfer prices between them",
            field="entities",
            hint="see each company in the HTML report or the JSON: `dealcalc report FILE --out report.html` "
            "or `dealcalc npv FILE --json`, with the same --scenario; or write each company's ledger "
            "with `dealcalc table FILE --entity NAME --csv OUT.csv`",
        )
    if deal.metal_streams or deal.royalties_sold:
        sold = ", ".join([*deal.metal_streams, *deal.royalties_sold])
        raise InputError(
            f"the case has streams or royalties sold for cash ({sold}); the workbook does not write them",
            field="metal_streams" if deal.metal_streams else "royalties_sold",
            hint="write the ledger with `dealcalc table --csv`, or value a case without them",
        )
    if deal.offtakes:
        names = ", ".join(deal.offtakes)
        raise InputError(
            f"the case has offtake contracts ({names}); the workbook does not write offtake prices",
            field="offtakes",
            hint="write the ledger with `dealcalc table --csv`, or value a case without the contracts",
        )
    for name, stream in deal.streams.items():
        if getattr(stream, "temporary_closure", None) is None:
            continue
        line = reg.closed(name)
        if line in result.ledger.lines and bool(np.any(result.ledger.line(line) > 0)):
            raise InputError(
                f"stream {name!r} closes temporarily in this case; the workbook does not write closures",
                field=f"streams.{name}.temporary_closure",
                hint="write the ledger with `dealcalc table --csv`, or value a case without the closure",
            )


def _unwritten_terms(finance: Any) -> list[str]:
    """The paths of debt terms a deal sets that the workbook does not write as formulas."""

    def changed(model: Any, known: frozenset[str], prefix: str) -> list[str]:
        return [
            f"{prefix}.{name}"
            for name, info in type(model).model_fields.items()
            if name not in known and getattr(model, name) != info.get_default(call_default_factory=True)
        ]

    found = changed(finance, _FINANCE_TERMS, "finance")
    for name, tranche in finance.debt.items():
        found += changed(tranche, _LOAN_TERMS, f"finance.debt.{name}")
    return found


@dataclass(frozen=True)
class _SplitPlan:
    """Whether the parties' split is written as formulas, and the inputs it reads."""

    reason: str  # why it is written as values ("" when live)
    debt: bool
    inputs: list[LiveInput]
    rates: dict[str, tuple[str, str, float]]  # party: (name, stated name, rate in the deal's basis)
    loans: dict[str, _Loan] = field(default_factory=dict)  # by tranche name, in the engine's order

    @property
    def phases(self) -> list[str]:
        """The phases whose capital the loans draw on."""
        return sorted({ph for loan in self.loans.values() for ph in loan.phases})

    @property
    def live(self) -> bool:
        return not self.reason


def _split_plan(valued: Deal, resolved: Any) -> _SplitPlan:
    """The parties' split is live for the simple regime with loans of a given share of capex
    and a given repayment profile, and no expropriation; otherwise it is written as values."""
    fin = resolved.finance
    fiscal = resolved.fiscal
    reason = ""
    collectors = {levy.collector for levy in fiscal.levies if levy.line == "tax"}
    if valued.fiscal.uses_stack:
        reason = "the levy stack's levered pass (interest deducted) is not written as formulas"
    elif any(d.share_of_capex is None for d in fin.debt):
        reason = "a loan is sized on a cover ratio (DSCR) of the cash flow"
    elif any(d.repayment == "sculpted" for d in fin.debt):
        reason = "a loan's repayment is sculpted on the cash flow"
    elif any(h.share_by_year for h in valued.finance.equity.values()):
        reason = "an owner's share changes by period, which the split's formulas do not follow"
    elif unwritten := _unwritten_terms(valued.finance):
        reason = f"the financing uses terms not written as formulas ({', '.join(unwritten)})"
    elif np.any(np.asarray(fin.expropriated, dtype=np.float64) > 0):
        reason = "the deal has an expropriation"
    elif len(collectors) > 1:
        reason = "the income taxes go to more than one government"
    f = valued.finance
    v = valued.valuation
    inputs = [
        LiveInput(
            "finance.dividend_withholding_rate",
            "Dividend withholding rate",
            "fraction",
            float(f.dividend_withholding_rate),
            "withholding_rate",
        )
    ]
    if f.dividend_withholding_rate_untaxed is not None:
        inputs.append(
            LiveInput(
                "finance.dividend_withholding_rate_untaxed",
                "Dividend withholding rate, untaxed company",
                "fraction",
                float(f.dividend_withholding_rate_untaxed),
                "withholding_rate_untaxed",
            )
        )
    rates: dict[str, tuple[str, str, float]] = {}
    for party in fin.parties:
        holder = f.equity.get(party)
        if holder is not None and holder.discount_rate is not None:
            path, stated = f"finance.equity.{party}.discount_rate", holder.discount_rate
        elif party in f.discount_rates:
            path, stated = f"finance.discount_rates.{party}", f.discount_rates[party]
        else:
            rates[party] = ("discount_rate", "discount_rate_stated", float(fin.discount_rates[party][0]))
            continue
        stated_name = excel_name("discount_rate_stated", party)
        inputs.append(
            LiveInput(
                path,
                f"Discount rate of {party}, as stated ({v.discount_rate_basis})",
                "fraction",
                float(stated),
                stated_name,
            )
        )
        rates[party] = (excel_name("discount_rate", party), stated_name, float(fin.discount_rates[party][0]))
    loans: dict[str, _Loan] = {}
    for d in fin.debt if not reason else ():
        tranche = f.debt[d.name]
        p = f"finance.debt.{d.name}"
        loan = _Loan(
            share=excel_name("loan_share", d.name),
            rate=excel_name("loan_rate", d.name),
            fee=excel_name("loan_fee", d.name),
            real=tranche.interest_rate_basis == "real",
            phases=tuple(d.phases),
        )
        loans[d.name] = loan
        inputs += [
            LiveInput(
                f"{p}.share_of_capex",
                f"Loan {d.name}: share of capex",
                "fraction",
                float(tranche.share_of_capex or 0.0),
                loan.share,
            ),
            LiveInput(
                f"{p}.interest_rate",
                f"Loan {d.name}: interest rate ({tranche.interest_rate_basis})",
                "fraction",
                float(tranche.interest_rate),
                loan.rate,
            ),
            LiveInput(
                f"{p}.upfront_fee",
                f"Loan {d.name}: upfront fee",
                "fraction",
                float(tranche.upfront_fee),
                loan.fee,
            ),
        ]
    return _SplitPlan(reason=reason, debt=bool(fin.debt), inputs=inputs, rates=rates, loans=loans)


LEVERED = "Levered: "
DEDUCTED = "deducted"


def _levered_tax(
    valued: Deal,
    resolved: Any,
    project: Any,
    result: Valuation,
    split: _SplitPlan,
    led: Rows,
    losses: Any,
    groups: _Groups,
    ys: np.ndarray,
    fmt: dict[str, Any],
    affine_formula: Callable[[str], Callable[[int], str]],
    losses_top: int,
) -> None:
    """The debt schedule and the simple regime's tax again with interest, fees and amortised
    capitalised interest deducted, all formulas, on the Ledger (methodology §14 and §16)."""
    n_years = int(ys.size)
    table = result.party_table()
    money = fmt["money"]
    tl = resolved.timeline
    fiscal = resolved.fiscal
    g = np.broadcast_to(np.asarray(tl.to_nominal, dtype=np.float64).reshape(-1), (n_years,))
    nominal = _debt_schedule(resolved, project, split, table, led, fmt, affine_formula, g)

    def at(key: str, t: int) -> str:
        return led.ref(key, t, here="Ledger")

    # capitalised interest is amortised from the first production, at its cost in money of the day
    shares = straight_line(1.0, tl.first_production, fiscal.idc_years, fiscal.write_off, n_years)
    led.values(
        "idc_share",
        "Share of the capitalised interest amortised",
        shares,
        fmt["coef"],
        f"straight line over {fiscal.idc_years} years from the first production",
    )
    idc = float((table["Interest capitalised [USD]"].to_numpy(dtype=float) * g).sum())
    led.formulas(
        "idc_amortised",
        "Capitalised interest amortised, money of the day [USD]",
        lambda t: f"SUM({led.span(nominal['capitalised'], here='Ledger')})*{at('idc_share', t)}",
        money,
        "all capitalised interest × share",
        cached=idc * shares,
    )
    deducted = (
        table["Interest paid [USD]"].to_numpy(dtype=float)
        + table["Debt fees [USD]"].to_numpy(dtype=float)
        + idc * shares / g
    )
    led.formulas(
        DEDUCTED,
        "Interest, fees and amortised capitalised interest, deducted [USD]",
        lambda t: (
            f"{at('Interest paid [USD]', t)}+{at('Debt fees [USD]', t)}+{at('idc_amortised', t)}/{at('g', t)}"
        ),
        money,
        "the deal's money",
        cached=deducted,
    )
    levered_tax = table["Income tax, levered [USD]"].to_numpy(dtype=float)
    _tax_block(
        valued,
        resolved,
        led,
        losses,
        groups,
        ys,
        fmt,
        affine_formula,
        prefix=LEVERED,
        interest=lambda t: led.ref(DEDUCTED, t, here="Ledger"),
        losses_top=losses_top,
        cached={"tax": levered_tax * g},
    )


#: The debt lines of dealcalc's party table, and the key of each in a loan's schedule.
DEBT_LINES = {
    "Debt drawn [USD]": "draws",
    "Interest paid [USD]": "interest_paid",
    "Interest capitalised [USD]": "capitalised",
    "Principal repaid [USD]": "principal",
    "Debt fees [USD]": "fees",
    "Debt balance [USD]": "balance",
}


def _debt_schedule(
    resolved: Any,
    project: Any,
    split: _SplitPlan,
    table: pd.DataFrame,
    led: Rows,
    fmt: dict[str, Any],
    affine_formula: Callable[[str], Callable[[int], str]],
    g: np.ndarray,
) -> dict[str, str]:
    """Each loan's schedule in money of the day as formulas of its input cells and its phases'
    capex (methodology §14), then the deal's debt lines (all loans ÷ g); returns the key of the
    row summing each schedule line over the loans, in money of the day.

    As dealcalc has it: a loan draws its share of its phases' capex; while they draw, interest
    on the balance is capitalised; then ``grace_years`` of interest only; then ``tenor_years``
    of repayment: annuity (the level payment of the balance at the start, r / (1 - (1 + r)^-n),
    less the interest) or linear (1/n of it plus the interest on the declining balance, less
    the interest), the last year (or the horizon's end) clearing the balance. The upfront fee is
    a share of all the drawdowns, paid in the first year of drawdown."""
    money = fmt["money"]
    led.skip("Debt: each loan's schedule in money of the day (formulas of the loan's inputs)", fmt["bold"])

    def at(key: str, t: int) -> str:
        return led.ref(key, t, here="Ledger")

    def total(keys: list[str]) -> Callable[[int], str]:
        return lambda t: "+".join(at(key, t) for key in keys) if keys else "0"

    def deflated(key: str) -> Callable[[int], str]:
        return lambda t: f"{at(key, t)}/{at('g', t)}"

    written = [
        k
        for d in resolved.finance.debt
        if (k := _write_loan(led, d, split.loans[d.name], project, resolved.timeline, g, fmt, affine_formula))
    ]
    led.skip("Debt, all loans", fmt["bold"])
    nominal: dict[str, str] = {}
    for label, key in DEBT_LINES.items():
        nominal[key] = f"all|{key}"
        led.formulas(
            nominal[key],
            f"{label[: -len(' [USD]')]}, all loans, money of the day [USD]",
            total([k + key for k in written]),
            money,
            "sum of the loans",
            cached=table[label].to_numpy(dtype=float) * g,
        )
    for label, key in DEBT_LINES.items():
        led.formulas(
            label,
            label,
            deflated(nominal[key]),
            money,
            "÷ g: the deal's money",
            cached=table[label].to_numpy(dtype=float),
        )
    return nominal


def _write_loan(
    led: Rows,
    d: Any,
    loan: _Loan,
    project: Any,
    tl: Any,
    g: np.ndarray,
    fmt: dict[str, Any],
    affine_formula: Callable[[str], Callable[[int], str]],
) -> str:
    """One loan's schedule as formulas (money of the day), each row's cached result dealcalc's
    schedule of that loan alone; returns its rows' key prefix ("" when it never draws)."""
    n_years = g.size
    money = fmt["money"]
    drawn = sum((np.asarray(project.draws_by_phase[ph]) for ph in d.phases), np.zeros(n_years))
    draw_years = np.flatnonzero(drawn > 0)
    if draw_years.size == 0:
        return ""
    first, last = int(draw_years[0]), int(draw_years[-1])
    start = last + 1 + d.grace_years
    n_repay = min(d.tenor_years, n_years - start)
    n = float(n_repay)
    flows = debt_flows(
        (d,), project.capex_by_phase, project.draws_by_phase, np.zeros((1, n_years)), tl.to_nominal
    )
    k = f"loan|{d.name}|"
    r = loan.nominal_rate
    funded = [affine_formula(_phase_capex(ph)) for ph in d.phases]
    capex = sum(
        (
            np.broadcast_to(np.asarray(project.capex_by_phase[ph], dtype=np.float64), (1, n_years))[0]
            for ph in d.phases
        ),
        np.zeros(n_years),
    )

    def at(key: str, t: int) -> str:
        return led.ref(k + key if key != "g" else key, t, here="Ledger")

    def opening(t: int) -> str:
        return "0" if t == 0 else at("balance", t - 1)

    def level(t: int) -> str:
        if t < start:
            return "0"
        if d.repayment == "annuity":
            return f"IF({r}=0,1/{n!r},{r}/(1-(1+{r})^(-{n!r})))"
        return f"1/{n!r}+{r}*(1-{float(t - start)!r}/{n!r})"

    def principal(t: int) -> str:
        if n_repay <= 0 or t < start:
            return "0"
        if t - start >= n_repay - 1:  # the last repayment year (or the horizon's end) clears it
            return at("balance", t - 1)
        service = f"{at('balance', start - 1)}*{at('level', t)}"
        return f"MIN(MAX({service}-{at('interest_paid', t)},0),{at('balance', t - 1)})"

    def balance(t: int) -> str:
        if t <= last:
            return f"{opening(t)}+{at('capitalised', t)}+{at('draws', t)}"
        return f"{opening(t)}-{at('principal', t)}"

    rows: list[tuple[str, str, Callable[[int], str], str, np.ndarray]] = [
        (
            "capex",
            f"capex of {', '.join(d.phases)} [USD]",
            lambda t: "+".join(f"({f(t)})" for f in funded),
            "Drivers; the deal's money",
            capex,
        ),
        (
            "draws",
            "drawn, money of the day [USD]",
            lambda t: f"{loan.share}*{at('capex', t)}*{at('g', t)}",
            "share of capex × capex × g",
            flows.draws[0] * g,
        ),
        (
            "capitalised",
            "interest capitalised, money of the day [USD]",
            lambda t: f"{r}*{opening(t)}" if t <= last else "0",
            "rate × opening balance, while drawing",
            flows.capitalised_interest[0] * g,
        ),
        (
            "interest_paid",
            "interest paid, money of the day [USD]",
            lambda t: f"{r}*{opening(t)}" if t > last else "0",
            "rate × opening balance, after drawing",
            flows.interest_paid[0] * g,
        ),
    ]
    if n_repay > 0:
        cached = np.zeros(n_years)
        cached[start : start + n_repay] = repayment_profile(d.repayment, d.rate, n_repay)[0]
        how = (
            f"annuity over {n_repay} years: r / (1 - (1 + r)^-n)"
            if d.repayment == "annuity"
            else f"linear over {n_repay} years: 1/n + r × (1 - j/n)"
        )
        rows.append(("level", "debt service per unit of the balance at the start", level, how, cached))
    rows += [
        (
            "principal",
            "principal repaid, money of the day [USD]",
            principal,
            f"{d.repayment}; grace {d.grace_years} years, tenor {d.tenor_years}",
            flows.principal[0] * g,
        ),
        (
            "fees",
            "upfront fee, money of the day [USD]",
            lambda t: f"{loan.fee}*SUM({led.span(k + 'draws', here='Ledger')})" if t == first else "0",
            "fee × all drawdowns, in the first drawdown year",
            flows.fees[0] * g,
        ),
        (
            "balance",
            "balance at the year's end, money of the day [USD]",
            balance,
            "opening + capitalised + drawn - repaid",
            flows.balance[0] * g,
        ),
    ]
    for key, label, make, how, values in rows:
        led.formulas(
            k + key,
            f"Loan {d.name}: {label}",
            make,
            fmt["coef"] if key == "level" else money,
            how,
            cached=values,
        )
    return k


def _write_parties(
    sheet: Any,
    valued: Deal,
    resolved: Any,
    result: Valuation,
    split: _SplitPlan,
    led: Rows,
    flows: StreamsOut,
    ys: np.ndarray,
    fmt: dict[str, Any],
) -> dict[str, str]:
    """Each party's cash as formulas on the Ledger's lines (methodology §16); returns each
    party's cash row as a range, for its NPV."""
    n_years = int(ys.size)
    fin = resolved.finance
    fiscal = resolved.fiscal
    money, money_bold, bold = fmt["money"], fmt["money_bold"], fmt["bold"]
    table = result.party_table()
    rows = Rows(sheet, "Parties", 4, 2, n_years)
    rows.cache = {str(k): v.to_numpy(dtype=float) for k, v in table.items()}
    P = "Parties"
    sheet.write_string(
        0, 0, f"{valued.name}: each party's cash (US$, the deal's money, live formulas)", fmt["title"]
    )
    sheet.write_string(
        1,
        0,
        "The debt schedule (Ledger) is formulas of each loan's share of capex, rate and fee "
        "(Inputs) and its phases' capex."
        if split.debt
        else "No debt: the levered tax is the unlevered one.",
    )
    _year_header(sheet, 3, 2, ys, bold)

    def led_at(key: str, t: int) -> str:
        return led.ref(key, t, here=P)

    def at(key: str, t: int) -> str:
        return rows.ref(key, t, here=P)

    zero = np.zeros(n_years)
    royalty_to = next(levy.collector for levy in fiscal.levies if levy.line == "royalty")
    tax_to = next((levy.collector for levy in fiscal.levies if levy.line == "tax"), royalty_to)
    ledger = result.table()
    after = ledger[reg.AFTER_TAX.name].to_numpy(dtype=float)
    unlevered_tax = -ledger[reg.INCOME_TAX.name].to_numpy(dtype=float)
    rows.formulas(
        "after",
        "After-tax cash flow, unlevered [USD]",
        lambda t: led_at(reg.AFTER_TAX.name, t),
        money,
        "Ledger",
        cached=after,
    )
    rows.formulas(
        "royalty",
        "Royalty [USD]",
        lambda t: f"-{led_at(reg.ROYALTY.name, t)}",
        money,
        "Ledger",
        cached=-ledger[reg.ROYALTY.name].to_numpy(dtype=float),
    )
    rows.formulas(
        "tax",
        "Income tax, unlevered [USD]",
        lambda t: f"-{led_at(reg.INCOME_TAX.name, t)}",
        money,
        "Ledger",
        cached=unlevered_tax,
    )
    levered_tax = table["Income tax, levered [USD]"].to_numpy(dtype=float)
    if split.debt:
        rows.formulas(
            "ltax",
            "Income tax, levered [USD]",
            lambda t: f"{led_at(LEVERED + 'tax', t)}/{led_at('g', t)}",
            money,
            "Ledger: levered tax ÷ g",
        )
    else:
        rows.formulas(
            "ltax", "Income tax, levered [USD]", lambda t: at("tax", t), money, "no debt: as unlevered"
        )
    borne = flows.borne_by_government
    for gov, x in borne.items():
        rows.formulas(
            f"borne|{gov}", f"Duty borne by the exporter, to {gov} [USD]", x.f, money, "Streams", cached=x.v
        )
    rows.formulas(
        "pie",
        "Cash before state take [USD]",
        lambda t: "+".join(
            [at("after", t), at("royalty", t), at("tax", t), *(at(f"borne|{g}", t) for g in borne)]
        ),
        money_bold,
        "after tax + levies + duty borne",
    )
    lenders = table["lenders [USD]"].to_numpy(dtype=float) if split.debt else zero
    if split.debt:
        rows.formulas(
            "debt_service",
            "Debt service and fees less drawdowns [USD]",
            lambda t: (
                f"{led_at('Interest paid [USD]', t)}+{led_at('Principal repaid [USD]', t)}"
                f"+{led_at('Debt fees [USD]', t)}-{led_at('Debt drawn [USD]', t)}"
            ),
            money,
            "Ledger: interest + principal + fees - drawn",
            cached=lenders,
        )
    else:
        rows.values("debt_service", "Debt service and fees less drawdowns [USD]", zero, money, "no debt")
    to_equity = after + unlevered_tax - levered_tax - lenders
    rows.formulas(
        "equity",
        "Free cash to equity [USD]",
        lambda t: f"{at('after', t)}+{at('tax', t)}-{at('ltax', t)}-{at('debt_service', t)}",
        money,
        "after tax + unlevered tax - levered tax - debt service",
        cached=to_equity,
    )
    rows.formulas(
        "dividends",
        "Dividends before withholding [USD]",
        lambda t: f"MAX({at('equity', t)},0)",
        money,
    )
    rows.formulas(
        "injections",
        "Injections [USD]",
        lambda t: f"MIN({at('equity', t)},0)",
        money,
        cached=np.minimum(to_equity, 0.0),
    )

    def rate(t: int) -> str:
        if valued.finance.dividend_withholding_rate_untaxed is None:
            return "withholding_rate"
        return f"IF({at('ltax', t)}>0,withholding_rate,withholding_rate_untaxed)"

    rows.formulas(
        "withholding",
        "Dividend withholding tax [USD]",
        lambda t: f"{rate(t)}*{at('dividends', t)}",
        money,
        "untaxed rate where the levered tax is nil",
    )
    rows.skip("Each party's cash [USD]", bold)
    funders = sum(o.share for o in fin.owners if not o.carried)
    spans: dict[str, str] = {}
    owners = {o.name: o for o in fin.owners}

    def owner_cash(share: float, funding: float) -> Callable[[int], str]:
        return lambda t: (
            f"{share!r}*({at('dividends', t)}-{at('withholding', t)})+{funding!r}*{at('injections', t)}"
        )

    for party in fin.parties:
        label = f"{party} [USD]"
        if party in owners:
            o = owners[party]
            funding = 0.0 if o.carried else float(o.share) / float(funders)
            how = "carried: share of dividends" if o.carried else "share of dividends + injections pro rata"
            rows.formulas(f"party|{party}", label, owner_cash(float(o.share), funding), money_bold, how)
        elif party == "lenders":
            rows.formulas(
                f"party|{party}", label, lambda t: at("debt_service", t), money_bold, "debt service"
            )
        elif fin.roles[party] in ("government", "royalty_holder"):
            terms: list[str] = []
            if party == royalty_to:
                terms.append("royalty")
            if party == tax_to:
                terms.append("ltax")
            if party in borne:
                terms.append(f"borne|{party}")
            if party == fin.host_government:
                terms.append("withholding")

            def gov_cash(keys: list[str]) -> Callable[[int], str]:
                return lambda t: "+".join(at(k, t) for k in keys) if keys else "0"

            rows.formulas(f"party|{party}", label, gov_cash(terms), money_bold, " + ".join(terms) or "nil")
        else:
            continue
        spans[party] = rows.span(f"party|{party}", here="Summary")
    rows.formulas(
        "check",
        "Check: parties' cash less cash before state take (0)",
        lambda t: "+".join(at(f"party|{p}", t) for p in spans) + f"-{at('pie', t)}",
        money,
        "should be 0",
        cached=zero,
    )
    rows.flush()
    sheet.set_column(0, 0, 52)
    sheet.set_column(1, 1, 30)
    sheet.set_column(2, 1 + n_years, 14)
    return spans


_TAX_KEYS = frozenset(
    [
        "profit",
        "loss",
        "used",
        "taxable",
        "carried",
        "holiday",
        "after",
        "rate",
        "normal",
        "floor",
        "credit_used",
        "tax",
        "credit",
    ]
)


def _how(name: str, live: dict[str, X]) -> str:
    return "Streams" if name in live else "Drivers"


def _stream_lines(
    deal: Deal, flows: StreamsOut, groups: _Groups, led: Rows, n: int
) -> tuple[dict[str, X], dict[str, X]]:
    """The ledger lines the Streams sheet computes, and the stack's quantities that follow
    from them and the Ledger's rows (each in the deal's money)."""
    lines: dict[str, X] = {reg.revenue(k).name: x for k, x in flows.revenue.items()}
    lines[reg.SELLING_CHARGES.name] = -xsum(list(flows.charges.values()), n)
    lines[reg.TARIFF_BORNE.name] = -flows.tariff_borne
    lines[reg.MINING.name] = -flows.mining
    lines[reg.REFINING.name] = -flows.conversion
    lines[reg.PURCHASED_FEED.name] = -flows.feed
    zero = np.zeros(n)

    def row(name: str) -> X:
        return X(lambda t: led.ref(name, t), zero)

    def total(names: list[str]) -> X:
        return xsum([row(k) for k in names], n)

    given_revenue = [k for k in groups.revenue if k not in lines]
    given_selling = [k for k in groups.selling if k not in lines]
    revenue = total(groups.revenue)
    tariff = -row(reg.TARIFF_BORNE.name) if reg.TARIFF_BORNE.name in groups.selling else const(0.0, n)
    turnover = revenue - tariff
    selling = -total([k for k in groups.selling if k != reg.TARIFF_BORNE.name])
    operating = -total(groups.operating)
    mine_value = xsum(list(flows.royalty_base.values()), n) + total(given_revenue)
    charged = xsum(list(flows.royalty_charges.values()), n)
    q: dict[str, X] = {
        "revenue": revenue,
        "turnover": turnover,
        "mine_value": mine_value,
        "mine_nsr": xmax(mine_value - charged + total(given_selling), 0.0),
        "selling_charges": selling,
        "tariff_borne": tariff,
        "operating_costs": operating,
        "ebitda": turnover - selling - operating,
    }
    for product in dict.fromkeys(flows.product_of.values()):
        mine = [k for k, p in flows.product_of.items() if p == product]
        q[f"revenue:{product}"] = xsum([flows.revenue[k] for k in mine], n)
        q[f"gross:{product}"] = q[f"revenue:{product}"] - xsum([flows.charges[k] for k in mine], n)
        if product in flows.price:
            q[f"price:{product}"] = flows.price[product]
    del deal
    return lines, q


def _or(values: np.ndarray | None, default: np.ndarray) -> np.ndarray:
    return default if values is None else np.broadcast_to(values, default.shape)


def _sum_of(rows: Rows, keys: list[str], here: str) -> Callable[[int], str]:
    return lambda t: "+".join(rows.ref(k, t, here=here) for k in keys)


def _year_header(sheet: Any, row: int, col: int, ys: np.ndarray, fmt: Any) -> None:
    sheet.write_string(row, 0, "line", fmt)
    sheet.write_string(row, 1, "how", fmt)
    for t, year in enumerate(ys):
        sheet.write_number(row, col + t, int(year), fmt)


def _frame(
    sheet: Any, frame: pd.DataFrame, ys: np.ndarray, heading: str, bold: Any, title: Any, money: Any
) -> None:
    sheet.write_string(0, 0, heading, title)
    sheet.write_string(2, 0, "line", bold)
    for t, year in enumerate(ys):
        sheet.write_number(2, 1 + t, int(year), bold)
    for r, (name, row) in enumerate(frame.iterrows()):
        sheet.write_string(3 + r, 0, str(name))
        for t, value in enumerate(row.to_numpy(dtype=float)):
            if np.isfinite(value):
                sheet.write_number(3 + r, 1 + t, float(value), money)
    sheet.set_column(0, 0, 44)
    sheet.set_column(1, len(ys), 14)


def _run_sheet(sheet: Any, info: RunInfo, bold: Any, title: Any) -> None:
    """The run's provenance: file, scenario, every change, basis and money year, rate, version."""
    sheet.write_string(0, 0, "The run this workbook values", title)
    data = info.to_dict()
    r = 2
    for key in (
        "label",
        "deal",
        "file",
        "scenario",
        "price_deck",
        "basis",
        "money_year",
        "discount_rate",
        "discount_rate_stated",
        "dealcalc_version",
    ):
        value = data.get(key)
        sheet.write_string(r, 0, key, bold)
        sheet.write_string(r, 1, "" if value is None else str(value))
        r += 1
    sheet.write_string(r, 0, "changes", bold)
    changes = list(info.changes) or ["none (the file as written)"]
    for i, change in enumerate(changes):
        sheet.write_string(r + i, 1, str(change))
    r += len(changes) + 1
    for i, line in enumerate(info.lines()):
        sheet.write_string(r + i, 0, line)
    sheet.set_column(0, 0, 18)
    sheet.set_column(1, 1, 90)


def _print_setup(sheet: Any) -> None:
    """Landscape, one page wide, header rows repeated; panes frozen below the headers."""
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)
    sheet.set_paper(9)
    sheet.repeat_rows(0, 3)
    sheet.freeze_panes(4, 2 if sheet.name in _YEAR_SHEETS else 1)


_YEAR_SHEETS = frozenset(("Ledger", "Streams", "Stack", "Drivers", "Losses", "Parties"))


def _assumptions(sheet: Any, deal: Deal, bold: Any, title: Any) -> None:
    sheet.write_string(0, 0, "Every input with a stated source (from the scenario file)", title)
    for c, head in enumerate(("parameter", "label", "source", "as of", "note")):
        sheet.write_string(2, c, head, bold)
    for r, (path, prov) in enumerate(sorted(deal.provenance.items())):
        for c, text in enumerate((path, prov.label, prov.source, prov.as_of, prov.note)):
            if text:
                sheet.write_string(3 + r, c, str(text))
    sheet.set_column(0, 0, 50)
    sheet.set_column(2, 2, 80)


def ledger_workbook(valuation: Valuation) -> bytes:
    """The ledger of a valuation as values (one sheet), for when live formulas are not wanted.

    Examples
    --------
    >>> import dealcalc as dc
    >>> from dealcalc.report.excel import ledger_workbook
    >>> ledger_workbook(dc.evaluate(dc.load(dc.example_path("ussm-fwo"))))[:2]
    b'PK'
    """
    _require_xlsxwriter()
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="xlsxwriter") as writer:
        valuation.table().to_excel(writer, sheet_name="Ledger")
    return buffer.getvalue()
