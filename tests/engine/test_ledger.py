"""engine/lines.py and engine/ledger.py: line names and subtotal groups; a ledger built from (T,)
and (S, T) lines, its lines, subtotals and table (a project ledger shows EBITDA, pre-tax and
after-tax; a parties' ledger only the cash before state take); joining chunks; add_lines."""

from __future__ import annotations

import numpy as np
import pytest

from dealcalc.engine import lines as L
from dealcalc.engine.ledger import Ledger, add_lines
from dealcalc.engine.lines import Group, Line


def test_line_names_carry_the_unit_for_money_only() -> None:
    assert Line("royalty", "Royalty", Group.ROYALTY).name == "Royalty [USD]"
    assert Line("dscr", "DSCR", Group.MEMO, unit="ratio").name == "DSCR"
    assert L.government_take("gov").name == "Government take: gov"  # a fraction
    assert L.revenue("ore").name == "Revenue: ore [USD]"
    assert L.revenue("ore").key == "revenue:ore"
    assert L.party_cash("gov").name == "gov [USD]"
    assert L.ROYALTY.cash and not L.DEPRECIATION.cash


def test_subtotals_are_unions_of_groups() -> None:
    operations = {Group.REVENUE, Group.SELLING, Group.ROYALTY, Group.OPERATING}
    assert L.EBITDA.groups == operations
    assert L.PRE_TAX.groups == operations | {Group.WORKING_CAPITAL, Group.CAPITAL}
    assert L.AFTER_TAX.groups == L.PRE_TAX.groups | {Group.TAX}
    assert L.CASH_BEFORE_STATE_TAKE.groups == {Group.PARTY}
    assert L.EBITDA.name == "EBITDA [USD]"
    assert L.SUBTOTALS == (L.EBITDA, L.PRE_TAX, L.AFTER_TAX, L.CASH_BEFORE_STATE_TAKE)


YEARS = np.array([2030, 2031, 2032])
REVENUE = np.array([0.0, 100.0, 100.0])  # (T,)
ROYALTY = np.array([[0.0, -5.0, -5.0], [0.0, -10.0, -10.0]])  # (S, T)
CAPEX = np.array([-150.0, 0.0, 0.0])
TAX = np.array([[0.0, -6.0, -9.0], [0.0, -3.0, -3.0]])
DEPRECIATION = np.array([0.0, 75.0, 75.0])


def project() -> Ledger:
    return Ledger.build(
        YEARS,
        2,
        [
            (L.revenue("ore"), REVENUE),
            (L.ROYALTY, ROYALTY),
            (L.MINING, -20.0),  # the same every year and scenario
            (L.INITIAL_CAPEX, CAPEX),
            (L.INCOME_TAX, TAX),
            (L.DEPRECIATION, DEPRECIATION),
        ],
    )


def test_project_ledger_lines_and_subtotals() -> None:
    led = project()
    assert led.shape == (2, 3)
    # EBITDA = revenue + royalty + mining (every year, mining -20 included)
    ebitda = REVENUE + ROYALTY - 20.0
    assert led.ebitda().tolist() == ebitda.tolist()
    assert led.pre_tax().tolist() == (ebitda + CAPEX).tolist()
    assert led.after_tax().tolist() == (ebitda + CAPEX + TAX).tolist()
    # a line by its Line, its key or its name; a (T,) line broadcast to (S, T)
    assert led.line(L.ROYALTY).tolist() == ROYALTY.tolist()
    assert led.line("royalty").tolist() == led.line("Royalty [USD]").tolist()
    assert led.line("revenue:ore").tolist() == [REVENUE.tolist()] * 2
    assert led.line("EBITDA [USD]").tolist() == ebitda.tolist()
    assert led.cash.shape == (5, 2, 3)  # five cash lines, the memo left out
    assert led.memo_lines == ("Depreciation [USD]",)
    with pytest.raises(KeyError):
        led.line("closure")


