"""One-at-a-time sensitivity: tornado, spider and grids, each one chunked engine pass.

Every analysis builds a block of scenarios (the base case with one or two parameters changed
per scenario) and values the whole block at once with :func:`dealcalc.evaluate`; there is no
Python loop over scenarios. Formulas and pitfalls: docs/methodology.md §17.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from dealcalc.analyses import sampling
from dealcalc.analyses.chunks import Randoms, value_draws
from dealcalc.analyses.evaluate import evaluate
from dealcalc.analyses.gsa_sources import (
    DISRUPTIONS,
    EXPROPRIATION,
    make_plan,
    not_modelled,
    path_label,
    switch_label,
)
from dealcalc.analyses.gsa_sources import sources as risk_sources
from dealcalc.analyses.provenance import run_info
from dealcalc.analyses.sampling import marginal, root_seed
from dealcalc.analyses.uncertainty import check_draws, input_overrides, input_targets
from dealcalc.analyses.uncertainty import gates as gated_phases
from dealcalc.engine import risk as events
from dealcalc.engine.memory import check_fits, valuation_bytes
from dealcalc.engine.run import CHUNK_SCENARIOS
from dealcalc.errors import InputError, did_you_mean
from dealcalc.metrics._common import FloatArray
from dealcalc.models import Deal
from dealcalc.params import Scenarios, apply_scenario, limits, numeric_leaves

__all__ = ["check_paths", "check_size", "default_drivers", "grid", "grid_axis", "spider", "tornado"]

#: Memory of a row of a tornado's or spider's block while it is still Python: a dict of one
#: parameter with its float (sys.getsizeof: 184 + 24 bytes) and its slot in the list of rows.
ROW_BYTES = 216


def default_drivers(deal: Deal) -> list[str]:
    """The parameters a tornado shows when none are named: prices of the active deck, capex
    of each built phase, unit operating costs, royalty and income tax rates, the discount rate,
    the tariff pass-through and each transfer price's main term (its payable fraction, margin
    or price); only those with a non-zero value.

    Examples
    --------
    >>> import dealcalc as dc
    >>> drivers = default_drivers(dc.load(dc.example_path("ussm-fwo")))
    >>> drivers[:2]
    ['price_decks.base.copper', 'price_decks.base.gold']
    """
    leaves = numeric_leaves(deal)
    deck = deal.valuation.price_deck
    candidates = [f"price_decks.{deck}.{p}" for p in deal.price_decks[deck]]
    candidates += [f"phases.{name}.capex_usd" for name, phase in deal.phases.items() if phase.gate.go]
    for name in deal.streams:
        candidates += [f"streams.{name}.opex_usd_per_t_ore", f"streams.{name}.conversion_cost_usd_per_unit"]
    candidates += [
        "fiscal.royalty_rate",
        "fiscal.income_tax_rate",
        "valuation.discount_rate",
        *(f"trade.destinations.{d}.pass_through_fraction" for d in deal.trade.destinations),
    ]
    # the terms between the companies of a deal of several: what moves each one's share
    candidates += [f"transfer_prices.{n}.{t.main_term}" for n, t in deal.transfer_prices.items()]
    return [p for p in candidates if leaves.get(p, 0.0) != 0.0]


def check_paths(deal: Deal, paths: Sequence[str]) -> dict[str, float]:
    leaves = numeric_leaves(deal)
    base = {}
    for path in paths:
        if path not in leaves:
            raise InputError(
                "not a numeric parameter",
                field=path,
                hint=did_you_mean(path, leaves) or "see `dealcalc validate FILE --paths`",
            )
        base[path] = leaves[path]
    return base


def _count(n: int, noun: str) -> str:
    """``1 parameter``, ``2,000 parameters``."""
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def check_size(
    deal: Deal, n_rows: int, n_paths: int, what: str, hint: str, *, python_rows: bool = False
) -> None:
    """Refuse, before the block is made, a block of ``n_rows`` scenarios changing ``n_paths``
    parameters that would not fit in memory: per row, an override value of each parameter
    and its mask, the gathered metric (and the row as Python, for a tornado or a spider),
    then the valuation of every row."""
    per_row = 8.0 * (n_paths + 3) + n_paths + (ROW_BYTES if python_rows else 0.0)
    needed = per_row * n_rows + valuation_bytes(n_rows, deal.periods.size, n_metrics=2, chunk=CHUNK_SCENARIOS)
    check_fits(needed, what, hint)


def _block(deal: Deal, rows: list[dict[str, float]], metric: str) -> FloatArray:
    """Value one scenario per row (a row changes some paths; the rest stay at their base)."""
    if not any(rows):  # nothing changes: every row is the base case
        return _value(deal, {}, len(rows), metric)
    scenarios = Scenarios.from_rows(deal, rows)
    return evaluate(deal, overrides=scenarios, metrics=[metric], keep_ledger=False).values[metric]


def _value(deal: Deal, overrides: dict[str, FloatArray], n: int, metric: str) -> FloatArray:
    if not overrides:  # nothing changes: every row is the base case
        value = evaluate(deal, metrics=[metric], keep_ledger=False).values[metric][0]
        return np.full(n, value)
    return evaluate(deal, overrides=overrides, metrics=[metric], keep_ledger=False).values[metric]


def tornado(
    deal: Deal,
    ranges: Mapping[str, tuple[float, float]] | Sequence[str] | None = None,
    *,
    change: float = 0.2,
    metric: str = "npv_usd",
    scenario: str | None = None,
    quantiles: tuple[float, float] | None = None,
    sources: str = "all",
) -> pd.DataFrame:
    """The swing of ``metric`` as each parameter moves alone from a low to a high value.

    Parameters
    ----------
    deal : Deal
        The deal; ``scenario`` names an overlay to start from.
    ranges : mapping of path to (low, high), or sequence of paths, optional
        Explicit low and high values, or paths moved by ``±change`` of their base value
        (kept within what the field allows: a recovery of 0.9 goes up to 1)
        (default: :func:`default_drivers`).
    change : float, default 0.2
        The relative change for paths given without values (0.2 is ±20 %).
    metric : str, default "npv_usd"
        Any metric :func:`dealcalc.evaluate` computes, a party's included (``ussm.npv_usd``).
    quantiles : (float, float), optional
        Instead of ``ranges``: move each input of the file's ``uncertainty.inputs`` between
        these quantiles of its distribution, e.g. ``(0.1, 0.9)`` for P10/P90 (a risk-weighted
        tornado; a pattern such as ``phases.*.capex_usd`` moves every matching path together).
        With ``sources="all"`` (the default) every other source of risk the file declares gets a
        row too, said in words: each price path at these quantiles in every year (``antimony
        price path``), each switch off and on, the disruption events and expropriation none and
        at the ``high`` quantile of the years they take (:func:`_source_rows`);
        ``sources="inputs"`` gives the inputs' rows only. ``attrs["held_fixed"]`` says what
        stays at its base (the phase gates, built as in the base case) and
        ``attrs["not_modelled"]`` what the file does not declare.

    Returns
    -------
    pandas.DataFrame
        One row per parameter, sorted by swing (largest first): ``base_value``, ``low_value``,
        ``high_value``, ``metric_at_low``, ``metric_at_high``, ``swing`` (= |high − low| of the
        metric); ``df.attrs["base_metric"]`` holds the base case's value.

    Examples
    --------
    >>> import dealcalc as dc
    >>> deal = dc.load(dc.example_path("ussm-fwo"))
    >>> t = tornado(deal, ["price_decks.base.antimony", "fiscal.royalty_rate"])
    >>> t.index[0]
    'price_decks.base.antimony'
    >>> bool(t.loc["fiscal.royalty_rate", "metric_at_high"] < t.attrs["base_metric"])
    True
    """
    start = apply_scenario(deal, scenario)
    if quantiles is not None:
        return _tornado_from_distributions(start, quantiles, metric, sources)
    if ranges is None:
        ranges = default_drivers(start)
    base = check_paths(start, list(ranges))
    clipped: list[str] = []
    if not isinstance(ranges, Mapping):
        # ±change, kept inside what the field allows: a recovery of 0.9 goes up to 1, not 1.08
        wanted = {p: (v * (1.0 - change), v * (1.0 + change)) for p, v in base.items()}
        ranges = {}
        for p, (lo, hi) in wanted.items():
            floor, ceiling = limits(p, start)
            ranges[p] = (float(np.clip(lo, floor, ceiling)), float(np.clip(hi, floor, ceiling)))
        clipped = [p for p in wanted if ranges[p] != wanted[p]]
    n_rows = 1 + 2 * len(ranges)
    check_size(
        start,
        n_rows,
        len(ranges),
        f"a tornado of {_count(len(ranges), 'parameter')} ({n_rows:,} scenarios)",
        "name fewer parameters",
        python_rows=True,
    )
    rows: list[dict[str, float]] = [{}]
    for path, (low, high) in ranges.items():
        rows += [{path: float(low)}, {path: float(high)}]
    values = _block(start, rows, metric)
    low_values, high_values = values[1::2], values[2::2]
    df = pd.DataFrame(
        {
            "base_value": [base[p] for p in ranges],
            "low_value": [float(lo) for lo, _ in ranges.values()],
            "high_value": [float(hi) for _, hi in ranges.values()],
            "metric_at_low": low_values,
            "metric_at_high": high_values,
            "swing": np.abs(high_values - low_values),
        },
        index=pd.Index(list(ranges), name="parameter"),
    )
    df = df.sort_values("swing", ascending=False, kind="stable")
    df.attrs.update(
        {
            "base_metric": float(values[0]),
            "metric": metric,
            "clipped": clipped,
            "run": run_info(start, analysis="tornado"),
        }
    )
    return df


def _tornado_from_distributions(
    deal: Deal, quantiles: tuple[float, float], metric: str, sources: str = "all"
) -> pd.DataFrame:
    """Each uncertain input between two quantiles of its distribution, the rest at base; with
    ``sources="all"``, then each other source of risk (:func:`_source_rows`)."""
    low_q, high_q = quantiles
    if not 0.0 < low_q < high_q < 1.0:
        raise InputError(
            f"quantiles {quantiles}", field="quantiles", expected="0 < low < high < 1, e.g. (0.1, 0.9)"
        )
    if sources not in ("all", "inputs"):
        raise InputError(f"sources {sources!r}", field="sources", expected="all or inputs")
    others = risk_sources(deal) if sources == "all" else {}
    inputs = deal.uncertainty.inputs
    if not inputs and not others:
        raise InputError("no uncertain inputs to take quantiles of", field="uncertainty.inputs")
    leaves = numeric_leaves(deal)
    targets = input_targets(deal)
    n_rows = 1 + 2 * len(inputs)
    check_size(
        deal,
        n_rows,
        sum(len(targets[p]) for p in inputs),
        f"a tornado of {_count(len(inputs), 'uncertain input')} ({n_rows:,} scenarios)",
        "declare fewer uncertain inputs, or name the parameters to move",
        python_rows=True,
    )
    rows: list[dict[str, float]] = [{}]
    table = []
    for pattern, dist in inputs.items():
        ends = np.asarray(marginal(dist)(np.array([low_q, high_q])), dtype=np.float64)
        check_draws(deal, {pattern: ends}, targets)  # named for the input, not as an override
        moved = input_overrides(deal, {pattern: ends})
        rows += [{p: float(v[0]) for p, v in moved.items()}, {p: float(v[1]) for p, v in moved.items()}]
        base = 1.0 if dist.factor else leaves[targets[pattern][0]]
        table.append((pattern, base, float(ends[0]), float(ends[1])))
    values = _block(deal, rows, metric)
    kinds = ["input"] * len(table)
    at_low, at_high = list(values[1::2]), list(values[2::2])
    for label, kind, base, low, high, pair in _source_rows(deal, quantiles, metric) if others else ():
        table.append((label, base, low, high))
        kinds.append(kind)
        at_low.append(float(pair[0]))
        at_high.append(float(pair[1]))
    low_values, high_values = np.asarray(at_low), np.asarray(at_high)
    df = pd.DataFrame(
        {
            "base_value": [t[1] for t in table],
            "low_value": [t[2] for t in table],
            "high_value": [t[3] for t in table],
            "metric_at_low": low_values,
            "metric_at_high": high_values,
            "swing": np.abs(high_values - low_values),
        },
        index=pd.Index([t[0] for t in table], name="parameter"),
    )
    order = np.argsort(-df["swing"].to_numpy(), kind="stable")
    df = df.iloc[order]
    held = ["phase gates: built as in the base case"] if gated_phases(deal) else []
    if others:
        held.append(
            "each row moves one source, the others at their base (price paths at the deck, uncorrelated)"
        )
    else:
        held += [f"{label}: at its base" for label in risk_sources(deal)]
    df.attrs.update(
        {
            "base_metric": float(values[0]),
            "metric": metric,
            "quantiles": quantiles,
            "sources": sources,
            "kinds": dict(zip(df.index, np.asarray(kinds)[order].tolist(), strict=True)),
            "held_fixed": held,
            "not_modelled": not_modelled(deal),
            "run": run_info(deal, analysis="tornado"),
        }
    )
    return df


def _source_rows(
    deal: Deal, quantiles: tuple[float, float], metric: str
) -> list[tuple[str, str, float, float, float, FloatArray]]:
    """The tornado rows of the sources of risk besides the inputs, each valued at a low and a
    high setting through the Monte Carlo's own kernels (:func:`dealcalc.analyses.chunks.value_draws`,
    the gates held as in the base case), everything else at its base (the deck's prices,
    switches off, no events):

    - a price path (one per product) in the scenario where its price is at the ``low`` and
      the ``high`` quantile of its distribution in every year: multiplier
      ``exp(c_t + z_q s_t)`` with ``s_t`` the standard deviation of the log multiplier in year
      t (:func:`dealcalc.engine.risk.price_path_map`); its values are the mean multipliers;
    - a switch off (0) and on (1);
    - the disruption events none (0) and as in the draw of the first block of the run's
      ``disruptions`` stream whose disrupted years are at the ``high`` quantile of that
      block's (the value is that number of years); expropriation likewise in years taken.

    Returns ``(label, kind, base, low, high, metric at low and high)`` per row.
    """
    from scipy import special  # here, not at import (as sampling.marginal)

    low_q, high_q = quantiles
    u = deal.uncertainty
    plan = dataclasses.replace(make_plan(deal, [metric]), gates=[], branches=[deal])
    t, n_paths = deal.periods.size, len(u.price_paths)
    seed = root_seed(None, u.seed)

    def value(**moved: Any) -> FloatArray:
        """The metric of two rows: everything at base but what ``moved`` gives."""
        drawn = Randoms(
            multipliers=moved.get("multipliers", np.ones((2, n_paths, t))) if n_paths else None,
            starts=moved.get("starts", [np.ones((2, t))] * len(u.disruptions)),
            moments=moved.get("moments", [np.zeros((2, t))] * len(u.disruptions)),
            expropriation=moved.get("expropriation", np.ones((2, t))) if u.expropriation else None,
            gates=np.empty((2, 0)),
            switches=moved.get("switches", np.ones((2, len(u.switches)))),
        )
        return value_draws(plan, {}, drawn).values[metric]

    out: list[tuple[str, str, float, float, float, FloatArray]] = []
    a, c = plan.path_map
    z = special.ndtri(np.array([low_q, high_q]))
    for k, product in enumerate(u.price_paths):
        spread = np.sqrt((a[k * t : (k + 1) * t] ** 2).sum(axis=1))
        multipliers = np.ones((2, n_paths, t))
        multipliers[:, k, :] = np.exp(c[k][None, :] + z[:, None] * spread[None, :])
        means = multipliers[:, k, :].mean(axis=1)
        out.append(
            (
                path_label(product),
                "price path",
                1.0,
                float(means[0]),
                float(means[1]),
                value(multipliers=multipliers),
            )
        )
    for j, name in enumerate(u.switches):
        switches = np.ones((2, len(u.switches)))
        switches[1, j] = 0.0  # below any probability above 0: the switch holds
        out.append((switch_label(name), "switch", 0.0, 0.0, 1.0, value(switches=switches)))
    if u.disruptions:
        starts, moments = sampling.disruption_uniforms(deal, seed, 0, sampling.RNG_BLOCK)
        years = np.count_nonzero(sampling.kept_output(deal, starts, moments) < 1.0, axis=1)
        row = _at_quantile(years, high_q)
        quiet = np.ones(t)
        pair = value(
            starts=[np.stack([quiet, s[row]]) for s in starts],
            moments=[np.stack([quiet * 0.0, np.nan_to_num(m[row])]) for m in moments],
        )
        out.append((DISRUPTIONS, "events", 0.0, 0.0, float(years[row]), pair))
    expropriation = u.expropriation
    if expropriation is not None and expropriation.annual_probability > 0:
        draws = sampling.expropriation_uniforms(deal, seed, 0, sampling.RNG_BLOCK)
        years = events.expropriated(draws, expropriation.annual_probability).sum(axis=1)
        row = _at_quantile(years, high_q)
        pair = value(expropriation=np.stack([np.ones(t), draws[row]]))
        out.append((EXPROPRIATION, "events", 0.0, 0.0, float(years[row]), pair))
    return out


def _at_quantile(counts: FloatArray, q: float) -> int:
    """The first draw whose count is the q quantile of the counts (the inverted CDF)."""
    target = np.quantile(counts, q, method="inverted_cdf")
    return int(np.flatnonzero(counts == target)[0])


def spider(
    deal: Deal,
    paths: Sequence[str] | None = None,
    changes: ArrayLike = (-0.3, -0.2, -0.1, 0.0, 0.1, 0.2, 0.3),
    *,
    metric: str = "npv_usd",
    scenario: str | None = None,
) -> pd.DataFrame:
    """``metric`` against the relative change of each parameter, the others at their base.

    Returns a DataFrame indexed by the change (0.1 is +10 %) with one column per parameter;
    NaN where the change would take the parameter outside what its field allows.

    Examples
    --------
    >>> import dealcalc as dc
    >>> s = spider(dc.load(dc.example_path("ussm-fwo")), ["fiscal.royalty_rate"], [-0.5, 0.0, 0.5])
    >>> bool(s["fiscal.royalty_rate"].is_monotonic_decreasing)
    True
    """
    start = apply_scenario(deal, scenario)
    chosen = list(paths) if paths is not None else default_drivers(start)
    base = check_paths(start, chosen)
    steps = np.asarray(changes, dtype=np.float64).reshape(-1)
    n_rows = len(chosen) * steps.size
    check_size(
        start,
        n_rows,
        len(chosen),
        f"a spider of {_count(len(chosen), 'parameter')} at {_count(steps.size, 'change')} "
        f"({n_rows:,} scenarios)",
        "fewer changes, a handful such as -30 % to +30 % in steps of 10 %, or fewer parameters",
        python_rows=True,
    )
    moved = np.array([[base[p] * (1.0 + c) for c in steps] for p in chosen]).reshape(len(chosen), steps.size)
    bounds = np.array([limits(p, start) for p in chosen]).reshape(len(chosen), 2)
    # a change that would leave what the field allows (a recovery above 1) is not valued: NaN
    inside = (moved >= bounds[:, :1]) & (moved <= bounds[:, 1:])
    rows = [{p: float(moved[i, j])} for i, p in enumerate(chosen) for j in range(steps.size) if inside[i, j]]
    values = np.full(moved.shape, np.nan)
    values[inside] = _block(start, rows, metric)
    df = pd.DataFrame(
        values.T, index=pd.Index(steps, name="change"), columns=pd.Index(chosen, name="parameter")
    )
    df.attrs.update(
        {"metric": metric, "past_limits": bool((~inside).any()), "run": run_info(start, analysis="spider")}
    )
    return df


def grid_axis(axis: object, name: str) -> tuple[str, FloatArray]:
    """A grid axis ``(path, values)``: a parameter path and at least one number."""
    if not (isinstance(axis, tuple | list) and len(axis) == 2 and isinstance(axis[0], str)):
        raise InputError(
            f"{type(axis).__name__} given",
            field=name,
            expected="(path, values), e.g. ('fiscal.royalty_rate', [0.03, 0.07])",
        )
    try:
        values = np.asarray(axis[1], dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise InputError("the values are not numbers", field=f"{name}: {axis[0]}") from None
    if values.size == 0:
        raise InputError("no values", field=f"{name}: {axis[0]}", expected="at least one value")
    return axis[0], values


def grid(
    deal: Deal,
    x: tuple[str, ArrayLike],
    y: tuple[str, ArrayLike] | None = None,
    *,
    metric: str = "npv_usd",
    scenario: str | None = None,
) -> pd.DataFrame:
    """``metric`` over a 1-D or 2-D grid of parameter values (e.g. antimony price × capex).

    ``x`` and ``y`` are ``(path, values)``. Returns a DataFrame indexed by the x values, with
    one column per y value (or a single column named after the metric for a 1-D grid).

    Examples
    --------
    >>> import dealcalc as dc
    >>> deal = dc.load(dc.example_path("ussm-fwo"))
    >>> x = ("price_decks.base.antimony", [20e3, 40e3])
    >>> g = grid(deal, x, ("phases.refinery.capex_usd", [300e6, 400e6]))
    >>> g.shape
    (2, 2)
    """
    start = apply_scenario(deal, scenario)
    x_path, x_values = grid_axis(x, "x")
    y_axis = None if y is None else grid_axis(y, "y")
    check_paths(start, [x_path] if y_axis is None else [x_path, y_axis[0]])
    n_y = 1 if y_axis is None else y_axis[1].size
    check_size(
        start,
        x_values.size * n_y,
        1 if y_axis is None else 2,
        f"a grid of {_count(x_values.size, 'scenario')}"
        if y_axis is None
        else f"a grid of {x_values.size:,} x {n_y:,} = {x_values.size * n_y:,} scenarios",
        "fewer values on an axis, or value the grid in parts, a slice of the x values a call",
    )
    if y_axis is None:
        values = _value(start, {x_path: x_values}, x_values.size, metric)
        line = pd.DataFrame({metric: values}, index=pd.Index(x_values, name=x_path))
        line.attrs.update({"metric": metric, "run": run_info(start, analysis="grid")})
        return line
    y_path, y_values = y_axis
    overrides = {x_path: np.repeat(x_values, y_values.size), y_path: np.tile(y_values, x_values.size)}
    values = _value(start, overrides, x_values.size * y_values.size, metric).reshape(
        x_values.size, y_values.size
    )
    df = pd.DataFrame(values, index=pd.Index(x_values, name=x_path), columns=pd.Index(y_values, name=y_path))
    df.attrs.update({"metric": metric, "run": run_info(start, analysis="grid")})
    return df
