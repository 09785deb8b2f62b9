"""Streams and royalties sold for cash on the bundled deal (docs/methodology.md, streams and
royalties sold for cash): a gold stream worked by hand (the deposit, the tiers switching when the
cumulative deliveries cross the limit, the stream price against spot each year), royalty and
income tax at the stream price, the deposit taxed as it is delivered, a royalty sold for cash
(the financier's cash: minus the price, then the royalty), the parties' cash adding up, a larger
deposit never lowering the project's cash in its year, every term a parameter path, the checks,
and the bundled scenario ``gold_stream``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import dealcalc as dc
from dealcalc.engine import lines as L
from dealcalc.engine.inputs import resolve
from dealcalc.engine.ledger import Ledger
from dealcalc.engine.run import build_ledger
from dealcalc.errors import InputError
from dealcalc.models import Deal
from dealcalc.params import Scenarios, apply_scenario, with_changes
from dealcalc.params import paths as all_paths

GOLD = 3000.0  # the base deck's gold, US$/oz (real 2026)
PAYABLE = 0.90  # the gold stream's payable fraction
STREAM = {
    "product": "gold",
    "financier": "streamer",
    "deposit_usd": 40e6,
    "deposit_year": 2027,
    "tiers": [{"up_to_units": 20_000, "share": 0.5}, {"share": 0.25}],
    "price": {"fixed_usd_per_unit": 400},
}
ROYALTY = {"financier": "royalty_fund", "price_usd": 30e6, "year": 2027, "rate": 0.02}


@pytest.fixture(scope="module")
def deal() -> Deal:
    return dc.load(dc.example_path("ussm-fwo"))


def _with(deal: Deal, **sections: Any) -> Deal:
    return with_changes(deal, sections, origin="test")


def _pie(ledger: Ledger) -> np.ndarray:
    """The project's cash before state take: after tax plus its levies and the duty the exporter bears."""
    levies = ledger.group_total({L.Group.ROYALTY, L.Group.TAX})
    return np.asarray(ledger.after_tax() - levies - ledger.line(L.TARIFF_BORNE))


def _cash(v: Any, party: str) -> np.ndarray:
    return np.asarray(v.parties.line(L.party_cash(party)))


def _by_hand(paid: np.ndarray, limit: float, first: float, then: float) -> np.ndarray:
    """Deliveries by tier, one year at a time: ``first`` of the paid ounces until ``limit``
    ounces are delivered, ``then`` of the rest."""
    out, cumulative = [], 0.0
    for oz in paid:
        at_first = min(oz, max(limit - cumulative, 0.0) / first)
        got = first * at_first + then * (oz - at_first)
        out.append(got)
        cumulative += got
    return np.array(out)


def test_nothing_sold_leaves_the_deal_as_it_was(deal: Deal) -> None:
    assert deal.metal_streams == {} and deal.royalties_sold == {}
    dumped = deal.model_dump(exclude_defaults=True)
    assert "metal_streams" not in dumped and "royalties_sold" not in dumped
    assert deal.party_names() == ["ussm", "fwo", "lenders", "government_of_pakistan", "us_government"]


def test_gold_stream_by_hand(deal: Deal) -> None:
    base = dc.evaluate(deal, keep_ledger=True)
    v = dc.evaluate(_with(deal, metal_streams={"au": STREAM}), keep_ledger=True)
    years = np.asarray(deal.periods.labels)
    paid = base.balance.line(L.quantity("gold", "sold", "oz"))[0] * PAYABLE
    delivered = _by_hand(np.where(years >= 2027, paid, 0.0), 20_000.0, 0.5, 0.25)
    # the tiers switch in the year the cumulative deliveries cross 20,000 oz
    crossing = int(np.argmax(np.cumsum(delivered) > 20_000.0))
    assert years[crossing] > 2030
    assert 0.25 * paid[crossing] < delivered[crossing] < 0.5 * paid[crossing]
    np.testing.assert_allclose(delivered[crossing + 1 :], 0.25 * paid[crossing + 1 :], rtol=1e-12)
    np.testing.assert_allclose(delivered[:crossing], 0.5 * paid[:crossing], rtol=1e-12)
    # the project is paid 400 instead of 3,000 on what it delivers; the deposit in 2027
    adjustment = v.ledger.line(L.metal_stream("au"))[0]
    np.testing.assert_allclose(adjustment, (400.0 - GOLD) * delivered, rtol=1e-12, atol=1e-6)
    deposit = v.ledger.line(L.stream_deposit("au"))[0]
    np.testing.assert_array_equal(deposit, np.where(years == 2027, 40e6, 0.0))
    # the gold stream's own revenue stays at spot; the stream is its own line
    np.testing.assert_allclose(v.ledger.line(L.revenue("gold")), base.ledger.line(L.revenue("gold")))
    # the streamer pays the deposit, then takes the metal and sells it at spot
    expected = np.where(years == 2027, -40e6, 0.0) + (GOLD - 400.0) * delivered
    np.testing.assert_allclose(_cash(v, "streamer")[0], expected, rtol=1e-12, atol=1e-3)
    assert v.values["streamer.npv_usd"][0] != 0.0


