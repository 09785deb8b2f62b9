"""Charts (extra ``plot``: matplotlib). Each function draws on an Axes and returns it.

Pass ``ax=`` to draw into a figure of your own (a notebook cell, a subplot grid); without it
the current Axes of pyplot is used. Money is shown in US$ million. ``figure(kind, ...)`` builds
a whole figure without pyplot (thread-safe), for the CLI and the HTML report.

Names from a deal are shown as written: ``$`` is escaped (:func:`plain`), so matplotlib never
reads a name as TeX math; figures of :func:`new_figure` are drawn and saved with
``text.usetex`` off, whatever the matplotlibrc says.
"""

from __future__ import annotations

import importlib.util
import io
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from dealcalc import formatting as fmt
from dealcalc.analyses.decisions import GateDecisions
from dealcalc.analyses.display import column_header, param_label, param_value
from dealcalc.analyses.evaluate import Valuation
from dealcalc.analyses.montecarlo import MonteCarlo
from dealcalc.analyses.terms import TermsGrid
from dealcalc.engine import lines as L
from dealcalc.engine import resolve
from dealcalc.engine.timeline import present_value
from dealcalc.errors import InputError, MissingExtraError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from dealcalc.models import Deal

__all__ = [
    "cash_flow_chart",
    "cdf_chart",
    "grid_heatmap",
    "histogram_chart",
    "new_figure",
    "npv_profile_chart",
    "parties_chart",
    "plain",
    "render",
    "require_matplotlib",
    "spider_chart",
    "tornado_chart",
    "waterfall_chart",
]

M = 1e6
INFLOW, OUTFLOW, TOTAL = "#2b7bba", "#d95f02", "#555555"


def has_matplotlib() -> bool:
    """Whether matplotlib (the extra ``plot``) is installed."""
    return importlib.util.find_spec("matplotlib") is not None


def require_matplotlib() -> None:
    """Raise :class:`MissingExtraError` naming ``dealcalc[plot]`` when matplotlib is missing."""
    if not has_matplotlib():
        raise MissingExtraError("matplotlib", "plot")


def plain(text: object) -> str:
    """``text`` as matplotlib shows it literally: each ``$`` escaped, so a name such as
    ``Deal $x^2$`` (a deal, a party, a stream in a parameter path) is not read as TeX math,
    which would garble it or fail to parse. Every text from a deal goes through it.

    Examples
    --------
    >>> print(plain("Deal $x^2$ in US$"))
    Deal \\$x^2\\$ in US\\$
    """
    return str(text).replace("$", r"\$")


def _integer_years(ax: Axes) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _axes(ax: Axes | None) -> Axes:
    require_matplotlib()
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.gca()


def _metric_label(metric: str, basis: str | None = None) -> str:
    """A metric in words with its unit (``NPV (US$ M)``, ``IRR (%, real)``), escaped."""
    return plain(column_header(metric, basis=basis))


def _param(path: object, deal: Deal | None) -> str:
    """A parameter path in words with its unit (``Refinery capex (US$ M)``), escaped."""
    return plain(param_label(str(path), deal))


def _basis(table: pd.DataFrame) -> str | None:
    return getattr(table.attrs.get("run"), "basis", None)


def _scale(metric: str) -> float:
    """What a metric's values are divided by to be shown in its unit (US$ M, per cent)."""
    kind = fmt.kind_of(metric)
    return M if kind == "money" else 0.01 if kind == "percent" else 1.0


