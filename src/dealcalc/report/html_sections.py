"""The sections of the HTML report, each a function of the results that returns its HTML.

Each section reads the one ledger (lines from :mod:`dealcalc.engine.lines`, never typed by
name), the parties' ledger with the debt schedule, the material balance, or an analysis; every
number is formatted by :mod:`dealcalc.formatting`. Money is US$ million in the deal's basis
(real, in money of the stated year, or nominal), and every IRR and discount rate says which.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import cast

import numpy as np
import numpy.typing as npt
import pandas as pd

from dealcalc import formatting as fmt
from dealcalc.analyses import Valuation, evaluate
from dealcalc.analyses.display import param_label, param_value
from dealcalc.analyses.evaluate import ENTITY_COLUMNS
from dealcalc.analyses.montecarlo import MonteCarlo
from dealcalc.analyses.provenance import RunInfo, run_info, stamp
from dealcalc.analyses.terms import TermsGrid
from dealcalc.engine import lines as L
from dealcalc.engine.ledger import Ledger
from dealcalc.models import Deal
from dealcalc.models.finance import DebtTranche
from dealcalc.params import limits, numeric_leaves, schedule_paths
from dealcalc.report.html_assumptions import Assumption, assumptions, unit_of_path
from dealcalc.report.html_tables import Row, esc, points, table, value_text, year_table

__all__ = [
    "assumptions_section",
    "capital_section",
    "comparison_section",
    "debt_section",
    "entities_section",
    "headline_table",
    "ledger_section",
    "monte_carlo_section",
    "parties_section",
    "production_section",
    "run_table",
    "summary_paragraph",
    "tariff_section",
    "tornado_section",
]


def _label(name: str, basis: str) -> str:
    """A metric's header with its basis: ``IRR (%, real)``, ``NPV (US$ M, real)``."""
    text = fmt.header(name)
    kind = fmt.kind_of(name)
    if kind == "money" or (kind == "percent" and ("irr" in name or "discount_rate" in name)):
        unit = fmt.unit_of(kind)
        text = text.removesuffix(f"({unit})") + f"({unit}, {basis})"
    return text


def _line_label(line: L.Line | L.Subtotal) -> str:
    unit = getattr(line, "unit", "USD")
    suffix = {"USD": "US$ M", "ratio": "×", "fraction": "%"}.get(unit, unit)
    return f"{line.label} ({suffix})"


def _line_kind(line: L.Line | L.Subtotal) -> str:
    return {"USD": "money", "ratio": "ratio", "fraction": "percent"}.get(
        getattr(line, "unit", "USD"), "number"
    )


def _rows_of(ledger: Ledger, wanted: Sequence[L.Line | L.Subtotal], cls: str = "") -> list[Row]:
    return [
        Row(_line_label(line), ledger.line(line)[0], _line_kind(line), cls, total=_line_kind(line) == "money")
        for line in wanted
        if ledger.has(line)
    ]


# --------------------------------------------------------------------------- run and summary
def run_table(info: RunInfo, valuation: Valuation, *, mc: MonteCarlo | None, sensitivity: str) -> str:
    """What this run is: file, scenario, every change, price deck, basis and money year,
    discount rate, dealcalc version, and the draws and seed of the Monte Carlo."""
    rate = float(valuation.discount_rate[0])
    given = valuation.deal.valuation
    rate_text = f"{fmt.percent(rate, digits=2)} {info.basis}"
    if given.discount_rate_basis != info.basis:
        rate_text += f" ({fmt.percent(given.discount_rate, digits=2)} {given.discount_rate_basis} as given)"
    rows = [
        ["Deal", info.deal],
        ["File", info.file or "built in Python"],
        ["Run", info.label],
        ["Scenario", info.scenario],
        *[["Change", c] for c in info.changes],
        ["Price deck", info.price_deck],
        ["Basis", f"{info.basis_text} US$"],
        ["Discount rate (project)", rate_text],
        ["Timing", f"cash flows at the {given.timing} of each year, valued at the {given.valuation_point}"],
        ["Sensitivity", sensitivity],
    ]
    if mc is not None:
        rows.append(["Monte Carlo", f"{fmt.count(mc.n)} draws ({mc.method}), seed {mc.seed}"])
    rows += [["dealcalc", info.version], ["Made", stamp()]]
    return table(["", ""], rows, cls="run", text_columns=(0,))


