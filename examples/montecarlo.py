"""The bundled USSM–FWO deal under uncertainty: who carries the risk.

Run from the repository root: ``python examples/montecarlo.py``. The distributions are in the
file's ``uncertainty`` block; docs/methodology.md §19 explains the method.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

import dealcalc as dc
from dealcalc.models import Distribution

HERE = Path(__file__).parent
pd.set_option("display.width", 160)


def main() -> None:
    deal = dc.load(HERE / "ussm_fwo_2025.yaml")

    # 1. 20,000 Latin-hypercube draws of capex, unit costs, recovery, tariff incidence, the rupee
    #    and five correlated price paths; every party's NPV at its own rate.
    mc = dc.monte_carlo(deal, 20_000, seed=1)
    s = mc.summary()
    money = [m for m in s.index if m.endswith("npv_usd")]
    print(
        (s.loc[money, ["mean", "std_error", "p10", "p50", "p90"]] / 1e6)
        .round(1)
        .join(s["prob_negative"].round(3))
        .to_string()  # every column, whatever the terminal's width
    )
    print("\ndraws with no project IRR:", int(s.loc["irr", "no_solution"]))

    # 2. Has the mean settled? The running mean and its standard error.
    print("\n", (mc.convergence("npv_usd") / 1e6).round(2).tail(5).to_string())

    # 3. The same uncertainty under the US 19 % tariff on processed products (the incidence stays
    #    uncertain: a sampled input overrides what a scenario sets for the same path).
    tariff = dc.monte_carlo(deal, 20_000, seed=1, scenario="tariff_19", metrics=["npv_usd", "ussm.npv_usd"])
    print(
        "\nP(NPV < 0) under the 19 % tariff:",
        round(tariff.summary().loc["npv_usd", "prob_negative"], 3),
    )

    # 4. Which inputs go with a loss? Rank correlation of each sampled input with the NPV.
    npv = pd.Series(mc.values["npv_usd"], name="npv_usd")
    print(
        "\nSpearman correlation with NPV:\n", mc.inputs.corrwith(npv, method="spearman").round(2).to_string()
    )

    # 5. Draws must be values the deal allows. A normal on the copper recovery (88 % +- 5 %)
    #    reaches past 100 %: the run is refused, naming the input. Bounded at 1 (a truncated
    #    normal), it runs, and no draw recovers more copper than the ore holds.
    inputs = dict(deal.uncertainty.inputs)
    for bound in (None, 1.0):
        inputs["streams.copper.recovery"] = Distribution(dist="normal", mean=0.88, sd=0.05, high=bound)
        changed = deal.model_copy(
            update={"uncertainty": deal.uncertainty.model_copy(update={"inputs": inputs})}
        )
        try:
            run = dc.monte_carlo(changed, 5_000, seed=1, metrics=["npv_usd"])
        except dc.InputError as error:
            print("\nrefused:", error)
        else:
            drawn = run.inputs["streams.copper.recovery"]
            print(
                f"bounded at {bound}: recovery {drawn.min():.3f}-{drawn.max():.3f}, mean {drawn.mean():.3f}"
            )


if __name__ == "__main__":
    main()
