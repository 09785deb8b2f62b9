"""Three term sheets of the USSM–FWO deal side by side, and the negotiation space of two terms.

The seeds describe the deal as USSM funding the early exports "in exchange for a future stake
in refining capacity", FWO mining, a provincial stake on Reko Diq's pattern and USSM's offtake
of antimony, tungsten and NdPr into the US with a US floor on NdPr (deal-facts §1, §4, §6, §8).
The bundled file writes them as three named scenarios (every term labelled; the MoU's terms
are not public, so nearly all are assumptions): ``terms_ussm_earns_refinery_stake``,
``terms_provincial_stake`` and ``terms_us_offtake_floor``. This script prints each party's NPV
(at its own discount rate, real 2026 US$, base deck) and IRR and the host government's take
under each sheet, then values a grid of USSM's earned stake × the discount of its antimony
offtake and prints where USSM, FWO and the government of Pakistan all accept. Run from the
repository root: ``python examples/terms.py``. docs/walkthrough.md ("Term sheets: who gains")
reads the numbers; docs/methodology.md §27-§30 gives the rules.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

import dealcalc as dc
from dealcalc.formatting import money, percent

HERE = Path(__file__).parent
SHEETS = ["terms_ussm_earns_refinery_stake", "terms_provincial_stake", "terms_us_offtake_floor"]
OWNERS = {"ussm", "fwo", "balochistan", "lenders"}  # parties with an IRR worth printing
pd.set_option("display.width", 200)

# The grid: USSM's stake earned at the refinery (sheet 3 has 20 %) × the discount on its
# antimony offtake (sheet 3 has 5 %), on term sheet 3.
STAKE = ("finance.earn_in.ussm.stake", np.round(np.arange(0.0, 0.101, 0.025), 3))
DISCOUNT = ("offtakes.ussm_antimony.price.discount_fraction", np.round(np.arange(0.0, 0.101, 0.01), 2))
# Walk-away values (NPV, US$, stated assumptions): each owner its hurdle (NPV >= 0 at its own
# rate, 19 % USSM, 16 % FWO); the government of Pakistan US$280 M, about what term sheet 3 as
# written leaves it (279.7 M): it gives up no more take than that sheet does.
WALK_AWAY = {"ussm": 0.0, "fwo": 0.0, "government_of_pakistan": 280.0e6}


def sheet_table(deal: dc.Deal) -> pd.DataFrame:
    """Each party's NPV and IRR and the host government's take, per term sheet (text cells)."""
    columns = {}
    for name in ["base", *SHEETS]:
        v = dc.evaluate(deal, scenario=None if name == "base" else name)
        parties = v.party_summary()
        cells = {"project NPV [US$ M]": money(v.npv_usd[0]), "project IRR": percent(v.irr[0])}
        for party, row in parties.iterrows():
            cells[f"{party} NPV [US$ M]"] = money(row["npv_usd"])
            if party in OWNERS:
                cells[f"{party} IRR"] = percent(row["irr"])
        take = parties.loc[deal.finance.host_government, "take"]
        cells["host government's take"] = percent(take)
        columns[name] = cells
    return pd.DataFrame(columns).fillna("—")


def main() -> None:
    deal = dc.load(HERE / "ussm_fwo_2025.yaml")
    print("three term sheets (real 2026 US$, base deck; each party's NPV at its own rate):")
    print(sheet_table(deal).to_string())

    space = dc.negotiation_space(deal, STAKE, DISCOUNT, walk_away=WALK_AWAY, scenario=SHEETS[2])
    print()
    print(f"negotiation grid on {SHEETS[2]}: rows {STAKE[0]}, columns {DISCOUNT[0]}")
    print("walk-away NPVs: " + ", ".join(f"{p} {money(w)} US$ M" for p, w in WALK_AWAY.items()))
    for party in WALK_AWAY:
        grid = space.values[party].map(money)
        grid.columns = [percent(c, digits=0) for c in grid.columns]
        grid.index = [percent(i) for i in grid.index]
        print(f"{party} NPV [US$ M]:")
        print(grid.to_string())
    marks = space.accepted.map(lambda ok: "yes" if ok else ".")
    marks.columns = [percent(c, digits=0) for c in marks.columns]
    marks.index = [percent(i) for i in marks.index]
    print("every party accepts (yes):")
    print(marks.to_string())
    accepted = space.accepted.to_numpy()
    print(
        f"share of the grid every party accepts: {percent(float(accepted.mean()))} "
        f"({int(accepted.sum())} of {accepted.size} points)"
    )


if __name__ == "__main__":
    main()
