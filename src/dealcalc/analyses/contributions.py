"""Which sources of risk drive a Monte Carlo's metric: rank correlation and contribution to
variance (as @RISK's sensitivity analysis) over every column of ``MonteCarlo.draws()``.

Every source a draw records is a candidate: each sampled input, each price path's summaries
(its mean price and its price at each gate's decision year), the events (years disrupted,
expropriation), each switch and each gate's decisions. For a metric of any party, each source
gets its Spearman rank correlation with the metric and its share of the metric's variance: the
standardized coefficients of a linear regression of the metric on all sources at once (on their
ranks by default), squared and scaled to add up to the regression's R², so that 1 - R² is said
as the part no source explains linearly. Formulas: docs/methodology.md §25.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from dealcalc.analyses.gsa_sources import not_modelled
from dealcalc.analyses.montecarlo import MonteCarlo
from dealcalc.errors import InputError
from dealcalc.params import match_paths

__all__ = ["KINDS", "contribution_table", "contributions", "source_kinds"]

#: The kinds of source, by the prefix of their column in ``MonteCarlo.draws()``.
KINDS = {"price.": "price path", "events.": "events", "switch.": "switch", "gate.": "gate"}


def source_kinds(mc: MonteCarlo) -> dict[str, str]:
    """Per column of ``mc.draws()`` that is a source (not a metric), its kind: ``input``,
    ``price path``, ``events``, ``switch`` or ``gate``.

    Examples
    --------
    >>> import dealcalc as dc
    >>> mc = dc.monte_carlo(dc.load(dc.example_path("ussm-fwo")), 64, seed=1, metrics=["npv_usd"])
    >>> kinds = source_kinds(mc)
    >>> kinds["phases.*.capex_usd"], kinds["switch.china_retightens"], kinds["gate.refinery.built"]
    ('input', 'switch', 'gate')
    """
    out = {}
    for column in mc.draws().columns:
        if column in mc.values:
            continue
        prefix = next((p for p in KINDS if column.startswith(p)), None)
        out[str(column)] = KINDS[prefix] if prefix else "input"
    return out


def contribution_table(
    frame: pd.DataFrame, metric: str, sources: Mapping[str, str], *, ranks: bool = True
) -> pd.DataFrame:
    """Rank correlation and contribution to variance of ``metric`` for each source in ``frame``.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per draw: the metric's column and each source's (numbers or booleans).
    metric : str
        The column explained.
    sources : mapping of column to kind
        The columns that explain it, each with its kind (shown in the table).
    ranks : bool, default True
        Regress the ranks (Spearman's scale; robust to monotone non-linearity and outliers) or,
        with False, the values themselves.

    Returns
    -------
    pandas.DataFrame
        One row per source that varies, sorted by contribution (largest first): ``kind``,
        ``spearman`` (rank correlation with the metric), ``coefficient`` (standardized
        regression coefficient: the metric's change in standard deviations per standard
        deviation of the source, the others held), ``contribution`` (its share of the metric's
        variance, ``coefficient**2`` scaled so that the shares add up to R²). ``attrs``:
        ``r_squared``, ``unexplained`` (1 - R²), ``draws`` (used), ``dropped`` (draws where the
        metric has no value), ``constant`` (sources that did not vary), ``metric``, ``method``.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.normal(size=4000), rng.normal(size=4000)
    >>> df = pd.DataFrame({"a": a, "b": b, "y": 2 * a + b})
    >>> t = contribution_table(df, "y", {"a": "input", "b": "input"}, ranks=False)
    >>> t["contribution"].round(2).tolist(), round(t.attrs["r_squared"], 6)
    ([0.8, 0.2], 1.0)
    """
    from scipy import stats  # here, not at import (as sampling.marginal)

    y_all = frame[metric].to_numpy(dtype=np.float64)
    kept = ~np.isnan(y_all)
    x_all = np.column_stack([frame[c].to_numpy(dtype=np.float64) for c in sources]) if sources else None
    if x_all is not None:
        kept &= ~np.isnan(x_all).any(axis=1)
    y = y_all[kept]
    names = list(sources)
    x = x_all[kept] if x_all is not None else np.empty((y.size, 0))
    varies = np.ptp(x, axis=0) > 0 if y.size else np.zeros(len(names), dtype=bool)
    constant = [n for n, v in zip(names, varies, strict=True) if not v]
    names = [n for n, v in zip(names, varies, strict=True) if v]
    x = x[:, varies]
    if y.size < len(names) + 2 or (y.size and np.ptp(y) == 0):
        raise InputError(
            f"{y.size:,} draws with a value of {metric} for {len(names)} sources that vary",
            field="metric",
            expected="more draws than sources, and a metric that varies (use more draws, or another metric)",
        )
    if ranks:
        x = stats.rankdata(x, axis=0) if names else x
        y = stats.rankdata(y)
    zx = (x - x.mean(axis=0)) / x.std(axis=0)
    zy = (y - y.mean()) / y.std()
    coefficient = np.linalg.lstsq(zx, zy, rcond=None)[0] if names else np.empty(0)
    residual = zy - zx @ coefficient
    r_squared = float(max(0.0, 1.0 - residual @ residual / (zy @ zy)))
    squares = coefficient**2
    share = squares / squares.sum() * r_squared if squares.sum() > 0 else squares
    spearman = (
        np.asarray([stats.spearmanr(x[:, k], y)[0] for k in range(len(names))]) if names else np.empty(0)
    )
    out = pd.DataFrame(
        {
            "kind": [sources[n] for n in names],
            "spearman": spearman,
            "coefficient": coefficient,
            "contribution": share,
        },
        index=pd.Index(names, name="source"),
    ).sort_values("contribution", ascending=False, kind="stable")
    out.attrs.update(
        {
            "metric": metric,
            "method": "rank regression" if ranks else "regression",
            "r_squared": r_squared,
            "unexplained": 1.0 - r_squared,
            "draws": int(y.size),
            "dropped": int(y_all.size - y.size),
            "constant": constant,
        }
    )
    return out


def contributions(mc: MonteCarlo, metric: str = "npv_usd", *, ranks: bool = True) -> pd.DataFrame:
    """The risk ranking of any metric of any party in a Monte Carlo: each source in
    ``mc.draws()`` with its rank correlation and contribution to variance
    (:func:`contribution_table`), sorted by contribution.

    A price path's summaries are taken net of the switches that scale its price (divided by
    the switch's factor in the draws where it holds), so that the path's own randomness and
    the switch are separate sources rather than one counted twice.

    Draws where the metric has no value (an IRR with no root) are dropped and counted
    (``attrs["dropped"]``). ``attrs["held_fixed"]`` says what was not random in this run: the
    kinds of risk the file does not declare and the sources that did not vary (a gate that
    was always built). ``attrs["r_squared"]`` and ``attrs["unexplained"]`` say how much of the
    variance the linear (rank) model explains.

    Examples
    --------
    >>> import dealcalc as dc
    >>> mc = dc.monte_carlo(dc.load(dc.example_path("ussm-fwo")), 500, seed=1, metrics=["npv_usd"])
    >>> t = contributions(mc, "npv_usd")
    >>> list(t.columns), 0.0 < t.attrs["r_squared"] <= 1.0
    (['kind', 'spearman', 'coefficient', 'contribution'], True)
    """
    values = mc.metric(metric)  # an unknown metric is named, with the nearest one
    frame = _net_of_switches(mc, mc.draws())
    frame[metric] = values
    out = contribution_table(frame, metric, source_kinds(mc), ranks=ranks)
    held = not_modelled(mc.deal) + [f"{c} (did not vary in this run)" for c in out.attrs["constant"]]
    out.attrs.update({"held_fixed": held, "run": mc.run})
    return out


def _net_of_switches(mc: MonteCarlo, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with each price path's columns divided by the factor of every switch that
    scales the product's deck price, in the draws where the switch holds."""
    deck = mc.deal.valuation.price_deck
    for product in mc.deal.uncertainty.price_paths:
        path = f"price_decks.{deck}.{product}"
        factor = np.ones(len(frame))
        for name, switch in mc.deal.uncertainty.switches.items():
            on = mc.events.get(f"switch.{name}")
            for pattern, scale in switch.scale.items():
                if on is not None and match_paths(pattern, [path]):
                    factor = np.where(on, factor * scale, factor)
        for column in frame.columns:
            if str(column).startswith(f"price.{product}."):
                frame[column] = frame[column].to_numpy() / factor
    return frame
