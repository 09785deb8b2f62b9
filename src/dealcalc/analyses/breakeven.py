"""Breakeven: the value of one parameter at which a metric hits a target, for many scenarios.

A grid over the allowed range brackets the first crossing of every scenario in one engine
pass; then the Illinois variant of regula falsi narrows all brackets together, one engine pass
per step over the scenarios still open. Formulas: docs/methodology.md §18.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from dealcalc import formatting as fmt
from dealcalc.analyses.display import column_header, param_label, param_value
from dealcalc.analyses.evaluate import evaluate
from dealcalc.analyses.provenance import RunInfo, run_info
from dealcalc.engine.memory import check_fits, shape_of, valuation_bytes
from dealcalc.engine.run import CHUNK_SCENARIOS
from dealcalc.engine.timeline import fisher
from dealcalc.errors import InputError, did_you_mean
from dealcalc.metrics._common import FloatArray
from dealcalc.models import Deal
from dealcalc.params import apply_scenario, limits, numeric_leaves

__all__ = ["Breakeven", "breakeven"]


@dataclass(frozen=True)
class Breakeven:
    """Where ``metric`` of each scenario equals ``target`` as ``path`` moves within ``bounds``.

    ``value`` is NaN (and ``found`` False) where the metric does not cross the target inside
    the bounds; ``at_low`` and ``at_high`` give the metric at the two ends, to say why.
    """

    path: str
    metric: str
    target: float
    bounds: tuple[float, float]
    base_value: float
    value: FloatArray
    found: np.ndarray
    at_low: FloatArray
    at_high: FloatArray
    allowed: tuple[float, float] = (-np.inf, np.inf)  # what the field allows (a schedule: its factor)
    basis: str = "real"  # the basis of the metric (and of the target, once converted)
    run: RunInfo | None = None  # what was run (file, scenario, changes): see provenance.RunInfo

    def table(self) -> pd.DataFrame:
        """One row per scenario: the breakeven value, whether it exists, the metric at the ends."""
        return pd.DataFrame(
            {
                "value": self.value,
                "found": self.found,
                "metric_at_low": self.at_low,
                "metric_at_high": self.at_high,
            },
            index=pd.RangeIndex(self.value.size, name="scenario"),
        )

    def explain(self, scenario: int = 0) -> str:
        """One sentence: the breakeven value, or why there is none in the bounds."""
        lo, hi = self.bounds
        if self.found[scenario]:
            value = _num(self.value[scenario])
            return f"{self.metric} ({self.basis}) = {self.target:g} at {self.path} = {value}"
        a, b = self.at_low[scenario], self.at_high[scenario]
        if np.isnan(a) or np.isnan(b):
            side = "is undefined (no solution) at an end of the range"
        else:
            side = "stays above" if min(a, b) > self.target else "stays below"
        allowed = self.allowed
        advice = (
            "the range already spans every value the field allows"
            if (lo, hi) == allowed
            else "widen --low/--high"
            + (
                f" (the field allows {_num(allowed[0])} to {_num(allowed[1])})"
                if np.isfinite(allowed[1])
                else ""
            )
        )
        advice = advice.replace(
            f"{_num(allowed[0])} to {_num(allowed[1])}",
            f"{param_value(self.path, allowed[0])} to {param_value(self.path, allowed[1])}",
        )

        def metric(x: float) -> str:
            return fmt.cell(self.metric, x)

        def at(x: float) -> str:
            return param_value(self.path, x)

        shown = column_header(self.metric, basis=self.basis)
        return (
            f"no breakeven: {shown} {side} {metric(self.target)} for {param_label(self.path)} "
            f"from {at(lo)} to {at(hi)} ({metric(a)} at {at(lo)}, {metric(b)} at {at(hi)}); "
            f"{advice}"
        )


def _num(x: float) -> str:
    """A number in a sentence: six figures, thousands separators, never scientific notation."""
    text = fmt.number(float(x), significant=6)
    return text.rstrip("0").rstrip(".") if "." in text else text


def _default_bounds(base: float) -> tuple[float, float]:
    if base > 0:
        return 0.0, 4.0 * base
    if base < 0:
        return 4.0 * base, 0.0
    return 0.0, 1.0


def _check_size(deal: Deal, overrides: Mapping[str, ArrayLike], grid_points: int) -> None:
    """Refuse, from the overrides' shapes alone, a breakeven whose bracketing pass (every
    scenario at every grid point, valued at once) would not fit in memory."""
    sizes = [math.prod(shape_of(v)) for v in overrides.values()]
    n = max(sizes, default=1)
    rows = n * grid_points
    # the overrides as flat float64 (a copy and a mask each); per row of the bracketing pass,
    # its scenario index and x, each override's value, the metric gathered and less the target,
    # and the signs and crossings; then the valuation of every row
    needed = (
        9.0 * sum(sizes)
        + rows * (8.0 * (len(sizes) + 8) + len(sizes) + 1)
        + valuation_bytes(rows, deal.periods.size, n_metrics=2, chunk=CHUNK_SCENARIOS)
    )
    check_fits(
        needed,
        f"a breakeven of {n:,} scenario{'' if n == 1 else 's'} on a grid of {grid_points:,} points "
        f"({rows:,} valuations at once)",
        "pass fewer scenarios a call, as each scenario's breakeven is found on its own, or fewer grid_points",
    )


def breakeven(
    deal: Deal,
    path: str,
    *,
    target: float = 0.0,
    metric: str = "npv_usd",
    target_basis: str | None = None,
    bounds: tuple[float | None, float | None] | None = None,
    overrides: Mapping[str, ArrayLike] | None = None,
    scenario: str | None = None,
    grid_points: int = 33,
    rtol: float = 1e-10,
    max_steps: int = 100,
) -> Breakeven:
    """The value of ``path`` at which ``metric`` equals ``target`` (NPV = 0 by default).

    Parameters
    ----------
    deal : Deal
        The deal; ``scenario`` names an overlay to start from.
    path : str
        The parameter that moves (``price_decks.base.antimony``).
    target : float, default 0.0
        The metric's target (0 for NPV; 0.19 with ``metric="irr"`` for a 19 % IRR).
    metric : str, default "npv_usd"
        Any metric :func:`dealcalc.evaluate` computes, a party's included.
    target_basis : {"real", "nominal"}, optional
        The basis of an IRR target (default: the deal's). A nominal hurdle of a real deal is
        converted by the Fisher relation, (1 + target) / (1 + inflation) - 1; an NPV is the
        same in either basis (methodology §8).
    bounds : (float or None, float or None), optional
        The allowed range (default, also for an end given as None: 0 to four times the base
        value, within what the field allows: a recovery stops at 1).
    overrides : mapping of path to array_like (S,), optional
        Other parameters per scenario: one breakeven per scenario, all found together.
    grid_points, rtol, max_steps
        The bracketing grid, the relative tolerance on the value, and the most refinement steps.

    Returns
    -------
    Breakeven
        The lowest crossing in the range for each scenario; NaN with an explanation where none.

    Examples
    --------
    >>> import dealcalc as dc
    >>> deal = dc.load(dc.example_path("ussm-fwo"))
    >>> b = breakeven(deal, "price_decks.base.antimony")
    >>> round(float(b.value[0]))
    29258
    >>> capex = {"phases.refinery.capex_usd": [2e8, 3e8, 4e8]}
    >>> many = breakeven(deal, "price_decks.base.antimony", overrides=capex)
    >>> many.value.round(-1).tolist()
    [22770.0, 29260.0, 35740.0]
    """
    start = apply_scenario(deal, scenario)
    if not np.isfinite(target):
        raise InputError(
            f"{target} is not a target", field="target", expected="a finite number (0 for NPV = 0)"
        )
    basis = start.valuation.basis
    if target_basis is not None and target_basis != basis:
        if target_basis not in ("real", "nominal"):
            raise InputError(
                f"{target_basis!r} is not a basis", field="target_basis", expected="real or nominal"
            )
        if not metric.endswith("irr"):
            raise InputError(
                f"a target basis applies to an IRR, not to {metric}",
                field="target_basis",
                hint="an NPV is the same in real and nominal terms; leave the basis out",
            )
        target = float(fisher(target, start.valuation.inflation_rate, stated=target_basis, wanted=basis))
    leaves = numeric_leaves(start)
    if path not in leaves:
        raise InputError("not a numeric parameter", field=path, hint=did_you_mean(path, leaves))
    default = tuple(float(np.clip(b, *limits(path, start))) for b in _default_bounds(leaves[path]))
    given = bounds if bounds is not None else (None, None)
    lo = default[0] if given[0] is None else given[0]
    hi = default[1] if given[1] is None else given[1]
    if not lo < hi:
        raise InputError(f"the range [{lo:g}, {hi:g}] is empty", field="bounds", expected="low < high")
    if isinstance(grid_points, bool) or not isinstance(grid_points, int | np.integer) or grid_points < 2:
        raise InputError(
            f"{grid_points!r} grid points",
            field="grid_points",
            expected="a whole number, at least 2 (the ends of the range)",
        )
    _check_size(start, overrides or {}, int(grid_points))
    for key, value in (overrides or {}).items():
        if np.ndim(value) > 1:  # one value per scenario: a year-by-year array would be flattened
            raise InputError(
                f"an override of shape {np.shape(value)}",
                field=key,
                expected="one value per scenario, shape (S,); a schedule by year is set in the file",
            )
    others = {k: np.asarray(v, dtype=np.float64).reshape(-1) for k, v in (overrides or {}).items()}
    if path in others:
        raise InputError("the parameter that moves cannot also be overridden", field=path)
    sizes = {a.size for a in others.values()} - {1}
    if len(sizes) > 1:
        raise InputError(f"overrides disagree on the number of scenarios: {sorted(sizes)}", field="overrides")
    n = sizes.pop() if sizes else 1
    others = {k: np.broadcast_to(v, (n,)) for k, v in others.items()}

    def f(rows: np.ndarray, x: FloatArray) -> FloatArray:
        block = {k: v[rows] for k, v in others.items()} | {path: x}
        out = evaluate(start, overrides=block, metrics=[metric], keep_ledger=False).values[metric]
        return np.asarray(out - target, dtype=np.float64)

    # 1. bracket: the metric on a grid for every scenario, in one pass
    xs = np.linspace(lo, hi, grid_points)
    rows = np.repeat(np.arange(n), grid_points)
    fg = f(rows, np.tile(xs, n)).reshape(n, grid_points)
    crossing = (np.sign(fg[:, :-1]) * np.sign(fg[:, 1:]) <= 0) & ~np.isnan(fg[:, :-1]) & ~np.isnan(fg[:, 1:])
    found = crossing.any(axis=1)
    k = np.argmax(crossing, axis=1)
    a, b = xs[k], xs[k + 1]
    fa, fb = fg[np.arange(n), k], fg[np.arange(n), k + 1]
    value = np.full(n, np.nan)
    exact = found & (fa == 0)
    value[exact] = a[exact]
    exact_b = found & ~exact & (fb == 0)
    value[exact_b] = b[exact_b]
    open_ = found & ~exact & ~exact_b
    # 2. Illinois regula falsi on every open bracket at once
    side = np.zeros(n, dtype=np.int8)
    for _ in range(max_steps):
        idx = np.flatnonzero(open_)
        if idx.size == 0:
            break
        c = b[idx] - fb[idx] * (b[idx] - a[idx]) / (fb[idx] - fa[idx])
        fc = f(idx, c)
        left = np.sign(fc) == np.sign(fa[idx])
        # the root lies in [c, b] when f(c) has a's sign, else in [a, c]
        new_a = np.where(left, c, a[idx])
        new_b = np.where(left, b[idx], c)
        new_fa = np.where(left, fc, fa[idx])
        new_fb = np.where(left, fb[idx], fc)
        # Illinois: halve the stale end's value when the same end is kept twice
        stale_b = left & (side[idx] == 1)
        stale_a = ~left & (side[idx] == -1)
        new_fb = np.where(stale_b, new_fb / 2, new_fb)
        new_fa = np.where(stale_a, new_fa / 2, new_fa)
        side[idx] = np.where(left, 1, -1)
        a[idx], b[idx], fa[idx], fb[idx] = new_a, new_b, new_fa, new_fb
        done = (fc == 0) | (np.abs(new_b - new_a) <= rtol * np.maximum(np.abs(c), 1.0))
        value[idx[done]] = c[done]
        open_[idx[done]] = False
    value[open_] = 0.5 * (a[open_] + b[open_])  # the step budget ran out: the bracket's middle
    return Breakeven(
        path=path,
        metric=metric,
        target=target,
        bounds=(float(lo), float(hi)),
        base_value=float(leaves[path]),
        value=value,
        found=np.asarray(found, dtype=bool),
        at_low=fg[:, 0] + target,
        at_high=fg[:, -1] + target,
        allowed=limits(path, start),
        basis=basis,
        run=run_info(start, analysis="breakeven"),
    )
