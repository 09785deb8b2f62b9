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
engine and checks every line. The parties' split, debt and Monte Carlo are written as values
(the Parties sheet).
"""

from __future__ import annotations

import importlib.util
import io
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from dealcalc.analyses.evaluate import Valuation, evaluate
from dealcalc.engine import build_ledger, resolve
from dealcalc.engine import lines as reg
from dealcalc.errors import InputError, MissingExtraError
from dealcalc.models import Deal
from dealcalc.params import Scenarios, apply_scenario
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
    deck = deal.valuation.price_deck
    affine: list[LiveInput] = []
    sold = dict.fromkeys(s.product for s in deal.streams.values())
    for product in sold:
        raw = deal.price_decks[deck][product]
        if not isinstance(raw, int | float):  # a dated deck stays as the file gives it (Drivers base)
            continue
        unit = deal.products[product].unit
        affine.append(
            LiveInput(
                f"price_decks.{deck}.{product}",
                f"Price: {product}",
                f"USD/{unit}",
                float(raw),
                excel_name("price", product),
            )
        )
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
    for name, s in deal.streams.items():
        if s.is_mine and s.ore_tpa is not None and isinstance(s.opex_usd_per_t_ore, int | float):
            affine.append(
                LiveInput(
                    f"streams.{name}.opex_usd_per_t_ore",
                    f"Operating cost: {name}",
                    "USD/t ore",
                    float(s.opex_usd_per_t_ore),
                    excel_name("opex", name),
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

    summary = book.add_worksheet("Summary")
    inputs = book.add_worksheet("Inputs")
    ledger = book.add_worksheet("Ledger")
    stack = book.add_worksheet("Stack") if plan is not None else None
    drivers = book.add_worksheet("Drivers")
    losses = book.add_worksheet("Losses")
    parties = book.add_worksheet("Parties")
    assumptions = book.add_worksheet("Assumptions")

    # --- Inputs: the live cells, each a defined name ------------------------------------
    inputs.write_string(0, 0, f"{valued.name}: live inputs", title)
    inputs.write_string(1, 0, "Change a yellow cell; the Ledger, the tax and NPV/IRR recompute.")
    for c, head in enumerate(("input", "value", "unit", "parameter path", "label", "source")):
        inputs.write_string(3, c, head, bold)
    rate_used = float(result.discount_rate[0])
    timeline = resolved.timeline
    rows = [*live, *rates, *(plan.inputs if plan is not None else [])]
    rows.append(
        LiveInput(
            "valuation.discount_rate",
            "Discount rate, as used (deal's basis)",
            "fraction",
            rate_used,
            "discount_rate",
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
            affine_formula,
            ys,
            g,
            fmt,
        )

    ledger.write_string(0, 0, f"{valued.name}: ledger (US$, inflows positive, live formulas)", title)
    ledger.write_string(1, 0, f"Scenario: {scenario or 'base'}; {valued.valuation.basis} terms.")
    _year_header(ledger, 3, 2, ys, bold)
    L = "Ledger"
    revenue_lines = groups.revenue
    for name in revenue_lines:
        led.formulas(name, name, affine_formula(name), money, "Drivers")
    for name in groups.selling:
        led.formulas(name, name, affine_formula(name), money, "Drivers")
    if simple:
        led.formulas(ROYALTY_BASE, ROYALTY_BASE, affine_formula(ROYALTY_BASE), money, "memo; Drivers")
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
        led.formulas(name, name, affine_formula(name), money, "Drivers")
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
        led.formulas(name, name, affine_formula(name), money, "Drivers")
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
        _tax_block(valued, resolved, led, losses, groups, ys, fmt, affine_formula)
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
    summary.write_string(1, 0, f"Scenario {scenario or 'base'}; timing {timing}; change Inputs to recompute.")
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
    summary.write_string(10, 0, "dealcalc's column holds its own result as values, for comparison.")
    summary.write_string(11, 0, "Parties, debt and government take: the Parties sheet (values).")
    summary.set_column(0, 0, 24)
    summary.set_column(1, 2, 20)

    # --- Parties and the assumptions, as values -------------------------------------------
    _frame(
        parties,
        result.party_table().T,
        ys,
        "Parties, debt and government take (values from dealcalc)",
        bold,
        title,
        money,
    )
    _assumptions(assumptions, valued, bold, title)
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
) -> None:
    """The simple regime's income tax as formulas (methodology §11): reckoned in money of the
    day (row ``g``) and brought back to the deal's money."""
    n_years = int(ys.size)
    money, bold, frac = fmt["money"], fmt["bold"], fmt["frac"]

    def at(key: str, t: int) -> str:
        return led.ref(key, t, here="Ledger")

    led.skip("Income tax, in money of the day (methodology §11)", bold)
    led.formulas(DEPRECIATION, DEPRECIATION, affine_formula(DEPRECIATION), money, "Drivers")
    led.formulas(
        "profit",
        "Taxable profit before losses, money of the day [USD]",
        lambda t: (
            f"({at(reg.EBITDA.name, t)}-{at(DEPRECIATION, t)}"
            + "".join(f"+{at(n, t)}" for n in groups.closure + groups.salvage)
            + f")*{at('g', t)}"
        ),
        money,
        "(EBITDA - depreciation - closure + salvage) x g",
    )
    led.formulas("loss", "Loss of the year [USD]", lambda t: f"MAX(-{at('profit', t)},0)", money)
    keep = int(valued.fiscal.loss_carry_forward_years)
    used_in, left_in, _ = loss_vintages(
        losses,
        0,
        ys,
        keep,
        lambda t: f"MAX({led.ref('profit', t)},0)",
        lambda t: led.ref("loss", t),
        f"Losses carried forward: oldest first, each for {keep} years",
        fmt,
    )
    led.formulas("used", "Losses used [USD]", lambda t: f"SUM({used_in(t)})", money, "Losses sheet")
    led.formulas(
        "taxable",
        "Taxable income after losses, money of the day [USD]",
        lambda t: f"MAX({at('profit', t)},0)-{at('used', t)}",
        money,
    )
    led.formulas(
        "carried",
        "Losses carried forward, money of the day [USD]",
        lambda t: f"SUM({left_in(t)})",
        money,
    )
    tax_levy = resolved.fiscal.levies[1]
    zeros = np.zeros(n_years)
    led.values("holiday", "Share of the year in a tax holiday", _or(tax_levy.holiday, zeros), None)
    led.values("after", "Cap applies (1 = yes)", _or(tax_levy.capped, zeros), None)
    led.formulas(
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
    led.formulas(
        "normal",
        "Normal tax [USD]",
        lambda t: f"(1-{at('holiday', t)})*{at('rate', t)}*{at('taxable', t)}",
        money,
    )
    led.formulas(
        "floor",
        "Minimum tax or ACT floor, money of the day [USD]",
        lambda t: (
            f"(1-{at('holiday', t)})*MAX(min_rate*MAX({at('turnover', t)}*{at('g', t)},0),"
            f"act_rate*MAX({at('profit', t)},0))"
        ),
        money,
    )
    led.formulas(
        "credit_used",
        "Floor credit used [USD]",
        lambda t: "0" if t == 0 else f"MIN({at('credit', t - 1)},MAX({at('normal', t)}-{at('floor', t)},0))",
        money,
    )
    led.formulas(
        "tax",
        "Income tax paid, money of the day [USD]",
        lambda t: f"MAX({at('normal', t)}-{at('credit_used', t)},{at('floor', t)})",
        fmt["money_bold"],
    )
    led.formulas(
        "credit",
        "Floor credit carried [USD]",
        lambda t: (
            ("0" if t == 0 else at("credit", t - 1))
            + f"-{at('credit_used', t)}+MAX({at('floor', t)}-{at('normal', t)},0)"
        ),
        money,
    )

    def deflated(key: str) -> Callable[[int], str]:
        return lambda t: f"{at(key, t)}/{at('g', t)}"

    for key, line in (
        ("taxable", reg.TAXABLE_INCOME),
        ("carried", reg.LOSSES_CARRIED),
        ("floor", reg.FLOOR_TAX),
    ):
        led.formulas(line.name, line.name, deflated(key), money, "in the deal's money")


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