def cash_flow_chart(valuation: Valuation, *, scenario: int = 0, ax: Axes | None = None) -> Axes:
    """Annual after-tax cash flow as bars, with the cumulative cash flow as a line.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import dealcalc as dc
    >>> from dealcalc.report.plots import cash_flow_chart
    >>> ax = cash_flow_chart(dc.evaluate(dc.load(dc.example_path("ussm-fwo"))))
    >>> ax.get_ylabel()
    'US$ million'
    """
    ax = _axes(ax)
    table = valuation.table(scenario)
    flow = table[L.AFTER_TAX.name].to_numpy() / M
    years = table.index.to_numpy()
    ax.bar(years, flow, color=[INFLOW if x >= 0 else OUTFLOW for x in flow], label="after-tax cash flow")
    ax.plot(years, np.cumsum(flow), color=TOTAL, marker="o", ms=3, label="cumulative")
    _integer_years(ax)
    ax.axhline(0, color="black", lw=0.6)
    ax.set_ylabel("US$ million")
    ax.set_title(plain(f"Cash flow: {valuation.deal.name}, {valuation.info.label}"))
    ax.legend(loc="best", fontsize="small")
    return ax


def waterfall_chart(valuation: Valuation, *, scenario: int = 0, ax: Axes | None = None) -> Axes:
    """Where the revenue goes over the life of the deal (undiscounted US$ million): revenue,
    less charges, operating costs and investment, gives the cash before state take, which is
    split among the governments (royalty, tax, withholding, duty), the lenders and the owners.

    The parties' bars add up to the cash before state take.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import dealcalc as dc
    >>> from dealcalc.report.plots import waterfall_chart
    >>> ax = waterfall_chart(dc.evaluate(dc.load(dc.example_path("ussm-fwo"))))
    >>> ax.get_xticklabels()[0].get_text()
    'revenue'
    """
    ax = _axes(ax)
    valuation.table(scenario)  # the ledger must have been kept (a clear error otherwise)
    ledger = valuation.ledger
    assert ledger is not None

    def total(*groups: L.Group) -> float:
        return float(ledger.group_total(set(groups))[scenario].sum()) / M

    steps = [
        ("revenue", total(L.Group.REVENUE)),
        ("charges", float(ledger.line(L.SELLING_CHARGES)[scenario].sum()) / M),
        ("operating costs", total(L.Group.OPERATING)),
        ("investment", total(L.Group.CAPITAL, L.Group.WORKING_CAPITAL)),
    ]
    labels, bottoms, heights, colours = [], [], [], []
    level = 0.0
    for label, change in steps:
        labels.append(label)
        bottoms.append(level if change >= 0 else level + change)
        heights.append(abs(change))
        colours.append(INFLOW if change >= 0 else OUTFLOW)
        level += change
    labels.append("before state take")
    bottoms.append(min(level, 0.0))
    heights.append(abs(level))
    colours.append(TOTAL)
    if valuation.parties is not None:
        parties = valuation.party_table(scenario).sum() / M
        for party in valuation.deal.party_names():
            share = float(parties[L.party_cash(party).name])
            labels.append(plain(party))
            bottoms.append(min(share, 0.0))
            heights.append(abs(share))
            government = valuation.deal.party_role(party) == "government"
            colours.append("#1b9e77" if government else "#7570b3")
    x = np.arange(len(labels))
    ax.bar(x, heights, bottom=bottoms, color=colours)
    for xi, b, h in zip(x, bottoms, heights, strict=True):
        ax.text(float(xi), b + h, f"{h:,.0f}", ha="center", va="bottom", fontsize="x-small")
    ax.axhline(0, color="black", lw=0.6)
    ax.set_xticks(x, labels, rotation=30, ha="right", fontsize="small")
    ax.set_ylabel("US$ million, life of deal (undiscounted)")
    ax.set_title("From revenue to each party")
    return ax


