"""Rich terminal tables of results."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from rich.table import Table

from dealcalc.analyses.display import PlainTable
from dealcalc.errors import InputError

__all__ = [
    "attribution_table",
    "compare_table",
    "flow_metrics_table",
    "frame_table",
    "indices_table",
    "montecarlo_table",
    "party_table",
    "tornado_table",
    "valuation_table",
]


def _money(x: float) -> str:
    return "—" if math.isnan(x) else f"{x:,.2f}"


def _percent(x: float) -> str:
    return "—" if math.isnan(x) else f"{100 * x:.2f} %"


def _number(x: float, digits: int = 2) -> str:
    return "—" if math.isnan(x) else f"{x:.{digits}f}"


def flow_metrics_table(df: pd.DataFrame, *, title: str | None = None) -> Table:
    """A rich table of :func:`dealcalc.flow_metrics` output, one row per series.

    IRR and MIRR are shown in per cent; "—" marks no solution; a non-conventional series
    (several sign changes, so possibly several IRRs) is marked with "*".

    Examples
    --------
    >>> import io
    >>> import dealcalc as dc
    >>> from rich.console import Console
    >>> df = dc.flow_metrics([[-5.0, 1.5, 2.0, 2.0, 1.5]], 0.10, names=["M2"])
    >>> console = Console(width=100, record=True, file=io.StringIO())
    >>> console.print(flow_metrics_table(df))
    >>> "14.90 %" in console.export_text()
    True
    """
    table = PlainTable(title=title, caption="— no solution; * several sign changes (see MIRR)")
    table.add_column("series", style="bold")
    for name in ("NPV", "IRR", "MIRR", "payback", "disc. payback", "PI"):
        table.add_column(name, justify="right")
    dated = "xirr" in df.columns
    if dated:
        table.add_column("XNPV", justify="right")
        table.add_column("XIRR", justify="right")
    for label, row in df.iterrows():
        name = str(label)
        flag = "" if bool(row["conventional"]) else " *"
        cells = [
            f"{name}{flag}",
            _money(row["npv"]),
            _percent(row["irr"]),
            _percent(row["mirr"]),
            _number(row["payback_periods"]),
            _number(row["discounted_payback_periods"]),
            _number(row["profitability_index"], 3),
        ]
        if dated:
            cells += [_money(row["xnpv"]), _percent(row["xirr"])]
        table.add_row(*cells)
    return table


def _usd_m(x: float) -> str:
    return "—" if math.isnan(x) else f"{x / 1e6:,.1f}"


def valuation_table(headline: dict[str, object], *, title: str | None = None) -> Table:
    """A rich table of a valuation's headline numbers (money in US$ million)."""
    table = PlainTable(title=title, show_header=False)
    table.add_column("metric", style="bold")
    table.add_column("value", justify="right")
    basis = headline.get("basis", "real")
    rows = [
        ("NPV, after tax [USD M]", _usd_m(_f(headline["npv_usd"]))),
        (f"IRR, after tax ({basis})", _percent(_f(headline["irr"]))),
        ("NPV, pre-tax [USD M]", _usd_m(_f(headline["pre_tax_npv_usd"]))),
        (f"IRR, pre-tax ({basis})", _percent(_f(headline["pre_tax_irr"]))),
        (
            "Payback [years from first production]"
            if headline.get("payback_from") == "first_production"
            else "Payback [years from valuation date]",
            _number(_f(headline["payback_years"]), 1),
        ),
        ("Peak funding need [USD M]", _usd_m(_f(headline["peak_funding_usd"]))),
        ("Discount rate", f"{_percent(_f(headline['discount_rate']))} ({headline['basis']})"),
        ("Timing, price deck", f"{headline['timing']}, {headline['price_deck']}"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table


def _f(x: object) -> float:
    return float("nan") if x is None else float(x)  # type: ignore[arg-type]


def compare_table(df: pd.DataFrame, *, title: str | None = None, basis: str = "real") -> Table:
    """A rich table of :func:`dealcalc.compare`: every scenario with its change against the base,
    and each owner's NPV at its own rate; IRRs in the deal's ``basis``."""
    owners = [c for c in df.columns if str(c).endswith(".npv_usd")]
    table = PlainTable(
        title=title,
        caption=f"money in US$ million; IRR {basis}; — no solution; owners' NPV at their own rates",
    )
    columns = [
        ("scenario", "left"),
        ("NPV", "right"),
        ("Δ NPV", "right"),
        ("IRR", "right"),
        ("Δ IRR", "right"),
    ]
    columns += [(f"{str(c).removesuffix('.npv_usd')} NPV", "right") for c in owners]
    columns += [("payback", "right"), ("description", "left")]
    for name, justify in columns:
        table.add_column(name, justify=justify, no_wrap=name == "scenario")
    for label, row in df.iterrows():
        delta_irr = row["irr_change"]
        table.add_row(
            str(label),
            _usd_m(row["npv_usd"]),
            _usd_m(row["npv_change_usd"]),
            _percent(row["irr"]),
            "—" if math.isnan(delta_irr) else f"{100 * delta_irr:+.2f} pp",
            *(_usd_m(row[c]) for c in owners),
            _number(row["payback_years"], 1),
            str(row["description"] or ""),
        )
    return table


def party_table(headline: dict[str, object], *, title: str | None = None) -> Table:
    """A rich table of each party's NPV (at its own rate), IRR and, for a state, its take."""
    basis = headline.get("basis", "real")
    table = PlainTable(title=title, caption="money in US$ million; take: share of the cash before state take")
    for name, justify in (
        ("party", "left"),
        ("NPV", "right"),
        (f"IRR ({basis})", "right"),
        ("take", "right"),
    ):
        table.add_column(name, justify=justify)
    parties = headline.get("parties") or {}
    assert isinstance(parties, dict)
    for party, values in parties.items():
        table.add_row(
            str(party),
            _usd_m(_f(values.get("npv_usd"))),
            _percent(_f(values.get("irr"))),
            _percent(_f(values.get("take"))) if "take" in values else "",
        )
    return table


def attribution_table(df: pd.DataFrame, *, title: str | None = None) -> Table:
    """A rich table of :func:`dealcalc.tariff_attribution`: NPV per party under each schedule,
    then the change from one schedule to the next."""
    table = PlainTable(title=title, caption="NPV in US$ million, each party at its own discount rate")
    table.add_column("party", style="bold")
    for column in df.columns:
        kind, _, name = str(column).partition(": ")
        table.add_column(
            ("Δ " if kind == "change_usd" else "") + name.replace(" -> ", " → "), justify="right"
        )
    for party, row in df.iterrows():
        table.add_row(str(party), *(_usd_m(float(x)) for x in row))
    return table


def _metric_cell(metric: str, x: float) -> str:
    """A metric value: US$ million for money, per cent for a rate or take, plain otherwise."""
    if metric.endswith("_usd"):
        return _usd_m(x)
    if metric.endswith(("irr", "take", "rate")):
        return _percent(x)
    return _number(x, 2)


def tornado_table(df: pd.DataFrame, *, title: str | None = None, width: int = 24) -> Table:
    """A rich table of :func:`dealcalc.tornado`, largest swing first, with a bar per row.

    The bar spans the metric from its value at the low to its value at the high input, on
    one scale for all rows; ``|`` marks the base case.
    """
    if isinstance(width, bool) or not isinstance(width, int) or width < 1:
        raise InputError(
            f"{width!r} is not a bar width",
            field="width",
            expected="a whole number of characters, at least 1",
        )
    metric = str(df.attrs.get("metric", "npv_usd"))
    base = float(df.attrs.get("base_metric", float("nan")))
    unit = " [US$ M]" if metric.endswith("_usd") else ""
    caption = f"{metric}{unit} at the low and the high input; base case: {_metric_cell(metric, base)}"
    if clipped := df.attrs.get("clipped"):
        caption += f"; held at the field's limit: {', '.join(clipped)}"
    table = PlainTable(title=title, caption=caption)
    # on a narrow terminal the parameter paths fold and the inputs wrap; numbers and the bar
    # keep their width (the bar is never clipped)
    table.add_column("parameter", overflow="fold")
    table.add_column("input low → high", justify="right")
    for name in ("at low", "at high", "swing"):
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("", no_wrap=True, min_width=width)
    ends = np.concatenate([df["metric_at_low"].to_numpy(), df["metric_at_high"].to_numpy(), [base]])
    ends = ends[np.isfinite(ends)]
    lo, hi = (float(ends.min()), float(ends.max())) if ends.size else (0.0, 1.0)
    scale = (width - 1) / (hi - lo) if hi > lo else 0.0

    def pos(x: float) -> int:
        return round((x - lo) * scale) if math.isfinite(x) else 0

    for parameter, row in df.iterrows():
        a, b = sorted((pos(row["metric_at_low"]), pos(row["metric_at_high"])))
        bar = [" "] * width
        for i in range(a, b + 1):
            bar[i] = "█"
        if math.isfinite(base):
            bar[pos(base)] = "|"
        table.add_row(
            str(parameter),
            f"{row['low_value']:.4g} → {row['high_value']:.4g}",
            _metric_cell(metric, row["metric_at_low"]),
            _metric_cell(metric, row["metric_at_high"]),
            _metric_cell(metric, row["swing"]),
            "".join(bar),
        )
    return table


def frame_table(df: pd.DataFrame, *, metric: str, title: str | None = None) -> Table:
    """A rich table of a spider or grid DataFrame: its index down, its columns across."""
    caption = f"{metric}{' [US$ M]' if metric.endswith('_usd') else ''}"
    if df.attrs.get("past_limits"):
        caption += "; — the change would take the parameter past its allowed range"
    table = PlainTable(title=title, caption=caption)
    table.add_column(str(df.index.name or ""), justify="right", style="bold")
    for column in df.columns:
        table.add_column(f"{column:.4g}" if isinstance(column, float) else str(column), justify="right")
    for label, row in df.iterrows():
        head = f"{label:+.0%}" if df.index.name == "change" else f"{label:.4g}"
        table.add_row(head, *(_metric_cell(metric, float(x)) for x in row))
    return table


def montecarlo_table(summary: pd.DataFrame, *, title: str | None = None) -> Table:
    """A rich table of :meth:`dealcalc.MonteCarlo.summary`: one row per metric."""
    table = PlainTable(
        title=title,
        caption="money in US$ million; mean ± standard error and percentiles over the draws with a "
        "value; P(< 0) over all draws (a draw with no IRR counts as below when it loses money at "
        "every rate); VaR 95 %: the loss at the 5th percentile",
    )
    table.add_column("metric", no_wrap=True, style="bold")
    for name in ("mean", "± s.e.", "P10", "P50", "P90", "P(< 0)", "VaR 95 %", "no solution"):
        table.add_column(name, justify="right")
    for metric, row in summary.iterrows():
        m = str(metric)
        table.add_row(
            m,
            _metric_cell(m, row["mean"]),
            _metric_cell(m, row["std_error"]),
            _metric_cell(m, row["p10"]),
            _metric_cell(m, row["p50"]),
            _metric_cell(m, row["p90"]),
            _percent(row["prob_negative"]),
            _metric_cell(m, row["value_at_risk_95"]),
            f"{int(row['no_solution']):,}"
            + (f" ({row['no_solution_share']:.1%})" if row.get("no_solution_share", 0) else ""),
        )
    return table


def indices_table(df: pd.DataFrame, *, title: str | None = None) -> Table:
    """A rich table of Sobol (S1, ST with confidence) or Morris (mu*, sigma) indices."""
    metric = str(df.attrs.get("metric", ""))
    money = metric.endswith("_usd")
    table = PlainTable(
        title=title,
        caption="Sobol: shares of the output variance (± half-width of the 95 % interval)"
        if "ST" in df.columns
        else f"Morris: elementary effects on the CDF scale{' [US$ M]' if money else ''}",
    )
    table.add_column("input", no_wrap=True, style="bold")
    if "ST" in df.columns:
        for name in ("S1 (first order)", "ST (total)"):
            table.add_column(name, justify="right")
        for label, row in df.iterrows():
            table.add_row(
                str(label),
                f"{row['S1']:.3f} ± {row['S1_conf']:.3f}",
                f"{row['ST']:.3f} ± {row['ST_conf']:.3f}",
            )
        return table
    for name in ("mu*", "sigma"):
        table.add_column(name, justify="right")
    for label, row in df.iterrows():
        cells = [_usd_m(row[k]) if money else _number(row[k], 4) for k in ("mu_star", "sigma")]
        table.add_row(str(label), *cells)
    return table
