"""What drives the bundled USSM–FWO deal, and where it breaks even.

Run from the repository root: ``python examples/sensitivity.py``. Every analysis is one
vectorized engine pass over a block of scenarios; docs/methodology.md §17-18 explains them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

import dealcalc as dc

HERE = Path(__file__).parent
pd.set_option("display.width", 160)


def main() -> None:
    deal = dc.load(HERE / "ussm_fwo_2025.yaml")

    # 1. Tornado: the main drivers at ±20 %, for the project and for USSM at its own 19 % rate.
    for metric in ("npv_usd", "ussm.npv_usd"):
        t = dc.tornado(deal, metric=metric)
        print(f"\ntornado of {metric} (US$ M; base {t.attrs['base_metric'] / 1e6:.1f}):")
        print((t[["metric_at_low", "metric_at_high", "swing"]] / 1e6).round(1).head(8).to_string())

    # 2. A risk-weighted row: antimony between the low deck (Perpetua) and spot 2025.
    sb = dc.tornado(deal, {"price_decks.base.antimony": (22_046.0, 55_000.0)})
    print("\nantimony from the low deck to spot 2025 moves NPV by", round(sb["swing"].iloc[0] / 1e6), "US$ M")

    # 3. Spider and grid.
    s = dc.spider(deal, ["price_decks.base.antimony", "phases.refinery.capex_usd", "fiscal.income_tax_rate"])
    print("\nspider of NPV (US$ M):\n", (s / 1e6).round(1).to_string())
    g = dc.grid(
        deal,
        ("price_decks.base.antimony", [20_000, 30_000, 40_000, 55_000]),
        ("phases.refinery.capex_usd", [300e6, 390e6, 480e6]),
    )
    print("\nNPV over antimony price x refinery capex (US$ M):\n", (g / 1e6).round(1).to_string())

    # 4. Breakeven: the antimony price for NPV = 0, for USSM's 19 % hurdle, and across capex.
    for metric, target in (("npv_usd", 0.0), ("ussm.irr", 0.19)):
        print(dc.breakeven(deal, "price_decks.base.antimony", metric=metric, target=target).explain())
    capex = np.linspace(200e6, 500e6, 7)
    many = dc.breakeven(deal, "price_decks.base.antimony", overrides={"phases.refinery.capex_usd": capex})
    print("\nbreakeven antimony price by refinery capex:")
    print(pd.Series(many.value.round(0), index=pd.Index(capex / 1e6, name="capex US$ M")).to_string())

    # 5. Limits: a recovery cannot pass 100 %. A ±20 % tornado holds it at 1 and says so; a
    #    spider leaves the impossible points out (NaN); breakeven searches only 0 to 1.
    recovery = "streams.copper.recovery"
    r = dc.tornado(deal, [recovery])
    print(
        f"\n{recovery} from {r.loc[recovery, 'low_value']:.3f} to {r.loc[recovery, 'high_value']:.3f}; "
        f"held at its limit: {r.attrs['clipped']}"
    )
    print(dc.spider(deal, [recovery], [-0.1, 0.0, 0.1, 0.2])[recovery].div(1e6).round(1).to_string())
    print(dc.breakeven(deal, recovery).explain())

    # 6. Global: Sobol indices over the file's uncertain inputs (correlated ones grouped).
    print("\nSobol indices of NPV:\n", dc.analyses.sobol(deal, 1024).round(3).to_string())


if __name__ == "__main__":
    main()
