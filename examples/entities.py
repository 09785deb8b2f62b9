"""The USSM–FWO deal as two companies: FWO's mines and a refinery joint venture trading
concentrate at a transfer price.

The seeds describe FWO mining and USSM taking "a future stake in refining capacity"; the bundled
file writes that as term sheet 4, ``terms_two_companies`` (every term labelled; the MoU's terms
are not public): FWO's mining company owns exploration and the concentrators, a refinery joint
venture (USSM 40 %, earning 20 % from FWO at the first refined output) owns the refinery and buys
the mines' Sb and W concentrate at transfer prices (65 % and 78 % of the metal price), and each
company pays its own royalty and taxes. This script prints:

1. each party's NPV under sheet 1 (one company) and sheet 4 (two companies), and sheet 4's
   entities: what each sells to the other, its levies, and what each party gets from it;
2. how the Sb concentrate's transfer price moves value: each company's levies and each owner's
   NPV, ring-fenced (each company taxed alone, Pakistan's rule for companies that are not
   wholly owned) and as one consolidated tax group (a choice the file does not make: shown so
   the difference is seen);
3. the negotiation grid of USSM's earned refinery stake x the concentrate's transfer price,
   with walk-away values, at the file's refinery capex and at half of it.

Run from the repository root: ``python examples/entities.py``. docs/methodology.md §31 gives
the rules; docs/walkthrough.md ("Two companies") reads the numbers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

import dealcalc as dc
from dealcalc.formatting import money, percent
from dealcalc.params import apply_scenario, with_changes

HERE = Path(__file__).parent
SHEET = "terms_two_companies"
PRICE = "transfer_prices.sb_concentrate.payable_fraction"
STAKE = "entities.refinery.earn_in.ussm.stake"
PRICES = [0.40, 0.50, 0.65, 0.80]
PARTIES = ["ussm", "fwo", "government_of_pakistan"]
# Walk-away values (NPV at each party's own rate, US$; stated assumptions): each owner its hurdle
# (NPV >= 0 at 19 % USSM, 16 % FWO); the government of Pakistan what the one-company sheet 1
# leaves it (US$295.6 M): splitting the deal into two companies must not cost the state.
WALK_AWAY = {"ussm": 0.0, "fwo": 0.0, "government_of_pakistan": 295.6e6}
pd.set_option("display.width", 200)


def parties(deal: dc.Deal) -> pd.DataFrame:
    """Each party's NPV under sheet 1 and sheet 4 (text cells, US$ M)."""
    columns = {}
    for name in ("terms_ussm_earns_refinery_stake", SHEET):
        v = dc.evaluate(deal, name)
        cells = {"project NPV": money(v.npv_usd[0]), "project pre-tax NPV": money(v.pre_tax_npv_usd[0])}
        cells |= {p: money(v.values[f"{p}.npv_usd"][0]) for p in PARTIES}
        columns[name] = cells
    return pd.DataFrame(columns)


def price_sweep(deal: dc.Deal) -> pd.DataFrame:
    """Each company's levies and each owner's NPV as the Sb concentrate's price moves, taxed
    ring-fenced and as one group (US$ M)."""
    rows = {}
    for regime in ("ring_fenced", "consolidated"):
        start = with_changes(apply_scenario(deal, SHEET), {"fiscal.consolidation": regime}, origin="example")
        v = dc.evaluate(start, overrides={PRICE: PRICES})
        for k, price in enumerate(PRICES):
            row = {
                "pre-tax NPV (after royalty)": v.pre_tax_npv_usd[k],
                "mines levies": v.values["mines.levies_usd"][k],
                "refinery levies": v.values["refinery.levies_usd"][k],
                "net transfer to mines": v.values["mines.transfers_usd"][k],
            }
            row |= {f"{p} NPV": v.values[f"{p}.npv_usd"][k] for p in PARTIES}
            rows[(regime, percent(price, digits=0))] = {k2: money(x) for k2, x in row.items()}
    frame = pd.DataFrame(rows).T
    frame.index.names = ["taxed", "Sb price paid"]
    return frame


def grid(deal: dc.Deal, title: str) -> None:
    """The negotiation space of USSM's earned stake x the concentrate's price, printed."""
    space = dc.negotiation_space(
        deal,
        (STAKE, np.round(np.arange(0.0, 0.61, 0.1), 2)),
        (PRICE, np.round(np.arange(0.30, 0.701, 0.05), 2)),
        walk_away=WALK_AWAY,
    )
    print(f"\n{title}: rows {STAKE}, columns {PRICE}")
    for party in ("ussm", "fwo"):
        values = space.values[party].map(money)
        values.columns = [percent(c, digits=0) for c in values.columns]
        values.index = [percent(i, digits=0) for i in values.index]
        print(f"{party} NPV [US$ M]:")
        print(values.to_string())
    marks = space.accepted.map(lambda ok: "yes" if ok else ".")
    marks.columns = [percent(c, digits=0) for c in marks.columns]
    marks.index = [percent(i, digits=0) for i in marks.index]
    print("every party accepts (yes):")
    print(marks.to_string())
    accepted = space.accepted.to_numpy()
    print(f"{int(accepted.sum())} of {accepted.size} points accepted")


def main() -> None:
    deal = dc.load(HERE / "ussm_fwo_2025.yaml")
    print("each party's NPV, one company (sheet 1) and two (sheet 4), US$ M, real 2026, base deck:")
    print(parties(deal).to_string())

    v = dc.evaluate(deal, SHEET)
    table = v.entity_table().map(money)
    print("\nsheet 4's entities (present values, US$ M; parties at their own rates):")
    print(table.to_string())

    print("\nthe Sb concentrate's transfer price: who gains (US$ M)")
    print(price_sweep(deal).to_string())

    print("\nwalk-away NPVs: " + ", ".join(f"{p} {money(w)} US$ M" for p, w in WALK_AWAY.items()))
    grid(apply_scenario(deal, SHEET), "sheet 4 at the file's refinery capex (US$300 M)")
    half = with_changes(apply_scenario(deal, SHEET), {"phases.refinery.capex_usd": 150.0e6}, origin="example")
    grid(half, "sheet 4 with the refinery at half its capex (US$150 M)")

    alone = with_changes(apply_scenario(deal, SHEET), {"phases.refinery.gate.go": False}, origin="example")
    mines_only = dc.evaluate(alone)
    print(
        "\nwithout the refinery (the mines sell all their concentrate): project NPV "
        f"{money(mines_only.npv_usd[0])}, FWO {money(mines_only.values['fwo.npv_usd'][0])}, "
        f"government of Pakistan {money(mines_only.values['government_of_pakistan.npv_usd'][0])} US$ M"
    )


if __name__ == "__main__":
    main()
