"""Who carries the risk of the bundled deal, and what moves it: the lenders at risk under
limited-recourse terms, the DFI guarantee's value to each party, and a risk ranking that counts
the price paths, the China switch and the gate.

Run from the repository root: ``python examples/risk.py``. The rules are in docs/methodology.md
§23 (debt under stress) and §25 (risk ranking); the adaptive gate is ``examples/decisions.py``.
"""

from __future__ import annotations

from pathlib import Path

import dealcalc as dc
from dealcalc import formatting as fmt
from dealcalc.analyses.contributions import contributions

HERE = Path(__file__).parent


def main() -> None:
    deal = dc.load(HERE / "ussm_fwo_2025.yaml")

    # 1. Without covenants the lenders' IRR is 6.55 % in every draw: the owners cover every
    #    shortfall. Under `lenders_protected` (a 6-month DSRA, a lock-up below 1.2x, default on a
    #    missed payment or two years below 1.0x, 40 % recovery, a DFI guarantee of half the loss)
    #    the lenders take losses in bad draws.
    plain = dc.monte_carlo(deal, 4_000, seed=1, metrics=["lenders.irr"])
    spread = plain.values["lenders.irr"].std()
    print(
        f"lenders' IRR without covenants: {fmt.percent(plain.values['lenders.irr'].mean(), digits=2)} "
        f"in every draw (spread {fmt.percent(spread, digits=4)})"
    )
    mc = dc.monte_carlo(deal, 4_000, seed=1, scenario="lenders_protected")
    risk = dc.lender_risk(mc)
    print("\nlenders at risk (lenders_protected):")
    for question, row in risk.iterrows():
        money = str(question).endswith("_usd")
        show, unit = (fmt.money, " US$ M") if money else (fmt.percent, "")
        print(f"  {row['what']}: {show(row['estimate'])}{unit} (± {show(row['std_error'])})")

    # 2. What the DFI guarantee is worth to each party, on the same draws (paired errors).
    effect = dc.guarantee_effect(deal, 4_000, seed=1, scenario="lenders_protected")
    print("\nthe guarantee's effect on each party's NPV (US$ M, with, without, change ± s.e.):")
    for party, row in effect.iterrows():
        print(
            f"  {party}: {fmt.money(row['with_usd'])}, {fmt.money(row['without_usd'])}, "
            f"{fmt.money(row['change_usd'])} ± {fmt.money(row['change_std_error_usd'])}"
        )

    # 3. What moves the project's NPV, counting every source of risk (not only the sampled
    #    inputs): contribution to variance by rank regression, with what it cannot explain.
    ranking = contributions(mc, "npv_usd")
    top = ranking.head(6)[["kind", "spearman", "contribution"]]
    print("\nrisk ranking of the project NPV:")
    print(top.to_string(float_format=lambda x: f"{x:.3f}"))
    r2, rest = ranking.attrs["r_squared"], ranking.attrs["unexplained"]
    print(f"R² {fmt.percent(r2)}; unexplained {fmt.percent(rest)}")


if __name__ == "__main__":
    main()
