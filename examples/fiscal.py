"""One mine under four countries' taxes: the fiscal presets, a stack written out, who collects
what, and a real valuation that is the nominal one.

The zinc district of examples/mine_plan/ is valued with its own simple regime, then with the
presets shipped with dealcalc (Pakistan, the US with Alaska, Canada with the Yukon, Mexico),
each government's take shown apart; then its own regime is written out as a stack of levies
with a sliding-scale royalty on the zinc price; last, the same deal in real and in nominal
terms. Run from the repository root: ``python examples/fiscal.py``. docs/scenario-file.md
("fiscal") describes the keys, docs/methodology.md §11 the rules.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

import dealcalc as dc
from dealcalc.io import dump_deal, fiscal_presets, parse_deal
from dealcalc.params import with_changes

HERE = Path(__file__).parent
pd.set_option("display.width", 160)


def with_fiscal(deal: dc.Deal, fiscal: dict[str, object]) -> dc.Deal:
    """The deal with another fiscal section, read as a file would be (presets laid under it)."""
    data = yaml.safe_load(dump_deal(deal))
    data["fiscal"] = fiscal
    return parse_deal(yaml.safe_dump(data, sort_keys=False), folder=HERE / "mine_plan")


def main() -> None:
    deal = dc.load(HERE / "mine_plan" / "zinc_district.yaml")

    # 1. The same mine under each preset: NPV, IRR and each government's share of the cash
    #    before state take (its take), per collecting government.
    rows = []
    for name in ["file's own", *fiscal_presets()]:
        d = deal if name == "file's own" else with_fiscal(deal, {"preset": name})
        v = dc.evaluate(d)
        takes = {k.removesuffix(".take"): x[0] for k, x in v.values.items() if k.endswith(".take")}
        rows.append(
            {
                "regime": name,
                "NPV [US$ M]": v.npv_usd[0] / 1e6,
                "IRR (real)": v.irr[0],
                **{f"take: {g}": t for g, t in takes.items() if t > 0.0005},
            }
        )
    print("the zinc district under each fiscal preset:")
    print(pd.DataFrame(rows).set_index("regime").round(3).to_string(na_rep=""))

    # 2. A stack written out: a royalty on a sliding scale of the zinc price (2 % below
    #    2,500 US$/t, 4 % up to 3,000, 6 % above), deductible from a 30 % income tax that keeps
    #    losses 10 years and is paid a year in arrears.
    stack = {
        "levies": {
            "royalty": {
                "base": "mine_nsr",
                "scale": {"variable": "price:zinc", "points": [[0, 0.02], [2500, 0.04], [3000, 0.06]]},
                "line": "royalty",
            },
            "income_tax": {
                "base": "ebitda - royalties - allowances - closure + salvage",
                "rate": 0.30,
                "losses": {"carry_forward_years": 10},
                "timing": "arrears",
            },
        },
        "capital_classes": {
            "plant": {"method": "declining_balance", "rate": 0.25, "half_year": True, "takes": ["initial"]},
            "sustaining": {"method": "straight_line", "years": 5, "takes": ["sustaining"]},
        },
    }
    v = dc.evaluate(with_fiscal(deal, stack), keep_ledger=True)
    print(f"\na stack of two levies: NPV {v.npv_usd[0] / 1e6:,.1f} US$ M")
    t = v.table()
    cols = ["Royalty [USD]", "Income tax [USD]", "Depreciation [USD]", "Base of income_tax [USD]"]
    print((t[cols] / 1e6).round(1).iloc[:8].T.to_string())

    # 3. Real and nominal: with 3 % inflation the two valuations are one (taxes and working
    #    capital are reckoned in money of the day in both), and the IRRs differ by inflation.
    inflated = with_changes(deal, {"valuation.inflation_rate": 0.03})
    real = dc.evaluate(inflated)
    nominal = dc.evaluate(with_changes(inflated, {"valuation.basis": "nominal"}))
    print(
        f"\nwith 3 % inflation: NPV {real.npv_usd[0] / 1e6:,.3f} US$ M real, "
        f"{nominal.npv_usd[0] / 1e6:,.3f} US$ M nominal; IRR {real.irr[0]:.2%} real, "
        f"{nominal.irr[0]:.2%} nominal = (1 + {real.irr[0]:.4f}) x 1.03 - 1"
    )


if __name__ == "__main__":
    main()