def npv_profile_chart(
    valuation: Valuation, *, scenario: int = 0, rates: Any = None, ax: Axes | None = None
) -> Axes:
    """NPV of the after-tax cash flow against the discount rate, with the IRR and the deal's
    discount rate marked.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import dealcalc as dc
    >>> from dealcalc.report.plots import npv_profile_chart
    >>> ax = npv_profile_chart(dc.evaluate(dc.load(dc.example_path("ussm-fwo"))))
    >>> ax.get_xlabel()
    'discount rate'
    """
    ax = _axes(ax)
    flows = valuation.table(scenario)[L.AFTER_TAX.name].to_numpy()
    grid = np.linspace(0.0, 0.30, 61) if rates is None else _rates(rates)
    timeline = resolve(valuation.deal, {}, 1).timeline
    values = (
        present_value(grid, np.tile(flows, (grid.size, 1)), timeline.timing, timeline.valuation_offset) / M
    )
    ax.plot(grid, values, color=INFLOW, label="NPV after tax")
    ax.axhline(0, color="black", lw=0.6)
    irr = float(valuation.irr[scenario])
    if np.isfinite(irr):
        ax.axvline(irr, color=OUTFLOW, ls="--", lw=1)
        basis = valuation.deal.valuation.basis
        ax.annotate(
            f"IRR {fmt.percent(irr)} ({basis})",
            (irr, 0),
            xytext=(5, 10),
            textcoords="offset points",
            fontsize="small",
        )
    rate = float(valuation.discount_rate[scenario])
    ax.axvline(rate, color=TOTAL, ls=":", lw=1, label=f"discount rate {fmt.percent(rate)}")
    ax.xaxis.set_major_formatter(lambda x, _: f"{x:.0%}")
    ax.set_xlabel("discount rate")
    ax.set_ylabel(plain("NPV after tax (US$ M)"))
    ax.set_title("NPV profile")
    ax.legend(loc="best", fontsize="small")
    return ax


def _rates(rates: Any) -> np.ndarray:
    """The discount rates of an NPV profile: a finite number or list of numbers above -1."""
    try:
        grid = np.atleast_1d(np.asarray(rates, dtype=np.float64))
    except (TypeError, ValueError):
        grid = np.array([np.nan])
    if grid.ndim != 1 or grid.size == 0 or not (np.isfinite(grid).all() and (grid > -1.0).all()):
        raise InputError(
            f"{rates!r} are not discount rates",
            field="rates",
            expected="fractions above -1, e.g. np.linspace(0, 0.3, 61)",
        )
    return grid


def tornado_chart(
    table: pd.DataFrame, *, metric: str | None = None, ax: Axes | None = None, deal: Deal | None = None
) -> Axes:
    """Bars from the metric at each parameter's low and high value, widest swing on top
    (the DataFrame of :func:`dealcalc.tornado`). Parameters are named in words with their
    unit (with ``deal``, a price's unit too), each with its low and high value.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import dealcalc as dc
    >>> from dealcalc.report.plots import tornado_chart
    >>> deal = dc.load(dc.example_path("ussm-fwo"))
    >>> ax = tornado_chart(dc.tornado(deal, ["fiscal.royalty_rate", "price_decks.base.copper"]), deal=deal)
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['Royalty rate (%)\\n4.0 % → 6.0 %', 'Copper price (US\\\\$/t)\\n7,600 → 11,400']
    """
    ax = _axes(ax)
    metric = metric or str(table.attrs.get("metric", "npv_usd"))
    scale = _scale(metric)
    df = table.sort_values("swing")
    low = df["metric_at_low"].to_numpy() / scale
    high = df["metric_at_high"].to_numpy() / scale
    y = np.arange(len(df))
    base = float(table.attrs.get("base_metric", np.nan)) / scale
    centre = base if np.isfinite(base) else float(np.median(np.r_[low, high]))
    ax.barh(y, low - centre, left=centre, color=OUTFLOW, label="at low value")
    ax.barh(y, high - centre, left=centre, color=INFLOW, label="at high value")
    ax.axvline(centre, color="black", lw=0.8)
    labels = [
        f"{_param(path, deal)}\n{plain(param_value(str(path), lo, like=hi))} → "
        f"{plain(param_value(str(path), hi, like=lo))}"
        for path, lo, hi in zip(df.index, df["low_value"], df["high_value"], strict=True)
    ]
    ax.set_yticks(y, labels, fontsize="x-small")
    ax.set_xlabel(_metric_label(metric, _basis(table)))
    ax.set_title(f"What moves {_metric_label(metric, _basis(table))}")
    ax.legend(loc="lower right", fontsize="small")
    return ax


