"""The value of a change of terms to every party, on the same random draws.

Two named scenarios of one file (say, the deal with the US NdPr floor and without it) valued by
Monte Carlo with the same seed share every draw of the uncertainty block, so the difference of
each party's NPV, draw by draw, is the value of the change in that state of the world: its mean
has a small standard error (the common noise cancels; Glasserman 2003, §4.2, common random
numbers) and its distribution says how often, and by how much, a party gains or loses.
docs/methodology.md §32.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from dealcalc.analyses.montecarlo import MonteCarlo, monte_carlo
from dealcalc.analyses.provenance import run_info
from dealcalc.errors import InputError, did_you_mean
from dealcalc.models import Deal
from dealcalc.params import apply_scenario

__all__ = ["paired_change", "paired_statistics"]

#: The percentiles of each party's change reported, as fractions.
PERCENTILES = (0.05, 0.5, 0.95)


def paired_statistics(
    on: MonteCarlo, off: MonteCarlo, parties: Sequence[str], *, project: bool = True
) -> pd.DataFrame:
    """Each party's NPV in two Monte Carlo runs on the same draws, ``on`` (with a change) and
    ``off`` (without it), and the distribution of the difference draw by draw: the columns of
    :func:`paired_change` (a party a run does not have counts zero there; ``project``: a first
    row of the project's NPV).

    Examples
    --------
    >>> import dealcalc as dc
    >>> deal = dc.load(dc.example_path("ussm-fwo"))
    >>> on = dc.monte_carlo(deal, 100, seed=1, metrics=["ussm.npv_usd"])
    >>> paired_statistics(on, on, ["ussm"], project=False).loc["ussm", "change_usd"]
    np.float64(0.0)
    """
    rows: dict[str, dict[str, float]] = {}
    for party in ["project", *parties] if project else list(parties):
        metric = "npv_usd" if party == "project" else f"{party}.npv_usd"
        a = on.values.get(metric, np.zeros(on.n))
        b = off.values.get(metric, np.zeros(off.n))
        diff = a - b
        # a change within rounding of the party's values is no change (a loss of 1e-9 US$ is not a loss)
        scale = max(float(np.max(np.abs(a), initial=0.0)), float(np.max(np.abs(b), initial=0.0)), 1.0)
        row = {
            "with_usd": float(np.mean(a)),
            "without_usd": float(np.mean(b)),
            "change_usd": float(np.mean(diff)),
            "change_std_error_usd": float(np.std(diff, ddof=1) / math.sqrt(diff.size))
            if diff.size > 1
            else math.nan,
            "prob_loses": float(np.mean(diff < -1e-9 * scale)),
            "prob_negative_with": float(np.mean(a < 0.0)),
            "prob_negative_without": float(np.mean(b < 0.0)),
        }
        for q in PERCENTILES:
            row[f"change_p{round(q * 100)}_usd"] = float(np.quantile(diff, q))
        rows[party] = row
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("party")


def paired_change(
    deal: Deal,
    n: int,
    *,
    scenario: str,
    against: str | None = None,
    seed: int | None = None,
    method: str | None = None,
) -> pd.DataFrame:
    """Each party's NPV under ``scenario`` and under ``against`` on the same draws, and the
    distribution of the difference.

    Parameters
    ----------
    deal : Deal
        From :func:`dealcalc.load`, with an ``uncertainty`` block.
    n : int
        Draws.
    scenario : str
        The named scenario with the change (e.g. ``us_ndpr_floor_contract``).
    against : str, optional
        The named scenario without it (default: the base case). Both must share the
        ``uncertainty`` block, so that they share every draw.
    seed : int, optional
        The root seed (default: the file's).
    method : {"random", "lhs", "sobol"}, optional
        The sampling design (default: the file's).

    Returns
    -------
    DataFrame
        One row per party (and ``project``, the project's NPV): ``with_usd`` and ``without_usd``
        (mean NPVs at the party's own rate, the deal's basis), ``change_usd`` (the mean
        difference), ``change_std_error_usd`` (its standard error), ``prob_loses`` (the share of
        draws where the party is worse off with the change), ``prob_negative_with`` and
        ``prob_negative_without`` (the party's P(NPV < 0) with and without it: what the change
        does to its own risk), and the 5th, 50th and 95th percentiles of the change
        (``change_p5_usd`` ...). The rows are each at their party's rate: they do not add up.
        A party of only one scenario counts zero in the other. ``attrs``: ``run`` (the record
        of the run with the change), ``against``, ``draws``, ``description`` (the scenario's).

    Examples
    --------
    >>> import dealcalc as dc
    >>> deal = dc.load(dc.example_path("ussm-fwo"))
    >>> floor = paired_change(deal, 200, scenario="us_ndpr_floor_contract", seed=1)
    >>> bool(floor.loc["us_government", "change_usd"] < 0 < floor.loc["fwo", "change_usd"])
    True
    """
    base = None if against in (None, "base") else against
    known = ["base", *deal.scenarios]
    for name in (scenario, base):
        if name is not None and name not in deal.scenarios:
            listed = f"scenarios: {', '.join(known)}" if deal.scenarios else "the file names no scenarios"
            raise InputError(
                f"no scenario {name!r}",
                field="scenario" if name == scenario else "against",
                hint=did_you_mean(name, known) or listed,
            )
    if scenario == base:
        raise InputError(
            "the two scenarios are the same", field="against", expected="two different scenarios"
        )
    changed, unchanged = apply_scenario(deal, scenario), apply_scenario(deal, base)
    if changed.uncertainty != unchanged.uncertainty:
        # errors.md: do not share their draws
        raise InputError(
            f"{scenario} and {against or 'the base case'} do not share their draws: "
            "their uncertainty blocks differ",
            field="against",
            hint="compare two scenarios that change terms, not the uncertainty block",
        )
    parties = list(dict.fromkeys([*changed.party_names(), *unchanged.party_names()]))
    wanted = {
        name: ["npv_usd", *(f"{p}.npv_usd" for p in parties if p in d.party_names())]
        for name, d in (("with", changed), ("without", unchanged))
    }
    on = monte_carlo(deal, n, scenario=scenario, seed=seed, method=method, metrics=wanted["with"])
    off = monte_carlo(deal, n, scenario=base, seed=on.seed, method=on.method, metrics=wanted["without"])
    out = paired_statistics(on, off, parties)
    out.attrs["run"] = run_info(deal, scenario, analysis="paired", seed=on.seed, draws=on.n, method=on.method)
    out.attrs["against"] = against or "base"
    out.attrs["draws"] = on.n
    out.attrs["description"] = deal.scenarios[scenario].description or ""
    return out
