"""Fiscal regimes written as stacks and the presets shipped with dealcalc (methodology §11;
docs/scenario-file.md, "Fiscal presets").

Pakistan's regime as bundled is one preset and gives the bundled deal's numbers to the last
bit, and written out as an explicit stack it gives them too. The US, Canadian and Mexican
presets are checked year by year against the same levies worked out by hand from their stated
rules on a small deal.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

import dealcalc as dc
from dealcalc.io import fiscal_presets, parse_deal

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = (ROOT / "examples" / "ussm_fwo_2025.yaml").read_text(encoding="utf-8")


def with_fiscal(fiscal: dict[str, Any], text: str = BUNDLED) -> dc.Deal:
    data = yaml.safe_load(text)
    data["fiscal"] = fiscal
    return parse_deal(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), folder=ROOT / "examples")


def assert_same_valuation(a: dc.Valuation, b: dc.Valuation) -> None:
    assert a.values.keys() == b.values.keys()
    for m in a.values:
        np.testing.assert_array_equal(a.values[m], b.values[m], err_msg=m)
    np.testing.assert_array_equal(a.table().to_numpy(), b.table().to_numpy())


def test_the_shipped_presets() -> None:
    assert fiscal_presets() == ["canada_yukon_2022", "mexico_2025", "pakistan_2025", "us_alaska_2023"]


def test_pakistan_as_a_preset_gives_the_bundled_numbers() -> None:
    bundled = dc.load(dc.example_path("ussm-fwo"))
    preset = with_fiscal({"preset": "pakistan_2025"})
    for scenario in (None, "tax_holiday", "low_prices", "refinery_debt_sculpted"):
        assert_same_valuation(
            dc.evaluate(bundled, scenario, keep_ledger=True), dc.evaluate(preset, scenario, keep_ledger=True)
        )
    # the preset's values carry its sources
    assert "s.113" in (preset.provenance["fiscal.minimum_tax_rate"].source or "")


PAKISTAN_STACK = {
    "levies": {
        "royalty": {"base": "mine_value", "rate": 0.05, "line": "royalty", "label": "Royalty"},
        "income_tax": {
            "base": "ebitda + salvage - allowances - closure - interest - royalty",
            "brackets": [{"above": 0, "rate": 0.29}, {"above": 1.78e6, "rate": 0.39}],
            "slab": True,
            "losses": {"carry_forward_years": 6},
            "label": "Income tax",
        },
        "minimum_tax": {
            "alternatives": [
                {"base": "turnover", "rate": 0.0125},
                {"base": "ebitda + salvage - allowances - closure - interest - royalty", "rate": 0.17},
            ],
            "tops_up": ["income_tax"],
            "label": "Income tax",
        },
    },
    "depreciation_years": 10,
}


def test_pakistan_written_as_a_stack_is_the_simple_regime() -> None:
    bundled = dc.load(dc.example_path("ussm-fwo"))
    stack = with_fiscal(PAKISTAN_STACK)
    for scenario in (None, "low_prices", "refinery_debt_sculpted"):
        a, b = (
            dc.evaluate(bundled, scenario, keep_ledger=True),
            dc.evaluate(stack, scenario, keep_ledger=True),
        )
        for m in a.values:
            np.testing.assert_allclose(b.values[m], a.values[m], rtol=1e-12, atol=1e-6, err_msg=m)
        for line in ("Royalty [USD]", "Income tax [USD]", "After-tax cash flow [USD]"):
            np.testing.assert_allclose(b.table()[line], a.table()[line], rtol=1e-12, atol=1e-6)


def test_keys_in_the_file_are_laid_over_the_preset() -> None:
    d = with_fiscal({"preset": "us_alaska_2023", "levies": {"us_federal_income_tax": {"rate": 0.25}}})
    assert d.fiscal.levies is not None
    assert d.fiscal.levies["us_federal_income_tax"].rate == 0.25
    assert list(d.fiscal.levies) == [
        "alaska_income_tax",
        "alaska_mining_license_tax",
        "us_federal_income_tax",
    ]
    assert d.fiscal.levies["alaska_income_tax"].losses.cap_fraction == 0.8  # the preset's
    assert "us_federal_income_tax.rate" not in " ".join(d.provenance)  # the file gave no source


def test_an_unknown_preset_and_a_bad_value_in_a_preset_file(tmp_path: Path) -> None:
    with pytest.raises(dc.InputError, match="no fiscal preset 'us_alaska_2032'") as info:
        with_fiscal({"preset": "us_alaska_2032"})
    assert "us_alaska_2023" in str(info.value)
    bad = tmp_path / "mine.yaml"
    bad.write_text("levies:\n  tax:\n    base: ebitda\n    rate: 9\n", encoding="utf-8")
    data = yaml.safe_load(BUNDLED)
    data["fiscal"] = {"preset": "mine.yaml"}
    with pytest.raises(dc.InputError) as err:
        parse_deal(yaml.safe_dump(data, allow_unicode=True), folder=tmp_path)
    assert "mine.yaml:4" in str(err.value) and "fiscal.levies.tax.rate" in str(err.value)


# ----------------------------------------------------------------- presets against hand work
SMALL: dict[str, Any] = {
    "name": "small copper-zinc-gold mine",
    "valuation": {"start_year": 2030, "end_year": 2037, "discount_rate": 0.08},
    "products": {"copper": {"unit": "t"}, "zinc": {"unit": "t"}, "gold": {"unit": "oz"}},
    "price_decks": {"base": {"copper": 9_000.0, "zinc": 2_800.0, "gold": 2_000.0}},
    "phases": {"mine": {"start_year": 2030, "capex_usd": 300e6, "capex_schedule": [0.5, 0.5]}},
    "streams": {
        "copper": {"phase": "mine", "product": "copper", "recovered_units_per_year": 20_000.0},
        "zinc": {"phase": "mine", "product": "zinc", "recovered_units_per_year": 30_000.0},
        "gold": {"phase": "mine", "product": "gold", "recovered_units_per_year": 20_000.0},
    },
    "overheads": {"site": {"usd_per_year": 150e6}},
}


def small(fiscal: dict[str, Any]) -> dc.Valuation:
    data = copy.deepcopy(SMALL)
    data["fiscal"] = fiscal
    return dc.evaluate(parse_deal(yaml.safe_dump(data)), keep_ledger=True)


def test_us_alaska_by_hand() -> None:
    v = small({"preset": "us_alaska_2023"})
    t = v.table()
    revenue = {"copper": 20_000 * 9_000.0, "zinc": 30_000 * 2_800.0, "gold": 20_000 * 2_000.0}
    ebitda = sum(revenue.values()) - 150e6  # 134 M a year from 2032
    macrs = [0.1429, 0.2449, 0.1749, 0.1249, 0.0893]  # Pub 946, 7-year, rounded
    allowances = t["Depreciation [USD]"].to_numpy()
    np.testing.assert_allclose(allowances[2:7] / 300e6, macrs, atol=6e-5)  # from first production
    # the rest is written off in the last year (the closure year)
    assert allowances.sum() == pytest.approx(300e6, rel=1e-12)
    for year in range(2, 8):
        base = ebitda - allowances[year]
        gross = sum(revenue.values())
        # Alaska corporate tax first: federal depletion (15 % Cu and Au, 22 % Zn, within 50 % of
        # income before depletion), then 10,830 + 9.4 % over 222,000
        pct = 0.15 * revenue["copper"] + 0.22 * revenue["zinc"] + 0.15 * revenue["gold"]
        ak_income = base - min(pct, 0.5 * base)
        ak = 10_830 + 0.094 * (ak_income - 222_000)
        # licence tax on net income after the Alaska tax: exempt 3.5 years from 2032 (2032-2034,
        # half of 2035); depletion 15 % of gross income within 50 % of net income; 4,000 + 7 %
        # over 100,000
        mlt_before = base - ak
        mlt_income = mlt_before - min(0.15 * gross, 0.5 * mlt_before)
        mlt = (4_000 + 0.07 * (mlt_income - 100_000)) * {2: 0, 3: 0, 4: 0, 5: 0.5}.get(year, 1.0)
        federal_before = base - mlt - ak
        federal = 0.21 * (federal_before - min(pct, 0.5 * federal_before))
        paid = -(
            t["Alaska mining license tax [USD]"].iloc[year]
            + t["Alaska corporate income tax [USD]"].iloc[year]
            + t["US federal income tax [USD]"].iloc[year]
        )
        assert paid == pytest.approx(mlt + ak + federal, rel=1e-12), year
    # each government collects its own levies
    p = v.party_table()
    np.testing.assert_allclose(p["Levies collected by us_federal [USD]"], -t["US federal income tax [USD]"])
    assert {"alaska.take", "us_federal.take"} <= set(v.values)


def test_canada_yukon_by_hand() -> None:
    v = small({"preset": "canada_yukon_2022"})
    t = v.table()
    ebitda = 20_000 * 9_000.0 + 30_000 * 2_800.0 + 20_000 * 2_000.0 - 150e6
    # royalty allowance: 15 % of 300 M a year from first production (2032)
    royalty_base = ebitda - 0.15 * 300e6
    ladder = 0.12 * royalty_base - (0.12 * 28e6 - 2.7797e6 * 0.8)  # yukon.ca closed form, x 0.80
    assert -t["Yukon mining royalty [USD]"].iloc[2] == pytest.approx(ladder, rel=1e-12)
    # class 41.2: 25 % declining balance, first-year factor 1: 75, 56.25, ...
    cca = t["Depreciation [USD]"].to_numpy()
    np.testing.assert_allclose(cca[2:5], [75e6, 56.25e6, 42.1875e6], rtol=1e-12)
    taxable = ebitda - ladder - 75e6
    assert -t["Income tax [USD]"].iloc[2] == pytest.approx(0.27 * taxable, rel=1e-12)
    np.testing.assert_allclose(
        v.party_table()["Levies collected by canada_federal [USD]"].iloc[2], 0.15 * taxable, rtol=1e-12
    )


def test_mexico_by_hand_and_with_the_duty_credit() -> None:
    v = small({"preset": "mexico_2025"})
    t = v.table()
    gold = 20_000 * 2_000.0
    ebitda = 20_000 * 9_000.0 + 30_000 * 2_800.0 + gold - 150e6
    dep = 0.12 * 300e6  # 12 % a year of cost from when spent: 18 M of each half in 2030 ...
    assert t["Depreciation [USD]"].iloc[3] == pytest.approx(dep, rel=1e-12)
    smd, emd = 0.085 * ebitda, 0.01 * gold
    ptu = 0.10 * (ebitda - dep - smd - emd)
    isr_taxable = ebitda - dep - smd - emd - ptu
    row = 3  # 2033: losses of 2030-2031 (allowances before revenue) are used by then? check below
    assert -t["Mining duties [USD]"].iloc[row] == pytest.approx(smd + emd, rel=1e-12)
    assert -t["Employees' profit sharing [USD]"].iloc[row] == pytest.approx(ptu, rel=1e-12)
    losses = t["Losses carried: income_tax [USD]"].iloc[row - 1]
    assert -t["Income tax [USD]"].iloc[row] == pytest.approx(0.30 * max(isr_taxable - losses, 0), rel=1e-12)
    # profit sharing goes to the employees, who are not a government
    assert "employees.take" not in v.values and "mexico_federal.take" in v.values
    # a small miner credits the special duty against its income tax instead of deducting it
    credit = small(
        {
            "preset": "mexico_2025",
            "levies": {
                "special_mining_duty": {
                    "deductible_from": ["profit_sharing"],
                    "credit_against": ["income_tax"],
                }
            },
        }
    ).table()
    ptu = 0.10 * (ebitda - dep - smd - emd)
    isr = 0.30 * (ebitda - dep - emd - ptu - losses) - smd
    assert -credit["Income tax [USD]"].iloc[row] == pytest.approx(max(isr, 0.0), rel=1e-12)