def summary_paragraph(valuation: Valuation, base: Valuation | None) -> str:
    """One paragraph in words: the value, the return, payback and funding, the owners, the
    governments' take, and the change against the base case."""
    info = valuation.info
    v = {k: float(a[0]) for k, a in valuation.values.items()}
    deal = valuation.deal
    rate = v["discount_rate"]
    b = info.basis
    parts = [
        f"Valued as <b>{esc(info.label)}</b> in {esc(info.basis_text)} US$ on the {esc(info.price_deck)} "
        f"price deck, the project's after-tax NPV at {fmt.percent(rate)} {b} is "
        f"<b>US$ {fmt.money(v['npv_usd'])} M</b>, with an after-tax IRR of "
        f"<b>{fmt.percent(v.get('irr'))} {b}</b> ({fmt.percent(v.get('pre_tax_irr'))} {b} before tax)."
    ]
    if "payback_years" in v:
        pay = v["payback_years"]
        parts.append(
            f"It pays back {fmt.years(pay)} years after the valuation point"
            if np.isfinite(pay)
            else "It never pays back"
        )
        parts[-1] += f" and needs at most US$ {fmt.money(v.get('peak_funding_usd'))} M of funding."
    rates = valuation.party_rates()
    owners = [o for o in deal.owner_names() if f"{o}.npv_usd" in v]
    if deal.entities:
        parts.append(
            f"The deal holds {fmt.count(len(deal.entities))} companies ({esc(', '.join(deal.entities))}), "
            "each with its own owners, debt and levies, trading with each other at transfer prices."
        )
    if owners:
        said = "; ".join(
            f"{esc(o)} US$ {fmt.money(v[f'{o}.npv_usd'])} M at its {fmt.percent(rates.get(o))} {b} rate "
            f"(IRR {fmt.percent(v.get(f'{o}.irr'))} {b})"
            for o in owners
        )
        parts.append(f"The owners' shares are worth: {said}.")
    takes = [(p.removesuffix(".take"), x) for p, x in v.items() if p.endswith(".take") and np.isfinite(x)]
    if takes:
        said = "; ".join(f"{esc(g)} {fmt.percent(x)}" for g, x in takes)
        parts.append(f"Of the cash before state take, the governments take: {said}.")
    if base is not None:
        delta = v["npv_usd"] - float(base.npv_usd[0])
        parts.append(
            f"Against the file's {esc(base.info.label)} (NPV US$ {fmt.money(float(base.npv_usd[0]))} M), "
            f"this run moves the NPV by US$ {fmt.money(delta)} M."
        )
    return f'<p class="summary">{" ".join(parts)}</p>'


_HEADLINE = (
    ("npv_usd", "NPV after tax"),
    ("irr", "IRR after tax"),
    ("pre_tax_npv_usd", "NPV before tax"),
    ("pre_tax_irr", "IRR before tax"),
    ("payback_years", "Payback, from the valuation point"),
    ("peak_funding_usd", "Peak funding"),
    ("discount_rate", "Discount rate (project)"),
    ("debt_usd", "Debt"),
    ("min_dscr", "Minimum DSCR"),
)


def headline_table(valuation: Valuation) -> str:
    """The headline numbers, each with its unit and basis."""
    b = valuation.info.basis
    rows = []
    for name, words in _HEADLINE:
        if name not in valuation.values:
            continue
        x = float(valuation.values[name][0])
        kind = fmt.kind_of(name)
        unit = {"money": f"US$ M, {b}", "percent": f"%, {b}", "years": "years", "ratio": "×"}.get(kind, "")
        rows.append([words, fmt.cell(name, x), unit])
    return table(["Headline", "Value", "Unit"], rows, text_columns=(1,), cls="headline")


# --------------------------------------------------------------------------- comparison
def comparison_section(deal: Deal, compared: pd.DataFrame, chosen: str, basis: str) -> str:
    """The base case and every named scenario side by side (each with this run's changes)."""
    money = [c for c in compared.columns if c.endswith("_usd") and c != "npv_change_usd"]
    shown = ["npv_usd", "irr", "pre_tax_npv_usd", "payback_years", "peak_funding_usd", "discount_rate"]
    shown += [c for c in money if c not in shown]
    shown = [c for c in shown if c in compared.columns]
    columns = ["Scenario", "Description", *(_label(c, basis) for c in shown)]
    columns += [f"Change in NPV (US$ M, {basis})", "Change in IRR (points)"]
    rows, classes = [], []
    for name, row in compared.iterrows():
        label = run_info(deal, None if name == "base" else str(name)).label
        cells = [label, str(row["description"]), *(fmt.cell(c, float(row[c])) for c in shown)]
        cells += [fmt.money(float(row["npv_change_usd"])), points(float(row["irr_change"]))]
        rows.append(cells)
        classes.append("chosen" if name == chosen else "")
    changed = f" Every row carries this run's changes ({'; '.join(deal.changes)})." if deal.changes else ""
    note = (
        f"Each named scenario of the file valued alone against the first row; the row of this run is "
        f"highlighted. Owners' NPVs are at their own discount rates. IRRs and discount rates are "
        f"{basis}.{changed}"
    )
    return table(columns, rows, note=note, row_classes=classes, text_columns=(0,))