def test_spot_share_price(deal: Deal) -> None:
    terms = {**STREAM, "tiers": None, "delivered_share": 0.4, "price": {"spot_share": 0.2}}
    base = dc.evaluate(deal, keep_ledger=True)
    v = dc.evaluate(_with(deal, metal_streams={"au": terms}), keep_ledger=True)
    years = np.asarray(deal.periods.labels)
    paid = base.balance.line(L.quantity("gold", "sold", "oz"))[0] * PAYABLE
    expected = np.where(years >= 2027, (0.2 - 1.0) * GOLD * 0.4 * paid, 0.0)
    np.testing.assert_allclose(v.ledger.line(L.metal_stream("au"))[0], expected, rtol=1e-12, atol=1e-6)


def test_royalty_and_income_tax_see_the_stream_price(deal: Deal) -> None:
    base = dc.evaluate(deal, keep_ledger=True)
    v = dc.evaluate(_with(deal, metal_streams={"au": STREAM}), keep_ledger=True)
    adjustment = v.ledger.line(L.metal_stream("au"))
    royalty = v.ledger.line(L.ROYALTY) - base.ledger.line(L.ROYALTY)
    np.testing.assert_allclose(royalty, -0.05 * adjustment, rtol=1e-9, atol=1e-6)  # 5 % of gross value
    assert v.ledger.group_total({L.Group.TAX}).sum() > base.ledger.group_total({L.Group.TAX}).sum()


def test_deposit_is_taxed_as_the_metal_is_delivered(deal: Deal) -> None:
    # the levies' ebitda: the stream price on what is delivered, plus the deposit recognised in
    # proportion to the ounces delivered (not when received)
    changed = _with(deal, metal_streams={"au": STREAM})
    quantities = []
    for d in (deal, changed):
        s = Scenarios.build(d, None)
        _, parts = build_ledger(resolve(d, s.overrides, s.n))
        quantities.append(np.broadcast_to(np.asarray(parts.quantities["ebitda"]), (1, 17))[0])
    v = dc.evaluate(changed, keep_ledger=True)
    adjustment = v.ledger.line(L.metal_stream("au"))[0]
    delivered = adjustment / (400.0 - GOLD)
    recognised = 40e6 * delivered / delivered.sum()
    np.testing.assert_allclose(quantities[1] - quantities[0], adjustment + recognised, rtol=1e-9, atol=1e-3)
    assert recognised[1] == 0.0  # 2027: the deposit year, nothing delivered yet


def test_a_larger_deposit_never_lowers_the_project_cash_in_its_year(deal: Deal) -> None:
    deposits = np.array([0.0, 10e6, 40e6, 80e6, 150e6])
    v = dc.evaluate(
        _with(deal, metal_streams={"au": STREAM}),
        overrides={"metal_streams.au.deposit_usd": deposits},
        keep_ledger=True,
    )
    year = list(deal.periods.labels).index(2027)
    cash = v.ledger.after_tax()[:, year]
    assert np.all(np.diff(cash) >= 0.0)
    np.testing.assert_allclose(cash - cash[0], deposits, rtol=1e-12)  # untaxed until delivered
    npv = np.asarray(v.values["npv_usd"])
    assert np.all(np.diff(npv) > 0)  # the project's NPV rises with the deposit
    streamer = np.asarray(v.values["streamer.npv_usd"])
    assert np.all(np.diff(streamer) < 0)