def spider_chart(
    table: pd.DataFrame,
    *,
    metric: str | None = None,
    top: int = 8,
    ax: Axes | None = None,
    deal: Deal | None = None,
) -> Axes:
    """The metric against the % change of each parameter (the DataFrame of :func:`dealcalc.spider`):
    the ``top`` parameters with the widest range, steepest first.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import dealcalc as dc
    >>> from dealcalc.report.plots import spider_chart
    >>> deal = dc.load(dc.example_path("ussm-fwo"))
    >>> ax = spider_chart(dc.spider(deal, ["fiscal.royalty_rate", "price_decks.base.copper"]))
    >>> len(ax.get_lines()) >= 2
    True
    """
    if isinstance(top, bool) or not isinstance(top, int | np.integer) or top < 1:
        raise InputError(
            f"{top!r} is not a number of parameters", field="top", expected="a whole number, at least 1"
        )
    ax = _axes(ax)
    metric = metric or str(table.attrs.get("metric", "npv_usd"))
    scale = _scale(metric)
    changes = table.index.to_numpy(dtype=float)
    spread = (table.max() - table.min()).sort_values(ascending=False)
    for column in spread.index[:top]:
        ax.plot(changes, table[column].to_numpy() / scale, marker="o", ms=3, label=_param(column, deal))
    ax.axvline(0, color="black", lw=0.6)
    ax.xaxis.set_major_formatter(lambda x, _: f"{x:+.0%}")
    ax.set_xlabel("change of each parameter from its base value")
    ax.set_ylabel(_metric_label(metric, _basis(table)))
    ax.set_title(f"Spider: {_metric_label(metric, _basis(table))}")
    ax.legend(loc="best", fontsize="x-small", ncol=2)
    return ax


def grid_heatmap(
    table: pd.DataFrame, *, metric: str | None = None, ax: Axes | None = None, deal: Deal | None = None
) -> Axes:
    """A 2-D grid (the DataFrame of :func:`dealcalc.grid`) as a heat map, zero contour drawn;
    both axes are named in words with their units.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import dealcalc as dc
    >>> from dealcalc.report.plots import grid_heatmap
    >>> deal = dc.load(dc.example_path("ussm-fwo"))
    >>> g = dc.grid(deal, ("price_decks.base.antimony", [2e4, 3e4, 4e4]),
    ...             ("phases.refinery.capex_usd", [2e8, 3e8]))
    >>> grid_heatmap(g).get_xlabel()
    'Refinery capex (US\\\\$ M)'
    """
    if table.columns.name is None:  # dc.grid with one axis: a column named after the metric
        raise InputError(
            "a heat map needs a grid of two axes",
            field="grid",
            expected="dc.grid(deal, (x_path, x_values), (y_path, y_values))",
        )
    ax = _axes(ax)
    metric = metric or str(table.attrs.get("metric", "npv_usd"))
    values = table.to_numpy(dtype=float) / _scale(metric)
    limit = float(np.nanmax(np.abs(values))) or 1.0
    image = ax.imshow(values, origin="lower", aspect="auto", cmap="RdBu", vmin=-limit, vmax=limit)
    rows, across = str(table.index.name), str(table.columns.name)
    ax.set_yticks(
        range(len(table.index)), [plain(param_value(rows, float(v))) for v in table.index], fontsize="small"
    )
    ax.set_xticks(
        range(len(table.columns)),
        [plain(param_value(across, float(v))) for v in table.columns],
        fontsize="small",
    )
    for (i, j), v in np.ndenumerate(table.to_numpy(dtype=float)):
        ax.text(j, i, plain(fmt.cell(metric, v)), ha="center", va="center", fontsize="x-small")
    if values.shape[0] > 1 and values.shape[1] > 1 and np.nanmin(values) < 0 < np.nanmax(values):
        ax.contour(values, levels=[0.0], colors="black", linewidths=1)
    shown = _metric_label(metric, _basis(table))
    ax.figure.colorbar(image, ax=ax, label=shown)
    ax.set_ylabel(_param(rows, deal))
    ax.set_xlabel(_param(across, deal))
    ax.set_title(f"{shown} over the grid")
    return ax