# --------------------------------------------------------------------------- parties
def parties_section(valuation: Valuation) -> str:
    """Each party's value at its own rate, its IRR and each government's take; their cash by year."""
    deal = valuation.deal
    b = valuation.info.basis
    summary = valuation.party_summary()
    rates = valuation.party_rates()
    rows = []
    for party, row in summary.iterrows():
        name = str(party)
        role: str = deal.party_role(name)
        if role == "owner":
            role = _owner_role(deal, name)
        elif role == "royalty_holder":
            role = "royalty holder"
        rows.append(
            [
                name,
                role,
                fmt.percent(rates.get(name)),
                fmt.money(row["npv_usd"]),
                fmt.percent(row["irr"]),
                fmt.percent(row["take"]),
            ]
        )
    out = table(
        [
            "Party",
            "Role",
            f"Discount rate (%, {b})",
            f"NPV (US$ M, {b})",
            f"IRR (%, {b})",
            "Government take (%)",
        ],
        rows,
        text_columns=(0,),
        note="Each party's NPV is at its own discount rate. A government's take is its share of the "
        "cash before state take over the life of the deal (levies, duties, dividends and withholding). "
        "An IRR is blank where a party's cash never changes sign.",
    )
    if valuation.parties is not None:
        ledger = valuation.parties
        wanted = [line for line in ledger.lines if line.group is L.Group.PARTY]
        wanted += [L.CASH_BEFORE_STATE_TAKE]  # type: ignore[list-item]
        wanted += [line for line in ledger.lines if line.key.startswith("take:")]
        rows_ = _rows_of(ledger, wanted)
        out += year_table(rows_, list(ledger.years), title="Each party's cash by year", total=True)
    return out


def _company(at: str) -> str:
    """The name of the company whose terms are at ``at`` (``entities.mines`` -> ``mines``)."""
    return at.removeprefix("entities.")


def _owner_role(deal: Deal, name: str) -> str:
    """An owner's role in words: its share of the equity (of each company it owns, in a deal of
    several), and whether that share moves over the life (shares by year, an earn-in)."""
    held = []
    for at, company in deal.companies().items():
        holder = company.equity.get(name)
        if holder is None:
            continue
        earn_in = company.earn_in
        moving = (
            bool(holder.share_by_year) or name in earn_in or any(e.from_ == name for e in earn_in.values())
        )
        held.append((_company(at), fmt.percent(holder.share), moving))
    if not deal.entities:
        _, share, moving = held[0]
        return f"owner, {share} of the equity" + (" at first; it changes over the life" if moving else "")
    said = "; ".join(
        f"{share} of {c}" + (" at first (it changes)" if moving else "") for c, share, moving in held
    )
    return f"owner: {said}"


def _tranches(deal: Deal) -> list[tuple[str, DebtTranche, list[str]]]:
    """Every loan of every company: its name as shown (prefixed with its company in a deal of
    several: ``mines: senior``), the tranche and the phases whose capex it funds."""
    companies = deal.companies()
    out = []
    for at, company in companies.items():
        for name, tranche in company.debt.items():
            shown = f"{_company(at)}: {name}" if len(companies) > 1 else name
            phases = list(tranche.phases) if tranche.phases is not None else deal.company_phases(at)
            out.append((shown, tranche, phases))
    return out


# --------------------------------------------------------------------------- entities
#: The factors the main term of each transfer price is moved by.
_MOVES = (0.8, 1.2)


def _price_terms(deal: Deal, name: str) -> str:
    """A transfer price's formula in words, with its values."""
    t = deal.transfer_prices[name]
    product = deal.streams[t.source].product
    unit = deal.products[product].unit if product in deal.products else "unit"
    if t.basis == "payable":
        text = f"{value_text(t.payable_fraction, 'percent')} of the {product} price"
        if t.charges_usd_per_unit not in (0, 0.0):
            text += f" less US$ {value_text(t.charges_usd_per_unit)} per {unit}"
        return text + ", never below zero"
    if t.basis == "cost_plus":
        return f"{t.source}'s operating cost per {unit} plus a {value_text(t.margin, 'percent')} margin"
    if isinstance(t.price_usd_per_unit, dict | list):
        return f"US$ per {unit} by year: {value_text(t.price_usd_per_unit)}"
    return f"US$ {value_text(t.price_usd_per_unit)} per {unit}"


def _entities_words(deal: Deal, frame: pd.DataFrame) -> str:
    """The companies, who owns each, which feeds cross between them at which price, in words."""
    parts = [f"The deal is {fmt.count(len(deal.entities))} companies."]
    operator = deal.operator()
    for at, company in deal.companies().items():
        name = _company(at)
        phases = deal.company_phases(at)
        owners = ", ".join(f"{o} {fmt.percent(h.share)}" for o, h in company.equity.items())
        earns = "".join(
            f"; {p} earns {fmt.percent(e.stake)} from {e.from_}"
            + (f" at the first output of {e.at_first_output_of}" if e.at_first_output_of else "")
            for p, e in company.earn_in.items()
        )
        loans = f"; it borrows through {', '.join(company.debt)}" if company.debt else ""
        what = f"{'phase' if len(phases) == 1 else 'phases'} {', '.join(phases)}"
        what += ", the operator" if name == operator else ""
        parts.append(f"<b>{esc(name)}</b> ({esc(what)}) is owned by {esc(owners + earns + loans)}.")
    prices = deal.transfer_prices
    if prices:
        feeds = "; ".join(
            f"{esc(t.source)} ({esc(deal.entity_of(t.source))}) feeds {esc(t.to)} "
            f"({esc(deal.entity_of(t.to))}) at a <i>{esc(t.basis.replace('_', '-'))}</i> price, "
            f"{esc(_price_terms(deal, n))}"
            + (", its royalties on the market value" if t.royalty_base == "market" else "")
            for n, t in prices.items()
        )
        crosses = "feed crosses" if len(prices) == 1 else "feeds cross"
        parts.append(f"{fmt.count(len(prices))} {crosses} between them, each at a transfer price: {feeds}.")
    else:
        parts.append("No feed crosses between them, so no transfer price applies.")
    rows = frame.drop(index="project")
    trades = []
    for e, r in rows.iterrows():
        sells, buys = float(r["transfer_sales_usd"]), float(r["transfer_purchases_usd"])
        said = [f"sells US$ {fmt.money(sells)} M" if abs(sells) >= 0.5 else ""]
        said += [f"buys US$ {fmt.money(buys)} M" if abs(buys) >= 0.5 else ""]
        if any(said):
            trades.append(f"{esc(e)} " + " and ".join(x for x in said if x))
    if trades:
        parts.append(
            f"At these prices, in present value, {'; '.join(trades)}: revenue to the seller and a cost to "
            "the buyer, so the price sets each company's taxable income, its levies and each owner's share."
        )
    levies = "; ".join(f"{esc(e)} US$ {fmt.money(float(x))} M" for e, x in rows["levies_usd"].items())
    parts.append(f"Each company pays its own levies (present value): {levies}.")
    return f"<p>{' '.join(parts)}</p>"


