"""Two published feasibility studies rebuilt from their stated inputs: dealcalc against their
pre-tax results.

The models are examples/published/casino_2022.yaml and arctic_2023.yaml: payable metal, prices
and the studies' cost rows (CSV), with the studies' conventions (8 %, end-of-year discounting,
the first period discounted one full period). The published rows they are compared with are in
tests/data/published_cases.yaml (../shared/research/published-cases.md); none of them is a model
input. docs/validation.md shows the results side by side.

Tolerances: each year's pre-tax free cash flow within 1 % of the published row, or within 2 M of
the study's currency where the row is small (the larger of the two); pre-tax NPV within 0.5 %;
pre-tax IRR within 0.2 percentage points.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import dealcalc as dc
from conftest import load_cases
from dealcalc.cli import main

PUBLISHED = Path(__file__).parents[1] / "examples" / "published"
CASES = load_cases("published_cases.yaml")
FILES = {"casino": "casino_2022.yaml", "arctic": "arctic_2023.yaml"}
PRE_TAX = "Pre-tax cash flow [USD]"

ROW_REL, ROW_ABS = 0.01, 2.0  # 1 %, or 2 M of the study's currency for small rows
NPV_REL = 0.005  # 0.5 %
IRR_ABS = 0.002  # 0.2 percentage points


@cache
def valuation(case: str) -> dc.Valuation:
    return dc.evaluate(dc.load(PUBLISHED / FILES[case]))


def usd_per_unit(case: str) -> float:
    """US$ per million of the study's currency: dealcalc models in US$; Casino's rows are C$
    at the report's fixed US$0.80/C$, Arctic's are US$."""
    return CASES[case].get("usd_per_cad", 1.0) * 1e6


def published_pre_tax(case: str) -> np.ndarray:
    """The published pre-tax free cash flow on the basis the model is built on, M of the study's
    currency.

    Casino's published pre-tax FCF is after the Yukon Mining Royalty, a profit-based royalty that
    is not modelled yet (the fiscal work comes later), so its row is added back. Arctic's is taken
    as published.
    """
    rows = CASES[case]["rows"]
    flow = np.asarray(rows["pre_tax_fcf"], dtype=float)
    if case == "casino":
        flow = flow + np.asarray(rows["yukon_mining_royalty"], dtype=float)
    return flow


def modelled_pre_tax(case: str) -> np.ndarray:
    """dealcalc's pre-tax cash flow, M of the study's currency."""
    table = valuation(case).table()
    assert table.index.tolist() == CASES[case]["years"], "the model's periods are not the study's years"
    return table[PRE_TAX].to_numpy() / usd_per_unit(case)


def reference_npv_irr(case: str) -> tuple[float, float]:
    """NPV and IRR of the published pre-tax rows (on the model's basis), by the studies' own
    convention: end-of-year discounting with the first period discounted one full period."""
    flow = published_pre_tax(case)
    return float(dc.npv(CASES[case]["discount_rate"], flow, timing="end")), float(dc.irr(flow))


@pytest.mark.parametrize("case", sorted(FILES))
def test_each_year_of_pre_tax_cash_flow_matches_the_study(case: str) -> None:
    currency = {"CAD": "C$", "USD": "US$"}[CASES[case]["currency"]]
    ours, theirs = modelled_pre_tax(case), published_pre_tax(case)
    off = []
    for year, a, b in zip(CASES[case]["years"], ours, theirs, strict=True):
        allowed = max(ROW_REL * abs(b), ROW_ABS)
        if not abs(a - b) <= allowed:
            share = f"{(a - b) / abs(b):+.2%}" if b else "n/a"
            off.append(
                f"year {year}: dealcalc {a:,.3f} vs published {b:,.3f} {currency}M, "
                f"off by {a - b:+,.3f} ({share}); allowed ±{allowed:,.3f}"
            )
    assert not off, f"{case}: pre-tax cash flow off in {len(off)} year(s):\n" + "\n".join(off)


def test_casino_pre_tax_npv_and_irr() -> None:
    # The headline (pre-tax NPV8 C$3,473.25M, IRR 21.2 %) is after the Yukon Mining Royalty, which is
    # not modelled yet. Adding its row back changes the comparison basis, so the reference NPV and
    # IRR are computed here from the published pre-tax FCF + Yukon royalty rows with dc.npv/dc.irr
    # (C$4,210.3M, 23.35 %).
    npv, irr = reference_npv_irr("casino")
    v = valuation("casino")
    ours_npv = float(v.pre_tax_npv_usd[0]) / usd_per_unit("casino")
    ours_irr = float(v.pre_tax_irr[0])
    assert ours_npv == pytest.approx(npv, rel=NPV_REL), (
        f"pre-tax NPV8 C${ours_npv:,.2f}M vs C${npv:,.2f}M from the published rows: "
        f"off by {ours_npv - npv:+,.2f} ({ours_npv / npv - 1:+.3%}), allowed ±{NPV_REL:.1%}"
    )
    assert abs(ours_irr - irr) <= IRR_ABS, (
        f"pre-tax IRR {ours_irr:.3%} vs {irr:.3%} from the published rows: "
        f"off by {(ours_irr - irr) * 100:+.3f} points, allowed ±{IRR_ABS * 100:.1f}"
    )


def test_arctic_pre_tax_npv_and_irr() -> None:
    headline = CASES["arctic"]["headline"]
    rows_npv, rows_irr = reference_npv_irr("arctic")  # US$1,503.8M, 26.36 %
    v = valuation("arctic")
    ours_npv = float(v.pre_tax_npv_usd[0]) / 1e6
    ours_irr = float(v.pre_tax_irr[0])
    for what, npv in (("the headline", headline["pre_tax_npv"]), ("the published rows", rows_npv)):
        assert ours_npv == pytest.approx(npv, rel=NPV_REL), (
            f"pre-tax NPV8 US${ours_npv:,.2f}M vs US${npv:,.2f}M ({what}): "
            f"off by {ours_npv - npv:+,.2f} ({ours_npv / npv - 1:+.3%}), allowed ±{NPV_REL:.1%}"
        )
    # published-cases.md: the rounded annual rows give an IRR of 26.4 %, not the headline 25.8 %;
    # the IRR is compared with what the rows give (the headline's gap is pinned below).
    assert abs(ours_irr - rows_irr) <= IRR_ABS, (
        f"pre-tax IRR {ours_irr:.3%} vs {rows_irr:.3%} from the published rows: "
        f"off by {(ours_irr - rows_irr) * 100:+.3f} points, allowed ±{IRR_ABS * 100:.1f}"
    )


def test_arctic_headline_irr_is_below_its_own_rows_and_dealcalc_matches_the_rows() -> None:
    # Arctic's headline pre-tax IRR (25.8 %) is about 0.56 points below what its own published
    # annual rows give (26.36 %; published-cases.md: "the rounded annual rows give slightly higher
    # IRRs than the headline"); the material available does not say why. dealcalc is held to the
    # rows (above); this pins the gap to the headline, so a change that moved dealcalc towards the
    # headline for the wrong reason would show.
    ours = float(valuation("arctic").pre_tax_irr[0])
    headline = CASES["arctic"]["headline"]["pre_tax_irr"]
    rows_irr = float(dc.irr(CASES["arctic"]["rows"]["pre_tax_fcf"]))
    assert rows_irr - headline == pytest.approx(0.0056, abs=0.0005)
    assert abs(ours - rows_irr) <= IRR_ABS


@pytest.mark.parametrize("basis", ["pre_tax", "after_tax"])
def test_the_stated_convention_gives_the_casino_headline_from_its_rows(basis: str) -> None:
    # The convention the models use (end-of-year, Year -4 discounted one full period) is the
    # study's: its own rows give its headline NPV to the printed precision and its IRR to 0.1 point.
    casino = CASES["casino"]
    rows = casino["rows"][f"{basis}_fcf"]
    npv, irr = casino["headline"][f"{basis}_npv"], casino["headline"][f"{basis}_irr"]
    got_npv = float(dc.npv(casino["discount_rate"], rows, timing="end"))
    got_irr = float(dc.irr(rows))
    assert got_npv == pytest.approx(npv, abs=0.05), f"{basis} NPV8 C${got_npv:,.3f}M vs C${npv:,.2f}M"
    assert abs(got_irr - irr) <= 0.0005, f"{basis} IRR {got_irr:.3%} vs {irr:.1%}"


def test_arctic_revenue_is_payable_metal_times_price() -> None:
    # published-cases.md, Arctic, Checks: payable x price gives LOM revenue US$11,421.8M against the
    # report's US$11,424.9M checkpoint.
    table = valuation("arctic").table()
    revenue = table[[c for c in table.columns if c.startswith("Revenue: ")]].to_numpy().sum() / 1e6
    assert revenue == pytest.approx(11_421.8, abs=0.05)
    assert revenue == pytest.approx(11_424.9, rel=0.001)


@pytest.mark.parametrize("case", sorted(FILES))
def test_the_cli_values_the_published_case(case: str) -> None:
    result = CliRunner().invoke(main, ["npv", str(PUBLISHED / FILES[case])])
    assert result.exit_code == 0, result.output
    assert "NPV, pre-tax" in result.stdout
