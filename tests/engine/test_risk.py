"""engine/risk.py: the risk events as pure functions of arrays and uniforms."""

from __future__ import annotations

import numpy as np
import pytest

from dealcalc.engine import risk


class TestAddDisruption:
    @pytest.mark.parametrize(("moment", "duration"), [(0.0, 1.0), (0.3, 0.5), (0.7, 2.25), (0.99, 3.0)])
    def test_a_disruption_inside_the_horizon_loses_its_duration_times_its_share(
        self, moment: float, duration: float
    ) -> None:
        lost = risk.add_disruption(
            np.zeros((1, 10)), np.array([0]), np.array([2]), np.array([moment]), duration, 0.6
        )
        assert lost.sum() == pytest.approx(duration * 0.6)
        assert (lost[0, :2] == 0).all() and (lost <= 0.6 + 1e-12).all()

    def test_what_falls_past_the_last_period_is_dropped(self) -> None:
        lost = risk.add_disruption(np.zeros((1, 3)), np.array([0]), np.array([2]), np.array([0.5]), 2.0, 1.0)
        assert lost.tolist() == [[0.0, 0.0, 0.5]]

    def test_overlapping_disruptions_add_up_and_availability_caps_at_none(self) -> None:
        lost = np.zeros((1, 2))
        for _ in range(3):
            risk.add_disruption(lost, np.array([0]), np.array([0]), np.array([0.0]), 1.0, 0.5)
        assert lost[0, 0] == pytest.approx(1.5)
        assert risk.availability(lost).tolist() == [[0.0, 1.0]]


def test_starts_happen_at_their_annual_probability() -> None:
    u = np.random.default_rng(0).random((50_000, 10))
    draw, year = risk.disruption_starts(u, 0.05)
    assert draw.size / u.size == pytest.approx(0.05, rel=0.05)
    assert (u[draw, year] < 0.05).all()


def test_expropriation_is_once_and_for_good() -> None:
    u = np.random.default_rng(1).random((20_000, 12))
    taken = risk.expropriated(u, 0.02)
    assert (np.diff(taken, axis=1) >= 0).all()  # never given back
    assert taken[:, -1].mean() == pytest.approx(1 - 0.98**12, rel=0.08)


@pytest.mark.parametrize("gbm", [True, False])
def test_price_multipliers_have_mean_one_and_start_at_the_deck(gbm: bool) -> None:
    path_map = risk.price_path_map([gbm, gbm], [0.3, 0.2], [0.0, 0.0], [0.4, 0.4], 8)
    shocks = np.random.default_rng(2).standard_normal((100_000, 16))
    m = risk.price_multipliers(shocks, path_map)
    assert m.shape == (100_000, 2, 8)
    np.testing.assert_array_equal(m[:, :, 0], 1.0)
    np.testing.assert_allclose(m.mean(axis=0), 1.0, atol=0.02)


def test_a_switch_scales_only_where_it_holds() -> None:
    on = risk.switches_on(np.array([[0.1], [0.5]]), [0.3])
    assert on[:, 0].tolist() == [True, False]
    assert risk.switch_scale(on[:, 0], 0.8).tolist() == [0.8, 1.0]


def test_branch_index_is_the_binary_code_of_the_gates_built() -> None:
    build = np.array([[a, b, c] for a in (0, 1) for b in (0, 1) for c in (0, 1)], dtype=bool)
    assert sorted(risk.branch_index(build).tolist()) == list(range(8))