def _entity_rows(frame: pd.DataFrame, basis: str) -> str:
    """:meth:`Valuation.entity_table` as an HTML table, the project's row last."""
    columns = ["Entity"]
    for c in frame.columns:
        name = str(c)
        if name in ENTITY_COLUMNS:
            columns.append(f"{ENTITY_COLUMNS[name]} (US$ M, {basis})")
        else:
            columns.append(f"{name.removesuffix('.npv_usd')}: value from it (US$ M, {basis})")
    rows = [
        [str(e), *(fmt.money(float(x)) for x in row.to_numpy(dtype=float))] for e, row in frame.iterrows()
    ]
    return table(
        columns,
        rows,
        caption="Each company and the project",
        row_classes=["total" if str(e) == "project" else "" for e in frame.index],
        note="Present values: a company's flows at the project's rate, each party's cash from the company "
        "at the party's own rate. Transfer sales and purchases are what the companies sell to and buy "
        "from each other; they net to zero in the project, whose row is the sum of the companies'.",
    )


def _prices_table(deal: Deal, valuation: Valuation) -> str:
    """Each transfer price: what it prices (source -> to, with their companies), basis, terms,
    and what it came to: the average price paid per unit and its share of the market price."""
    came = valuation.transfer_table()
    rows = [
        [
            name,
            f"{t.source} ({deal.entity_of(t.source)}) → {t.to} ({deal.entity_of(t.to)})",
            t.basis.replace("_", "-"),
            _price_terms(deal, name),
            "market value" if t.royalty_base == "market" else "transfer value",
            fmt.number(float(came["price_usd_per_unit"].to_numpy()[list(came.index).index(name)])),
            fmt.percent(float(came["share_of_market"].to_numpy()[list(came.index).index(name)])),
            t.description or "",
        ]
        for name, t in deal.transfer_prices.items()
    ]
    return table(
        [
            "Transfer price",
            "Source → to",
            "Basis",
            "Terms",
            "Seller's royalties on",
            "Average price paid (US$/unit)",
            "Share of the market price",
            "What",
        ],
        rows,
        caption="Transfer prices",
        text_columns=(0, 1, 2, 3, 6),
        note="Per unit of the contained feed product (the feed product's price unit); the average "
        "over the life, undiscounted, against the feed's market price over the same units. Income "
        "taxes always see the transfer price.",
    )


def _price_moves(deal: Deal) -> tuple[list[tuple[str, str, float, float]], Valuation, list[str]]:
    """The deal valued as it is and with the main term of each transfer price at 0.8x and 1.2x
    its value (kept within its limits), in one run: the cases (transfer price, path, factor,
    value valued; the first is the deal as it is), the valuation and its metrics."""
    leaves = numeric_leaves(deal)
    cases: list[tuple[str, str, float, float]] = [("", "", 1.0, float("nan"))]
    for name, t in deal.transfer_prices.items():
        path = f"transfer_prices.{name}.{t.main_term}"
        low, high = limits(path, deal)
        for factor in _MOVES:
            cases.append((name, path, factor, float(np.clip(leaves[path] * factor, low, high))))
    overrides: dict[str, npt.NDArray[np.float64]] = {}
    for k, (_, path, _, value) in enumerate(cases):
        if path:
            overrides.setdefault(path, np.full(len(cases), leaves[path]))[k] = value
    metrics = ["npv_usd", *(f"{e}.levies_usd" for e in deal.entities)]
    metrics += [f"{o}.npv_usd" for o in deal.owner_names()]
    moved = evaluate(deal, overrides=overrides, metrics=metrics, keep_ledger=False)
    return cases, moved, metrics


