"""One-at-a-time sensitivity: tornado, spider and grids, each one chunked engine pass.

Every analysis builds a block of scenarios (the base case with one or two parameters changed
per scenario) and values the whole block at once with :func:`dealcalc.evaluate`; there is no
Python loop over scenarios. Formulas and pitfalls: docs/methodology.md §17.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from dealcalc.analyses.evaluate import evaluate
from dealcalc.analyses.montecarlo import check_draws, input_overrides, input_targets, marginal
from dealcalc.analyses.provenance import run_info
from dealcalc.engine.memory import check_fits, valuation_bytes
from dealcalc.engine.run import CHUNK_SCENARIOS
from dealcalc.errors import InputError, did_you_mean
from dealcalc.metrics._common import FloatArray
from dealcalc.models import Deal
from dealcalc.params import Scenarios, apply_scenario, limits, numeric_leaves

__all__ = ["default_drivers", "grid", "spider", "tornado"]

#: Memory of a row of a tornado's or spider's block while it is still Python: a dict of one
#: parameter with its float (sys.getsizeof: 184 + 24 bytes) and its slot in the list of rows.
ROW_BYTES = 216


def default_drivers(deal: Deal) -> list[str]:
    """The parameters a tornado shows when none are named: prices of the active deck, capex
    of each built phase, unit operating costs, royalty and income tax rates, the discount rate,
    and the tariff pass-through; only those with a non-zero value.

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
    return [p for p in candidates if leaves.get(p, 0.0) != 0.0]


def _check_paths(deal: Deal, paths: Sequence[str]) -> dict[str, float]:
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


def _check_size(
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
        return _tornado_from_distributions(start, quantiles, metric)
    if ranges is None:
        ranges = default_drivers(start)
    base = _check_paths(start, list(ranges))
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
    _check_size(
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


def _tornado_from_distributions(deal: Deal, quantiles: tuple[float, float], metric: str) -> pd.DataFrame:
    """Each uncertain input between two quantiles of its distribution, the rest at base."""
    low_q, high_q = quantiles
    if not 0.0 < low_q < high_q < 1.0:
        raise InputError(
            f"quantiles {quantiles}", field="quantiles", expected="0 < low < high < 1, e.g. (0.1, 0.9)"
        )
    inputs = deal.uncertainty.inputs
    if not inputs:
        raise InputError("no uncertain inputs to take quantiles of", field="uncertainty.inputs")
    leaves = numeric_leaves(deal)
    targets = input_targets(deal)
    n_rows = 1 + 2 * len(inputs)
    _check_size(
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
    df = pd.DataFrame(
        {
            "base_value": [t[1] for t in table],
            "low_value": [t[2] for t in table],
            "high_value": [t[3] for t in table],
            "metric_at_low": values[1::2],
            "metric_at_high": values[2::2],
            "swing": np.abs(values[2::2] - values[1::2]),
        },
        index=pd.Index([t[0] for t in table], name="parameter"),
    ).sort_values("swing", ascending=False, kind="stable")
    df.attrs.update(
        {
            "base_metric": float(values[0]),
            "metric": metric,
            "quantiles": quantiles,
            "run": run_info(deal, analysis="tornado"),
        }
    )
    return df


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
    base = _check_paths(start, chosen)
    steps = np.asarray(changes, dtype=np.float64).reshape(-1)
    n_rows = len(chosen) * steps.size
    _check_size(
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


def _axis(axis: object, name: str) -> tuple[str, FloatArray]:
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
    x_path, x_values = _axis(x, "x")
    y_axis = None if y is None else _axis(y, "y")
    _check_paths(start, [x_path] if y_axis is None else [x_path, y_axis[0]])
    n_y = 1 if y_axis is None else y_axis[1].size
    _check_size(
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
