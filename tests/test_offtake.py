"""Offtake contracts on the bundled deal (docs/methodology.md, offtake contracts): the floor's
revenue uplift and its cost to the counterparty by hand, the cap and the upside share, royalty
and income tax at the contract price, the parties' cash adding up, a higher floor never lowering
the producer's cash, every term a parameter path, the checks, and a floor's Monte Carlo value
against Black's (1976) put formula: a floor is a strip of puts."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy.stats import norm

import dealcalc as dc
from dealcalc.engine import lines as L
from dealcalc.engine.ledger import Ledger
from dealcalc.errors import InputError
from dealcalc.models import Deal
from dealcalc.params import apply_scenario, with_changes
from dealcalc.params import paths as all_paths

SCENARIO = "us_ndpr_floor_contract"
FLOOR_PATH = "offtakes.us_ndpr.price.floor_usd_per_unit"


@pytest.fixture(scope="module")
def deal() -> Deal:
    return dc.load(dc.example_path("ussm-fwo"))


def _with_offtake(deal: Deal, **offtake: Any) -> Deal:
    """The bundled deal with one offtake contract ``c`` (terms given as keyword arguments)."""
    return with_changes(deal, {"offtakes": {"c": offtake}}, origin="test")


def _flat(deal: Deal) -> Deal:
    """The scenario's contract with a flat floor and reference of 110 US$/kg in the deal's money
    (the scenario deflates the money-of-the-day floor year by year)."""
    terms = {"floor_usd_per_unit": 110.0, "upside_share": 0.3, "upside_reference_usd_per_unit": 110.0}
    contract = {
        "product": "ndpr_oxide",
        "counterparty": "us_government",
        "volume_share": 1.0,
        "start_year": 2030,
        "end_year": 2039,
        "price": terms,
    }
    return with_changes(deal, {"offtakes": {"us_ndpr": contract}}, origin="test")


def _floor_by_year(years: np.ndarray) -> np.ndarray:
    """The scenario's floor: US$110/kg in money of the day, in real 2026 US$ at 2.5 % inflation."""
    return 110.0 / 1.025 ** (years - 2026)


def _pie(ledger: Ledger) -> np.ndarray:
    """The project's cash before state take: after tax plus its levies and the duty the exporter bears."""
    levies = ledger.group_total({L.Group.ROYALTY, L.Group.TAX})
    return np.asarray(ledger.after_tax() - levies - ledger.line(L.TARIFF_BORNE))


def _cash(v: Any, party: str) -> np.ndarray:
    return np.asarray(v.parties.line(L.party_cash(party)))


def test_no_offtake_leaves_the_parties_as_they_were(deal: Deal) -> None:
    assert deal.offtakes == {}
    assert "offtakes" not in deal.model_dump(exclude_defaults=True)
    assert deal.party_names() == ["ussm", "fwo", "lenders", "government_of_pakistan", "us_government"]


def test_floor_uplift_and_its_cost_by_hand(deal: Deal) -> None:
    # the deck's NdPr is 80 US$/kg real; the floor is 110 in money of the day (99.7 real in 2030,
    # 78.3 in 2039): the producer gains max(floor - 80, 0) x the kg it sells in 2030-2039, and
    # the US government pays exactly that
    base = dc.evaluate(deal, keep_ledger=True)
    floor = dc.evaluate(deal, scenario=SCENARIO, keep_ledger=True)
    sold = base.balance.line(L.quantity("ndpr_oxide", "sold", "kg"))[0]
    years = np.asarray(deal.periods.labels)
    term = (years >= 2030) & (years <= 2039)
    floor_price = np.round(_floor_by_year(years.astype(float)), 2)  # as written in the file
    # 30 % of the deck above the reference (= the floor) goes to the US government
    per_kg = np.maximum(floor_price - 80.0, 0.0) - 0.3 * np.maximum(80.0 - floor_price, 0.0)
    expected = np.where(term, per_kg * sold, 0.0)
    uplift = floor.ledger.line(L.offtake("us_ndpr"))[0]
    np.testing.assert_allclose(uplift, expected, rtol=1e-12, atol=1e-6)
    assert expected[years == 2039][0] < 0  # by 2039 the real floor is below the deck: upside paid
    flat = dc.evaluate(_flat(deal), keep_ledger=True).ledger.line(L.offtake("us_ndpr"))[0]
    np.testing.assert_allclose(flat, np.where(term, 30.0 * sold, 0.0), rtol=1e-12)
    # the stream's own revenue stays at the benchmark; the contract is its own line
    np.testing.assert_allclose(
        floor.ledger.line(L.revenue("ndpr_oxide")), base.ledger.line(L.revenue("ndpr_oxide"))
    )
    # the counterparty's cash falls by the uplift (its duty is on the benchmark value, unchanged)
    np.testing.assert_allclose(_cash(floor, "us_government") - _cash(base, "us_government"), -expected[None])