def test_project_table_shows_cash_lines_subtotals_then_memos() -> None:
    table = project().table(scenario=1)
    assert list(table.columns) == [
        "Revenue: ore [USD]",
        "Royalty [USD]",
        "Mining and processing [USD]",
        "Initial capex [USD]",
        "Income tax [USD]",
        "EBITDA [USD]",
        "Pre-tax cash flow [USD]",
        "After-tax cash flow [USD]",
        "Depreciation [USD]",
    ]
    assert table.index.name == "year" and table.index.tolist() == YEARS.tolist()
    # scenario 1: 0 - 20 - 150 + 0; 100 - 10 - 20 - 3; 100 - 10 - 20 - 3
    assert table["After-tax cash flow [USD]"].tolist() == [-170, 67, 67]


def test_a_parties_ledger_has_only_the_cash_before_state_take() -> None:
    owners = np.array([[-50.0, 30.0, 40.0]])
    gov = np.array([0.0, 10.0, 12.0])
    led = Ledger.build(
        YEARS, 1, [(L.party_cash("a"), owners), (L.party_cash("gov"), gov), (L.government_take("gov"), gov)]
    )
    assert led.subtotals == (L.CASH_BEFORE_STATE_TAKE,)
    assert list(led.table().columns) == [
        "a [USD]",
        "gov [USD]",
        "Cash before state take [USD]",
        "Government take: gov",
    ]
    assert led.line("Cash before state take [USD]").tolist() == [[-50, 40, 52]]
    assert not led.has("ebitda") and led.has("cash_before_state_take")
    with pytest.raises(KeyError):
        led.line("EBITDA [USD]")


def test_concatenate_chunks_of_scenarios() -> None:
    first = Ledger.build(YEARS, 2, [(L.revenue("ore"), REVENUE), (L.ROYALTY, ROYALTY), (L.MINING, CAPEX)])
    second = Ledger.build(
        YEARS, 1, [(L.revenue("ore"), REVENUE), (L.ROYALTY, ROYALTY[:1] * 2), (L.MINING, REVENUE)]
    )
    joined = Ledger.concatenate([first, second])
    assert joined.n_scenarios == 3
    # the same (T,) line in every chunk stays (T,)
    assert joined.values[0].shape == (3,)
    assert joined.line("royalty").tolist() == [[0, -5, -5], [0, -10, -10], [0, -10, -10]]
    # a (T,) line that differs between chunks becomes one row per scenario
    assert joined.line("mining").tolist() == [CAPEX.tolist(), CAPEX.tolist(), REVENUE.tolist()]


def test_add_lines_of_per_year_and_per_scenario_pieces() -> None:
    a = np.array([1.0, 2.0, 3.0])  # (T,)
    c = np.array([0.5, 0.5, 0.5])
    big = np.array([[10.0, 20.0, 30.0], [40.0, 50.0, 60.0]])  # (S, T)
    big2 = np.array([[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]])
    row = np.array([[100.0, 0.0, 0.0]])  # (1, T)
    pieces = [a, c, big, big2, row]
    before = [p.copy() for p in pieces]
    shape = (2, 3)
    # only (T,) pieces (and a float): the result stays (T,)
    assert add_lines([a, 1.0], shape, minus=[c]).tolist() == [1.5, 2.5, 3.5]
    # one (S, T) piece alone, or only subtracted
    assert add_lines([big], shape).tolist() == big.tolist()
    assert add_lines([], shape, minus=[big]).tolist() == (-big).tolist()
    assert add_lines([a], shape, minus=[big]).tolist() == (a - big).tolist()
    # 2 x (a + big + row - c - big2), by hand for scenario 0, year 0: 2 x (1 + 10 + 100 - 0.5 - 1)
    out = add_lines([a, big, row], shape, minus=[c, big2], scale=2.0)
    assert out.tolist() == (2.0 * (a + big + row - c - big2)).tolist()
    assert out[0, 0] == 219.0
    scaled = add_lines([row], shape, minus=[big], scale=np.array([[1.0], [-1.0]]))
    assert scaled.tolist() == [[90, -20, -30], [-60, 50, 60]]
    # the inputs are never modified
    for p, b in zip(pieces, before, strict=True):
        assert p.tolist() == b.tolist()
