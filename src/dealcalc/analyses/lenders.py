"""The lenders at risk: what a Monte Carlo of a deal with debt-stress rules says about its debt.

:func:`lender_risk` summarises the draws: P(DSCR < 1 in any year), P(default), the expected
loss and the lenders' IRR distribution. :func:`guarantee_effect` values the deal twice on the
same draws, with and without its DFI/ECA guarantee, so each party's value with and without it,
and the guarantee's cost to the guarantor, come with paired standard errors (docs/methodology.md
§23, "Lenders at risk").
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from dealcalc.analyses.montecarlo import MonteCarlo, monte_carlo
from dealcalc.analyses.paired import paired_statistics
from dealcalc.errors import InputError
from dealcalc.models import Deal
from dealcalc.params import apply_scenario, with_changes

__all__ = ["guarantee_effect", "lender_risk"]

#: The metrics :func:`lender_risk` reads (``monte_carlo`` values them when a rule is on).
NEEDED = ("min_dscr", "default_year", "lenders_loss_usd", "lenders.irr", "lenders.npv_usd")


def _share(hits: np.ndarray, of: int) -> tuple[float, float]:
    p = float(hits.sum()) / of if of else math.nan
    return p, math.sqrt(p * (1.0 - p) / of) if of else math.nan


def _mean(x: np.ndarray) -> tuple[float, float]:
    x = x[np.isfinite(x)]
    if x.size == 0:
        return math.nan, math.nan
    return float(x.mean()), float(x.std(ddof=1) / math.sqrt(x.size)) if x.size > 1 else math.nan


def lender_risk(mc: MonteCarlo) -> pd.DataFrame:
    """The lenders' risk over the draws of ``mc``: one row per question, with its estimate, its
    standard error and a sentence saying what it is.

    Rows: ``p_dscr_below_1`` (a year with DSCR < 1, over the draws that service debt),
    ``p_default`` (a default in any year, over all draws: a draw with no default year did not
    default), ``expected_loss_usd`` (the mean of the lenders' loss, discounted at their rate, over
    all draws), ``expected_loss_given_default_usd``, and the lenders' IRR mean, P10, P50 and P90.

    Examples
    --------
    >>> import dealcalc as dc
    >>> deal = dc.load(dc.example_path("ussm-fwo"))
    >>> risk = lender_risk(dc.monte_carlo(deal, 400, seed=1, scenario="lenders_protected"))
    >>> list(risk.index)[:3]
    ['p_dscr_below_1', 'p_default', 'expected_loss_usd']
    >>> bool(0 < risk.loc["p_default", "estimate"] < 1)
    True
    """
    missing = [m for m in NEEDED if m not in mc.values]
    if missing:
        raise InputError(
            f"the Monte Carlo did not value {', '.join(missing)}",
            field="metrics",
            hint="turn on a debt-stress rule (finance.default, dsra, lockup ...) or ask for these metrics",
        )
    n = mc.n
    dscr = mc.values["min_dscr"]
    serviced = np.isfinite(dscr)
    defaulted = np.isfinite(mc.values["default_year"])
    loss = np.nan_to_num(mc.values["lenders_loss_usd"], nan=0.0)
    irr = mc.values["lenders.irr"]
    rows: dict[str, tuple[float, float, str]] = {}
    p, se = _share(dscr[serviced] < 1.0, int(serviced.sum()))
    rows["p_dscr_below_1"] = (p, se, "share of draws with a year whose DSCR is below 1.0x")
    p, se = _share(defaulted, n)
    rows["p_default"] = (p, se, "share of draws in which the debt defaults")
    mean, se = _mean(loss)
    rows["expected_loss_usd"] = (mean, se, "mean lenders' loss (PV at the lenders' rate), all draws")
    mean, se = _mean(loss[defaulted]) if defaulted.any() else (math.nan, math.nan)
    rows["expected_loss_given_default_usd"] = (mean, se, "mean lenders' loss in the draws that default")
    mean, se = _mean(irr)
    rows["lenders_irr_mean"] = (mean, se, "mean of the lenders' IRR")
    solved = irr[np.isfinite(irr)]
    for q in (10, 50, 90):
        value = float(np.percentile(solved, q)) if solved.size else math.nan
        rows[f"lenders_irr_p{q}"] = (value, math.nan, f"P{q} of the lenders' IRR")
    return pd.DataFrame.from_dict(
        rows, orient="index", columns=["estimate", "std_error", "what"]
    ).rename_axis("question")


def guarantee_effect(
    deal: Deal,
    n: int,
    *,
    seed: int | None = None,
    scenario: str | None = None,
    method: str | None = None,
) -> pd.DataFrame:
    """Each party's mean NPV with the deal's DFI/ECA guarantee and without it, on the same draws
    (the random streams do not depend on the guarantee), with the paired difference, its
    standard error and its distribution (the columns of
    :func:`dealcalc.analyses.paired.paired_statistics`).

    Examples
    --------
    >>> import dealcalc as dc
    >>> deal = dc.load(dc.example_path("ussm-fwo"))
    >>> effect = guarantee_effect(deal, 300, seed=1, scenario="lenders_protected")
    >>> bool(effect.loc["lenders", "change_usd"] >= 0 >= effect.loc["dfi_guarantor", "change_usd"])
    True
    """
    start = apply_scenario(deal, scenario)
    if start.finance.guarantee is None:
        raise InputError(
            "the deal has no guarantee to value",
            field="finance.guarantee",
            hint="add one, e.g. finance.guarantee: {share: 0.5, guarantor: dfi}, or use a scenario that does",
        )
    guarantor = start.finance.guarantee.guarantor
    rates = {p: r for p, r in start.finance.discount_rates.items() if p != guarantor}
    changes: dict[str, Any] = {"finance.guarantee": None, "finance.discount_rates": rates}
    without = with_changes(start, changes, origin="without the guarantee")
    metrics = [f"{p}.npv_usd" for p in start.party_names()]
    kept = [m for m in metrics if m.partition(".")[0] in without.party_names()]
    common: dict[str, Any] = {"seed": seed, "method": method}
    on = monte_carlo(start, n, metrics=metrics, **common)
    off = monte_carlo(without, n, metrics=kept, seed=on.seed, method=on.method)
    # the guarantor is not a party without the guarantee: it counts zero there
    out = paired_statistics(on, off, start.party_names(), project=False)
    out.attrs["run"] = on.run
    return out