def _moves_table(deal: Deal, basis: str) -> str:
    """How each transfer price's main term moves each company's levies and each owner's value."""
    cases, moved, metrics = _price_moves(deal)
    leaves = numeric_leaves(deal)
    whole = schedule_paths(deal)
    columns = ["Transfer price", "Term", "Value"]
    for m in metrics:
        who, _, what = m.rpartition(".")
        if not who:
            columns.append(f"Project NPV (US$ M, {basis})")
        elif what == "levies_usd":
            columns.append(f"Levies paid by {who} (US$ M, {basis})")
        else:
            columns.append(f"{who}: NPV (US$ M, {basis})")
    rows, classes = [], []
    for k, (name, path, _, value) in enumerate(cases):
        numbers = [fmt.money(float(moved.values[m][k])) for m in metrics]
        if not path:
            rows.append(["as valued", "", "", *numbers])
            classes.append("chosen")
            continue
        term = path.rpartition(".")[2]
        if path in whole:  # a schedule: the value is the factor on every year
            shown = f"{value:.2f}× the schedule"
        else:
            kind = "number" if term == "price_usd_per_unit" else "percent"
            ratio = f" ({value / leaves[path]:.2f}×)" if leaves[path] else ""
            shown = value_text(value, kind) + ratio
        rows.append([name, term, shown, *numbers])
        classes.append("")
    return table(
        columns,
        rows,
        caption="How the transfer price moves value",
        text_columns=(0, 1),
        row_classes=classes,
        note=(
            "The deal valued again with the main term of each transfer price (its payable fraction, "
            f"margin or price) at {' and '.join(f'{f:g}×' for f in _MOVES)} its value, one at a time, "
            "everything else as valued (a value stays within what the scenario file allows). Levies at "
            "the project's rate, each owner at its own rate. What the selling company gains the buying "
            "company loses; the project moves only through the levies."
        ),
    )


def entities_section(valuation: Valuation) -> str:
    """A deal of several companies: who owns each and which feeds cross between them at which
    transfer price (in words), each company's transfers, cash before levies, levies, after-tax NPV and
    each party's value from it (:meth:`Valuation.entity_table`), the transfer prices, and how
    moving each price moves each company's levies and each owner's value.

    Examples
    --------
    >>> import dealcalc as dc
    >>> v = dc.evaluate(dc.load(dc.example_path("ussm-fwo")), "terms_two_companies", keep_ledger=True)
    >>> html = entities_section(v)
    >>> "How the transfer price moves value" in html and "mines: value from it" not in html
    True
    """
    deal = valuation.deal
    basis = valuation.info.basis
    frame = valuation.entity_table()
    out = _entities_words(deal, frame) + _entity_rows(frame, basis)
    if deal.transfer_prices:
        out += _prices_table(deal, valuation) + _moves_table(deal, basis)
    return out


# --------------------------------------------------------------------------- production
def terms_section(space: TermsGrid, deal: Deal, basis: str) -> str:
    """The negotiation space of two terms (methodology §30): which points every party accepts
    (else who is below its walk-away value), and each party's value over the grid."""
    x_path, xs = space.x
    y_path, ys = space.y
    x_label, y_label = param_label(x_path, deal), param_label(y_path, deal)
    money = space.metric == "npv_usd"
    limits = ", ".join(
        f"{p} {fmt.money(v) + ' US$ M' if money else fmt.percent(v)}" for p, v in space.walk_away.items()
    )
    accepted = space.accepted.to_numpy()
    words = (
        f"<p>Each party's {'NPV at its own discount rate' if money else 'IRR'} ({basis}) over "
        f"{xs.size} values of {esc(x_label)} (rows) and {ys.size} of {esc(y_label)} (columns), "
        f"valued as one block of scenarios; every party accepts a point where its value is at "
        f"least its walk-away value ({esc(limits) or 'none stated'}). Every party accepts "
        f"{int(accepted.sum())} of {accepted.size} points ({fmt.percent(float(accepted.mean()))}).</p>"
    )
    rows = []
    for i, x in enumerate(xs):
        cells = []
        for j in range(ys.size):
            if accepted[i, j]:
                cells.append("✓")
            else:
                below = [
                    p for p, v in space.walk_away.items() if not float(space.values[p].to_numpy()[i, j]) >= v
                ]
                cells.append(", ".join(below))
        rows.append([param_value(x_path, float(x)), *cells])
    head = [f"{x_label} ↓ / {y_label} →", *(param_value(y_path, float(y)) for y in ys)]
    out = words + table(
        head,
        rows,
        caption="Where every party accepts",
        note="✓: every party accepts; else the parties below their walk-away value.",
        text_columns=list(range(ys.size)),
    )
    for party, frame in space.values.items():
        values = [
            [
                param_value(x_path, float(x)),
                *(fmt.money(v) if money else fmt.percent(v) for v in frame.to_numpy()[i]),
            ]
            for i, x in enumerate(xs)
        ]
        unit = f"US$ M, {basis}" if money else f"%, {basis}"
        out += table(head, values, caption=f"{party}: {'NPV' if money else 'IRR'} ({unit})")
    return out


