"""A deal written as a study writes it: a mine plan by year, capital by year, a refinery fed by
two own concentrates and bought feed (examples/mine_plan/zinc_district.yaml).

Run from the repository root: ``python examples/mine_plan.py``. docs/scenario-file.md
("Schedules", "streams", "lines") describes the file; docs/methodology.md §9 the material
balance.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

import dealcalc as dc

HERE = Path(__file__).parent
pd.set_option("display.width", 160)
pd.set_option("display.max_columns", 12)


def main() -> None:
    deal = dc.load(HERE / "mine_plan" / "zinc_district.yaml")
    v = dc.evaluate(deal)
    print(f"{deal.name}: NPV {v.npv_usd[0] / 1e6:,.1f} US$ M, IRR {v.irr[0]:.2%} (real)")

    # 1. Where every tonne of zinc goes while the refinery ramps up: the pit's concentrate first,
    #    then the underground mine's, then bought concentrate; the rest is sold as concentrate.
    balance = v.material_balance()
    zinc = balance.loc[["pit_zinc", "underground_zinc", "refined_zinc"]]
    print("\nmaterial balance, t of zinc contained (the ramp-up, then the mines' last years):")
    print(zinc[[2029, 2030, 2031, 2032, 2040, 2042, 2044]].round(0).to_string())

    # 2. The ledger reads the mine plan: revenue and costs follow the CSV year by year.
    table = v.table()
    print("\nledger, US$ M (selected lines):")
    lines = [
        "Revenue: pit_zinc [USD]",
        "Revenue: refined_zinc [USD]",
        "Purchased feed [USD]",
        "community_fund [USD]",
    ]
    print((table[lines].loc[2028:2036] / 1e6).round(1).T.to_string())

    # 3. A schedule is a parameter: scale the whole pit grade schedule, or move one year of it.
    scaled = dc.evaluate(deal, overrides={"streams.pit_zinc.grade": [0.9, 1.0, 1.1]}, metrics=["npv_usd"])
    print("\npit grades x 0.9 / 1.0 / 1.1, NPV US$ M:", (scaled.npv_usd / 1e6).round(1).tolist())
    one_year = dc.evaluate(
        deal, overrides={"streams.pit_zinc.grade.2030": [0.0, 0.0596]}, metrics=["npv_usd"]
    )
    lost = (one_year.npv_usd[1] - one_year.npv_usd[0]) / 1e6
    print(f"the pit's 2030 grade is worth {lost:,.1f} US$ M of NPV (the value holds until 2031's)")

    # 4. Sensitivity and breakeven work on schedules unchanged: a whole schedule moves by a factor.
    t = dc.tornado(deal, ["streams.pit_zinc.grade", "price_decks.base.zinc", "phases.refinery.capex_usd"])
    print("\ntornado, NPV US$ M (a schedule's low and high are factors):")
    print((t[["low_value", "high_value", "swing"]]).round(2).to_string())
    b = dc.breakeven(deal, "streams.pit_zinc.grade")
    print(f"NPV = 0 when the pit's grades are x {b.value[0]:.3f} of the plan")

    # 5. The refinery against selling concentrate: the named scenario without it.
    none = dc.evaluate(deal, "no_refinery", metrics=["npv_usd", "irr"])
    gain = (v.npv_usd[0] - none.npv_usd[0]) / 1e6
    print(
        f"\nthe refinery's value at 8 %: {gain:,.1f} US$ M of NPV "
        f"(IRR {v.irr[0]:.1%} with it, {none.irr[0]:.1%} selling concentrate)"
    )
    assert np.isfinite(v.npv_usd[0])


if __name__ == "__main__":
    main()
