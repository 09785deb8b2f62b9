"""The public API is exactly what __all__ says, sorted, and every name in it exists."""

from __future__ import annotations

import dealcalc
import dealcalc.metrics

PUBLIC = [
    "Breakeven",
    "ConvergenceError",
    "Deal",
    "DealcalcError",
    "GateDecisions",
    "IRRResult",
    "InputError",
    "MissingExtraError",
    "MonteCarlo",
    "OutputExistsError",
    "Valuation",
    "__version__",
    "adaptive_gates",
    "breakeven",
    "compare",
    "discounted_payback",
    "evaluate",
    "example_path",
    "flow_metrics",
    "grid",
    "guarantee_effect",
    "irr",
    "irr_result",
    "irr_roots",
    "lender_risk",
    "load",
    "mirr",
    "monte_carlo",
    "negotiation_space",
    "npv",
    "paired_change",
    "payback",
    "profitability_index",
    "spider",
    "tariff_attribution",
    "tornado",
    "xirr",
    "xnpv",
]


def test_all_is_pinned_and_sorted() -> None:
    assert dealcalc.__all__ == PUBLIC
    assert sorted(dealcalc.__all__) == dealcalc.__all__


def test_every_public_name_exists_and_is_documented() -> None:
    for name in dealcalc.__all__:
        obj = getattr(dealcalc, name)
        if name != "__version__":
            assert obj.__doc__, name
    for name in dealcalc.metrics.__all__:
        assert getattr(dealcalc.metrics, name) is not None


def test_errors_share_one_base() -> None:
    for cls in (
        dealcalc.InputError,
        dealcalc.ConvergenceError,
        dealcalc.OutputExistsError,
        dealcalc.MissingExtraError,
    ):
        assert issubclass(cls, dealcalc.DealcalcError)
    assert issubclass(dealcalc.DealcalcError, ValueError)


def test_missing_extra_names_the_install_command() -> None:
    assert "pip install 'dealcalc[plot]'" in str(dealcalc.MissingExtraError("matplotlib", "plot"))