def test_royalty_and_income_tax_see_the_contract_price(deal: Deal) -> None:
    # a copper floor of 12,000 against the deck's 9,500: the 5 % royalty rises by 5 % of the uplift
    base = dc.evaluate(deal, keep_ledger=True)
    contract = _with_offtake(
        deal, product="copper", counterparty="smelter", volume_share=1.0, price={"floor_usd_per_unit": 12_000}
    )
    v = dc.evaluate(contract, keep_ledger=True)
    uplift = v.ledger.line(L.offtake("c"))
    assert uplift.max() > 0
    royalty = v.ledger.line(L.ROYALTY) - base.ledger.line(L.ROYALTY)
    np.testing.assert_allclose(royalty, -0.05 * uplift, rtol=1e-9, atol=1e-6)
    # income tax rises too (a larger taxable income) in the years it is paid
    tax = v.ledger.group_total({L.Group.TAX}) - base.ledger.group_total({L.Group.TAX})
    assert tax.sum() < 0
    assert contract.party_role("smelter") == "offtaker"
    assert _cash(v, "smelter")[0].tolist() == pytest.approx((-uplift[0]).tolist())


@pytest.mark.parametrize(
    ("price", "benchmark_gain"),
    [
        ({"cap_usd_per_unit": 60.0}, lambda p: np.minimum(p, 60.0) - p),
        (
            {"upside_share": 0.3, "upside_reference_usd_per_unit": 50.0},
            lambda p: -0.3 * np.maximum(p - 50.0, 0),
        ),
        ({"discount_fraction": 0.1, "floor_usd_per_unit": 75.0}, lambda p: np.maximum(0.9 * p, 75.0) - p),
    ],
)
def test_cap_upside_and_discount_per_unit(deal: Deal, price: dict[str, float], benchmark_gain: Any) -> None:
    contract = _with_offtake(
        deal, product="ndpr_oxide", counterparty="buyer_co", volume_share=0.5, price=price
    )
    base = dc.evaluate(deal, keep_ledger=True)
    v = dc.evaluate(contract, keep_ledger=True)
    sold = base.balance.line(L.quantity("ndpr_oxide", "sold", "kg"))[0]
    per_unit = benchmark_gain(np.float64(80.0))
    np.testing.assert_allclose(v.ledger.line(L.offtake("c"))[0], per_unit * 0.5 * sold, rtol=1e-12)


@pytest.mark.parametrize("scenario", [SCENARIO, "lenders_protected"])
def test_parties_cash_sums_to_the_project(deal: Deal, scenario: str) -> None:
    start = apply_scenario(deal, scenario)
    if scenario != SCENARIO:  # a stressed deal with a contract paid by a party of its own
        start = _with_offtake(
            start,
            product="ndpr_oxide",
            counterparty="dod",
            volume_share=1.0,
            price={"floor_usd_per_unit": 110},
        )
    v = dc.evaluate(start, keep_ledger=True)
    adjustment = sum(v.ledger.line(L.offtake(n)) for n in start.offtakes)
    total = v.parties.subtotal(L.CASH_BEFORE_STATE_TAKE)
    # every party together: the project's cash at the contract price less the transfer
    np.testing.assert_allclose(total, _pie(v.ledger) - adjustment, rtol=1e-9, atol=1e-3)
    counterparty = next(iter(start.offtakes.values())).counterparty
    others = total - _cash(v, counterparty)
    if start.party_role(counterparty) == "offtaker":  # its cash is the transfer alone
        np.testing.assert_allclose(others, _pie(v.ledger), rtol=1e-9, atol=1e-3)