def test_royalty_sold_for_cash(deal: Deal) -> None:
    # on a net smelter return: the host's 5 % royalty and the 2 % sold are on the same base
    nsr = _with(deal, **{"fiscal.royalty_base": "net_smelter_return"})
    base = dc.evaluate(nsr, keep_ledger=True)
    v = dc.evaluate(_with(nsr, royalties_sold={"nsr": ROYALTY}), keep_ledger=True)
    years = np.asarray(deal.periods.labels)
    sold = -v.ledger.line(L.levy("Royalty sold: nsr", "royalty"))[0]
    host = -base.ledger.line(L.ROYALTY)[0]
    np.testing.assert_allclose(sold, np.where(years >= 2027, 0.4 * host, 0.0), rtol=1e-9, atol=1e-6)
    # the financier: minus the price in 2027, then the royalty
    expected = np.where(years == 2027, -30e6, 0.0) + sold
    np.testing.assert_allclose(_cash(v, "royalty_fund")[0], expected, rtol=1e-12, atol=1e-3)
    assert _with(nsr, royalties_sold={"nsr": ROYALTY}).party_role("royalty_fund") == "royalty_holder"
    np.testing.assert_array_equal(v.ledger.line(L.royalty_sale("nsr"))[0], np.where(years == 2027, 30e6, 0.0))
    # the host's royalty is unchanged; its take is not the financier's
    np.testing.assert_allclose(v.ledger.line(L.ROYALTY), base.ledger.line(L.ROYALTY))


def test_royalty_sold_is_deducted_from_income_tax(deal: Deal) -> None:
    free = {**ROYALTY, "price_usd": 0.0}
    base = dc.evaluate(deal, keep_ledger=True)
    v = dc.evaluate(_with(deal, royalties_sold={"nsr": free}), keep_ledger=True)
    sold = -v.ledger.line(L.levy("Royalty sold: nsr", "royalty"))[0]
    taxable = [x.ledger.line(L.TAXABLE_INCOME)[0] for x in (base, v)]
    losses = [x.ledger.line(L.LOSSES_CARRIED)[0] for x in (base, v)]
    clear = (losses[0] == 0) & (losses[1] == 0) & (taxable[1] > 0) & (sold > 0)
    assert clear.sum() >= 5
    np.testing.assert_allclose((taxable[1] - taxable[0])[clear], -sold[clear], rtol=1e-9)


@pytest.mark.parametrize("scenario", [None, "lenders_protected"])
def test_parties_cash_sums_to_the_project(deal: Deal, scenario: str | None) -> None:
    start = deal if scenario is None else apply_scenario(deal, scenario)
    both = _with(start, metal_streams={"au": STREAM}, royalties_sold={"nsr": ROYALTY})
    v = dc.evaluate(both, keep_ledger=True)
    transfers = (
        v.ledger.line(L.metal_stream("au"))
        + v.ledger.line(L.stream_deposit("au"))
        + v.ledger.line(L.royalty_sale("nsr"))
    )
    total = v.parties.subtotal(L.CASH_BEFORE_STATE_TAKE)
    # every party together: the project's cash (the stream price, the upfront money, the
    # royalty) less the transfers from the financiers
    np.testing.assert_allclose(total, _pie(v.ledger) - transfers, rtol=1e-9, atol=1e-3)
    # the streamer's cash is the transfer alone
    others = total - _cash(v, "streamer")
    np.testing.assert_allclose(
        others, _pie(v.ledger) - v.ledger.line(L.royalty_sale("nsr")), rtol=1e-9, atol=1e-3
    )


def test_terms_are_parameter_paths(deal: Deal) -> None:
    both = _with(deal, metal_streams={"au": STREAM}, royalties_sold={"nsr": ROYALTY})
    paths = all_paths(both)
    for term in (
        "metal_streams.au.deposit_usd",
        "metal_streams.au.tiers.0.share",
        "metal_streams.au.tiers.0.up_to_units",
        "metal_streams.au.tiers.1.share",
        "metal_streams.au.price.fixed_usd_per_unit",
        "royalties_sold.nsr.price_usd",
        "royalties_sold.nsr.rate",
    ):
        assert term in paths, term
    higher = with_changes(both, {"royalties_sold.nsr.rate": 0.03}, origin="--set")
    fund = [dc.evaluate(d).values["royalty_fund.npv_usd"][0] for d in (both, higher)]
    assert fund[1] > fund[0]
    lower = with_changes(both, {"metal_streams.au.price.fixed_usd_per_unit": 200}, origin="--set")
    streamer = [dc.evaluate(d).values["streamer.npv_usd"][0] for d in (both, lower)]
    assert streamer[1] > streamer[0]
    # a later step-down (a larger first tier) delivers more to the streamer
    later = dc.evaluate(both, overrides={"metal_streams.au.tiers.0.up_to_units": np.array([20e3, 60e3])})
    assert np.diff(later.values["streamer.npv_usd"])[0] > 0


