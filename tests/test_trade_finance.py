"""Tariffs, local currency, debt and the parties against hand computations and numpy-financial.

The deal is the hand-worked one of test_engine_handworked.py: built 2030-31, then 9 t a year of
metal at 10,000 US$/t (90,000 US$ of revenue in 2032-34), all sold to the US when a test says so.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import numpy_financial as npf
import pytest

import dealcalc as dc
from dealcalc.engine.trade import year_weights
from test_engine_handworked import deal, line

REVENUE = 90_000.0
DUTY = "Duty collected by us_government [USD]"
BORNE = "Tariff borne by the exporter [USD]"
BUYERS = "Tariff borne by buyers [USD]"


def traded(schedule: dict[str, Any], pass_through: float = 1.0, **changes: Any) -> dc.Deal:
    return deal(
        trade={
            "destinations": {"us": {"schedule": "s", "pass_through_fraction": pass_through}},
            "schedules": {"s": schedule},
        },
        streams__ore__sales_shares={"us": 1.0},
        **changes,
    )


def test_year_weights_count_days_exactly() -> None:
    w = year_weights([dt.date(2030, 1, 1), dt.date(2030, 7, 1)], np.array([2029, 2030, 2031]))
    np.testing.assert_allclose(w, [[0.0, 181 / 365, 0.0], [0.0, 184 / 365, 1.0]])
    leap = year_weights([dt.date(2032, 3, 1)], np.array([2032]))
    assert leap[0, 0] == pytest.approx(306 / 366)


def test_a_rate_change_mid_year_is_weighted_by_days() -> None:
    # 10 % from 1 Jan 2032, 20 % from 1 Jul 2032: 2032 pays 10 % x 182/366 + 20 % x 184/366
    v = dc.evaluate(traded({"ad_valorem": {"2032-01-01": 0.10, "2032-07-01": 0.20}}))
    rate_2032 = 0.10 * 182 / 366 + 0.20 * 184 / 366
    assert line(v, DUTY) == pytest.approx([0, 0, REVENUE * rate_2032, REVENUE * 0.20, REVENUE * 0.20])
    assert line(v, BORNE) == [0, 0, 0, 0, 0]  # full pass-through: the buyer bears it all
    assert line(v, BUYERS) == pytest.approx(line(v, DUTY))


def test_an_exempt_product_pays_no_ad_valorem_duty() -> None:
    schedule = {"ad_valorem": {"2030-01-01": 0.19}, "products": {"metal": {"concentrate": {"exempt": True}}}}
    v = dc.evaluate(traded(schedule, pass_through=0.0))
    assert line(v, BORNE) == [0, 0, 0, 0, 0]
    assert DUTY not in v.table().columns or line(v, DUTY) == [0, 0, 0, 0, 0]
    # the exemption is for concentrate only: the same metal sold refined would pay (see below)
    refined = {"ad_valorem": {"2030-01-01": 0.19}, "products": {"metal": {"refined": {"exempt": True}}}}
    w = dc.evaluate(traded(refined, pass_through=1.0))
    assert line(w, DUTY)[2:] == pytest.approx([REVENUE * 0.19] * 3)


def test_a_specific_duty_per_unit_of_content() -> None:
    # 9 t of metal contained a year (payable 100 %) at 250 US$/t: 2,250 US$ of duty
    schedule = {"products": {"metal": {"any": {"specific_usd_per_unit_content": 250.0}}}}
    full = dc.evaluate(traded(schedule, pass_through=1.0))
    assert line(full, DUTY)[2:] == pytest.approx([2_250.0] * 3)
    assert line(full, BORNE) == [0, 0, 0, 0, 0]
    # zero pass-through: the exporter's price falls by the whole duty, V_s = V - d U
    none = dc.evaluate(traded(schedule, pass_through=0.0))
    assert line(none, BORNE)[2:] == pytest.approx([-2_250.0] * 3)
    assert line(none, BUYERS) == pytest.approx([0, 0, 0, 0, 0], abs=1e-9)


@pytest.mark.parametrize("phi", [0.0, 0.5, 1.0])
def test_incidence_splits_the_duty_on_the_transaction_value(phi: float) -> None:
    # V_s = V / (1 + (1 - phi) tau); duty tau V_s; exporter V - V_s; buyer the rest
    tau = 0.19
    v = dc.evaluate(traded({"ad_valorem": {"2030-01-01": tau}}, pass_through=phi))
    realised = REVENUE / (1 + (1 - phi) * tau)
    assert line(v, DUTY)[2] == pytest.approx(tau * realised)
    assert -line(v, BORNE)[2] == pytest.approx(REVENUE - realised)
    assert line(v, BUYERS)[2] == pytest.approx(tau * realised - (REVENUE - realised), abs=1e-6)
    # what the exporter bears is a deductible cost: turnover and tax fall with it
    untaxed = dc.evaluate(deal())
    if phi < 1.0:
        assert v.table()["Income tax [USD]"].sum() > untaxed.table()["Income tax [USD]"].sum()


def test_local_currency_share_and_devaluation() -> None:
    # 40 % of the 20,000 US$/yr ore cost is in local money; the rate rises 10 % a year from 2030
    v = dc.evaluate(deal(local_currency={"opex_share": 0.4, "depreciation_rate": 0.10}))
    expected = [-20_000 * (0.6 + 0.4 / 1.1**k) for k in (2, 3, 4)]
    assert line(v, "Mining and processing [USD]")[2:] == pytest.approx(expected)
    # capex: 25 % local, the second year's half at 1/1.1
    w = dc.evaluate(deal(local_currency={"capex_share": 0.25, "depreciation_rate": 0.10}))
    assert line(w, "Initial capex [USD]")[:2] == pytest.approx([-50_000, -50_000 * (0.75 + 0.25 / 1.1)])
    path = dc.evaluate(deal(local_currency={"opex_share": 1.0, "units_per_usd": 100, "path": {2033: 200}}))
    assert line(path, "Mining and processing [USD]")[2:] == pytest.approx([-20_000, -10_000, -10_000])


def nominal_loan(**tranche: Any) -> dc.Deal:
    spec = {"share_of_capex": 1.0, "interest_rate": 0.08, "tenor_years": 3, **tranche}
    return deal(
        valuation__basis="nominal",
        valuation__discount_rate_basis="nominal",
        phases__mine__capex_schedule=[1.0],
        phases__mine__production_start_year=2031,
        finance={"debt": {"loan": spec}},
    )


def test_annuity_schedule_matches_numpy_financial() -> None:
    # 100,000 drawn at the end of 2030; repaid 2031-33 in level payments at 8 %
    v = dc.evaluate(nominal_loan())
    table = v.party_table()
    per = np.arange(1, 4)
    interest = -npf.ipmt(0.08, per, 3, 100_000)
    principal = -npf.ppmt(0.08, per, 3, 100_000)
    np.testing.assert_allclose(table["Interest paid [USD]"].to_numpy()[1:4], interest, rtol=1e-12)
    np.testing.assert_allclose(table["Principal repaid [USD]"].to_numpy()[1:4], principal, rtol=1e-12)
    service = (table["Interest paid [USD]"] + table["Principal repaid [USD]"]).to_numpy()[1:4]
    np.testing.assert_allclose(service, -npf.pmt(0.08, 3, 100_000), rtol=1e-12)
    assert table["Debt balance [USD]"].iloc[3] == pytest.approx(0.0, abs=1e-6)


def test_linear_repayment_idc_grace_and_fee() -> None:
    # drawn 50,000 at the end of 2030 and 2031: IDC 4,000 capitalised in 2031; one year of
    # grace (2032, interest paid); then two equal principal payments; a 1 % fee in 2030
    v = dc.evaluate(
        deal(
            valuation__basis="nominal",
            valuation__discount_rate_basis="nominal",
            finance={
                "debt": {
                    "loan": {
                        "share_of_capex": 1.0,
                        "interest_rate": 0.08,
                        "tenor_years": 2,
                        "grace_years": 1,
                        "repayment": "linear",
                        "upfront_fee": 0.01,
                    }
                }
            },
            valuation__end_year=2035,
        )
    )
    t = v.party_table()
    balance_2031 = 50_000 * 1.08 + 50_000
    assert t["Interest capitalised [USD]"].tolist()[:2] == pytest.approx([0.0, 4_000.0])
    assert t["Debt fees [USD]"].iloc[0] == pytest.approx(1_000.0)
    assert t["Interest paid [USD]"].tolist()[2:5] == pytest.approx(
        [0.08 * balance_2031, 0.08 * balance_2031, 0.08 * balance_2031 / 2]
    )
    assert t["Principal repaid [USD]"].tolist()[2:5] == pytest.approx(
        [0.0, balance_2031 / 2, balance_2031 / 2]
    )


def test_a_real_terms_deal_runs_its_loan_in_money_of_the_day() -> None:
    # real deal, 5 % inflation: the nominal schedule deflated by 1.05^t
    nominal = dc.evaluate(nominal_loan()).party_table()
    real = dc.evaluate(
        deal(
            valuation__inflation_rate=0.05,
            phases__mine__capex_schedule=[1.0],
            phases__mine__production_start_year=2031,
            finance={"debt": {"loan": {"share_of_capex": 1.0, "interest_rate": 0.08, "tenor_years": 3}}},
        )
    ).party_table()
    deflator = 1.05 ** np.arange(5)
    np.testing.assert_allclose(
        real["Interest paid [USD]"], nominal["Interest paid [USD]"] / deflator, rtol=1e-12
    )


@pytest.mark.parametrize("repayment", ["annuity", "linear", "sculpted"])
def test_dscr_sizing_hits_its_target(repayment: str) -> None:
    # CFADS is 64,000, 64,000, 49,000 in 2031-33; at 3x cover the debt is below the capex
    v = dc.evaluate(nominal_loan(share_of_capex=None, target_dscr=3.0, repayment=repayment))
    dscr = v.party_table()["DSCR"].to_numpy()[1:4]
    assert np.nanmin(dscr) == pytest.approx(3.0, rel=1e-9)
    if repayment == "sculpted":  # every year at the target
        np.testing.assert_allclose(dscr, 3.0, rtol=1e-9)
    assert 0 < v.values["debt_usd"][0] < 100_000
    assert v.values["min_dscr"][0] == pytest.approx(3.0, rel=1e-9)


def test_a_dscr_sized_loan_is_capped_at_the_capex_it_funds() -> None:
    v = dc.evaluate(nominal_loan(share_of_capex=None, target_dscr=1.0, repayment="sculpted"))
    assert v.values["debt_usd"][0] == pytest.approx(100_000)
    assert v.values["min_dscr"][0] >= 1.0


def test_the_parties_add_up_to_the_project() -> None:
    v = dc.evaluate(dc.load(dc.example_path("ussm-fwo")), "tariff_19")
    t = v.party_table()
    parties = [f"{p} [USD]" for p in v.deal.party_names()]
    np.testing.assert_allclose(
        t[parties].sum(axis=1), t["Cash before state take [USD]"], rtol=1e-12, atol=1e-4
    )
    p = v.table()
    pie = p["After-tax cash flow [USD]"] - p["Royalty [USD]"] - p["Income tax [USD]"] - p[BORNE]
    np.testing.assert_allclose(pie, t["Cash before state take [USD]"], rtol=1e-12, atol=1e-4)
    assert set(v.party_summary().index) == {
        "ussm",
        "fwo",
        "lenders",
        "government_of_pakistan",
        "us_government",
    }


def test_npv_json_carries_the_parties() -> None:
    import json

    from click.testing import CliRunner

    from dealcalc.cli import main

    result = CliRunner().invoke(main, ["npv", str(dc.example_path("ussm-fwo")), "--json"])
    assert result.exit_code == 0, result.output
    parties = json.loads(result.output)["parties"]
    assert {"ussm", "fwo", "government_of_pakistan", "us_government", "lenders"} <= set(parties)
    assert {"npv_usd", "irr"} <= set(parties["ussm"])


def test_compare_shows_the_value_of_the_tariff_cut_to_each_party() -> None:
    import json

    from click.testing import CliRunner

    from dealcalc.cli import main

    path = str(dc.example_path("ussm-fwo"))
    result = CliRunner().invoke(main, ["compare", path, "--json"])
    assert result.exit_code == 0, result.output
    attribution = json.loads(result.output)["tariff_attribution"]
    cut = "change_usd: reciprocal_29 -> reciprocal_19"
    table = dc.tariff_attribution(dc.load(path))
    assert attribution["schedules"] == ["reciprocal_29", "reciprocal_19", "annex_ii"]

    def change(party: str) -> float:
        first = attribution["parties"][party]["changes"][0]
        assert (first["from"], first["to"]) == ("reciprocal_29", "reciprocal_19")
        return float(first["change_usd"])

    for party in ("ussm", "fwo", "government_of_pakistan", "us_government"):
        assert change(party) == pytest.approx(table.loc[party, cut])
    assert change("ussm") > 0 and change("us_government") < 0
    text = CliRunner().invoke(main, ["compare", path]).output
    assert "reciprocal_29" in text and "ussm" in text


def test_llcr_is_the_pv_of_cfads_over_the_loan_life_per_unit_of_debt() -> None:
    # annuity of 100,000 at 8 % over 2031-33; CFADS 64,000, 64,000, 49,000
    t = dc.evaluate(nominal_loan()).party_table()
    cfads = [64_000.0, 64_000.0, 49_000.0]
    balance = [100_000.0, t["Debt balance [USD]"].iloc[1], t["Debt balance [USD]"].iloc[2]]
    for k in range(3):
        pv = sum(c / 1.08 ** (j + 1) for j, c in enumerate(cfads[k:]))
        assert t["LLCR"].iloc[1 + k] == pytest.approx(pv / balance[k], rel=1e-12)
    assert np.isnan(t["LLCR"].iloc[4]) and np.isnan(t["DSCR"].iloc[0])


def test_a_carried_owner_gets_dividends_and_funds_nothing() -> None:
    owners = {"investor": {"share": 0.9}, "state": {"share": 0.1, "carried": True}}
    v = dc.evaluate(deal(finance={"equity": owners}))
    t = v.party_table()
    investor, state = t["investor [USD]"], t["state [USD]"]
    assert (state[:2] == 0).all() and investor[:2].tolist() == pytest.approx([-50_000.0, -50_000.0])
    paid = investor > 0
    np.testing.assert_allclose(state[paid], investor[paid] / 9, rtol=1e-12)


def test_government_take_by_year_and_over_the_life() -> None:
    v = dc.evaluate(dc.load(dc.example_path("ussm-fwo")))
    t = v.party_table()
    pie = t["Cash before state take [USD]"]
    government = t["government_of_pakistan [USD]"]
    by_year = t["Government take: government_of_pakistan"]
    np.testing.assert_allclose(by_year[pie > 0], (government / pie)[pie > 0], rtol=1e-12)
    assert by_year[pie <= 0].isna().all()
    assert v.values["government_of_pakistan.take"][0] == pytest.approx(government.sum() / pie.sum())