def test_a_higher_floor_never_lowers_the_producer_cash(deal: Deal) -> None:
    floors = np.array([0.0, 40.0, 79.0, 80.0, 95.0, 110.0, 140.0, 200.0])
    v = dc.evaluate(_flat(deal), overrides={FLOOR_PATH: floors})
    for metric in (
        "npv_usd",
        "pre_tax_npv_usd",
        "ussm.npv_usd",
        "fwo.npv_usd",
        "government_of_pakistan.npv_usd",
    ):
        values = np.asarray(v.values[metric])
        assert np.all(np.diff(values) >= -1e-6 * np.abs(values).max()), metric
    us = np.asarray(v.values["us_government.npv_usd"])
    assert np.all(np.diff(us) <= 1e-6)  # and never lowers what the counterparty pays
    # below the benchmark (80) the floor is worth nothing
    assert v.values["npv_usd"][0] == pytest.approx(v.values["npv_usd"][2], rel=1e-12)


def test_terms_are_parameter_paths(deal: Deal) -> None:
    contract = _flat(deal)
    paths = all_paths(contract)
    for term in ("floor_usd_per_unit", "upside_share", "upside_reference_usd_per_unit", "discount_fraction"):
        assert f"offtakes.us_ndpr.price.{term}" in paths
    assert "offtakes.us_ndpr.volume_share" in paths
    higher = with_changes(contract, {FLOOR_PATH: 120}, origin="--set")
    assert higher.changes[-1] == f"--set {FLOOR_PATH}=120"
    gain = dc.evaluate(higher).values["npv_usd"][0] - dc.evaluate(contract).values["npv_usd"][0]
    assert gain > 0
    # the floor's breakeven for the project's NPV against the deal without it is the deck price
    assert dc.evaluate(contract, overrides={FLOOR_PATH: np.array([80.0])}).values["npv_usd"][
        0
    ] == pytest.approx(dc.evaluate(deal).values["npv_usd"][0], rel=1e-12)