def _bad(tmp_path: Path, section: str) -> str:
    text = Path(dc.example_path("ussm-fwo")).read_text(encoding="utf-8")
    path = tmp_path / "deal.yaml"
    path.write_text(f"{text}\n{section}\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        dc.load(path)
    return str(err.value)


_S = "metal_streams: {s: {product: gold, financier: x, deposit_usd: 1.0e6, deposit_year: 2027"


@pytest.mark.parametrize(
    ("section", "message"),
    [
        (f"{_S}, price: {{spot_share: 0.2}}}}}}", "exactly one of delivered_share or tiers"),
        (f"{_S}, delivered_share: 0.5, price: {{}}}}}}", "exactly one of fixed_usd_per_unit or spot_share"),
        (
            f"{_S}, tiers: [{{share: 0.5}}, {{share: 0.3, up_to_units: 10}}], price: {{spot_share: 0.2}}}}}}",
            "the last tier has no up_to_units",
        ),
        (
            f"{_S}, tiers: [{{share: 0.5, up_to_units: 20}}, {{share: 0.4, up_to_units: 10}},"
            " {share: 0.3}], price: {spot_share: 0.2}}}",
            "rise from one tier to the next",
        ),
        (
            "metal_streams: {s: {product: nickel, financier: x, deposit_usd: 1, deposit_year: 2027,"
            " delivered_share: 0.5, price: {spot_share: 0.2}}}",
            "is not a product",
        ),
        (
            "metal_streams: {s: {product: gold, financier: lenders, deposit_usd: 1, deposit_year: 2027,"
            " delivered_share: 0.5, price: {spot_share: 0.2}}}",
            "is already the lenders",
        ),
        (
            "metal_streams: {s: {product: gold, financier: x, deposit_usd: 1, deposit_year: 2027,"
            " delivered_share: 0.6, price: {spot_share: 0.2}}, t: {product: gold, financier: y,"
            " deposit_usd: 1, deposit_year: 2027, delivered_share: 0.6, price: {spot_share: 0.2}}}",
            "take up to 1.2 of its output",
        ),
        (
            "metal_streams: {s: {product: gold, financier: x, deposit_usd: 1, deposit_year: 2050,"
            " delivered_share: 0.5, price: {spot_share: 0.2}}}",
            "is not one of the periods",
        ),
        (
            "royalties_sold: {r: {financier: ussm, price_usd: 1.0e6, year: 2027, rate: 0.02}}",
            "one party cannot play two roles",
        ),
        ("royalties_sold: {r: {financier: f, price_usd: 1.0e6, year: 2027, rate: 1.5}}", "1.5"),
    ],
)
def test_bad_terms_are_input_errors(tmp_path: Path, section: str, message: str) -> None:
    assert message in _bad(tmp_path, section)


def test_bundled_gold_stream_scenario(deal: Deal) -> None:
    assert "gold_stream" in deal.scenarios
    data = Path(dc.example_path("ussm-fwo")).read_text(encoding="utf-8")
    bundled = Path(__file__).resolve().parents[1] / "src" / "dealcalc" / "data" / "ussm_fwo_2025.yaml"
    assert bundled.read_text(encoding="utf-8") == data
    streamed = apply_scenario(deal, "gold_stream")
    assert streamed.party_role("gold_streamer") == "offtaker"
    base = dc.evaluate(deal, keep_ledger=True)
    v = dc.evaluate(deal, scenario="gold_stream", keep_ledger=True)
    years = np.asarray(deal.periods.labels)
    cash = _cash(v, "gold_streamer")[0]
    assert cash[years == 2027][0] == pytest.approx(-50e6)
    assert np.all(cash[years > 2027] >= 0.0)
    # the deposit funds the owners during construction; the state taxes the gold at 400 US$/oz
    assert v.values["fwo.npv_usd"][0] > base.values["fwo.npv_usd"][0]
    gov = "government_of_pakistan.npv_usd"
    assert v.values[gov][0] < base.values[gov][0]