def _draws(result: MonteCarlo, metric: str) -> np.ndarray:
    v = np.asarray(result.metric(metric), dtype=np.float64)
    return v[np.isfinite(v)] / _scale(metric)


def _marks(ax: Axes, values: np.ndarray, metric: str) -> None:
    for q, style in ((0.1, ":"), (0.5, "--"), (0.9, ":")):
        x = float(np.quantile(values, q))
        shown = fmt.cell(metric, x * _scale(metric))
        ax.axvline(x, color=TOTAL, ls=style, lw=1, label=plain(f"P{int(q * 100)} {shown}"))


def histogram_chart(result: MonteCarlo, *, metric: str = "npv_usd", ax: Axes | None = None) -> Axes:
    """The Monte Carlo distribution of ``metric`` with P10/P50/P90 and P(< 0) marked.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import dealcalc as dc
    >>> from dealcalc.report.plots import histogram_chart
    >>> mc = dc.monte_carlo(dc.load(dc.example_path("ussm-fwo")), 200, seed=1)
    >>> "P(< 0)" in histogram_chart(mc).get_title()
    True
    """
    ax = _axes(ax)
    values = _draws(result, metric)
    below = values < 0
    edges = np.histogram_bin_edges(values, bins="auto")
    if edges[0] < 0 < edges[-1]:  # shift the edges so that one falls on zero
        edges = edges - edges[np.searchsorted(edges, 0.0)]
        edges = np.append(edges, edges[-1] + (edges[1] - edges[0]))
    bins = [float(b) for b in edges]
    ax.hist(values[below], bins=bins, color=OUTFLOW, alpha=0.85, label="below zero")
    ax.hist(values[~below], bins=bins, color=INFLOW, alpha=0.85, label="zero or above")
    _marks(ax, values, metric)
    ax.set_xlabel(_metric_label(metric))
    ax.set_ylabel("draws")
    unsolved = result.n - values.size
    tail = f"; {fmt.count(unsolved)} without a value" if unsolved else ""
    share = fmt.percent(result.prob_below(metric, 0.0))
    ax.set_title(f"{_metric_label(metric)}: {fmt.count(result.n)} draws, P(< 0) = {share}{tail}")
    ax.legend(loc="best", fontsize="x-small")
    return ax


def cdf_chart(result: MonteCarlo, *, metric: str = "npv_usd", ax: Axes | None = None) -> Axes:
    """The empirical CDF of ``metric`` with P10/P50/P90 and P(< 0) marked.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import dealcalc as dc
    >>> from dealcalc.report.plots import cdf_chart
    >>> mc = dc.monte_carlo(dc.load(dc.example_path("ussm-fwo")), 200, seed=1)
    >>> cdf_chart(mc).get_ylabel()
    'P(metric ≤ x)'
    """
    ax = _axes(ax)
    values = np.sort(_draws(result, metric))
    p = np.arange(1, values.size + 1) / values.size
    ax.step(values, p, where="post", color=INFLOW)
    below = result.prob_below(metric, 0.0)  # an IRR: draws without one counted as they lose or gain
    ax.axvline(0, color="black", lw=0.6)
    ax.axhline(below, color=OUTFLOW, lw=0.8, ls="--", label=f"P(< 0) = {fmt.percent(below)}")
    _marks(ax, values, metric)
    ax.set_xlabel(_metric_label(metric))
    ax.set_ylabel("P(metric ≤ x)")
    ax.set_title(f"{_metric_label(metric)}: cumulative distribution")
    ax.legend(loc="best", fontsize="x-small")
    return ax