def _bad(tmp_path: Path, deal_text: str, offtake: str) -> str:
    path = tmp_path / "deal.yaml"
    path.write_text(f"{deal_text}\n{offtake}\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        dc.load(path)
    return str(err.value)


@pytest.mark.parametrize(
    ("offtake", "message"),
    [
        (
            "offtakes: {c: {product: ndpr_oxide, counterparty: lenders, volume_share: 1}}",
            "is already the lenders",
        ),
        ("offtakes: {c: {product: nickel, counterparty: x, volume_share: 1}}", "is not a product"),
        (
            "offtakes: {c: {product: ndpr_oxide, counterparty: x, volume_share: 0.6},"
            " d: {product: ndpr_oxide, counterparty: y, volume_share: 0.6}}",
            "take 1.2 of its output",
        ),
        (
            "offtakes: {c: {product: ndpr_oxide, counterparty: x, volume_share: 1,"
            " take_or_pay_fraction: 0.8}}",
            "take_or_pay_fraction applies to a volume in tonnes",
        ),
        (
            "offtakes: {c: {product: ndpr_oxide, counterparty: x}}",
            "exactly one of volume_share or volume_t_per_year",
        ),
        (
            "offtakes: {c: {product: ndpr_oxide, counterparty: x, volume_share: 1,"
            " price: {floor_usd_per_unit: 120, cap_usd_per_unit: 100}}}",
            "is above the cap",
        ),
        (
            "offtakes: {c: {product: ndpr_oxide, counterparty: x, volume_share: 1,"
            " price: {upside_share: 0.3}}}",
            "needs upside_reference_usd_per_unit",
        ),
        (
            "offtakes: {c: {product: ndpr_oxide, counterparty: x, volume_share: 1,"
            " start_year: 2035, end_year: 2031}}",
            "before it starts",
        ),
        (
            "offtakes: {c: {product: ndpr_oxide, counterparty: x, volume_share: 1, end_year: 2050}}",
            "is not one of the periods",
        ),
        ("offtakes: {c: {product: ndpr_oxide, counterparty: x, volume_share: 1.5}}", "1.5"),
    ],
)
def test_bad_contracts_are_input_errors(tmp_path: Path, offtake: str, message: str) -> None:
    text = Path(dc.example_path("ussm-fwo")).read_text(encoding="utf-8")
    assert message in _bad(tmp_path, text, offtake)


def test_take_or_pay_in_tonnes(deal: Deal) -> None:
    # 400 t a year contracted, 90 % take-or-pay; the refinery makes at most 300 t: the
    # counterparty pays the contract price (the 80 deck) on 360 t less what is delivered
    contract = _with_offtake(
        deal,
        product="ndpr_oxide",
        counterparty="dod",
        volume_t_per_year=400.0,
        take_or_pay_fraction=0.9,
        start_year=2032,
        end_year=2035,
    )
    base = dc.evaluate(deal, keep_ledger=True)
    v = dc.evaluate(contract, keep_ledger=True)
    sold = base.balance.line(L.quantity("ndpr_oxide", "sold", "kg"))[0]
    years = np.asarray(deal.periods.labels)
    term = (years >= 2032) & (years <= 2035)
    expected = np.where(term, 80.0 * np.maximum(360_000.0 - sold, 0.0), 0.0)
    np.testing.assert_allclose(v.ledger.line(L.offtake("c"))[0], expected, rtol=1e-12)
    assert expected.max() > 0


# ------------------------------------------------------------------ a floor is a strip of puts


def black_put(forward: float, strike: float, total_sd: float, discount: float) -> float:
    """Black (1976), the price of a European put on a forward F: D [K N(-d2) - F N(-d1)],
    d1 = (ln(F/K) + s^2/2) / s, d2 = d1 - s, with s = sigma sqrt(t) the log price's standard
    deviation at expiry (at s = 0, the discounted intrinsic value)."""
    if total_sd == 0.0:
        return discount * max(strike - forward, 0.0)
    d1 = (math.log(forward / strike) + 0.5 * total_sd**2) / total_sd
    d2 = d1 - total_sd
    return discount * (strike * norm.cdf(-d2) - forward * norm.cdf(-d1))


def test_floor_value_matches_blacks_formula(deal: Deal) -> None:
    """The counterparty of a floor alone pays max(K - P_t, 0) per unit each year: a strip of
    puts. With the deck's NdPr on a driftless GBM price path (docs/methodology.md §19: log P_t =
    log P - sigma^2 t / 2 + sigma W_t, t the years since the first period, so E[P_t] = P, the
    deck is the forward), the Monte Carlo mean of its discounted payments is, within 3 standard
    errors, sum_t volume_t x Black put(F = P, K, sigma sqrt(t), discount factor D_t)."""
    data = deal.model_dump(exclude_defaults=False)
    data["phases"]["refinery"]["gate"]["probability"] = 1.0  # a fixed volume: the refinery is built
    data["uncertainty"] = {
        "method": "random",
        "price_paths": {"ndpr_oxide": {"model": "gbm", "volatility": 0.3}},
    }
    data["scenarios"] = {}
    strike = 90.0
    data["offtakes"] = {
        "floor": {
            "product": "ndpr_oxide",
            "counterparty": "dod",
            "volume_share": 1.0,
            "start_year": 2030,
            "end_year": 2039,
            "price": {"floor_usd_per_unit": strike},
        }
    }
    floor_deal = Deal.model_validate(data)
    det = dc.evaluate(floor_deal, keep_ledger=True)
    # the volume each year from the deterministic run: the uplift is (K - 80) x volume
    volume = det.ledger.line(L.offtake("floor"))[0] / (strike - 80.0)
    rate = float(det.values["discount_rate"][0])  # dod is discounted at the deal's rate
    k = np.arange(floor_deal.periods.size)
    discount = (1.0 + rate) ** -(k + 1.0)  # end-of-year flows valued at the start of the first period
    assert -float(det.values["dod.npv_usd"][0]) == pytest.approx(
        float(np.sum(discount * volume * (strike - 80.0))), rel=1e-10
    )
    expected = sum(
        volume[t] * black_put(80.0, strike, 0.3 * math.sqrt(t), discount[t]) for t in k if volume[t] > 0
    )
    mc = dc.monte_carlo(floor_deal, 4000, seed=11, metrics=["dod.npv_usd"])
    paid = -np.asarray(mc.values["dod.npv_usd"])
    se = paid.std(ddof=1) / math.sqrt(paid.size)
    assert abs(paid.mean() - expected) < 3.0 * se, (paid.mean(), expected, se)
    assert se < 0.05 * expected  # and the test has power: the error is small against the value


def test_a_plain_number_over_the_floor_schedule_is_refused(deal: Deal) -> None:
    # the scenario's floor is a schedule (money of the day deflated year by year): a plain number
    # would scale it, not set it, so the API refuses it as --set does and says how to do either
    with pytest.raises(InputError, match="a plain number over a schedule") as caught:
        dc.evaluate(deal, SCENARIO, overrides={FLOOR_PATH: 99.65})
    assert "with_changes" in str(caught.value) and "np.array([99.65])" in str(caught.value)
    scaled = dc.evaluate(deal, SCENARIO, overrides={FLOOR_PATH: np.array([1.0])}).npv_usd[0]
    assert scaled == dc.evaluate(deal, SCENARIO).npv_usd[0]


def test_a_negative_discount_is_a_premium(deal: Deal) -> None:
    # a buyer paying 5 % over the deck for all the antimony: the producer gains what the buyer pays
    premium = _with_offtake(
        deal,
        product="antimony",
        counterparty="us_government",
        volume_share=1.0,
        price={"discount_fraction": -0.05},
    )
    v = dc.evaluate(premium, keep_ledger=True)
    adjustment = v.ledger.line(L.offtake("c"))[0]
    assert adjustment.sum() > 0
    sold = dc.evaluate(deal, keep_ledger=True).ledger
    revenue = sum(sold.line(L.revenue(n))[0] for n in ("antimony_concentrate", "antimony_refined"))
    np.testing.assert_allclose(adjustment, 0.05 * revenue, rtol=1e-9, atol=1e-6)
    with pytest.raises(InputError, match="discount_fraction"):
        _with_offtake(
            deal,
            product="antimony",
            counterparty="us_government",
            volume_share=1.0,
            price={"discount_fraction": -5},
        )


def test_shares_of_output_add_up_year_by_year(deal: Deal) -> None:
    # two contracts that each take all the antimony, one after the other: allowed; overlapping
    # by a year: refused, naming the year
    first = {"product": "antimony", "counterparty": "us_government", "volume_share": 1.0, "end_year": 2034}
    second = {"product": "antimony", "counterparty": "ussm", "volume_share": 1.0, "start_year": 2035}
    after = with_changes(deal, {"offtakes": {"a": first, "b": second}}, origin="test")
    v = dc.evaluate(after).values
    assert v["us_government.npv_usd"][0] != 0.0 or v["ussm.npv_usd"][0] != 0.0
    with pytest.raises(InputError, match=r"take 2 of its output in 2034"):
        with_changes(deal, {"offtakes": {"a": first, "b": {**second, "start_year": 2034}}}, origin="test")