def production_section(valuation: Valuation) -> str:
    """Units mined, made, bought and sold by product and year, the prices valued, and the
    revenue of each product."""
    deal = valuation.deal
    deck = deal.price_decks.get(deal.valuation.price_deck, {})
    prices = [
        [product, spec.unit, value_text(deck.get(product), "number") if product in deck else fmt.MISSING]
        for product, spec in deal.products.items()
    ]
    out = table(
        ["Product", "Unit", "Price (US$ per unit)"],
        prices,
        caption=f"Prices of the {deal.valuation.price_deck} deck ({valuation.info.basis_text} US$)",
        text_columns=(0,),
    )
    if valuation.balance is None or valuation.ledger is None:
        return out
    balance = valuation.material_balance()
    years = [int(y) for y in balance.columns]
    rows = []
    for key, values in balance.iterrows():
        stream, flow, unit = (str(k) for k in cast(tuple[object, ...], key))
        numbers = values.to_numpy(dtype=float)
        if np.any(numbers != 0):
            rows.append(Row(f"{stream}: {flow} ({unit})", numbers, "number", total=True))
    out += year_table(rows, years, title="Production and sales by product (units a year)", total=True)
    ledger = valuation.ledger
    revenue = [line for line in ledger.lines if line.group is L.Group.REVENUE]
    out += year_table(_rows_of(ledger, revenue), list(ledger.years), title="Revenue by product", total=True)
    return out + (
        '<p class="caption">A mine stream shows units mined (contained in the ore) and recovered; a '
        "processing stream what it was fed, bought, lost and made; every stream what it sold or fed to "
        "another. Recovered (or made) = sold + fed to others in every year.</p>"
    )


# --------------------------------------------------------------------------- capital
def capital_section(valuation: Valuation) -> str:
    """Capital by phase, and the uses and sources of funds by year."""
    deal = valuation.deal
    b = valuation.info.basis
    rows = []
    tranches = _tranches(deal)
    for name, phase in deal.phases.items():
        loans = [shown for shown, _, phases in tranches if name in phases]
        start = phase.start_year + phase.delay_years
        rows.append(
            [
                name,
                phase.description or "",
                str(start),
                value_text(phase.capex_usd, "money"),
                "by year as given"
                if isinstance(phase.capex_usd, dict)
                else value_text(list(phase.capex_schedule), "percent"),
                value_text(phase.sustaining_capex_usd_per_year, "money"),
                ", ".join(loans) or "equity",
            ]
        )
    out = table(
        ["Phase", "What", "Start", f"Capex (US$ M, {b})", "Spent by year", "Sustaining (US$ M/yr)", "Loans"],
        rows,
        text_columns=(0, 3, 5),
        caption="Capital by phase",
    )
    if valuation.ledger is None or valuation.parties is None:
        return out
    ledger, parties = valuation.ledger, valuation.parties
    uses = _rows_of(ledger, [L.INITIAL_CAPEX, L.SUSTAINING_CAPEX, L.WORKING_CAPITAL, L.CLOSURE], "uses")
    sources = _rows_of(parties, [L.DEBT_DRAWN, L.INTEREST_CAPITALISED, L.DEBT_FEES])
    owners = [L.party_cash(o) for o in deal.owner_names()]
    owner_rows = _rows_of(parties, owners)
    put_in = sum((np.minimum(r.values, 0.0) for r in owner_rows), np.zeros(len(parties.years)))
    equity = Row("Equity put in by the owners (US$ M)", -np.asarray(put_in, dtype=float), "money", "total")
    every = [*uses, *sources, equity, *owner_rows]
    active = [t for t in range(len(ledger.years)) if any(abs(float(r.values[t])) > 0.5 for r in every)]
    years = [int(ledger.years[t]) for t in active]
    picked = [Row(r.label, np.asarray(r.values, dtype=float)[active], r.kind, r.cls, r.total) for r in every]
    out += year_table(picked, years, title="Uses and sources of funds (years with any)", total=True)
    return out + (
        '<p class="caption">Uses are negative (cash out of the project); debt drawn is what the '
        "loans pay in; each owner's net cash is negative in the years it puts equity in. Working "
        "capital turns positive when it is released at the end.</p>"
    )