def parties_chart(valuation: Valuation, *, scenario: int = 0, ax: Axes | None = None) -> Axes:
    """Each party's cash by year (stacked bars) and each government's take (lines, right axis).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import dealcalc as dc
    >>> from dealcalc.report.plots import parties_chart
    >>> ax = parties_chart(dc.evaluate(dc.load(dc.example_path("ussm-fwo"))))
    >>> ax.get_ylabel()
    'US$ million'
    """
    ax = _axes(ax)
    table = valuation.party_table(scenario)
    years = table.index.to_numpy()
    up = np.zeros(years.size)
    down = np.zeros(years.size)
    for party in valuation.deal.party_names():
        cash = table[L.party_cash(party).name].to_numpy() / M
        bottom = np.where(cash >= 0, up, down)
        ax.bar(years, cash, bottom=bottom, label=plain(party))
        up += np.maximum(cash, 0)
        down += np.minimum(cash, 0)
    ax.axhline(0, color="black", lw=0.6)
    span = max(float(up.max() - down.min()), 1e-9)
    ax.set_ylim(float(down.min()) - 0.05 * span, float(up.max()) + 0.15 * span)
    _integer_years(ax)
    ax.set_ylabel("US$ million")
    ax.set_title("Each party's cash, and government take")
    takes = [
        L.government_take(g).name for g in valuation.deal.party_names() if L.government_take(g).name in table
    ]
    if takes:
        right = ax.twinx()
        for column, colour in zip(takes, ("black", "dimgrey", "grey", "silver"), strict=False):
            right.plot(
                years, table[column].to_numpy(), ls="--", marker=".", color=colour, label=plain(column)
            )
        right.set_ylabel("government take (share of cash before state take)")
        right.yaxis.set_major_formatter(lambda x, _: f"{x:.0%}")
        right.legend(loc="upper right", fontsize="x-small")
    ax.legend(loc="upper left", fontsize="x-small")
    return ax


#: The formats :func:`render` writes.
RENDER_FORMATS = ("png", "svg", "pdf")


def terms_chart(space: TermsGrid, *, deal: Deal | None = None, ax: Axes | None = None) -> Axes:
    """The negotiation space of two terms: shaded where every party accepts, with each walk-away
    party's boundary (the line where its value equals its walk-away value).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import dealcalc as dc
    >>> from dealcalc.analyses.terms import negotiation_space
    >>> from dealcalc.report.plots import terms_chart
    >>> space = negotiation_space(dc.load(dc.example_path("ussm-fwo")), ("fiscal.royalty_rate", [0.0, 0.1]),
    ...                           ("price_decks.base.antimony", [25000, 40000]))
    >>> "accepts" in terms_chart(space).get_title()
    True
    """
    ax = _axes(ax)
    x_path, xs = space.x
    y_path, ys = space.y
    grid_x, grid_y = np.meshgrid(xs, ys, indexing="ij")
    # the smallest margin over the parties with a walk-away value, interpolated as the lines are
    margins = [space.values[p].to_numpy() - floor for p, floor in space.walk_away.items()]
    least = np.nanmin(np.stack(margins), axis=0) if margins else np.zeros_like(grid_x)
    if np.nanmax(least) >= 0:
        top = float(np.nanmax(least)) + 1.0
        ax.contourf(grid_x, grid_y, least, levels=[0.0, top], colors=[INFLOW], alpha=0.25)
    colours = ["#d95f02", "#7570b3", "#e7298a", "#66a61e", "#555555"]
    for k, (party, floor) in enumerate(space.walk_away.items()):
        z = space.values[party].to_numpy() - floor
        if np.nanmin(z) < 0 < np.nanmax(z):
            lines = ax.contour(grid_x, grid_y, z, levels=[0.0], colors=[colours[k % len(colours)]])
            ax.clabel(lines, fmt={0.0: plain(party)}, fontsize="x-small")
    ax.set_xlabel(plain(param_label(x_path, deal)))
    ax.set_ylabel(plain(param_label(y_path, deal)))
    from matplotlib.ticker import FuncFormatter

    for axis, path in ((ax.xaxis, x_path), (ax.yaxis, y_path)):
        axis.set_major_formatter(FuncFormatter(lambda v, _, p=path: param_value(p, v)))
    ax.set_title(
        plain(f"Where every party accepts (shaded): {fmt.percent(space.share_accepted())} of the grid")
    )
    return ax


