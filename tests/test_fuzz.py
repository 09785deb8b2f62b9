"""Fuzzing: whatever text or numbers come in, dealcalc answers or raises its own error.

Hypothesis drives bounded fuzz targets (the fixed ``ci`` profile in CI, ``nightly`` for long
runs): the YAML loader on arbitrary text and on mutations of the bundled scenario file, the CLI
on mutated files, and the metrics on arbitrary arrays.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import dealcalc as dc
from dealcalc.cli import main
from dealcalc.io import parse_deal

TEXT = Path(dc.example_path("ussm-fwo")).read_text(encoding="utf-8")
LINES = TEXT.splitlines()
TOKENS = [
    "",
    "-1",
    "1e400",
    ".nan",
    "null",
    "[]",
    "{}",
    "x",
    "2025-13-45",
    "!!python/object:os.system",
    "&a",
    "*a",
    "'",
    ": :",
    "\t",
]


def _loads_or_refuses(text: str) -> None:
    try:
        parse_deal(text, source="fuzz.yaml")
    except dc.DealcalcError as exc:
        assert str(exc).strip(), "an error must say something"


@given(st.text(max_size=400))
def test_arbitrary_text_is_loaded_or_refused(text: str) -> None:
    _loads_or_refuses(text)


@st.composite
def mutated_files(draw: Any) -> str:
    lines = list(LINES)
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["delete", "duplicate", "token", "indent", "truncate"]))
        if action == "delete":
            del lines[i]
        elif action == "duplicate":
            lines.insert(i, lines[i])
        elif action == "token":
            head, sep, _ = lines[i].partition(": ")
            lines[i] = f"{head}{sep or ': '}{draw(st.sampled_from(TOKENS))}"
        elif action == "indent":
            lines[i] = " " * draw(st.integers(0, 6)) + lines[i].lstrip()
        else:
            lines[i] = lines[i][: draw(st.integers(0, len(lines[i])))]
    return "\n".join(lines)


@given(mutated_files())
def test_mutated_scenario_files_are_loaded_or_refused(text: str) -> None:
    _loads_or_refuses(text)


@settings(max_examples=25, deadline=None)
@given(mutated_files())
def test_the_cli_never_shows_a_traceback(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "deal.yaml"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["npv", str(path)])
    assert result.exit_code in (0, 2), result.output
    assert "Traceback" not in result.output
    if result.exit_code == 2:
        assert result.output.startswith("error: ") and str(path) in result.output


arrays = hnp.arrays(
    np.float64,
    hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=8),
    elements=st.floats(allow_nan=True, allow_infinity=True, width=64),
)


@given(arrays, st.one_of(st.floats(allow_nan=True, allow_infinity=True), arrays))
@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # overflow near 1e308 or a rate near -1 gives inf
def test_metrics_answer_or_raise_value_error(values: np.ndarray, rate: Any) -> None:
    for call in (
        lambda: dc.npv(rate, values),
        lambda: dc.irr(values),
        lambda: dc.mirr(values, 0.1, 0.1),
        lambda: dc.payback(values),
        lambda: dc.profitability_index(rate, values),
    ):
        try:
            result = call()
        except ValueError as exc:  # dealcalc's errors are ValueErrors that say what is wrong
            assert str(exc)
        else:  # a float, or one value per row (or per rate, for an NPV profile)
            assert np.ndim(result) <= 1


def test_values_too_large_to_add_up_get_a_clear_error() -> None:
    # the metrics rescale rows that overflow (issue 19): only a result beyond floating point
    # itself is an error, and a clear one (an InputError, which is a ValueError)
    assert dc.irr([-1e308, 1e308, 1e308]) == pytest.approx(dc.irr([-1.0, 1.0, 1.0]), rel=1e-14)
    with pytest.raises(dc.InputError, match="too large for floating point"):
        dc.npv(0.0, [1e308, 1e308])
