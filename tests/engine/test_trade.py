"""engine/trade.py by hand: day-weighted rates in each calendar year, the duty on a sale and who
bears it (V_s = V - (1 - phi)(tau V_s + d U)), and the totals per government (methodology §13)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from dealcalc.engine.trade import Duty, duty, total_tariffs, year_weights


def test_a_rate_starting_mid_year_counts_its_days() -> None:
    # from 2 Jul 2025: July 2-31 (30) + Aug 31 + Sep 30 + Oct 31 + Nov 30 + Dec 31 = 183 of 365
    w = year_weights([dt.date(2025, 7, 2)], np.array([2024, 2025, 2026]))
    assert w.tolist() == [[0.0, 183 / 365, 1.0]]


def test_two_rates_share_the_year_they_change_in() -> None:
    dates = [dt.date(2025, 4, 5), dt.date(2025, 8, 7)]
    w = year_weights(dates, np.array([2025, 2026]))
    # first rate 5 Apr - 6 Aug: Apr 26 + May 31 + Jun 30 + Jul 31 + Aug 6 = 124 days
    # second from 7 Aug: Aug 25 + Sep 30 + Oct 31 + Nov 30 + Dec 31 = 147 days
    assert w[0].tolist() == [124 / 365, 0.0]
    assert w[1].tolist() == [147 / 365, 1.0]
    # 1 Jan - 4 Apr (31 + 28 + 31 + 4 = 94 days) has no rate
    assert w[:, 0].sum() == pytest.approx(1 - 94 / 365, rel=1e-15)


def test_a_leap_year_has_366_days() -> None:
    # from 1 March: 2024 has 31 + 29 = 60 days before it, 2023 has 59; 306 days after in both
    leap = year_weights([dt.date(2024, 3, 1)], np.array([2024]))
    common = year_weights([dt.date(2023, 3, 1)], np.array([2023]))
    assert leap[0, 0] == 306 / 366
    assert common[0, 0] == 306 / 365


def test_rates_before_the_first_year_and_superseded_rates() -> None:
    w = year_weights([dt.date(2020, 6, 1), dt.date(2021, 1, 1)], np.array([2025]))
    assert w.tolist() == [[0.0], [1.0]]


def test_duty_hand_worked_with_specific_duty() -> None:
    # V = 100, U = 10 units, tau = 20 %, d = 1 per unit, pass-through 25 % (exporter bears 75 %):
    # V_s = (100 - 0.75 x 1 x 10) / (1 + 0.75 x 0.2) = 92.5 / 1.15 = 80.43478...
    v_s = 92.5 / 1.15
    d = duty(100.0, 10.0, 0.20, 1.0, 0.75)
    collected = 0.2 * v_s + 1.0 * 10  # D = tau V_s + d U = 26.0869...
    assert d.collected == pytest.approx(collected, rel=1e-14)
    assert d.borne_by_exporter == pytest.approx(100 - v_s, rel=1e-14)
    # V_s solves its equation, and the exporter bears (1 - phi) of the duty
    assert 100 - 0.75 * (0.2 * v_s + 1.0 * 10) == pytest.approx(v_s, rel=1e-14)
    assert d.borne_by_exporter == pytest.approx(0.75 * d.collected, rel=1e-14)


def test_full_pass_through_leaves_the_exporter_the_deck_value() -> None:
    # phi = 1: V_s = V, the buyer pays all of D = tau V + d U
    d = duty(100.0, 10.0, 0.20, 1.0, 0.0)
    assert d.borne_by_exporter == 0.0
    assert d.collected == pytest.approx(0.2 * 100 + 10, rel=1e-15)


def test_no_pass_through_the_buyer_pays_the_deck_price() -> None:
    # phi = 0: V_s + D = V, so the exporter bears all of D; V_s = (100 - 10) / 1.2 = 75
    d = duty(100.0, 10.0, 0.20, 1.0, 1.0)
    assert d.collected == pytest.approx(0.2 * 75 + 10, rel=1e-14)
    assert d.borne_by_exporter == pytest.approx(d.collected, rel=1e-14)
    assert 100 - d.borne_by_exporter + d.collected == pytest.approx(100, rel=1e-14)


def test_duty_on_arrays() -> None:
    value = np.array([[0.0, 100.0], [90.0, 200.0]])
    bears = np.array([[1.0], [0.5]])  # (S, 1)
    d = duty(value, 0.0, 0.25, 0.0, bears)
    v_s = value - np.asarray(d.borne_by_exporter)
    # each cell solves V_s = V - b tau V_s, and D = tau V_s
    assert v_s == pytest.approx(value - bears * 0.25 * v_s, rel=1e-14)
    assert np.asarray(d.collected) == pytest.approx(0.25 * v_s, rel=1e-14)
    # by hand: 100 / 1.25 = 80 (exporter bears it all); 90 / 1.125 = 80 (half)
    assert v_s[0, 1] == pytest.approx(80.0, rel=1e-15)
    assert v_s[1, 0] == pytest.approx(80.0, rel=1e-15)


def test_total_tariffs_add_up_per_government() -> None:
    duties = [("us", Duty(2.0, 5.0)), ("eu", Duty(1.0, 1.0)), ("us", Duty(3.0, 4.0))]
    t = total_tariffs(duties)
    assert t.borne_by_exporter == 6.0  # 2 + 1 + 3
    assert t.borne_by_buyers == 4.0  # (5 - 2) + (1 - 1) + (4 - 3): collected less borne
    assert t.duty_by_government == {"us": 9.0, "eu": 1.0}
    assert t.borne_by_government == {"us": 5.0, "eu": 1.0}
    total = sum(t.duty_by_government.values())
    assert t.borne_by_buyers == total - t.borne_by_exporter


def test_total_tariffs_of_arrays_and_of_nothing() -> None:
    a = Duty(np.array([1.0, 2.0]), np.array([4.0, 4.0]))
    b = Duty(np.array([0.5, 0.0]), np.array([1.0, 0.0]))
    t = total_tariffs([("us", a), ("us", b)])
    assert np.asarray(t.borne_by_exporter).tolist() == [1.5, 2.0]
    assert np.asarray(t.borne_by_buyers).tolist() == [3.5, 2.0]  # 5 - 1.5, 4 - 2
    assert np.asarray(t.duty_by_government["us"]).tolist() == [5.0, 4.0]
    none = total_tariffs([])
    assert (none.borne_by_exporter, none.borne_by_buyers, none.duty_by_government) == (0.0, 0.0, {})