#: Colours of a gate's actions in :func:`policy_chart`.
ACTION_COLOURS = {"build": INFLOW, "defer": "#f0b400", "abandon": OUTFLOW}


def policy_chart(decisions: GateDecisions, *, deal: Deal | None = None, ax: Axes | None = None) -> Axes:
    """The fitted rule of an adaptive gate: per decision year, the price ranges of the rule's
    first state product over which it builds, defers or abandons (the other prices at their
    means), from :meth:`GateDecisions.regions`.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import dealcalc as dc
    >>> from dealcalc.report.plots import policy_chart
    >>> g = dc.adaptive_gates(dc.load(dc.example_path("ussm-fwo")), 400, seed=1)
    >>> "gate" in policy_chart(g).get_title()
    True
    """
    ax = _axes(ax)
    regions = decisions.regions()
    shown: set[str] = set()
    years = regions["year"].to_numpy(dtype=float)
    lows = regions["price_from"].to_numpy(dtype=float)
    highs = regions["price_to"].to_numpy(dtype=float)
    for year, low, high, action in zip(years, lows, highs, regions["action"].astype(str), strict=True):
        ax.bar(
            year,
            high - low,
            bottom=low,
            width=0.6,
            color=ACTION_COLOURS.get(action, TOTAL),
            label=None if action in shown else plain(action),
        )
        shown.add(action)
    product = decisions.state_products[0] if decisions.state_products else "price"
    deck = decisions.run.price_deck if decisions.run is not None else "base"
    ax.set_ylabel(plain(param_label(f"price_decks.{deck}.{product}", deal) + ", at the decision"))
    from matplotlib.ticker import FuncFormatter

    ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: fmt.number(y)))
    ax.set_xlabel("decision year")
    _integer_years(ax)
    ax.set_title(
        plain(f"{decisions.gate} gate: the best action by {product} price, other prices at their means")
    )
    ax.legend(loc="best", fontsize="x-small")
    return ax


def _positive(value: object, name: str, expected: str) -> float:
    """``value`` as a positive finite float, or an InputError naming ``name``."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        number = float("nan")
    if isinstance(value, bool) or not (np.isfinite(number) and number > 0):
        raise InputError(f"{value!r} is not a size", field=name, expected=expected)
    return number


def new_figure(width: float = 8.0, height: float = 4.5) -> Figure:
    """A figure made without pyplot (no global state; safe in threads and servers), with TeX
    off for its texts (:func:`render` keeps it off when it draws them).

    Examples
    --------
    >>> new_figure(0, 4)
    Traceback (most recent call last):
    ...
    dealcalc.errors.InputError: width: 0 is not a size; expected a width in inches above 0
    """
    width = _positive(width, "width", "a width in inches above 0")
    height = _positive(height, "height", "a height in inches above 0")
    require_matplotlib()
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context({"text.usetex": False}):
        return Figure(figsize=(width, height), layout="constrained")


def render(figure: Figure, fmt: str = "png", dpi: int = 120) -> bytes:
    """The figure as bytes: ``png``, ``svg`` or ``pdf`` (TeX off, whatever the matplotlibrc
    says: names from a deal are text, see :func:`plain`).

    Examples
    --------
    >>> render(new_figure(), "bmp")
    Traceback (most recent call last):
    ...
    dealcalc.errors.InputError: fmt: unknown chart format 'bmp'; expected png, svg or pdf
    """
    if fmt not in RENDER_FORMATS:
        raise InputError(f"unknown chart format {fmt!r}", field="fmt", expected="png, svg or pdf")
    dpi_value = _positive(dpi, "dpi", "dots per inch above 0")
    import matplotlib

    buffer = io.BytesIO()
    with matplotlib.rc_context({"text.usetex": False}):
        figure.savefig(
            buffer, format=fmt, dpi=dpi_value, metadata={"Software": "dealcalc"} if fmt == "png" else None
        )
    return buffer.getvalue()