# --------------------------------------------------------------------------- debt
def debt_section(valuation: Valuation) -> str:
    """Each loan's terms and sizing, the debt schedule and the cover ratios (DSCR, LLCR)."""
    deal = valuation.deal
    if not deal.borrows:
        return "<p>The deal has no debt: the owners fund it all.</p>"
    rows = []
    for name, t, phases in _tranches(deal):
        if t.target_dscr is not None:
            sizing = f"sized at a {fmt.ratio(t.target_dscr)} DSCR"
            if t.share_of_capex is not None:
                sizing += f", at most {fmt.percent(t.share_of_capex)} of capex"
        elif t.share_of_capex is not None:
            sizing = f"{fmt.percent(t.share_of_capex)} of capex"
        else:
            sizing = "—"
        rows.append(
            [
                name,
                ", ".join(phases) if t.phases or deal.entities else "every phase",
                sizing,
                f"{fmt.percent(t.interest_rate)} {t.interest_rate_basis}",
                f"{t.tenor_years} after {t.grace_years} of grace",
                t.repayment,
                fmt.percent(t.upfront_fee),
            ]
        )
    out = table(
        ["Loan", "Phases", "Sizing", "Interest", "Tenor (years)", "Repayment", "Upfront fee"],
        rows,
        text_columns=(0, 1, 3, 4),
        caption="Loans and how they are sized",
    )
    parties = valuation.parties
    if parties is None or not parties.has(L.DEBT_BALANCE):
        return out
    wanted = [
        L.DEBT_DRAWN,
        L.INTEREST_CAPITALISED,
        L.INTEREST_PAID,
        L.PRINCIPAL,
        L.DEBT_FEES,
        L.DEBT_BALANCE,
        L.DSCR,
        L.LLCR,
    ]
    rows_ = [
        dataclasses.replace(r, total=False)
        if r.label.startswith((L.DEBT_BALANCE.label, "DSCR", "LLCR"))
        else r
        for r in _rows_of(parties, wanted)
    ]
    several = ""
    if valuation.entities is not None and len(deal.entities) > 1:
        for name, (_, own) in valuation.entities.items():
            if deal.entities[name].debt and own.has(L.DSCR):
                rows_.append(Row(f"DSCR of {name} (×)", own.line(L.DSCR)[0], "ratio", total=False))
        several = (
            " With several companies each borrows on its own cash flow: the project's DSCR and LLCR are "
            "each year the lowest of the companies that borrow, and each company's DSCR is shown."
        )
    every = [np.asarray(r.values, dtype=float) for r in rows_]
    active = [
        t for t in range(len(parties.years)) if any(abs(v[t]) > 0.5 for v in every if np.isfinite(v[t]))
    ]
    years = [int(parties.years[t]) for t in active]
    picked = [Row(r.label, np.asarray(r.values, dtype=float)[active], r.kind, r.cls, r.total) for r in rows_]
    out += year_table(picked, years, title="Debt schedule and cover (years with debt)", total=True)
    v = valuation.values
    debt = float(v["debt_usd"][0]) if "debt_usd" in v else float(np.nansum(parties.line(L.DEBT_DRAWN)[0]))
    low = float(v["min_dscr"][0]) if "min_dscr" in v else float(np.nanmin(parties.line(L.DSCR)[0]))
    return out + (
        f'<p class="caption">The loans lend US$ {fmt.money(debt)} M in all. The DSCR is the cash flow '
        f"available for debt service over the debt service (interest and principal) of the year; its "
        f"lowest is {fmt.ratio(low)}. The LLCR is the present value of that cash flow over the loan's "
        f"life divided by the balance. Blank: no debt service that year.{several}</p>"
    )


# --------------------------------------------------------------------------- tariffs
def tariff_section(attribution: pd.DataFrame, deal: Deal, label: str, basis: str) -> str:
    """Each party's NPV under each tariff schedule of the chosen scenario, and the changes."""
    columns = ["Party"]
    for c in attribution.columns:
        kind, _, what = str(c).partition(": ")
        if kind == "npv_usd":
            columns.append(f"NPV under {what} (US$ M, {basis})")
        else:
            a, _, b = what.partition(" -> ")
            columns.append(f"Change {a} → {b} (US$ M)")
    rows = [[str(p), *(fmt.money(float(x)) for x in row)] for p, row in attribution.iterrows()]
    spec = deal.trade.attribution
    described = []
    for c in attribution.columns:
        kind, _, what = str(c).partition(": ")
        schedule = deal.trade.schedules.get(what) if kind == "npv_usd" else None
        if schedule is not None and schedule.description:
            described.append(f"{what}: {schedule.description}")
    dest = spec.destination if spec else ""
    note = (
        f"Valued from {label}: the destination {dest}'s tariff schedule switched, all else as in this "
        "run. Each party at its own discount rate, the project at the project rate; the two last rows "
        "are memos at the destination government's rate. " + " ".join(f"{d}." for d in described)
    )
    return table(columns, rows, note=note)


# --------------------------------------------------------------------------- sensitivity and risk
def tornado_section(tornado: pd.DataFrame, deal: Deal, basis: str, top: int = 12) -> str:
    """The inputs that move the NPV most, one at a time, with their sources, and a caption."""
    rows = []
    for path, row in tornado.head(top).iterrows():
        p = str(path)
        kind, unit = unit_of_path(deal, p)
        prov = deal.provenance.get(p)
        rows.append(
            [
                p,
                " ".join(s for s in (value_text(row["base_value"], kind), unit) if s and s != "%"),
                value_text(row["low_value"], kind),
                value_text(row["high_value"], kind),
                fmt.money(row["metric_at_low"]),
                fmt.money(row["metric_at_high"]),
                fmt.money(row["swing"]),
                (prov.label if prov and prov.label else "unlabelled"),
                (prov.source if prov and prov.source else "—"),
            ]
        )
    out = table(
        [
            "Input",
            "Value",
            "Low",
            "High",
            f"NPV at low (US$ M, {basis})",
            f"NPV at high (US$ M, {basis})",
            "Swing (US$ M)",
            "Label",
            "Source",
        ],
        rows,
        text_columns=(6, 7),
    )
    if len(tornado):
        first = tornado.iloc[0]
        kind, unit = unit_of_path(deal, str(tornado.index[0]))
        unit = "" if unit in ("%", "") else f" {unit}"
        out += (
            f'<p class="caption">Each input moves alone from its low to its high value (±20 % unless '
            f"the file gives a range), every other input at its value in this run. The widest swing is "
            f"<b>{esc(tornado.index[0])}</b>: from {value_text(first['low_value'], kind)}{esc(unit)} to "
            f"{value_text(first['high_value'], kind)}{esc(unit)} it moves the NPV from "
            f"US$ {fmt.money(first['metric_at_low'])} M "
            f"to US$ {fmt.money(first['metric_at_high'])} M. Inputs labelled <i>assumption</i> near the "
            "top are the ones to challenge first.</p>"
        )
    return out


