"""Walk through the bundled USSM–FWO deal with dealcalc's Python API.

Run from the repository root: ``python examples/walkthrough.py``. Each step prints what a
reader would look at; docs/walkthrough.md explains the numbers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

import dealcalc as dc

HERE = Path(__file__).parent
pd.set_option("display.width", 160)


def main() -> None:
    # 1. Load the scenario file: a frozen, validated Deal; provenance kept by parameter path.
    deal = dc.load(HERE / "ussm_fwo_2025.yaml")
    print(f"{deal.name}: {len(deal.phases)} phases, {len(deal.streams)} streams")
    print("royalty rate comes from:", deal.provenance["fiscal.royalty_rate"].source)

    # 2. Value the base case: headline numbers and the annual ledger.
    base = dc.evaluate(deal)
    h = base.headline()
    print(
        f"\nbase: NPV {h['npv_usd'] / 1e6:,.1f} US$ M, IRR {h['irr']:.2%}, "
        f"payback {h['payback_years']:.1f} years, peak funding {h['peak_funding_usd'] / 1e6:,.0f} US$ M"
    )
    ledger = base.table()
    print((ledger[["EBITDA [USD]", "Income tax [USD]", "After-tax cash flow [USD]"]] / 1e6).round(1).T)

    # The material balance: the refinery takes the mine's Sb concentrate first, up to capacity x
    # ramp-up / recovery; the rest is sold as concentrate; only the shortfall is bought.
    balance = base.material_balance().loc[["antimony_concentrate", "antimony_refined"], 2029:2033]
    print("\nthe material balance of antimony (t Sb):")
    print(balance.round(0).astype(int).to_string())

    # 3. Every named scenario side by side.
    table = dc.compare(deal)
    print("\n", (table[["npv_usd", "npv_change_usd"]] / 1e6).round(1).join(table["irr"].round(4)))

    # 4. Many scenarios at once: antimony price x refinery capex, no Python loop.
    rng = np.random.default_rng(7)
    n = 10_000
    many = dc.evaluate(
        deal,
        overrides={
            "price_decks.base.antimony": rng.uniform(22_000, 60_000, n),
            "phases.refinery.capex_usd": rng.uniform(300e6, 480e6, n),
        },
    )
    print(
        f"\n{n:,} scenarios: P(NPV < 0) = {(many.npv_usd < 0).mean():.1%}, "
        f"median IRR {np.nanmedian(many.irr):.2%}"
    )

    # 5. Across the border: who gets what, and what the 29 % -> 19 % tariff cut is worth to each.
    print("\nparties (NPV at each party's own rate, US$ M):")
    print((base.party_summary()["npv_usd"] / 1e6).round(1).to_string())
    split = base.party_table()
    print(
        "debt drawn",
        round(split["Debt drawn [USD]"].sum() / 1e6),
        "US$ M; minimum DSCR",
        round(base.values["min_dscr"][0], 2),
    )
    attribution = dc.tariff_attribution(deal)
    print("\nvalue of the US tariff schedules (US$ M):")
    print((attribution / 1e6).round(1).to_string())

    # 6. The metrics stand alone too.
    print(
        "\nIRR of the base after-tax flows:", round(dc.irr(ledger["After-tax cash flow [USD]"].to_numpy()), 6)
    )


if __name__ == "__main__":
    main()
