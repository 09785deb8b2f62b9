"""Two published feasibility studies rebuilt from their stated inputs and tax rules: dealcalc
against their pre-tax and after-tax results.

The models are examples/published/casino_2022.yaml and arctic_2023.yaml: payable metal, prices
and the studies' cost rows (CSV), the studies' conventions (8 %, end-of-year discounting, the
first period discounted one full period) and their fiscal terms (a levy stack: Casino's NSR and
Yukon royalties and 27 % income tax with its Class 41A pool; Arctic's US federal, Alaska and
mining-licence taxes from the preset us_alaska_2023). The published rows they are compared with
are in tests/data/published_cases.yaml (../shared/research/published-cases.md); none of them is
a model input. docs/validation.md shows the results side by side.

Tolerances: each year's pre-tax free cash flow within 1 % of the published row, or within 2 M of
the study's currency where the row is small (the larger of the two); pre-tax NPV within 0.5 %;
pre-tax IRR within 0.2 percentage points; after-tax NPV within 2 % and IRR within 0.3 points of
the headline.
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
from dealcalc.params import with_changes

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
    """The published pre-tax free cash flow, M of the study's currency (Casino's is after its NSR
    and Yukon royalties, as the model's is)."""
    return np.asarray(CASES[case]["rows"]["pre_tax_fcf"], dtype=float)


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
    # the headline (pre-tax NPV8 C$3,473.25M, IRR 21.2 %) is after both royalties, as the model is
    headline = CASES["casino"]["headline"]
    v = valuation("casino")
    ours_npv = float(v.pre_tax_npv_usd[0]) / usd_per_unit("casino")
    ours_irr = float(v.pre_tax_irr[0])
    assert ours_npv == pytest.approx(headline["pre_tax_npv"], rel=NPV_REL), (
        f"pre-tax NPV8 C${ours_npv:,.2f}M vs C${headline['pre_tax_npv']:,.2f}M: "
        f"off by {ours_npv / headline['pre_tax_npv'] - 1:+.3%}, allowed ±{NPV_REL:.1%}"
    )
    assert abs(ours_irr - headline["pre_tax_irr"]) <= IRR_ABS


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
    assert "NPV pre-tax (US$ M)" in result.stdout


# ---------------------------------------------------------------------------------- after tax
AFTER_NPV_REL = 0.02  # 2 %
AFTER_IRR_ABS = 0.003  # 0.3 percentage points


def modelled(case: str, column: str, sign: float = 1.0) -> np.ndarray:
    table = valuation(case).table()
    return sign * table[column].to_numpy() / usd_per_unit(case)


def test_casino_after_tax_npv_and_irr() -> None:
    headline = CASES["casino"]["headline"]
    v = valuation("casino")
    npv = float(v.npv_usd[0]) / usd_per_unit("casino")
    assert npv == pytest.approx(headline["after_tax_npv"], rel=AFTER_NPV_REL), (
        f"after-tax NPV8 C${npv:,.1f}M vs C${headline['after_tax_npv']:,.1f}M "
        f"({npv / headline['after_tax_npv'] - 1:+.2%}), allowed ±{AFTER_NPV_REL:.0%}"
    )
    assert abs(float(v.irr[0]) - headline["after_tax_irr"]) <= AFTER_IRR_ABS


def test_casino_each_years_levies_against_the_published_rows() -> None:
    # largest differences, C$M (docs/validation.md explains each): income tax 6.8 in Year 3 (the
    # study deducts about C$32M more that year than its rows explain); the Yukon royalty 1.2; tax
    # depreciation 14.1 in Year 8 (the study's sustaining-capital classes are not published; the
    # totals agree)
    rows = CASES["casino"]["rows"]
    cases = (
        ("income_taxes", modelled("casino", "Income tax [USD]"), 7.0),
        ("yukon_mining_royalty", modelled("casino", "Yukon mining royalty [USD]", -1.0), 1.5),
        ("tax_depreciation", modelled("casino", "Depreciation [USD]"), 15.0),
    )
    for name, ours, allowed in cases:
        off = np.abs(ours - np.asarray(rows[name], dtype=float))
        year = CASES["casino"]["years"][int(np.argmax(off))]
        assert off.max() <= allowed, f"{name}: off by C${off.max():,.2f}M in Year {year}"
    np.testing.assert_allclose(
        modelled("casino", "Depreciation [USD]").sum(), np.sum(rows["tax_depreciation"]), rtol=1e-4
    )


def arctic_tax() -> np.ndarray:
    table = valuation("arctic").table()
    levies = [
        "Alaska mining license tax [USD]",
        "Alaska corporate income tax [USD]",
        "US federal income tax [USD]",
    ]
    return -table[levies].sum(axis=1).to_numpy() / 1e6


def test_arctic_after_tax_npv_and_irr() -> None:
    headline = CASES["arctic"]["headline"]
    v = valuation("arctic")
    npv = float(v.npv_usd[0]) / 1e6
    assert npv == pytest.approx(headline["after_tax_npv"], rel=AFTER_NPV_REL), (
        f"after-tax NPV8 US${npv:,.1f}M vs US${headline['after_tax_npv']:,.1f}M "
        f"({npv / headline['after_tax_npv'] - 1:+.2%}), allowed ±{AFTER_NPV_REL:.0%}"
    )
    assert abs(float(v.irr[0]) - headline["after_tax_irr"]) <= AFTER_IRR_ABS


def test_arctic_tax_row() -> None:
    # the largest yearly difference is Year 13 (US$58.1M: the study deducts about US$170M more in
    # its last production year than the law as modelled); over the life 995 against 922.7
    off = arctic_tax() - np.asarray(CASES["arctic"]["rows"]["cash_tax"], dtype=float)
    assert np.abs(off).max() <= 60.0
    assert CASES["arctic"]["years"][int(np.argmax(np.abs(off)))] == 13


def test_arctic_after_tax_npv_between_the_two_closure_treatments_the_law_allows() -> None:
    # The study does not say how it relieves the US$428M closure of Year 14. Deducted when spent
    # (the model) it finds no income and no carry-back: the NPV is 1.9 % below the headline; as a
    # reclamation reserve (IRC §468, deducted as the ore is mined) it is 3.2 % above. The study
    # lies between the two (docs/validation.md).
    headline = CASES["arctic"]["headline"]["after_tax_npv"]
    deal = dc.load(PUBLISHED / FILES["arctic"])
    as_modelled = float(valuation("arctic").npv_usd[0]) / 1e6
    accrued = "ebitda - royalties - allowances - closure_accrued + salvage - depletion"
    levies = ("alaska_mining_license_tax", "alaska_income_tax", "us_federal_income_tax")
    reserve = with_changes(deal, {f"fiscal.levies.{name}.base": accrued for name in levies})
    with_reserve = float(dc.evaluate(reserve, metrics=["npv_usd"]).npv_usd[0]) / 1e6
    assert as_modelled < headline < with_reserve
    assert as_modelled / headline - 1 == pytest.approx(-0.0194, abs=0.001)
    assert with_reserve / headline - 1 == pytest.approx(0.0321, abs=0.001)