def monte_carlo_section(mc: MonteCarlo, basis: str) -> str:
    """The distribution of each metric in plain words and a table."""
    summary = mc.summary()
    rows = []
    for name, row in summary.iterrows():
        n = str(name)
        rows.append(
            [
                _label(n, basis),
                fmt.cell(n, row["mean"]),
                fmt.cell(n, row["p10"]),
                fmt.cell(n, row["p50"]),
                fmt.cell(n, row["p90"]),
                fmt.percent(row["prob_negative"]),
                fmt.count(row["no_solution"]),
            ]
        )
    out = table(
        ["Metric", "Mean", "P10", "P50 (median)", "P90", "Chance below 0", "Draws without a value"], rows
    )
    if "npv_usd" in summary.index:
        s = {str(k): float(x) for k, x in summary.to_dict(orient="index")["npv_usd"].items()}
        out += (
            f'<p class="caption">Across {fmt.count(mc.n)} draws ({esc(mc.method)}, seed {mc.seed}), the '
            f"project NPV has a 10 % chance of being below US$ {fmt.money(s['p10'])} M, an even chance of "
            f"being above US$ {fmt.money(s['p50'])} M and a 10 % chance of being above "
            f"US$ {fmt.money(s['p90'])} M; it is negative in {fmt.percent(s['prob_negative'])} of the draws. "
            f"Values are discounted at the file's rates ({basis}), not a de-risked rate. A party's IRR is "
            "counted as without a value in draws where its cash never changes sign.</p>"
        )
    if mc.built:
        gates = mc.gate_summary()
        words = {"p_continuity": "Continuity holds (% of draws)", "p_built": "Built (% of draws)"}
        grows = [[str(g), *(fmt.percent(float(x)) for x in r.to_numpy())] for g, r in gates.iterrows()]
        out += table(
            ["Phase", *(words.get(str(c), fmt.header(str(c))) for c in gates.columns)],
            grows,
            caption="Phase gates",
        )
        options = [[_label(str(m), basis), fmt.money(float(x))] for m, x in mc.option_value().items()]
        out += table(
            ["Metric", "Value of the option to stop (US$ M)"],
            options,
            caption="Value of the option to stop at the gates",
            note="What the right to stop a phase at its gate on its price hurdles adds to each value: the "
            "mean with the gates decided by the file's rules, less the mean building whenever continuity "
            "holds.",
        )
    return out


# --------------------------------------------------------------------------- ledger
def ledger_section(valuation: Valuation) -> str:
    """Every line of the ledger for every year, lines down and years across, in blocks."""
    assert valuation.ledger is not None
    ledger = valuation.ledger
    cash = [line for line in ledger.lines if line.cash]
    memo = [line for line in ledger.lines if not line.cash]
    rows = _rows_of(ledger, cash)
    rows += _rows_of(ledger, list(ledger.subtotals), "subtotal")
    rows += [dataclasses.replace(r, total=False) for r in _rows_of(ledger, memo, "memo")]
    return year_table(rows, list(ledger.years), title="Ledger", total=True) + (
        '<p class="caption">Cash lines are signed: inflows positive, outflows negative; subtotals '
        "(bold) are sums of the lines above them; memo lines (grey) are shown for reference, add "
        "into nothing and have no total (some are balances).</p>"
    )


# --------------------------------------------------------------------------- assumptions
def _bare(a: Assumption) -> str:
    """The value without its per cent signs when the unit column says ``%``."""
    return a.value.replace(" %", "") if a.unit == "%" else a.value


def assumptions_section(deal: Deal, valued: Deal, scenario: str | None) -> str:
    """Every input with a recorded source (and every input this run changed) with its value, unit,
    label, source and as-of date; then the other numeric inputs with their values."""
    sourced, other = assumptions(deal, valued, scenario)
    cols = ["Input", "Value", "Unit", "Label", "Source", "As of", "Changed in this run"]
    rows = [[a.path, _bare(a), a.unit, a.label, a.source, a.as_of, a.changed or ""] for a in sourced]
    out = table(
        cols,
        rows,
        text_columns=(1, 2, 3, 4, 5),
        row_classes=["changed" if a.changed else "" for a in sourced],
        cls="assumptions",
        caption="Inputs with a recorded label or source, and every input this run changed",
    )
    if other:
        out += table(
            ["Input", "Value", "Unit"],
            [[a.path, _bare(a), a.unit] for a in other],
            text_columns=(1,),
            cls="assumptions",
            caption="Every other numeric input (no label or source recorded in the file)",
        )
    return out
