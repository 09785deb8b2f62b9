"""Entities and transfer prices (docs/methodology.md §31): a hand-worked two-company case
(the transfer, each company's royalty and income tax by hand), the project's cash before levies
that no transfer price changes while each company's levies move, one entity holding every phase
is the one-company deal to the cent, the parties' cash adding up in each entity and in total,
cost-plus and fixed prices, a market royalty base, every term a parameter path, the bundled
deal's two-company term sheet and its negotiation grid, and the checks."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

import dealcalc as dc
from dealcalc.engine import lines as L
from dealcalc.engine.transfer import transfer_price, unit_cost
from dealcalc.errors import InputError
from dealcalc.models import Deal
from dealcalc.params import paths as all_paths
from dealcalc.params import with_changes
from dealcalc.report.serialize import to_json

#: Two companies: a mine (FWO) sells Sb concentrate to a refinery (USSM 60 %, FWO 40 %).
TWO: dict[str, Any] = {
    "name": "two companies",
    "valuation": {"start_year": 2026, "end_year": 2035, "discount_rate": 0.10},
    "products": {"antimony": {"unit": "t"}},
    "price_decks": {"base": {"antimony": 20000}},
    "phases": {
        "mine": {"start_year": 2026, "capex_usd": 50.0e6},
        "refinery": {"start_year": 2026, "capex_usd": 40.0e6},
    },
    "streams": {
        "sb_conc": {
            "phase": "mine",
            "product": "antimony",
            "ore_tpa": 100000,
            "grade": 0.03,
            "recovery": 0.85,
            "payable_fraction": 0.65,
            "opex_usd_per_t_ore": 60,
        },
        "sb_metal": {
            "phase": "refinery",
            "product": "antimony",
            "capacity_units_per_year": 2000,
            "feed": {"sources": ["sb_conc"], "recovery": 0.95},
            "payable_fraction": 0.98,
            "conversion_cost_usd_per_unit": 1500,
        },
    },
    "fiscal": {"royalty_rate": 0.05, "income_tax_rate": 0.29, "depreciation_years": 5},
    "finance": {"host_government": "pakistan", "equity": {}},
    "entities": {
        "mining_co": {"phases": ["mine"], "equity": {"fwo": {"share": 1.0}}},
        "refinery_jv": {"phases": ["refinery"], "equity": {"ussm": {"share": 0.6}, "fwo": {"share": 0.4}}},
    },
    "transfer_prices": {
        "conc": {"source": "sb_conc", "to": "sb_metal", "basis": "payable", "payable_fraction": 0.65}
    },
}

TP = "transfer_prices.conc.payable_fraction"
#: The feed at the mine's operating cost per unit plus 10 %.
COST_PLUS = {"source": "sb_conc", "to": "sb_metal", "basis": "cost_plus", "margin": 0.1}


def _changed(changes: dict[str, Any]) -> dict[str, Any]:
    """``TWO`` with each dotted path set (None: removed)."""
    data = copy.deepcopy(TWO)
    for path, value in changes.items():
        node = data
        *head, last = path.split(".")
        for key in head:
            node = node.setdefault(key, {})
        if value is None:
            node.pop(last, None)
        else:
            node[last] = value
    return data


def _deal(**changes: Any) -> Deal:
    return Deal.model_validate(_changed(changes))


def _one_company() -> Deal:
    """The same mine and refinery as one company owned as the refinery JV is."""
    return _deal(
        entities=None,
        transfer_prices=None,
        **{"finance.equity": {"fwo": {"share": 1.0}}},
    )


@pytest.fixture(scope="module")
def two() -> dc.Valuation:
    return dc.evaluate(_deal())


def test_kernels() -> None:
    assert transfer_price(
        "payable", price=np.array([20000.0, 1000.0]), payable=0.65, charges=800.0
    ).tolist() == [
        12200.0,
        0.0,
    ]
    assert transfer_price("cost_plus", cost=8000.0, margin=0.125).item() == 9000.0
    assert transfer_price("fixed", fixed=np.array([1.0, 2.0])).tolist() == [1.0, 2.0]
    assert unit_cost(np.array([[6.0e6, 0.0]]), np.array([2550.0, 0.0])).tolist() == [[6.0e6 / 2550.0, 0.0]]
    with pytest.raises(ValueError, match="needs payable"):
        transfer_price("payable", price=1.0)


def test_hand_worked_two_companies(two: dc.Valuation) -> None:
    # the mine recovers 100,000 t x 3 % x 85 % = 2,550 t of Sb; the refinery takes 2,000 / 0.95
    # = 2,105.26 t and the mine sells the other 444.74 t as concentrate (65 % payable)
    assert two.entities is not None
    mine, mine_parties = two.entities["mining_co"]
    refinery, refinery_parties = two.entities["refinery_jv"]
    fed = 2000.0 / 0.95
    transfer = fed * 0.65 * 20000.0
    outside = (2550.0 - fed) * 0.65 * 20000.0
    year = 1  # 2027, the first year of output (depreciation 2027-2031)
    assert mine.line(L.transfer_sale("conc"))[0, year] == pytest.approx(transfer, rel=1e-12)
    assert refinery.line(L.transfer_purchase("conc"))[0, year] == pytest.approx(-transfer, rel=1e-12)
    royalty = 0.05 * (outside + transfer)  # the mine's royalty sees the transfer value
    assert mine.line(L.ROYALTY)[0, year] == pytest.approx(-royalty, rel=1e-12)
    assert not np.any(refinery.line(L.ROYALTY))  # a refinery's sales bear no royalty here
    mine_tax = 0.29 * (outside + transfer - royalty - 6.0e6 - 50.0e6 / 5)
    refinery_tax = 0.29 * (2000 * 0.98 * 20000.0 - transfer - 2000 * 1500.0 - 40.0e6 / 5)
    assert mine.line(L.INCOME_TAX)[0, year] == pytest.approx(-mine_tax, rel=1e-12)
    assert refinery.line(L.INCOME_TAX)[0, year] == pytest.approx(-refinery_tax, rel=1e-12)
    # the project: the transfers cancel and are not shown; its levies are the companies'
    assert not any(line.key.startswith("transfer_") for line in two.ledger.lines)
    assert two.ledger.line(L.INCOME_TAX)[0, year] == pytest.approx(-(mine_tax + refinery_tax), rel=1e-12)
    # the owners: FWO has all of the mine's cash and 40 % of the refinery's
    mine_cash = mine.after_tax()[0]
    refinery_cash = refinery.after_tax()[0]
    fwo = two.parties.line(L.party_cash("fwo"))[0]
    ussm = two.parties.line(L.party_cash("ussm"))[0]
    np.testing.assert_allclose(fwo, mine_cash + 0.4 * refinery_cash, rtol=1e-12)
    np.testing.assert_allclose(ussm, 0.6 * refinery_cash, rtol=1e-12)
    np.testing.assert_allclose(mine_parties.line(L.party_cash("fwo"))[0], mine_cash, rtol=1e-12)
    assert not refinery_parties.has(L.party_cash("nobody"))


def test_the_price_moves_levies_not_the_project_cash_before_them() -> None:
    prices = [0.30, 0.50, 0.65, 0.80, 0.95]
    v = dc.evaluate(_deal(), overrides={TP: prices}, keep_ledger=True)
    pre_tax = v.ledger.pre_tax() - v.ledger.group_total({L.Group.ROYALTY})  # before every levy
    for row in pre_tax[1:]:
        np.testing.assert_allclose(row, pre_tax[0], rtol=1e-12, atol=1e-6)
    one = dc.evaluate(_one_company(), keep_ledger=True)
    np.testing.assert_allclose(
        pre_tax[0], (one.ledger.pre_tax() - one.ledger.group_total({L.Group.ROYALTY}))[0], rtol=1e-12
    )
    # the seller's levies rise with the price and the buyer's fall; so do their owners' values
    mine_levies = v.values["mining_co.levies_usd"]
    refinery_levies = v.values["refinery_jv.levies_usd"]
    assert np.all(np.diff(mine_levies) > 0)
    assert np.all(np.diff(refinery_levies) <= 0) and refinery_levies[-1] < refinery_levies[0]
    assert np.all(np.diff(v.values["mining_co.transfers_usd"]) > 0)
    np.testing.assert_allclose(
        v.values["mining_co.transfers_usd"], -v.values["refinery_jv.transfers_usd"], rtol=1e-12
    )
    assert np.all(np.diff(v.values["ussm.npv_usd"]) < 0)


def test_one_entity_with_every_phase_is_the_one_company_deal() -> None:
    whole = _deal(
        entities={"company": {"phases": ["mine", "refinery"], "equity": {"fwo": {"share": 1.0}}}},
        transfer_prices=None,
    )
    a, b = dc.evaluate(whole), dc.evaluate(_one_company())
    for metric in ("npv_usd", "irr", "pre_tax_npv_usd", "fwo.npv_usd", "pakistan.npv_usd", "pakistan.take"):
        np.testing.assert_allclose(a.values[metric], b.values[metric], rtol=1e-12, err_msg=metric)
    np.testing.assert_allclose(a.values["company.npv_usd"], b.npv_usd, rtol=1e-12)


def test_parties_add_up_in_every_entity_and_in_total(two: dc.Valuation) -> None:
    assert two.entities is not None
    total = np.zeros(two.ledger.shape)
    for ledger, parties in two.entities.values():
        pie = ledger.after_tax() - ledger.group_total({L.Group.ROYALTY, L.Group.TAX})
        np.testing.assert_allclose(parties.subtotal(L.CASH_BEFORE_STATE_TAKE), pie, rtol=1e-12, atol=1e-6)
        total += pie
    np.testing.assert_allclose(two.parties.subtotal(L.CASH_BEFORE_STATE_TAKE), total, rtol=1e-12, atol=1e-6)
    table = two.entity_table()
    assert table.loc["project", "transfers_usd"] == pytest.approx(0.0, abs=1e-6)
    for party in ("fwo", "ussm", "pakistan"):
        assert table.loc["project", f"{party}.npv_usd"] == pytest.approx(
            two.values[f"{party}.npv_usd"][0], rel=1e-9
        )
    assert table.loc["project", "npv_usd"] == pytest.approx(two.npv_usd[0], rel=1e-9)


def test_ring_fencing_keeps_one_company_s_losses_from_the_other() -> None:
    # at a transfer price near the metal price the refinery loses money every year: its losses
    # shelter none of the mine's profit, so the two companies pay more tax than the one
    v = dc.evaluate(_deal(**{"transfer_prices.conc.payable_fraction": 0.97}), keep_ledger=True)
    one = dc.evaluate(_one_company(), keep_ledger=True)
    taxes = -v.ledger.line(L.INCOME_TAX).sum()
    assert taxes > -one.ledger.line(L.INCOME_TAX).sum()
    assert v.values["refinery_jv.levies_usd"][0] == pytest.approx(0.0, abs=1e-6)


def test_cost_plus_and_fixed_prices() -> None:
    plus = dc.evaluate(_deal(**{"transfer_prices.conc": COST_PLUS}))
    unit = 100000 * 60.0 / 2550.0  # the mine's operating cost per unit it recovers
    fed = 2000.0 / 0.95
    sale = plus.entities["mining_co"][0].line(L.transfer_sale("conc"))[0, 1]
    assert sale == pytest.approx(fed * unit * 1.1, rel=1e-12)
    fixed = dc.evaluate(
        _deal(
            **{
                "transfer_prices.conc": {
                    "source": "sb_conc",
                    "to": "sb_metal",
                    "basis": "fixed",
                    "price_usd_per_unit": {2027: 11000, 2030: 12000},
                }
            }
        )
    )
    sales = fixed.entities["mining_co"][0].line(L.transfer_sale("conc"))[0]
    assert sales[1] == pytest.approx(fed * 11000, rel=1e-12) and sales[5] == pytest.approx(
        fed * 12000, rel=1e-12
    )


def test_a_market_royalty_base_ignores_the_price() -> None:
    market = {"source": "sb_conc", "to": "sb_metal", "basis": "payable", "royalty_base": "market"}
    v = dc.evaluate(_deal(**{"transfer_prices.conc": {**market, "payable_fraction": 0.4}}), keep_ledger=True)
    w = dc.evaluate(_deal(**{"transfer_prices.conc": {**market, "payable_fraction": 0.9}}), keep_ledger=True)
    np.testing.assert_allclose(
        v.entities["mining_co"][0].line(L.ROYALTY), w.entities["mining_co"][0].line(L.ROYALTY), rtol=1e-12
    )
    # ... and is the one-company royalty: the mine's recovered units at its payable price
    one = dc.evaluate(_one_company(), keep_ledger=True)
    np.testing.assert_allclose(v.ledger.line(L.ROYALTY), one.ledger.line(L.ROYALTY), rtol=1e-12)


def test_terms_are_parameter_paths() -> None:
    deal = _deal()
    found = set(all_paths(deal))
    assert {
        TP,
        "entities.refinery_jv.equity.ussm.share",
        "transfer_prices.conc.charges_usd_per_unit",
    } <= found
    v = dc.evaluate(deal, overrides={"transfer_prices.conc.charges_usd_per_unit": [0.0, 2000.0]})
    assert v.values["mining_co.transfers_usd"][1] < v.values["mining_co.transfers_usd"][0]


def test_json_has_each_entity(two: dc.Valuation) -> None:
    payload = to_json(two)
    assert set(payload["entities"]) == {"mining_co", "refinery_jv"}
    assert set(payload["entities"]["mining_co"]) == {"npv_usd", "levies_usd", "transfers_usd"}
    assert "mining_co" not in payload["parties"]


def test_the_bundled_two_company_term_sheet() -> None:
    deal = dc.load(dc.example_path("ussm-fwo"))
    sheet = dc.evaluate(deal, "terms_two_companies")
    one = dc.evaluate(deal, "terms_ussm_earns_refinery_stake")
    # the same mines and refinery: the same cash before levies
    assert sheet.pre_tax_npv_usd[0] == pytest.approx(one.pre_tax_npv_usd[0], rel=1e-12)
    table = sheet.entity_table()
    assert list(table.index) == ["mines", "refinery", "project"]
    assert table.loc["mines", "ussm.npv_usd"] == 0.0  # USSM owns none of the mines
    # the grid the issue asks for: USSM's earned refinery stake x the Sb concentrate's price
    space = dc.negotiation_space(
        deal,
        ("entities.refinery.earn_in.ussm.stake", [0.0, 0.2, 0.4]),
        ("transfer_prices.sb_concentrate.payable_fraction", [0.3, 0.5, 0.65]),
        scenario="terms_two_companies",
        walk_away={"ussm": 0.0, "fwo": 0.0},
    )
    ussm = space.values["ussm"]
    assert ussm.shape == (3, 3)
    # a lower concentrate price is worth more to USSM, and so is a larger stake the cheaper the
    # concentrate (the stake is a share of the refinery's cash after the price)
    assert np.all(np.diff(ussm.to_numpy(), axis=1) < 0)
    gains = ussm.loc[0.4] - ussm.loc[0.0]
    assert np.all(np.diff(gains.to_numpy()) < 0)


def _load_text(tmp_path: Path, data: dict[str, Any]) -> Deal:
    path = tmp_path / "deal.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return dc.load(path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"transfer_prices": None}, "a feed between entities needs a transfer price"),
        ({"entities.refinery_jv.phases": ["refinery", "mine"]}, "is owned by two entities"),
        ({"entities.refinery_jv.phases": ["mine"]}, "no entity owns phase(s) refinery"),
        ({"finance.equity": {"fwo": {"share": 1.0}}}, "with entities, equity belongs to each entity"),
        ({"transfer_prices.conc.basis": "cost_plus"}, "a transfer price of basis 'cost_plus' needs margin"),
        ({"transfer_prices.conc.to": "sb_conc"}, "does not feed sb_conc across entities"),
        ({"entities.fwo": {"phases": ["refinery"], "equity": {"ussm": {"share": 1.0}}}}, "is owned by two"),
        ({"entities.refinery_jv.equity.ussm.share": 0.7}, "equity shares must sum to 1"),
    ],
)
def test_checks(tmp_path: Path, change: dict[str, Any], message: str) -> None:
    data = _changed(change)
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        _load_text(tmp_path, data)


def test_an_entity_may_not_share_a_party_s_name(tmp_path: Path) -> None:
    data = copy.deepcopy(TWO)
    data["entities"]["fwo"] = data["entities"].pop("mining_co")
    with pytest.raises(InputError, match="is a party"):
        _load_text(tmp_path, data)


def test_a_one_company_deal_has_no_owners_without_equity(tmp_path: Path) -> None:
    data = copy.deepcopy(TWO)
    del data["entities"], data["transfer_prices"]
    with pytest.raises(InputError, match="no owners"):
        _load_text(tmp_path, data)


def test_with_changes_keeps_entities() -> None:
    deal = with_changes(_deal(), {TP: 0.5}, origin="test")
    assert deal.transfer_prices["conc"].payable_fraction == 0.5


def _consolidated(**changes: Any) -> Deal:
    return _deal(**{"fiscal.consolidation": "consolidated", **changes})


MARKET = {"source": "sb_conc", "to": "sb_metal", "basis": "payable", "royalty_base": "market"}


def test_a_consolidated_group_pays_the_one_company_tax_at_any_price() -> None:
    # with the royalty on the mine's output at market (as in one company), the group's income
    # tax is the one company's whatever the transfer price: the transfers cancel in its base
    one = dc.evaluate(_one_company(), keep_ledger=True)
    for price in (0.3, 0.65, 0.97):
        v = dc.evaluate(
            _consolidated(**{"transfer_prices.conc": {**MARKET, "payable_fraction": price}}), keep_ledger=True
        )
        np.testing.assert_allclose(v.ledger.line(L.INCOME_TAX), one.ledger.line(L.INCOME_TAX), rtol=1e-12)
        np.testing.assert_allclose(v.npv_usd, one.npv_usd, rtol=1e-12)
        # the project's memo lines are the group's base, not the sum of stand-alone bases
        np.testing.assert_allclose(
            v.ledger.line(L.TAXABLE_INCOME), one.ledger.line(L.TAXABLE_INCOME), rtol=1e-12
        )
        for party in ("pakistan",):
            np.testing.assert_allclose(
                v.values[f"{party}.npv_usd"], one.values[f"{party}.npv_usd"], rtol=1e-12
            )


def test_a_consolidated_group_shares_its_tax_by_stand_alone_tax() -> None:
    ring = dc.evaluate(
        _deal(**{"transfer_prices.conc": {**MARKET, "payable_fraction": 0.5}}), keep_ledger=True
    )
    group = dc.evaluate(
        _consolidated(**{"transfer_prices.conc": {**MARKET, "payable_fraction": 0.5}}), keep_ledger=True
    )
    assert ring.entities is not None and group.entities is not None
    alone = {n: -ring.entities[n][0].line(L.INCOME_TAX)[0] for n in ("mining_co", "refinery_jv")}
    shared = {n: -group.entities[n][0].line(L.INCOME_TAX)[0] for n in ("mining_co", "refinery_jv")}
    total = alone["mining_co"] + alone["refinery_jv"]
    group_total = shared["mining_co"] + shared["refinery_jv"]
    np.testing.assert_allclose(group_total, -group.ledger.line(L.INCOME_TAX)[0], rtol=1e-12)
    paying = total > 0
    for n in alone:
        np.testing.assert_allclose(
            shared[n][paying], group_total[paying] * alone[n][paying] / total[paying], rtol=1e-12
        )
    # royalties are each entity's own
    for n in alone:
        np.testing.assert_allclose(
            group.entities[n][0].line(L.ROYALTY), ring.entities[n][0].line(L.ROYALTY), rtol=1e-12
        )


def test_a_consolidated_group_deducts_every_entity_s_interest() -> None:
    loan = {"share_of_capex": 0.5, "interest_rate": 0.08, "tenor_years": 6}
    changes = {
        "transfer_prices.conc": {**MARKET, "payable_fraction": 0.97},  # the refinery loses money
        "entities.refinery_jv.debt": {"jv_loan": loan},
        "entities.mining_co.debt": {"mine_loan": loan},
    }
    ring = dc.evaluate(_deal(**changes), keep_ledger=True)
    group = dc.evaluate(_consolidated(**changes), keep_ledger=True)
    one = dc.evaluate(
        _deal(
            entities=None,
            transfer_prices=None,
            **{"finance.equity": {"fwo": {"share": 1.0}}, "finance.debt": {"loan": loan}},
        ),
        keep_ledger=True,
    )
    levered = group.parties.line(L.LEVERED_TAX)
    np.testing.assert_allclose(levered, one.parties.line(L.LEVERED_TAX), rtol=1e-9, atol=1e-3)
    assert levered.sum() < ring.parties.line(L.LEVERED_TAX).sum()  # the refinery's losses shelter the mine's
    for ledger, parties in group.entities.values():
        pie = ledger.after_tax() - ledger.group_total({L.Group.ROYALTY, L.Group.TAX})
        np.testing.assert_allclose(parties.subtotal(L.CASH_BEFORE_STATE_TAKE), pie, rtol=1e-12, atol=1e-6)


def test_each_entity_s_ledger(two: dc.Valuation) -> None:
    from click.testing import CliRunner

    from dealcalc.cli import main

    mine = two.table(entity="mining_co")
    assert (
        "Transfer sales: conc [USD]" in mine.columns
        and "Transfer sales: conc [USD]" not in two.table().columns
    )
    np.testing.assert_allclose(mine["After-tax cash flow [USD]"], two.entities["mining_co"][0].after_tax()[0])
    with pytest.raises(InputError, match="did you mean 'mining_co'"):
        two.table(entity="mining")
    example = str(dc.example_path("ussm-fwo"))
    out = CliRunner().invoke(
        main, ["table", example, "-s", "terms_two_companies", "--entity", "refinery"], env={"COLUMNS": "200"}
    )
    assert out.exit_code == 0 and "entity refinery" in out.output and "Transfer purchases" in out.output
    bad = CliRunner().invoke(main, ["table", example, "--entity", "refinery"])
    assert bad.exit_code == 2 and "no entity 'refinery'" in bad.output


def test_debt_stress_rules_apply_to_each_entity_that_borrows() -> None:
    from dealcalc.params import apply_scenario

    deal = dc.load(dc.example_path("ussm-fwo"))
    protected = apply_scenario(deal, "lenders_protected")
    # one entity holding every phase, with the deal's owners and loans, is the one-company deal
    # under the rules (reserve, lock-up, default with recovery, the DFI guarantee)
    company = {
        "phases": list(protected.phases),
        "equity": {k: h.model_dump(exclude_none=True) for k, h in protected.finance.equity.items()},
        "debt": {k: t.model_dump(exclude_none=True) for k, t in protected.finance.debt.items()},
    }
    one = with_changes(
        protected, {"finance.equity": {}, "finance.debt": {}, "entities": {"all": company}}, origin="test"
    )
    a, b = dc.evaluate(one), dc.evaluate(protected)
    for metric in b.values:
        np.testing.assert_allclose(a.values[metric], b.values[metric], rtol=1e-12, err_msg=metric)
    # two companies under the same rules: the refinery's ECA loan defaults at the base deck (a
    # ring-fenced refinery that loses money), the mines' DFI loan does not
    rules = {
        f"finance.{k}": getattr(protected.finance, k).model_dump()
        for k in ("dsra", "lockup", "default", "guarantee")
    }
    two = with_changes(apply_scenario(deal, "terms_two_companies"), rules, origin="test")
    v = dc.evaluate(two, keep_ledger=True)
    assert v.entities is not None
    mines, refinery = v.entities["mines"][1], v.entities["refinery"][1]
    assert not mines.line(L.DEFAULT).any() and refinery.line(L.DEFAULT).any()
    assert v.values["default_year"][0] == v.parties.years[np.argmax(refinery.line(L.DEFAULT)[0] > 0)]
    np.testing.assert_allclose(
        v.values["lenders_loss_usd"][0],
        dc.evaluate(two, metrics=["lenders_loss_usd"]).values["lenders_loss_usd"][0],
        rtol=1e-12,
    )
    for ledger, parties in v.entities.values():
        # the pie: after tax, plus the levies and the duty the exporter bears (the US collects it)
        pie = (
            ledger.after_tax()
            - ledger.group_total({L.Group.ROYALTY, L.Group.TAX})
            - ledger.line(L.TARIFF_BORNE)
        )
        np.testing.assert_allclose(parties.subtotal(L.CASH_BEFORE_STATE_TAKE), pie, rtol=1e-12, atol=1e-6)
    assert v.values["dfi_guarantor.npv_usd"][0] < 0 < v.values["buyer.npv_usd"][0]


def test_an_entity_deal_may_leave_finance_equity_out(tmp_path: Path) -> None:
    # no made-up one-company owner: --set and with_changes work on the file as written
    data = _changed({"finance.equity": None})
    deal = _load_text(tmp_path, data)
    assert deal.finance.equity == {} and "equity" not in deal.party_names()
    changed = with_changes(deal, {"fiscal.royalty_rate": 0.06}, origin="--set")
    assert changed.fiscal.royalty_rate == 0.06
    assert not any(p.startswith("finance.equity") for p in all_paths(deal))


def test_overrides_keep_each_company_s_stakes_whole() -> None:
    deal = _deal()
    with pytest.raises(
        InputError, match=r"equity shares must sum to 1 in every scenario; scenario 1 sums to 1\.1"
    ):
        dc.evaluate(deal, overrides={"entities.refinery_jv.equity.ussm.share": [0.6, 0.7]})
    both = {
        "entities.refinery_jv.equity.ussm.share": [0.5, 0.7],
        "entities.refinery_jv.equity.fwo.share": [0.5, 0.3],
    }
    v = dc.evaluate(deal, overrides=both)
    assert v.values["ussm.npv_usd"][1] > v.values["ussm.npv_usd"][0]
    carried = _deal(**{"entities.refinery_jv.free_carried": {"fwo": 0.1}})
    with pytest.raises(InputError, match="carried for more than its share in scenario 1"):
        dc.evaluate(carried, overrides={"entities.refinery_jv.free_carried.fwo": [0.2, 0.5]})


def test_the_transfer_table(two: dc.Valuation) -> None:
    table = two.transfer_table()
    fed = 2000.0 / 0.95 * 9  # nine years of output, 2027-2035
    row = table.loc["conc"]
    assert row["units"] == pytest.approx(fed, rel=1e-12)
    assert row["price_usd_per_unit"] == pytest.approx(0.65 * 20000.0, rel=1e-12)
    assert row["market_usd_per_unit"] == pytest.approx(20000.0, rel=1e-12)
    assert row["share_of_market"] == pytest.approx(0.65, rel=1e-12)
    assert row["value_usd"] == pytest.approx(fed * 13000.0, rel=1e-12)
    # with the metal price overridden, the market is the scenario's
    v = dc.evaluate(_deal(), overrides={"price_decks.base.antimony": [20000.0, 30000.0]}, keep_ledger=True)
    assert v.transfer_table(1).loc["conc", "market_usd_per_unit"] == pytest.approx(30000.0, rel=1e-12)
    cost = dc.evaluate(_deal(**{"transfer_prices.conc": COST_PLUS}))
    assert cost.transfer_table().loc["conc", "price_usd_per_unit"] == pytest.approx(
        6.0e6 / 2550 * 1.1, rel=1e-12
    )


def test_names_an_entity_may_not_take(tmp_path: Path) -> None:
    for name in ("project", "lenders"):
        data = _changed({})
        data["entities"][name] = data["entities"].pop("mining_co")
        with pytest.raises(InputError, match="give the entity a name of its own"):
            _load_text(tmp_path, data)
    with pytest.raises(InputError, match="'mine' is a phase; its streams: sb_conc"):
        _load_text(tmp_path, _changed({"transfer_prices.conc.source": "mine"}))


STACK = {
    "levies": {
        "royalty": {"base": "revenue", "rate": 0.05, "line": "royalty", "collector": "pakistan"},
        "income_tax": {"base": "ebitda - royalties - allowances", "rate": 0.29, "collector": "pakistan"},
    },
    "capital_classes": {"plant": {"method": "straight_line", "years": 5, "takes": ["initial", "sustaining"]}},
}


def test_a_tax_group_deducts_the_royalties_its_entities_pay() -> None:
    # a royalty on revenue, which holds the transfer: the group's income tax deducts the royalties
    # the entities pay (not a royalty recomputed on the group's revenue, without the transfers);
    # in years both entities make money, the group pays what they would alone
    ring = dc.evaluate(_deal(fiscal=STACK), keep_ledger=True)
    group = dc.evaluate(_consolidated(fiscal={**STACK, "consolidation": "consolidated"}), keep_ledger=True)
    assert ring.entities is not None
    bases = [ring.entities[n][0].line(L.levy_base("income_tax"))[0] for n in ring.entities]
    both = np.all([b > 0 for b in bases], axis=0)
    assert both.sum() >= 4
    np.testing.assert_allclose(
        group.ledger.group_total({L.Group.TAX})[0][both],
        ring.ledger.group_total({L.Group.TAX})[0][both],
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        group.ledger.group_total({L.Group.ROYALTY}), ring.ledger.group_total({L.Group.ROYALTY}), rtol=1e-12
    )


def test_a_company_with_no_mine_writes_off_by_its_own_output() -> None:
    # units of production for a refinery of its own: its output, not a profile of zeros that
    # would never write its capital off; a tax group of such companies likewise
    uop = {
        "levies": STACK["levies"],
        "capital_classes": {"plant": {"method": "units_of_production", "takes": ["initial"]}},
    }
    for fiscal in (uop, {**uop, "consolidation": "consolidated"}):
        v = dc.evaluate(_deal(fiscal=fiscal), keep_ledger=True)
        assert v.entities is not None
        written = v.entities["refinery_jv"][0].line(L.DEPRECIATION)[0].sum()
        assert written == pytest.approx(40.0e6, rel=1e-9)


def test_a_refinery_of_one_company_writes_off_by_its_output() -> None:
    # a one-company deal with no mine (feed bought): units of production follow its output
    # (2,000 t a year from 2027, nine years: 40 M / 9 a year), no longer a profile of zeros
    deal = Deal.model_validate(
        {
            "name": "refinery only",
            "valuation": {"start_year": 2026, "end_year": 2035, "discount_rate": 0.10},
            "products": {"antimony": {"unit": "t"}},
            "price_decks": {"base": {"antimony": 20000}},
            "phases": {"refinery": {"start_year": 2026, "capex_usd": 40.0e6}},
            "streams": {
                "sb_metal": {
                    "phase": "refinery",
                    "product": "antimony",
                    "capacity_units_per_year": 2000,
                    "feed": {"recovery": 0.95, "purchase": {"price_fraction": 0.65}},
                    "payable_fraction": 0.98,
                    "conversion_cost_usd_per_unit": 1500,
                }
            },
            "fiscal": {
                "levies": {"income_tax": {"base": "ebitda - allowances", "rate": 0.29}},
                "capital_classes": {"plant": {"method": "units_of_production", "takes": ["initial"]}},
            },
            "finance": {"host_government": "pakistan", "equity": {"o": {"share": 1.0}}},
        }
    )
    allowed = dc.evaluate(deal, keep_ledger=True).ledger.line(L.DEPRECIATION)[0]
    np.testing.assert_allclose(allowed[1:], 40.0e6 / 9, rtol=1e-12)


def test_the_transfer_table_counts_units_fed_at_a_price_of_zero() -> None:
    # charges above the payable value in the early years: a price of 0, yet the units are fed
    deal = _deal(
        **{
            "price_decks.base.antimony": {2026: 15000, 2031: 25000},
            "transfer_prices.conc.charges_usd_per_unit": 12000,
        }
    )
    table = dc.evaluate(deal).transfer_table()
    assert table.loc["conc", "units"] == pytest.approx(2000.0 / 0.95 * 9, rel=1e-12)
    market = (4 * 15000 + 5 * 25000) / 9
    assert table.loc["conc", "market_usd_per_unit"] == pytest.approx(market, rel=1e-12)
    assert table.loc["conc", "price_usd_per_unit"] == pytest.approx(5 * (0.65 * 25000 - 12000) / 9, rel=1e-12)


def test_the_entity_table_reads_each_scenario_s_rates() -> None:
    v = dc.evaluate(_deal(), overrides={"valuation.discount_rate": [0.08, 0.12]}, keep_ledger=True)
    for k in (0, 1):
        table = v.entity_table(k)
        for party in ("ussm", "fwo", "pakistan"):
            assert table.loc["project", f"{party}.npv_usd"] == pytest.approx(
                v.values[f"{party}.npv_usd"][k], rel=1e-9
            )
        assert table.loc["project", "npv_usd"] == pytest.approx(v.npv_usd[k], rel=1e-9)


def test_an_owner_of_several_entities_has_one_discount_rate(tmp_path: Path) -> None:
    rated = _changed(
        {
            "entities.mining_co.equity.fwo": {"share": 1.0, "discount_rate": 0.16},
            "entities.refinery_jv.equity.fwo": {"share": 0.4, "discount_rate": 0.08},
        }
    )
    with pytest.raises(InputError, match="fwo's discount rate differs between entities"):
        _load_text(tmp_path, rated)
    same = _deal(
        **{
            "entities.mining_co.equity.fwo": {"share": 1.0, "discount_rate": 0.16},
            "entities.refinery_jv.equity.fwo": {"share": 0.4, "discount_rate": 0.16},
        }
    )
    with pytest.raises(InputError, match=r"read from entities\.mining_co\.equity\.fwo\.discount_rate"):
        dc.evaluate(same, overrides={"entities.refinery_jv.equity.fwo.discount_rate": [0.1, 0.2]})
    v = dc.evaluate(same, overrides={"entities.mining_co.equity.fwo.discount_rate": [0.1, 0.2]})
    assert v.values["fwo.npv_usd"][0] > v.values["fwo.npv_usd"][1]


def test_stakes_by_year_are_checked_in_every_year() -> None:
    by_year = _deal(
        **{
            "entities.refinery_jv.equity": {
                "ussm": {"share": 0.5, "share_by_year": {2026: 0.4, 2030: 0.5}},
                "fwo": {"share": 0.3, "share_by_year": {2026: 0.4, 2030: 0.3}},
                "province": {"share": 0.2},
            },
            "entities.refinery_jv.free_carried": {"fwo": 0.2},
        }
    )
    with pytest.raises(InputError, match=r"in 2026; scenario 0 sums to 1\.3"):
        dc.evaluate(by_year, overrides={"entities.refinery_jv.equity.province.share": [0.5]})
    with pytest.raises(InputError, match="carried for more than its share in scenario 0"):
        dc.evaluate(
            by_year, overrides={"entities.refinery_jv.free_carried.fwo": [0.35]}
        )  # fwo holds 0.3 from 2030
    assert dc.evaluate(by_year, overrides={"entities.refinery_jv.free_carried.fwo": [0.25]}).n_scenarios == 1


def test_the_project_ledger_keeps_flags_and_orders_lines_by_group(two: dc.Valuation) -> None:
    from dealcalc.engine.ledger import Ledger

    years = np.array([1, 2])
    a = Ledger.build(years, 1, [(L.closed("x"), [0.0, 1.0]), (L.INCOME_TAX, [-1.0, -1.0])])
    b = Ledger.build(years, 1, [(L.revenue("y"), [5.0, 5.0]), (L.closed("x"), [1.0, 1.0])])
    summed = Ledger.sum([a, b], years, 1)
    assert summed.line(L.closed("x")).tolist() == [[1.0, 1.0]]
    assert [line.key for line in summed.lines] == ["revenue:y", "income_tax", "closed:x"]
    groups = [line.group for line in two.ledger.lines]
    order = list(L.Group)
    assert [order.index(g) for g in groups] == sorted(order.index(g) for g in groups)


SOLD = {"financier": "royalty_fund", "price_usd": 10.0e6, "year": 2026, "rate": 0.02}


def test_a_royalty_sold_on_one_entity_s_output() -> None:
    # one entity holding every phase: the one-company deal with the same royalty sold
    whole = _deal(
        entities={"company": {"phases": ["mine", "refinery"], "equity": {"fwo": {"share": 1.0}}}},
        transfer_prices=None,
        royalties_sold={"nsr": SOLD},
    )
    one = _deal(
        entities=None,
        transfer_prices=None,
        royalties_sold={"nsr": SOLD},
        **{"finance.equity": {"fwo": {"share": 1.0}}},
    )
    a, b = dc.evaluate(whole), dc.evaluate(one)
    for metric in b.values:
        np.testing.assert_allclose(a.values[metric], b.values[metric], rtol=1e-12, err_msg=metric)
    # two companies: the royalty is on the mines (the only entity with a mine), the refinery's
    # ledger is what it was without it, the parties add up
    plain = dc.evaluate(_deal(), keep_ledger=True)
    sold = dc.evaluate(_deal(royalties_sold={"nsr": SOLD}), keep_ledger=True)
    assert sold.entities is not None and plain.entities is not None
    mine = sold.entities["mining_co"][0]
    assert mine.has("levy:Royalty sold: nsr") and not sold.entities["refinery_jv"][0].has(
        "levy:Royalty sold: nsr"
    )
    np.testing.assert_allclose(
        sold.entities["refinery_jv"][0].after_tax(), plain.entities["refinery_jv"][0].after_tax(), rtol=1e-12
    )
    assert sold.values["royalty_fund.npv_usd"][0] > -10.0e6
    for ledger, parties in sold.entities.values():
        # the pie: after tax with the levies (the royalty sold among them), less the price the
        # financier (a party) paid the project for the royalty
        price = ledger.line(L.royalty_sale("nsr")) if ledger.has(L.royalty_sale("nsr")) else 0.0
        pie = ledger.after_tax() - ledger.group_total({L.Group.ROYALTY, L.Group.TAX}) - price
        np.testing.assert_allclose(parties.subtotal(L.CASH_BEFORE_STATE_TAKE), pie, rtol=1e-12, atol=1e-6)


def test_a_royalty_sold_names_its_entity_when_several_have_mines(tmp_path: Path) -> None:
    data = _changed({"royalties_sold": {"nsr": SOLD}})
    data["streams"]["sb_metal"] = {**data["streams"]["sb_conc"], "phase": "refinery"}  # a mine in each
    data["transfer_prices"] = {}
    with pytest.raises(InputError, match="name the entity whose output it is on"):
        _load_text(tmp_path, data)
    data["royalties_sold"]["nsr"]["entity"] = "mining"
    with pytest.raises(InputError, match="did you mean 'mining_co'"):
        _load_text(tmp_path, data)


def test_npv_says_when_a_borrower_cannot_service_its_debt() -> None:
    from click.testing import CliRunner

    from dealcalc.cli import main

    example = str(dc.example_path("ussm-fwo"))
    out = CliRunner().invoke(main, ["npv", example, "-s", "terms_two_companies"], env={"COLUMNS": "200"})
    assert out.exit_code == 0 and "note: the minimum DSCR is -0.28× (refinery, 2030)" in out.output
    assert "Transfer prices" in out.output and "mtu" in out.output
    base = CliRunner().invoke(main, ["npv", example], env={"COLUMNS": "200"})
    assert base.exit_code == 0 and "minimum DSCR is" not in base.output


def test_an_entity_s_csv_says_which_entity(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from dealcalc.cli import main

    out = tmp_path / "refinery.csv"
    args = [
        "table",
        str(dc.example_path("ussm-fwo")),
        "-s",
        "terms_two_companies",
        "--entity",
        "refinery",
        "--csv",
        str(out),
    ]
    assert CliRunner().invoke(main, args).exit_code == 0
    head = [line for line in out.read_text().splitlines() if line.startswith("#")]
    assert "# entity: refinery" in head
    paired = tmp_path / "paired.csv"
    args = [
        "paired",
        str(dc.example_path("ussm-fwo")),
        "-s",
        "us_ndpr_floor_contract",
        "-n",
        "50",
        "--out",
        str(paired),
    ]
    assert CliRunner().invoke(main, args).exit_code == 0
    assert "# against: base" in paired.read_text().splitlines()


def test_a_scenario_s_values_carry_its_labels() -> None:
    from dealcalc.params import apply_scenario

    deal = apply_scenario(dc.load(dc.example_path("ussm-fwo")), "terms_two_companies")
    prov = deal.provenance["transfer_prices.sb_concentrate.payable_fraction"]
    assert prov.label == "assumption" and "arm's length" in (prov.source or "")
    assert deal.provenance["entities.refinery.equity.ussm.share"].label == "assumption"
    assert deal.scenario_name == "terms_two_companies" and deal.source is not None


def test_value_at_risk_is_for_values_not_flows() -> None:
    mc = dc.monte_carlo(
        dc.load(dc.example_path("ussm-fwo")),
        300,
        scenario="terms_two_companies",
        seed=1,
        metrics=["npv_usd", "mines.levies_usd", "refinery.transfers_usd", "government_of_pakistan.take"],
    )
    s = mc.summary()
    assert np.isfinite(s.loc["npv_usd", "value_at_risk_95"])
    for flow in ("mines.levies_usd", "refinery.transfers_usd", "government_of_pakistan.take"):
        assert np.isnan(s.loc[flow, "value_at_risk_95"]), flow


def test_the_run_record_keeps_a_mapping_whole_and_compare_names_what_it_shows() -> None:
    from click.testing import CliRunner

    from dealcalc.cli import main

    example = str(dc.example_path("ussm-fwo"))
    rule = "finance.default={missed_payments: 1, dscr_below: 1.0, dscr_years: 2, recovery: 0.4}"
    out = CliRunner().invoke(main, ["npv", example, "-s", "terms_two_companies", "--set", rule, "--json"])
    assert out.exit_code == 0, out.output
    import json

    assert json.loads(out.output)["run"]["changes"] == [f"--set {rule}"]
    shown = CliRunner().invoke(
        main, ["compare", example, "--only", "terms_two_companies"], env={"COLUMNS": "250"}
    )
    assert shown.exit_code == 0 and "the base case and terms_two_companies" in shown.output
    assert "tariff schedules to each party, in the base case" in shown.output
