"""Decisions that adapt: the American put of Longstaff and Schwartz, then the refinery gate.

Run from the repository root: ``python examples/decisions.py``. The method, its sources and
its validation are in docs/decisions.md.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

import dealcalc as dc
from dealcalc.analyses.decisions import adaptive_gates
from dealcalc.analyses.lsm import american_option, exercise_boundary
from dealcalc.params import with_changes

HERE = Path(__file__).parent
pd.set_option("display.width", 160)


def main() -> None:
    # 1. The kernel on its textbook case: S = 36, K = 40, r = 6 %, sigma = 20 %, one year,
    #    50 exercise dates. Longstaff and Schwartz (2001) Table 1: 4.478 by finite differences.
    put = american_option(36.0, 40.0, 0.06, 0.2, 1.0, exercise_dates=50, n_paths=100_000, seed=2001)
    print(f"American put: {put.value:.3f} (standard error {put.std_error:.3f}); LS 2001 Table 1: 4.478")
    switches = exercise_boundary(
        put.policy,
        payoff=lambda date, s: np.column_stack([np.zeros(len(s)), np.maximum(40.0 - s[:, 0], 0.0)]),
    )
    # the critical price: exercise below it, hold above (highest exercise -> hold switch a date)
    critical = switches[switches["below"] == "exercise"].groupby("date")["state"].max()
    dates, prices = critical.index.to_numpy()[::10], critical.to_numpy()[::10]
    times = {f"t = {(int(d) + 1) / 50:.2f}": round(float(v), 2) for d, v in zip(dates, prices, strict=True)}
    print("exercise below:", times)

    # 2. The refinery gate of the bundled deal, decided each year from 2027 to 2029: build,
    #    defer or abandon, on what is known that year (the prices, the sampled capex and unit-cost
    #    factors). The draws are the Monte Carlo's own (every input, path, switch and event), so
    #    the "fixed rule" row is dc.monte_carlo(deal, 20_000, seed=1)'s mean NPV.
    deal = dc.load(HERE / "ussm_fwo_2025.yaml")
    owners = ["npv_usd", "ussm.npv_usd", "fwo.npv_usd"]
    gates = adaptive_gates(deal, 20_000, seed=1, max_deferral_years=2, metrics=owners)
    table = gates.values.pivot(index="rule", columns="metric", values="value_usd") / 1e6
    print("\nrefinery gate, US$ M at each party's rate:\n", table.round(1).to_string())
    print("\nshare of draws building in each year:", gates.shares["build"].round(3).to_dict())

    # 3. A refinery at 30 % of the capital: now building is worth it in good draws, and the
    #    boundary shows from which antimony price (the other state variables at their means).
    cheap = with_changes(deal, scale={"phases.refinery.capex_usd": 0.3})
    gates = adaptive_gates(cheap, 20_000, seed=1, max_deferral_years=2, metrics=owners)
    flex = gates.flexibility[gates.flexibility["metric"] == "npv_usd"].set_index("versus")
    print("\nrefinery at 30 % of capex: value of flexibility, US$ M")
    print((flex[["value_usd", "std_error_usd"]] / 1e6).round(2).to_string())
    print("\npolicy (antimony US$/t where the best action changes):")
    print(gates.boundary.round(0).to_string(index=False))
    print("\nthe rule also sees:", ", ".join(gates.state_inputs))
    print("held at the base case:", ", ".join(gates.held_fixed) or "nothing")


if __name__ == "__main__":
    main()
