"""Debt under stress on the bundled deal (methodology §23): with every rule off nothing changes;
with the lenders' protections on (`lenders_protected`) lenders take losses in bad draws, the
owners lose the equity on default, a DFI guarantee takes its share of the loss, every year's
cash still adds up, and many scenarios at once give what each gives alone."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import yaml

import dealcalc as dc
from dealcalc.engine import lines as L
from dealcalc.models.finance import DebtDefault, Dsra, Finance, Guarantee, Lockup, Sweep
from dealcalc.params import apply_scenario, with_changes

EXAMPLE = Path(__file__).parents[1] / "examples" / "ussm_fwo_2025.yaml"

#: dc.evaluate(bundled deal).values before the debt-stress rules existed (commit 1ccea15),
#: the engine of the day's numbers; with every rule off they must not move by one bit.
BEFORE = {
    "npv_usd": 6395724.325907345,
    "irr": 0.11504813060462914,
    "pre_tax_npv_usd": 162098054.6474365,
    "pre_tax_irr": 0.17864412507557553,
    "payback_years": 9.631154198859758,
    "peak_funding_usd": 436754835.06810606,
    "discount_rate": 0.11219512195121983,
    "ussm.npv_usd": -13163267.035933971,
    "ussm.irr": 0.1341803082901392,
    "fwo.npv_usd": 1462831.1119613836,
    "fwo.irr": 0.1341803082901392,
    "lenders.npv_usd": 2072230.7479454526,
    "lenders.irr": 0.06552151740828634,
    "government_of_pakistan.npv_usd": 299899531.9505887,
    "government_of_pakistan.irr": math.nan,
    "us_government.npv_usd": 189904.9912398771,
    "us_government.irr": math.nan,
    "government_of_pakistan.take": 0.5394343500688524,
    "us_government.take": 0.00017366701301070868,
    "debt_usd": 235000000.0,
    "min_dscr": 1.399093994278854,
}
S = 1000


@pytest.fixture(scope="module")
def deal() -> dc.Deal:
    return dc.load(EXAMPLE)


@pytest.fixture(scope="module")
def draws() -> dict[str, np.ndarray]:
    """Antimony prices and concentrator capex that take many draws below a DSCR of 1."""
    rng = np.random.default_rng(21)
    return {
        "price_decks.base.antimony": rng.uniform(5_000, 60_000, S),
        "phases.concentrators.capex_usd": rng.uniform(150e6, 400e6, S),
    }


@pytest.fixture(scope="module")
def stressed(deal: dc.Deal, draws: dict[str, np.ndarray]) -> dc.Valuation:
    return dc.evaluate(deal, "lenders_protected", overrides=draws, keep_ledger=True)


@pytest.fixture(scope="module")
def plain(deal: dc.Deal, draws: dict[str, np.ndarray]) -> dc.Valuation:
    return dc.evaluate(deal, overrides=draws, keep_ledger=True)


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def test_with_every_rule_off_every_value_is_what_it_was(deal: dc.Deal) -> None:
    got = {k: float(v[0]) for k, v in dc.evaluate(deal).values.items()}
    assert set(got) == set(BEFORE)  # no new metric in the default set of a deal without rules
    assert all(same(got[k], BEFORE[k]) for k in BEFORE), {k: (got[k], BEFORE[k]) for k in BEFORE}
    assert not deal.finance.stressed


def test_the_bundled_files_agree_and_the_base_case_has_no_rule() -> None:
    assert dc.example_path("ussm-fwo").read_text() == EXAMPLE.read_text()
    data = yaml.safe_load(EXAMPLE.read_text())
    assert not {"dsra", "sweep", "lockup", "default", "sponsor_support", "guarantee"} & set(data["finance"])
    assert "lenders_protected" in data["scenarios"]


def test_rules_that_never_bind_leave_the_lenders_and_the_project_alone(deal: dc.Deal) -> None:
    # the base case never falls short (minimum DSCR 1.4 above the 1.2 lock-up): the lenders are
    # paid as scheduled; only the owners pay for the DSRA funded at close, and get it back later
    v = dc.evaluate(deal, "lenders_protected").values
    assert v["npv_usd"][0] == BEFORE["npv_usd"]
    for k in ("lenders.npv_usd", "lenders.irr", "min_dscr", "debt_usd"):
        assert v[k][0] == pytest.approx(BEFORE[k], rel=1e-12)
    assert math.isnan(v["default_year"][0]) and v["lenders_loss_usd"][0] == 0.0
    assert v["dfi_guarantor.npv_usd"][0] == 0.0 and v["buyer.npv_usd"][0] == 0.0
    assert v["ussm.npv_usd"][0] < BEFORE["ussm.npv_usd"]  # the reserve's cost of carry


def test_lenders_are_at_risk_in_bad_draws(stressed: dc.Valuation, plain: dc.Valuation) -> None:
    v, p = stressed.values, plain.values
    assert (p["min_dscr"] < 1).mean() > 0.2
    assert np.allclose(p["lenders.irr"], p["lenders.irr"][0])  # without rules: never at risk
    defaulted = ~np.isnan(v["default_year"])
    assert 0 < defaulted.mean() < 0.5
    assert (v["lenders_loss_usd"][defaulted] > 0).all() and (v["lenders_loss_usd"][~defaulted] == 0).all()
    assert (v["lenders.irr"][defaulted] < p["lenders.irr"][defaulted] - 1e-6).all()
    assert v["lenders.npv_usd"][~defaulted] == pytest.approx(p["lenders.npv_usd"][~defaulted], rel=1e-9)
    assert (v["mean_dscr"] >= v["min_dscr"]).all()
    assert np.isfinite(v["llcr"]).all()


def test_the_lenders_loss_is_outstanding_times_one_less_recovery_discounted(stressed: dc.Valuation) -> None:
    v, parties = stressed.values, stressed.parties
    assert parties is not None
    outstanding = parties.line(L.OUTSTANDING_AT_DEFAULT)
    # 40 % recovered, half the rest guaranteed; 9 % nominal for the lenders, 2.5 % inflation,
    # so (1.09 / 1.025) - 1 in the deal's real money; end-of-year flows from the start of 2026
    rate = 1.09 / 1.025 - 1.0
    years = np.arange(outstanding.shape[1]) + 1.0
    expected = (outstanding * (1 - 0.4) * (1 - 0.5) / (1 + rate) ** years).sum(axis=1)
    assert v["lenders_loss_usd"] == pytest.approx(expected, rel=1e-12, abs=1e-6)
    # the default year is the year the default line marks, a calendar year
    hit = parties.line(L.DEFAULT) > 0
    rows = np.flatnonzero(hit.any(axis=1))
    assert (v["default_year"][rows] == 2026 + np.argmax(hit[rows], axis=1)).all()


def test_every_year_the_parties_and_reserves_add_up_to_the_project(
    stressed: dc.Valuation, plain: dc.Valuation
) -> None:
    # the cash before state take does not depend on the financing: the stressed split (owners,
    # lenders, governments, buyer, guarantor and the reserve accounts) adds up to the same pie
    assert stressed.parties is not None and plain.parties is not None
    ours = stressed.parties.subtotal(L.CASH_BEFORE_STATE_TAKE)
    pie = plain.parties.subtotal(L.CASH_BEFORE_STATE_TAKE)
    assert ours == pytest.approx(pie, rel=1e-12, abs=1e-3)
    # the reserve accounts hold money of the day: in it, all they take in comes back out
    reserves = stressed.parties.line(L.RESERVES)
    in_nominal = reserves * 1.025 ** np.arange(reserves.shape[1])
    assert reserves.any() and in_nominal.sum(axis=1) == pytest.approx(np.zeros(S), abs=1e-3)


def test_owners_get_nothing_after_default(stressed: dc.Valuation) -> None:
    parties = stressed.parties
    assert parties is not None
    hit = parties.line(L.DEFAULT) > 0
    after = np.cumsum(hit, axis=1) > 0  # from the year of default on
    after_strictly = after & ~hit
    for owner in ("ussm", "fwo"):
        cash = parties.line(L.party_cash(owner))
        assert (cash[after_strictly] == 0).all()
    buyer = parties.line(L.party_cash("buyer"))
    assert (buyer[~after] == 0).all() and buyer[after_strictly].any()


def test_a_dfi_guarantee_takes_its_share_of_the_loss(deal: dc.Deal, draws: dict[str, np.ndarray]) -> None:
    runs = {}
    for g in (0.0, 0.5, 0.8):
        over = dict(draws) | {"finance.guarantee.share": np.full(S, g)}
        runs[g] = dc.evaluate(deal, "lenders_protected", overrides=over, keep_ledger=True)
    bare = runs[0.0].values["lenders_loss_usd"]
    assert bare.max() > 0
    for g in (0.5, 0.8):
        assert runs[g].values["lenders_loss_usd"] == pytest.approx((1 - g) * bare, rel=1e-12, abs=1e-6)
        parties = runs[g].parties
        assert parties is not None
        paid = -parties.line(L.party_cash("dfi_guarantor")).sum(axis=1)
        gross = runs[0.0].parties.line(L.LENDERS_LOSS).sum(axis=1)  # type: ignore[union-attr]
        assert paid == pytest.approx(g * gross, rel=1e-12, abs=1e-6)
        # the lenders are better off by what the guarantor pays; the owners are not affected
        assert (runs[g].values["lenders.npv_usd"] >= runs[0.0].values["lenders.npv_usd"] - 1e-6).all()
        assert runs[g].values["ussm.npv_usd"] == pytest.approx(runs[0.0].values["ussm.npv_usd"], rel=1e-12)


def test_many_scenarios_at_once_give_what_each_gives_alone(
    deal: dc.Deal, draws: dict[str, np.ndarray], stressed: dc.Valuation
) -> None:
    defaulted = np.flatnonzero(~np.isnan(stressed.values["default_year"]))
    picks = [*defaulted[:3], *np.flatnonzero(np.isnan(stressed.values["default_year"]))[:2]]
    for i in picks:
        one = {k: v[i : i + 1] for k, v in draws.items()}
        alone = dc.evaluate(deal, "lenders_protected", overrides=one).values
        for k, v in alone.items():
            a, b = float(v[0]), float(stressed.values[k][i])
            assert same(a, b) or a == pytest.approx(b, rel=1e-12, abs=1e-6), (i, k, a, b)


def test_the_metrics_can_be_asked_for_without_the_rules(deal: dc.Deal) -> None:
    v = dc.evaluate(deal, metrics=["mean_dscr", "llcr", "default_year", "lenders_loss_usd"]).values
    assert v["mean_dscr"][0] >= BEFORE["min_dscr"]
    assert math.isnan(v["default_year"][0]) and v["lenders_loss_usd"][0] == 0.0
    assert v["llcr"][0] > 1.0


@pytest.mark.parametrize(
    ("model", "data"),
    [
        (Dsra, {"months": 0}),
        (Dsra, {"months": -3}),
        (Sweep, {"share": 1.5, "when": "always"}),
        (Sweep, {"share": 0.5, "when": "above"}),  # a threshold is needed
        (Sweep, {"share": 0.5, "dscr": 0}),
        (Lockup, {"dscr": -1.0}),
        (DebtDefault, {"recovery": 1.2}),
        (DebtDefault, {"recovery": -0.1}),
        (DebtDefault, {"recovery": 0.4, "dscr_below": 0}),
        (DebtDefault, {"recovery": 0.4, "missed_payments": 0}),
        (Guarantee, {"share": 40}),
    ],
)
def test_meaning_is_checked(model: type, data: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        model.model_validate(data)


def test_rules_need_debt_and_support_needs_a_default_rule() -> None:
    # a deal checks that its rules have debt to act on: its own, or any entity's
    deal = dc.load(EXAMPLE)
    with pytest.raises(dc.InputError, match="need debt"):
        with_changes(deal, {"finance.debt": {}, "finance.dsra": {"months": 6}}, origin="test")
    two = apply_scenario(deal, "terms_two_companies")
    assert with_changes(two, {"finance.dsra": {"months": 6}}, origin="test").finance.stressed
    no_loans = {"entities.mines.debt": {}, "entities.refinery.debt": {}, "finance.dsra": {"months": 6}}
    with pytest.raises(dc.InputError, match="need debt"):
        with_changes(two, no_loans, origin="test")
    loan = {"share_of_capex": 0.5, "interest_rate": 0.09, "tenor_years": 10}
    with pytest.raises(ValueError, match=r"state finance\.default"):
        Finance.model_validate({"debt": {"a": loan}, "guarantee": {"share": 0.5}})
    with pytest.raises(ValueError, match="name of its own"):
        Finance.model_validate({"debt": {"a": loan}, "default": {"recovery": 0.4, "buyer": "lenders"}})


def test_a_bad_rule_in_a_file_is_an_input_error(tmp_path: Path) -> None:
    text = EXAMPLE.read_text().replace("finance:\n", "finance:\n  default: {recovery: 40}\n", 1)
    bad = tmp_path / "deal.yaml"
    bad.write_text(text)
    with pytest.raises(dc.InputError, match=r"finance\.default\.recovery"):
        dc.load(bad)
