"""The two published studies against dealcalc, year by year, before and after tax.

Run from the project's root: ``python examples/published/compare.py`` (add ``--markdown`` for
the tables of docs/validation.md). The published rows come from tests/data/published_cases.yaml;
the models are casino_2022.yaml and arctic_2023.yaml beside this script.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

import dealcalc as dc

HERE = Path(__file__).resolve().parent
CASES = yaml.safe_load(
    (HERE.parents[1] / "tests" / "data" / "published_cases.yaml").read_text(encoding="utf-8")
)


def casino() -> tuple[pd.DataFrame, dict[str, float]]:
    """Casino's levies and cash flow per year, C$ M (dealcalc's US$ ÷ 0.80)."""
    v = dc.evaluate(dc.load(HERE / "casino_2022.yaml"), keep_ledger=True)
    t = v.table() / (CASES["casino"]["usd_per_cad"] * 1e6)
    rows = CASES["casino"]["rows"]
    frame = pd.DataFrame(
        {
            "Yukon royalty, published": rows["yukon_mining_royalty"],
            "Yukon royalty, dealcalc": -t["Yukon mining royalty [USD]"].to_numpy(),
            "tax depreciation, published": rows["tax_depreciation"],
            "tax depreciation, dealcalc": t["Depreciation [USD]"].to_numpy(),
            "income tax, published": -np.asarray(rows["income_taxes"]),
            "income tax, dealcalc": -t["Income tax [USD]"].to_numpy(),
            "after-tax FCF, published": rows["after_tax_fcf"],
            "after-tax FCF, dealcalc": t["After-tax cash flow [USD]"].to_numpy(),
        },
        index=pd.Index(CASES["casino"]["years"], name="Year"),
    )
    scale = CASES["casino"]["usd_per_cad"] * 1e6
    headline = {
        "NPV8 after tax": float(v.npv_usd[0]) / scale,
        "IRR after tax": float(v.irr[0]),
        "NPV8 pre-tax": float(v.pre_tax_npv_usd[0]) / scale,
        "IRR pre-tax": float(v.pre_tax_irr[0]),
    }
    return frame, headline


def arctic() -> tuple[pd.DataFrame, dict[str, float]]:
    """Arctic's taxes and cash flow per year, US$ M."""
    v = dc.evaluate(dc.load(HERE / "arctic_2023.yaml"), keep_ledger=True)
    t = v.table() / 1e6
    rows = CASES["arctic"]["rows"]
    levies = {
        "licence tax": "Alaska mining license tax [USD]",
        "Alaska income tax": "Alaska corporate income tax [USD]",
        "federal income tax": "US federal income tax [USD]",
    }
    frame = pd.DataFrame({f"{k}, dealcalc": -t[c].to_numpy() for k, c in levies.items()})
    frame.insert(0, "cash tax, published", rows["cash_tax"])
    frame["cash tax, dealcalc"] = frame[[f"{k}, dealcalc" for k in levies]].sum(axis=1)
    frame["after-tax FCF, published"] = rows["after_tax_fcf"]
    frame["after-tax FCF, dealcalc"] = t["After-tax cash flow [USD]"].to_numpy()
    frame.index = pd.Index(CASES["arctic"]["years"], name="Year")
    headline = {
        "NPV8 after tax": float(v.npv_usd[0]) / 1e6,
        "IRR after tax": float(v.irr[0]),
        "NPV8 pre-tax": float(v.pre_tax_npv_usd[0]) / 1e6,
        "IRR pre-tax": float(v.pre_tax_irr[0]),
    }
    return frame, headline


def as_markdown(frame: pd.DataFrame) -> str:
    """A frame as a Markdown table, money to three decimals."""
    head = "| " + " | ".join([str(frame.index.name), *map(str, frame.columns)]) + " |"
    rule = "|" + "---:|" * (frame.shape[1] + 1)
    body = [
        "| " + " | ".join([str(i), *(f"{x:,.3f}" for x in row)]) + " |"
        for i, row in zip(frame.index, frame.to_numpy(), strict=True)
    ]
    return "\n".join([head, rule, *body])


def main(markdown: bool) -> None:
    for name, (frame, headline) in (("Casino (C$ M)", casino()), ("Arctic (US$ M)", arctic())):
        frame.loc["Sum"] = frame.sum()
        print(f"\n{name}: " + ", ".join(f"{k} {v:,.4g}" for k, v in headline.items()))
        print(as_markdown(frame) if markdown else frame.round(2).to_string())


if __name__ == "__main__":
    main("--markdown" in sys.argv)
