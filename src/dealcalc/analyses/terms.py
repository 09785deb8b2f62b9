"""The negotiation space of two terms: each party's value over a grid of two terms of a deal, and
the region where every party is at least at its walk-away value.

A term is any parameter path (a royalty rate, an offtake's floor, a stream's deposit, a stake):
the grid is valued at once, all parties' metrics together, as one block of scenarios
(docs/methodology.md, "The negotiation space").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from dealcalc.analyses.evaluate import evaluate
from dealcalc.analyses.provenance import RunInfo, run_info
from dealcalc.analyses.sensitivity import check_paths, check_size, grid_axis
from dealcalc.errors import InputError, did_you_mean
from dealcalc.metrics._common import FloatArray
from dealcalc.models import Deal
from dealcalc.params import apply_scenario

__all__ = ["TermsGrid", "negotiation_space"]


@dataclass(frozen=True)
class TermsGrid:
    """Each party's value over a grid of two terms, and where every party accepts.

    Attributes
    ----------
    x, y : tuple of (str, ndarray)
        The two terms: a parameter path and its values.
    metric : str
        What each party's value is (``npv_usd``: each party's NPV at its own rate).
    values : dict of str to DataFrame
        Per party, the metric over the grid: index the x values, columns the y values.
    walk_away : dict of str to float
        The value below which each party walks away (parties not named have none).
    accepted : DataFrame of bool
        True where every party with a walk-away value is at or above it.
    run : RunInfo
        What was valued.
    """

    x: tuple[str, FloatArray]
    y: tuple[str, FloatArray]
    metric: str
    values: dict[str, pd.DataFrame]
    walk_away: dict[str, float]
    accepted: pd.DataFrame
    run: RunInfo | None = field(default=None, repr=False)

    @property
    def info(self) -> RunInfo | None:
        """The run's record (as :attr:`dealcalc.Valuation.info`)."""
        return self.run

    def share_accepted(self) -> float:
        """The share of the grid's points every party accepts."""
        return float(self.accepted.to_numpy().mean())

    def table(self) -> pd.DataFrame:
        """One row per grid point: the two terms, each party's value and whether all accept."""
        xs, ys = self.x[1], self.y[1]
        out = pd.DataFrame({self.x[0]: np.repeat(xs, ys.size), self.y[0]: np.tile(ys, xs.size)})
        for party, frame in self.values.items():
            out[f"{party}.{self.metric}"] = frame.to_numpy().reshape(-1)
        out["accepted"] = self.accepted.to_numpy().reshape(-1)
        return out


def _axis(axis: object, name: str) -> tuple[str, FloatArray]:
    """A term's axis: a grid axis (:func:`~dealcalc.analyses.sensitivity.grid_axis`) of at least
    two finite values."""
    path, values = grid_axis(axis, name)
    if values.size < 2 or not np.isfinite(values).all():
        raise InputError(
            "at least two finite values", field=f"{name}: {path}", expected="e.g. 0.03,0.05,0.07"
        )
    return path, values


def negotiation_space(
    deal: Deal,
    x: tuple[str, ArrayLike],
    y: tuple[str, ArrayLike],
    *,
    walk_away: Mapping[str, float] | None = None,
    parties: Sequence[str] | None = None,
    metric: str = "npv_usd",
    scenario: str | None = None,
) -> TermsGrid:
    """Each party's value over a grid of two terms, and the region every party accepts.

    Parameters
    ----------
    deal : Deal
        From :func:`dealcalc.load`.
    x, y : (str, array_like)
        Two terms: a parameter path and at least two values each.
    walk_away : mapping of party to float, optional
        The value below which a party walks away (in the metric's unit: US$ for an NPV, a
        fraction for an IRR). Every owner not named walks away below zero; the other parties
        not named have no limit (``-inf`` takes an owner's limit away).
    parties : sequence of str, optional
        The parties shown (default: every party of the deal).
    metric : str
        ``npv_usd`` (each party's NPV at its own discount rate) or ``irr``.
    scenario : str, optional
        A named scenario of the file to start from.

    Returns
    -------
    TermsGrid

    Examples
    --------
    >>> import dealcalc as dc
    >>> deal = dc.load(dc.example_path("ussm-fwo"))
    >>> space = negotiation_space(deal, ("fiscal.royalty_rate", [0.0, 0.05, 0.10]),
    ...                           ("price_decks.base.antimony", [25000, 30000, 40000]))
    >>> space.accepted.loc[0.0, 40000.0], space.accepted.loc[0.10, 25000.0]
    (np.True_, np.False_)
    """
    start = apply_scenario(deal, scenario)
    x_path, xs = _axis(x, "x")
    y_path, ys = _axis(y, "y")
    if x_path == y_path:
        raise InputError("the two terms are the same path", field="y", expected="two different terms")
    check_paths(start, [x_path, y_path])
    everyone = start.party_names()
    shown = list(parties) if parties is not None else everyone
    for party in shown:
        if party not in everyone:
            raise InputError(f"no party {party!r}", field="parties", hint=did_you_mean(party, everyone))
    if metric not in ("npv_usd", "irr"):
        raise InputError(f"{metric!r} is not a party metric", field="metric", expected="npv_usd or irr")
    # every owner walks away below an NPV (or IRR) of 0 unless its value is stated
    limits = {p: 0.0 for p in everyone if start.party_role(p) == "owner"} | dict(walk_away or {})
    for party in limits:
        if party not in everyone:
            raise InputError(f"no party {party!r}", field="walk_away", hint=did_you_mean(party, everyone))
    shown += [p for p in limits if p not in shown]
    n = xs.size * ys.size
    check_size(
        start, n, 2, f"a grid of {xs.size:,} x {ys.size:,} = {n:,} scenarios", "fewer values on an axis"
    )
    overrides = {x_path: np.repeat(xs, ys.size), y_path: np.tile(ys, xs.size)}
    wanted = [f"{p}.{metric}" for p in shown]
    valued = evaluate(start, overrides=overrides, metrics=wanted, keep_ledger=False)
    index, columns = pd.Index(xs, name=x_path), pd.Index(ys, name=y_path)
    values = {
        p: pd.DataFrame(
            valued.values[f"{p}.{metric}"].reshape(xs.size, ys.size), index=index, columns=columns
        )
        for p in shown
    }
    ok = np.ones((xs.size, ys.size), dtype=bool)
    for party, floor in limits.items():
        ok &= np.nan_to_num(values[party].to_numpy(), nan=-np.inf) >= float(floor)
    return TermsGrid(
        x=(x_path, xs),
        y=(y_path, ys),
        metric=metric,
        values=values,
        walk_away={p: float(v) for p, v in limits.items()},
        accepted=pd.DataFrame(ok, index=index, columns=columns),
        run=run_info(start, analysis="terms"),
    )
