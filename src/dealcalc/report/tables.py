"""Rich terminal tables of results.

Every number is formatted by :mod:`dealcalc.formatting` (money in US$ million with the unit in
the header, percentages, years to one decimal; never scientific notation nor ``-0.0``); every
IRR column says its basis where the table knows it; parameter paths are shown in words with
their unit (:func:`dealcalc.analyses.display.param_label`). Each table is a
:class:`~dealcalc.analyses.display.FitTable`: on a narrow console its headers and text wrap
and its columns split into several tables, but a number is never cut. With ``run=`` (a
:class:`~dealcalc.analyses.provenance.RunInfo`) the title names the run and the caption
carries its record.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from rich.table import Table

from dealcalc import formatting as fmt
from dealcalc.analyses.display import (
    FitTable,
    column_header,
    param_label,
    param_value,
    run_caption,
    run_title,
    source_label,
)
from dealcalc.analyses.evaluate import ENTITY_COLUMNS
from dealcalc.errors import InputError

if TYPE_CHECKING:
    from dealcalc.analyses.provenance import RunInfo
    from dealcalc.models import Deal

__all__ = [
    "attribution_table",
    "compare_table",
    "contributions_table",
    "entity_table",
    "flow_metrics_table",
    "frame_table",
    "indices_table",
    "lenders_table",
    "montecarlo_table",
    "party_table",
    "tornado_table",
    "valuation_table",
]


def _f(x: object) -> float:
    return float("nan") if x is None else float(x)  # type: ignore[arg-type]


def _table(title: str | None, caption: str | None, run: RunInfo | None, **kwargs: Any) -> FitTable:
    return FitTable(title=run_title(title, run), caption=run_caption(caption, run), **kwargs)


def _basis(explicit: str | None, run: RunInfo | None, attrs: dict[Any, Any] | None = None) -> str | None:
    """The basis (real or nominal) the IRRs of a table are in, where it is known."""
    if explicit:
        return explicit
    if run is not None:
        return run.basis
    recorded = (attrs or {}).get("run")
    return getattr(recorded, "basis", None)


def _points(x: float) -> str:
    """A change of a rate in percentage points, signed (``+11.9``); never ``-0.0``."""
    text = fmt.percent(x).removesuffix(" %")
    return text if text in (fmt.MISSING, "0.0") or text.startswith("-") else "+" + text


def _bare_percent(x: float) -> str:
    return fmt.percent(x).removesuffix(" %")


def _unit(name: str) -> str:
    return fmt.unit_of(fmt.kind_of(name))


def _with_unit(label: str, name: str, basis: str | None = None) -> str:
    """``label (unit)`` in the unit of the quantity ``name``; an IRR also says its basis."""
    unit = _unit(name)
    if basis and unit == "%" and name.rsplit(".", 1)[-1].endswith("irr"):
        unit = f"%, {basis}"
    return f"{label} ({unit})" if unit else label


def flow_metrics_table(df: pd.DataFrame, *, title: str | None = None, run: RunInfo | None = None) -> Table:
    """A rich table of :func:`dealcalc.flow_metrics` output, one row per series.

    The series are in the units of the file (NPV to two decimals, not rescaled); IRR and MIRR are in per
    cent, paybacks in periods; "—" marks no solution; a non-conventional series (several sign
    changes, so possibly several IRRs) is marked with "*".

    Examples
    --------
    >>> import io
    >>> import dealcalc as dc
    >>> from rich.console import Console
    >>> df = dc.flow_metrics([[-5.0, 1.5, 2.0, 2.0, 1.5]], 0.10, names=["M2"])
    >>> console = Console(width=80, record=True, file=io.StringIO())
    >>> console.print(flow_metrics_table(df))
    >>> "14.9 %" in console.export_text()
    True
    """
    table = _table(title, "— no solution; * several sign changes (see MIRR)", run)
    table.add_column("series", kind="key", style="bold")
    names = ["NPV", "IRR (%)", "MIRR (%)", "Payback (periods)", "Discounted payback (periods)", "PI"]
    dated = "xirr" in df.columns
    if dated:
        names += ["XNPV", "XIRR (%)"]
    for name in names:
        table.add_column(name)
    for label, row in df.iterrows():
        flag = "" if bool(row["conventional"]) else " *"
        cells = [
            f"{label}{flag}",
            fmt.money(_f(row["npv"]), digits=2, scale=1.0),
            fmt.percent(_f(row["irr"])),
            fmt.percent(_f(row["mirr"])),
            fmt.years(_f(row["payback_periods"])),
            fmt.years(_f(row["discounted_payback_periods"])),
            fmt.number(_f(row["profitability_index"]), significant=3),
        ]
        if dated:
            cells += [fmt.money(_f(row["xnpv"]), digits=2, scale=1.0), fmt.percent(_f(row["xirr"]))]
        table.add_row(*cells)
    return table


def valuation_table(
    headline: dict[str, object], *, title: str | None = None, run: RunInfo | None = None
) -> Table:
    """A rich table of a valuation's headline numbers (:meth:`dealcalc.Valuation.headline`).

    Examples
    --------
    >>> import io
    >>> import dealcalc as dc
    >>> from rich.console import Console
    >>> v = dc.evaluate(dc.load(dc.example_path("ussm-fwo")))
    >>> console = Console(width=80, record=True, file=io.StringIO())
    >>> console.print(valuation_table(v.headline(), run=v.info))
    >>> text = console.export_text()
    >>> "IRR after tax (%, real)" in text and "11.5 %" in text and "base case" in text
    True
    """
    basis = _basis(str(headline.get("basis") or "") or None, run)
    table = _table(title, None, run, show_header=False)
    table.add_column("metric", kind="key", style="bold")
    table.add_column("value")
    payback_from = (
        "first production" if headline.get("payback_from") == "first_production" else "valuation date"
    )
    rate = fmt.percent(_f(headline.get("discount_rate")))
    rows = [
        (_with_unit("NPV after tax", "npv_usd"), fmt.money(_f(headline["npv_usd"]))),
        (_with_unit("IRR after tax", "irr", basis), fmt.percent(_f(headline["irr"]))),
        (_with_unit("NPV pre-tax", "npv_usd"), fmt.money(_f(headline["pre_tax_npv_usd"]))),
        (_with_unit("IRR pre-tax", "irr", basis), fmt.percent(_f(headline["pre_tax_irr"]))),
        (f"Payback from {payback_from} (years)", fmt.years(_f(headline["payback_years"]))),
        ("Peak funding need (US$ M)", fmt.money(_f(headline["peak_funding_usd"]))),
        ("Discount rate" + (f" ({basis})" if basis else ""), rate),
        ("Timing, price deck", f"{headline.get('timing')}, {headline.get('price_deck')}"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table


def compare_table(
    df: pd.DataFrame, *, title: str | None = None, basis: str = "real", run: RunInfo | None = None
) -> Table:
    """A rich table of :func:`dealcalc.compare`: every scenario with its change against the base,
    and each owner's NPV at its own rate; IRRs in the deal's ``basis``.

    Examples
    --------
    >>> import io
    >>> import dealcalc as dc
    >>> from rich.console import Console
    >>> df = dc.compare(dc.load(dc.example_path("ussm-fwo")))
    >>> console = Console(width=80, record=True, file=io.StringIO())
    >>> console.print(compare_table(df))
    >>> text = console.export_text()
    >>> "(%, real)" in text and "+11.9" in text and max(map(len, text.splitlines())) <= 80
    True
    """
    parties = [c for c in df.columns if str(c).endswith((".npv_usd", ".irr", ".take"))]
    caption = (
        "— no solution or no such party; each party's NPV at its own discount rate; take: a state's share"
    )
    table = _table(title, caption, run)
    table.add_column("scenario", kind="key", style="bold")
    for name in ("NPV (US$ M)", "Δ NPV (US$ M)", f"IRR (%, {basis})", "Δ IRR (points)"):
        table.add_column(name)
    for c in parties:
        table.add_column(column_header(str(c), basis=basis))
    table.add_column("Payback (years)")
    table.add_column("description", kind="text")
    for label, row in df.iterrows():
        table.add_row(
            str(label),
            fmt.money(_f(row["npv_usd"])),
            fmt.money(_f(row["npv_change_usd"])),
            fmt.percent(_f(row["irr"])),
            _points(_f(row["irr_change"])),
            *(fmt.cell(str(c), _f(row[c])) for c in parties),
            fmt.years(_f(row["payback_years"])),
            str(row["description"] or ""),
        )
    return table


def party_table(
    headline: dict[str, object], *, title: str | None = None, run: RunInfo | None = None
) -> Table:
    """A rich table of each party's NPV (at its own rate), IRR and, for a state, its take.

    Examples
    --------
    >>> import io
    >>> import dealcalc as dc
    >>> from rich.console import Console
    >>> head = dc.evaluate(dc.load(dc.example_path("ussm-fwo"))).headline()
    >>> console = Console(width=80, record=True, file=io.StringIO())
    >>> console.print(party_table(head))
    >>> text = " ".join(console.export_text().split())
    >>> "(%, real)" in text and "16.1 %" in text  # USSM discounts at 19 % nominal: 16.1 % real
    True
    """
    basis = _basis(str(headline.get("basis") or "") or None, run)
    table = _table(
        title, "each party's NPV at its own discount rate; take: share of the cash before state take", run
    )
    table.add_column("party", kind="key", style="bold")
    for name in (
        f"Discount rate (%, {basis})" if basis else "Discount rate (%)",
        "NPV (US$ M)",
        _with_unit("IRR", "irr", basis),
        "Government take (%)",
    ):
        table.add_column(name)
    parties = headline.get("parties") or {}
    assert isinstance(parties, dict)
    for party, values in parties.items():
        table.add_row(
            str(party),
            fmt.percent(_f(values.get("discount_rate"))),
            fmt.money(_f(values.get("npv_usd"))),
            fmt.percent(_f(values.get("irr"))),
            fmt.percent(_f(values.get("take"))) if "take" in values else "",
        )
    return table


def entity_table(df: pd.DataFrame, *, title: str | None = None, run: RunInfo | None = None) -> Table:
    """A rich table of a deal's entities (:meth:`dealcalc.Valuation.entity_table`): what each
    sells to and buys from the others, its pre-tax cash, levies and after-tax NPV at the
    project's rate, and each party's value from it at the party's rate; the project's row last.

    Examples
    --------
    >>> import io
    >>> import dealcalc as dc
    >>> from rich.console import Console
    >>> v = dc.evaluate(dc.load(dc.example_path("ussm-fwo")), "terms_two_companies")
    >>> console = Console(width=250, record=True, file=io.StringIO())
    >>> console.print(entity_table(v.entity_table()))
    >>> text = console.export_text()
    >>> "Levies paid (US$ M)" in text and "refinery" in text and "ussm (US$ M)" in text
    True
    """
    table = _table(
        title,
        "present values in US$ M: the entity's flows at the project's rate, each party's cash from "
        "the entity at the party's own rate; the transfers net to zero in the project",
        run,
    )
    table.add_column("entity", kind="key", style="bold")
    for column in df.columns:
        label = ENTITY_COLUMNS.get(str(column), str(column).removesuffix(".npv_usd"))
        table.add_column(f"{label} (US$ M)")
    for name, row in df.iterrows():
        table.add_row(str(name), *(fmt.money(_f(row[c])) for c in df.columns))
    return table


def attribution_table(df: pd.DataFrame, *, title: str | None = None, run: RunInfo | None = None) -> Table:
    """A rich table of :func:`dealcalc.tariff_attribution`: NPV per party under each schedule,
    then the change from one schedule to the next (US$ million).

    Examples
    --------
    >>> import io
    >>> import dealcalc as dc
    >>> from rich.console import Console
    >>> df = dc.tariff_attribution(dc.load(dc.example_path("ussm-fwo")))
    >>> console = Console(width=80, record=True, file=io.StringIO())
    >>> console.print(attribution_table(df))
    >>> "…" in console.export_text()
    False
    """
    memo = any(":" in str(label) for label in df.index)
    caption = "NPV of each party at its own discount rate" + (
        "; the rows with a colon are memos, not parties: the duty the destination's government "
        "collects and the part of it its buyers bear (the rest is borne by the exporter)"
        if memo
        else ""
    )
    table = _table(title, caption, run)
    table.add_column("party", kind="key", style="bold")
    for column in df.columns:
        kind, _, name = str(column).partition(": ")
        name = name.replace(" -> ", " → ") or kind
        table.add_column(("Δ " if kind == "change_usd" else "NPV, ") + f"{name} (US$ M)")
    for party, row in df.iterrows():
        table.add_row(str(party), *(fmt.money(_f(x)) for x in row))
    return table


def _metric_cell(metric: str, x: float) -> str:
    """A value of ``metric``: US$ million for money, per cent for a rate or take, and so on."""
    return fmt.cell(metric, _f(x))


def tornado_table(
    df: pd.DataFrame,
    *,
    title: str | None = None,
    width: int = 24,
    run: RunInfo | None = None,
    deal: Deal | None = None,
) -> Table:
    """A rich table of :func:`dealcalc.tornado`, largest swing first, with a bar per row.

    The bar spans the metric from its value at the low to its value at the high input, on
    one scale for all rows; ``|`` marks the base case. Parameters are named in words with the
    unit their low and high values are shown in (with ``deal``, a price's unit too).

    Examples
    --------
    >>> import io
    >>> import dealcalc as dc
    >>> from rich.console import Console
    >>> deal = dc.load(dc.example_path("ussm-fwo"))
    >>> t = dc.tornado(deal, ["fiscal.royalty_rate", "phases.refinery.capex_usd"])
    >>> console = Console(width=120, record=True, file=io.StringIO())
    >>> console.print(tornado_table(t, width=10, deal=deal))
    >>> "Refinery capex (US$ M)" in console.export_text()
    True
    """
    if isinstance(width, bool) or not isinstance(width, int) or width < 1:
        raise InputError(
            f"{width!r} is not a bar width",
            field="width",
            expected="a whole number of characters, at least 1",
        )
    metric = str(df.attrs.get("metric", "npv_usd"))
    basis = _basis(None, run, df.attrs)
    base = _f(df.attrs.get("base_metric"))
    shown = column_header(metric, basis=basis)
    caption = f"{shown} at the low and the high input; base case: {_metric_cell(metric, base)}"
    if clipped := df.attrs.get("clipped"):
        caption += "; held at the field's limit: " + ", ".join(
            f"{param_label(str(c), deal, unit=False)} ({c})" for c in clipped
        )
    table = _table(title, caption, run)
    unit = _unit(metric)
    suffix = f" ({unit})" if unit else ""
    table.add_column("parameter", kind="key", style="bold")
    table.add_column("base value")
    table.add_column("input low → high")
    for name in ("at low", "at high", "swing"):
        table.add_column(name + suffix)
    table.add_column("", kind="fixed", min_width=width)
    ends = np.concatenate([df["metric_at_low"].to_numpy(), df["metric_at_high"].to_numpy(), [base]])
    ends = ends[np.isfinite(ends)]
    lo, hi = (float(ends.min()), float(ends.max())) if ends.size else (0.0, 1.0)
    scale = (width - 1) / (hi - lo) if hi > lo else 0.0

    def pos(x: float) -> int:
        return round((x - lo) * scale) if math.isfinite(x) else 0

    kinds: dict[str, str] = dict(df.attrs.get("kinds") or {})
    for parameter, row in df.iterrows():
        a, b = sorted((pos(row["metric_at_low"]), pos(row["metric_at_high"])))
        bar = [" "] * width
        for i in range(a, b + 1):
            bar[i] = "█"
        if math.isfinite(base):
            bar[pos(base)] = "|"
        path = str(parameter)
        kind = kinds.get(path, "input")
        plain = kind == "input" and "*" not in path and "base_value" in row.index
        table.add_row(
            param_label(path, deal),
            param_value(path, float(row["base_value"]), like=float(row["high_value"]))
            if plain
            else fmt.MISSING,
            _moves(path, kind, row["low_value"], row["high_value"]),
            _metric_cell(metric, row["metric_at_low"]),
            _metric_cell(metric, row["metric_at_high"]),
            _metric_cell(metric, row["swing"]),
            "".join(bar),
        )
    return table


def _moves(path: str, kind: str, low: float, high: float) -> str:
    """A tornado row's low → high: a factor for a price path or a pattern (``phases.*.capex_usd``
    scales every match), off → on for a switch, years for events, else the parameter's value.

    Examples
    --------
    >>> _moves("phases.*.capex_usd", "input", 0.95, 1.3), _moves("china", "switch", 0.0, 1.0)
    ('×0.95 → ×1.30', 'off → on')
    >>> _moves("disruptions", "events", 0.0, 4.0), _moves("fiscal.royalty_rate", "input", 0.04, 0.06)
    ('0 → 4 years', '4.0 % → 6.0 %')
    """
    if kind == "switch":
        return "off → on"
    if kind == "events":
        return f"{fmt.count(low)} → {fmt.count(high)} years"
    if kind == "price path" or "*" in path:
        return f"×{low:.2f} → ×{high:.2f}"
    return f"{param_value(path, low, like=high)} → {param_value(path, high, like=low)}"


def _signed_percent(x: float) -> str:
    text = fmt.percent(x)
    return text if text.startswith(("-", "0.0")) else "+" + text


def frame_table(
    df: pd.DataFrame,
    *,
    metric: str,
    title: str | None = None,
    run: RunInfo | None = None,
    deal: Deal | None = None,
) -> Table:
    """A rich table of a spider or grid DataFrame: its index down, its columns across.

    A spider's rows are the relative changes and its columns the parameters; a grid's rows and
    columns are values of its two parameters, both named (in words, with their units).

    Examples
    --------
    >>> import io
    >>> import dealcalc as dc
    >>> from rich.console import Console
    >>> deal = dc.load(dc.example_path("ussm-fwo"))
    >>> g = dc.grid(
    ...     deal, ("price_decks.base.antimony", [2e4, 3e4]), ("phases.refinery.capex_usd", [2e8, 3e8])
    ... )
    >>> console = Console(width=80, record=True, file=io.StringIO())
    >>> console.print(frame_table(g, metric="npv_usd", deal=deal))
    >>> text = console.export_text()
    >>> "rows: Antimony price (US$/t)" in text and "columns: Refinery capex (US$ M)" in text
    True
    """
    basis = _basis(None, run, df.attrs)
    spider = df.index.name == "change"
    caption = column_header(metric, basis=basis)
    index_name = str(df.index.name or "")
    columns_name = None if df.columns.name is None else str(df.columns.name)
    if spider:
        caption += " as each parameter changes by the share on the left"
        key = "change"
    elif columns_name is not None:  # a grid of two axes
        rows, across = param_label(index_name, deal), param_label(columns_name, deal)
        caption += f"; rows: {rows}; columns: {across}"
        key = f"{rows} ↓\n{across} →"
    else:
        key = param_label(index_name, deal)
    if df.attrs.get("past_limits"):
        caption += "; — the change would take the parameter past its allowed range"
    table = _table(title, caption, run)
    table.add_column(key, kind="key", style="bold", justify="right")
    for column in df.columns:
        if spider:
            head = param_label(str(column), deal)
        elif columns_name is not None:
            head = param_value(columns_name, float(column))
        else:
            head = column_header(str(column), basis=basis)
        table.add_column(head)
    for label, row in df.iterrows():
        value = _f(label)
        head = _signed_percent(value) if spider else param_value(index_name, value)
        table.add_row(head, *(_metric_cell(metric, float(x)) for x in row))
    return table


def montecarlo_table(summary: pd.DataFrame, *, title: str | None = None, run: RunInfo | None = None) -> Table:
    """A rich table of :meth:`dealcalc.MonteCarlo.summary`: one row per metric, in its unit.

    Examples
    --------
    >>> import io
    >>> import dealcalc as dc
    >>> from rich.console import Console
    >>> mc = dc.monte_carlo(dc.load(dc.example_path("ussm-fwo")), 100, seed=1)
    >>> console = Console(width=80, record=True, file=io.StringIO())
    >>> console.print(montecarlo_table(mc.summary(), run=mc.info if hasattr(mc, "info") else None))
    >>> "NPV (US$ M)" in console.export_text()
    True
    """
    basis = _basis(None, run, summary.attrs)
    table = _table(
        title,
        "mean ± standard error and percentiles over the draws with a value; P(< 0) over all draws "
        "(a draw with no IRR counts as below when it loses money at every rate); VaR 95 %: the loss "
        "at the 5th percentile",
        run,
    )
    table.add_column("metric", kind="key", style="bold")
    for name in ("mean", "± s.e.", "P10", "P50", "P90", "P(< 0)", "VaR 95 %", "no solution"):
        table.add_column(name)
    for metric, row in summary.iterrows():
        m = str(metric)
        count = int(row["no_solution"])
        share = _f(row.get("no_solution_share", 0.0))
        signed = fmt.kind_of(m) in ("money", "percent", "number")  # a year or a cover has no sign to ask
        never = m.rpartition(".")[2] == "default_year"  # no default year: it never defaulted
        table.add_row(
            column_header(m, basis=basis),
            _metric_cell(m, row["mean"]),
            "—" if fmt.kind_of(m) == "year" else _metric_cell(m, row["std_error"]),
            _metric_cell(m, row["p10"]),
            _metric_cell(m, row["p50"]),
            _metric_cell(m, row["p90"]),
            fmt.percent(_f(row["prob_negative"])) if signed else "—",
            _metric_cell(m, row["value_at_risk_95"]) if signed else "—",
            (f"{fmt.count(count)} never defaulted" if never and count else "")
            + ("" if never and count else fmt.count(count))
            + (f" ({fmt.percent(share)})" if count and share else ""),
        )
    return table


def indices_table(
    df: pd.DataFrame, *, title: str | None = None, run: RunInfo | None = None, deal: Deal | None = None
) -> Table:
    """A rich table of Sobol (S1, ST with the half-width of their 95 % intervals, in per cent of
    the output variance) or Morris (mu*, sigma, in the metric's unit) indices.

    Examples
    --------
    >>> import io
    >>> import pandas as pd
    >>> from rich.console import Console
    >>> df = pd.DataFrame({"S1": [0.61], "S1_conf": [0.04], "ST": [0.7], "ST_conf": [0.05]},
    ...                   index=["fiscal.royalty_rate"])
    >>> console = Console(width=120, record=True, file=io.StringIO())
    >>> console.print(indices_table(df))
    >>> text = console.export_text()
    >>> "Royalty rate (%)" in text and "61.0" in text
    True
    """
    metric = str(df.attrs.get("metric", ""))
    basis = _basis(None, run, df.attrs)
    sobol = "ST" in df.columns
    shown = column_header(metric, basis=basis) if metric else "the metric"
    caption = (
        f"Sobol: shares of the variance of {shown}, per cent (± half-width of the 95 % interval)"
        if sobol
        else f"Morris: elementary effects on {shown}, on the CDF scale of the inputs"
    )
    table = _table(title, caption, run)
    table.add_column("input", kind="key", style="bold")
    if sobol:
        for name in ("S1, first order (%)", "±", "ST, total (%)", "± "):
            table.add_column(name)
        for label, row in df.iterrows():
            table.add_row(
                param_label(str(label), deal),
                _bare_percent(_f(row["S1"])),
                _bare_percent(_f(row["S1_conf"])),
                _bare_percent(_f(row["ST"])),
                _bare_percent(_f(row["ST_conf"])),
            )
        return table
    unit = _unit(metric) if metric else ""
    for name in ("μ*", "σ"):
        table.add_column(f"{name} ({unit})" if unit else name)
    for label, row in df.iterrows():
        cells = [
            fmt.cell(metric, _f(row[k])) if metric else fmt.number(_f(row[k])) for k in ("mu_star", "sigma")
        ]
        table.add_row(param_label(str(label), deal), *cells)
    return table


def contributions_table(df: pd.DataFrame, *, title: str | None = None, run: RunInfo | None = None) -> Table:
    """A rich table of a risk ranking (:func:`dealcalc.analyses.contributions.contributions`):
    per source its kind, rank correlation with the metric and contribution to its variance
    (per cent), with R², the unexplained share, the draws dropped and what was held fixed in
    the caption.

    Examples
    --------
    >>> import io
    >>> import pandas as pd
    >>> from rich.console import Console
    >>> df = pd.DataFrame({"kind": ["switch"], "spearman": [0.29], "coefficient": [0.4],
    ...                    "contribution": [0.15]}, index=["switch.china_retightens"])
    >>> df.attrs.update({"metric": "npv_usd", "r_squared": 0.87, "draws": 4000, "dropped": 0})
    >>> console = Console(width=80, record=True, file=io.StringIO())
    >>> console.print(contributions_table(df))
    >>> text = console.export_text()
    >>> "15.0" in text and "R² 87.0 %" in text
    True
    """
    metric = str(df.attrs.get("metric", ""))
    basis = _basis(None, run, df.attrs)
    shown = column_header(metric, basis=basis) if metric else "the metric"
    r_squared = _f(df.attrs.get("r_squared", math.nan))
    caption = (
        f"contribution to the variance of {shown} ({df.attrs.get('method', 'rank regression')} on "
        f"{fmt.count(int(df.attrs.get('draws', 0)))} draws): squared standardized coefficients scaled "
        f"to R² {fmt.percent(r_squared)}; unexplained {fmt.percent(1.0 - r_squared)}"
    )
    dropped = int(df.attrs.get("dropped", 0))
    if dropped:
        caption += f"; {fmt.count(dropped)} draws without a value dropped"
    held = list(df.attrs.get("held_fixed", []))
    caption += "; held fixed: " + (", ".join(held) if held else "nothing")
    table = _table(title, caption, run)
    table.add_column("source", kind="key", style="bold")
    for name in ("kind", "rank correlation", "contribution (%)"):
        table.add_column(name)
    for source, row in df.iterrows():
        table.add_row(
            source_label(str(source)),
            str(row["kind"]),
            _correlation(_f(row["spearman"])),
            _bare_percent(_f(row["contribution"])),
        )
    return table


def _correlation(x: float) -> str:
    """A correlation to two decimals (``-0.40``); never ``-0.00``."""
    if math.isnan(x):
        return fmt.MISSING
    text = f"{x:.2f}"
    return "0.00" if text == "-0.00" else text


#: How each row of :func:`dealcalc.analyses.lenders.lender_risk` reads.
_LENDER_ROWS = {
    "p_dscr_below_1": ("P(DSCR < 1 in a year)", "percent"),
    "p_default": ("P(default)", "percent"),
    "expected_loss_usd": ("Expected loss (US$ M)", "money"),
    "expected_loss_given_default_usd": ("Expected loss if it defaults (US$ M)", "money"),
    "lenders_irr_mean": ("Lenders' IRR, mean", "percent"),
    "lenders_irr_p10": ("Lenders' IRR, P10", "percent"),
    "lenders_irr_p50": ("Lenders' IRR, P50", "percent"),
    "lenders_irr_p90": ("Lenders' IRR, P90", "percent"),
}


def lenders_table(risk: pd.DataFrame, *, title: str | None = None) -> Table:
    """A rich table of :func:`dealcalc.analyses.lenders.lender_risk`: each question, its
    estimate and standard error, formatted as money or a percentage.

    Examples
    --------
    >>> import dealcalc as dc
    >>> from dealcalc.analyses.lenders import lender_risk
    >>> mc = dc.monte_carlo(dc.load(dc.example_path("ussm-fwo")), 300, seed=1, scenario="lenders_protected")
    >>> lenders_table(lender_risk(mc)).row_count
    8
    """
    caption = (
        "standard errors over the draws; the IRR's percentiles have none. On default the lenders "
        "take the reserves and the recovery a buyer pays for the project (the 'buyer' party); a "
        "guarantor pays its share of what they still lose"
    )
    table = _table(title, caption, None)
    table.add_column("question", kind="key", style="bold")
    table.add_column("estimate")
    table.add_column("± s.e.")
    for key, row in risk.iterrows():
        label, kind = _LENDER_ROWS.get(str(key), (str(key), "number"))
        show = fmt.money if kind == "money" else fmt.percent if kind == "percent" else fmt.number
        table.add_row(label, show(_f(row["estimate"])), show(_f(row["std_error"])))
    return table
