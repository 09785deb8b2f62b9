"""Same seed, same numbers: the draws of today's Monte Carlo, pinned.

``tests/data/montecarlo_pinned.json`` was recorded by the Monte Carlo code before it was split
into sampling, engine/risk, uncertainty and chunks (issue 21), for the bundled deal with seed 7:
its summary, five draws' metrics and inputs, and a SHA-256 of every per-draw array. The reshaped
code must give the same numbers, whatever the chunk size; bit for bit on the machine type the
file was recorded on (x86-64, numpy's OpenBLAS), to 1e-12 elsewhere (a BLAS may round a matrix
product differently).
"""

from __future__ import annotations

import hashlib
import json
import platform
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import dealcalc as dc

PINNED = json.loads((Path(__file__).parent / "data" / "montecarlo_pinned.json").read_text())
DEAL = dc.load(dc.example_path("ussm-fwo"))
SAME_MACHINE = platform.machine() in ("x86_64", "AMD64")


def _digest(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


def _run(case: str, **kwargs: Any) -> dc.MonteCarlo:
    rec = PINNED[case]
    return dc.monte_carlo(DEAL, rec["n"], seed=7, method=None if case == "default" else case, **kwargs)


def _close(got: float, want: float | None) -> bool:
    return (want is None and np.isnan(got)) or (
        want is not None and np.isclose(got, want, rtol=1e-12, atol=0)
    )


@pytest.mark.parametrize("case", ["default", "lhs", "sobol", "random"])
@pytest.mark.parametrize("chunk_size", [4096, 333])
def test_the_same_seed_gives_todays_draws(case: str, chunk_size: int) -> None:
    rec = PINNED[case]
    mc = _run(case, chunk_size=chunk_size)
    assert mc.method == rec["method"]
    for i, want in rec["draws"].items():
        for metric, x in want.items():
            assert _close(float(mc.values[metric][int(i)]), x), (case, i, metric)
        for name, x in rec["inputs"][i].items():
            assert _close(float(mc.inputs[name].iloc[int(i)]), x), (case, i, name)
    summary = mc.summary()
    for metric, row in rec["summary"].items():
        for stat, x in row.items():
            assert _close(float(summary.loc[metric, stat]), x), (case, metric, stat)
    assert {g: int(v.sum()) for g, v in mc.built.items()} == rec["built"]
    assert {g: int(v.sum()) for g, v in mc.continued.items()} == rec["continued"]
    if SAME_MACHINE:
        assert {m: _digest(v) for m, v in mc.values.items()} == rec["digests"]
        assert {c: _digest(mc.inputs[c].to_numpy()) for c in mc.inputs.columns} == rec["input_digests"]
        assert {g: _digest(v.astype(np.uint8)) for g, v in mc.built.items()} == rec["built_digest"]
        assert {m: _digest(v) for m, v in mc.committed.items()} == rec["committed_digests"]
        assert {m: _digest(v.astype(np.uint8)) for m, v in mc.losing.items()} == rec["losing_digests"]


def test_a_generator_seed_is_one_root_seed_drawn_once() -> None:
    rng = np.random.default_rng(2026)
    mc = dc.monte_carlo(DEAL, 300, seed=rng, metrics=["npv_usd"])
    again = dc.monte_carlo(DEAL, 300, seed=mc.seed, metrics=["npv_usd"])
    assert mc.seed == int(np.random.default_rng(2026).integers(2**63))
    np.testing.assert_array_equal(mc.metric("npv_usd"), again.metric("npv_usd"))
    later = dc.monte_carlo(DEAL, 300, seed=rng, metrics=["npv_usd"])  # the Generator moved on
    assert later.seed != mc.seed
    assert mc.run.seed == mc.seed


def test_a_generator_seed_works_for_the_input_draws_too() -> None:
    a = dc.analyses.sample_inputs(DEAL, 50, seed=np.random.default_rng(3))
    b = dc.analyses.sample_inputs(DEAL, 50, seed=int(np.random.default_rng(3).integers(2**63)))
    assert a.equals(b)
