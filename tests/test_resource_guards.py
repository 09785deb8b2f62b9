"""Resources refused up front (issue 19, part 5): every analysis estimates its memory from the
sizes asked for, before it allocates anything, and refuses with the estimate and a way out;
``workers`` is capped by the machine.

Each test asks for a size the (monkeypatched) machine cannot hold and checks that the refusal
is an InputError that comes at once (well under a second) with next to nothing allocated
(tracemalloc, which numpy reports its arrays to). The memory and CPUs available are fixed, so the
tests say the same on any machine, and the steps that would allocate (building the scenarios,
SALib's sampling, drawing a Monte Carlo's inputs) are tripwires while a refusal is expected, so
a guard that comes too late fails the test at once instead of exhausting the machine.
"""

from __future__ import annotations

import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

import dealcalc as dc
from dealcalc.analyses import distributed
from dealcalc.analyses.gsa import morris, sobol, sobol_indices
from dealcalc.cli import main
from dealcalc.engine import memory
from dealcalc.params import Scenarios

GSA = sys.modules["dealcalc.analyses.gsa"]
MONTECARLO = sys.modules["dealcalc.analyses.montecarlo"]

DEAL = dc.load(dc.example_path("ussm-fwo"))
FILE = str(dc.example_path("ussm-fwo"))
T = DEAL.periods.size
#: What a refusal may take: no sampling, no block of scenarios, no valuation.
SECONDS = 0.5
PEAK_BYTES = 2_000_000


@pytest.fixture(autouse=True)
def machine(monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine with 16 GB available and 4 usable CPUs, whatever runs the tests."""
    monkeypatch.setattr(memory, "available_bytes", lambda: 16e9)
    monkeypatch.setattr(distributed, "usable_cpus", lambda: 4)


def _too_late(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("the work began: the guard came too late")


@contextmanager
def tripwires() -> Iterator[None]:
    """The steps that allocate by the size asked for, made to fail at once."""
    with ExitStack() as stack:
        mp = stack.enter_context(pytest.MonkeyPatch.context())
        mp.setattr(Scenarios, "build", staticmethod(_too_late))
        mp.setattr(GSA, "_salib", _too_late)
        mp.setattr(MONTECARLO, "sample_inputs", _too_late)
        yield


def refused(call: Callable[[], Any], match: str) -> str:
    """Run ``call``, expect an InputError matching ``match``, raised at once and before any
    large allocation; return its message."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with tripwires(), pytest.raises(dc.InputError, match=match) as info:
            call()
        elapsed = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert elapsed < SECONDS, f"refused after {elapsed:.2f} s"
    assert peak < PEAK_BYTES, f"{peak / 1e6:.1f} MB allocated before the refusal"
    return str(info.value)


def never_called(points: np.ndarray) -> np.ndarray:
    raise AssertionError("the model ran: the guard came too late")


# --- global sensitivity ------------------------------------------------------------------------


def test_sobol_of_2_to_the_30_base_samples_is_refused_before_sampling() -> None:
    message = refused(lambda: sobol(DEAL, 2**30), "a Sobol analysis of 1,073,741,824 base samples")
    assert message.startswith("size: ") and "TB of memory; 16.0 GB is available" in message
    assert "use a smaller n" in message


def test_sobol_indices_of_any_model_is_refused_before_sampling() -> None:
    refused(
        lambda: sobol_indices(never_called, ["x", "y", "z"], 2**30),
        r"a Sobol analysis of 1,073,741,824 base samples \(5,368,709,120 model runs\) needs about",
    )


def test_morris_of_1e8_trajectories_is_refused_before_sampling() -> None:
    message = refused(lambda: morris(DEAL, 10**8), "a Morris screening of 100,000,000 trajectories")
    assert "use fewer trajectories" in message


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: sobol(DEAL, 1.5), "n: 1.5 base samples; expected a whole number, at least 2"),
        (lambda: sobol_indices(never_called, ["x"], 1), "n: 1 base samples"),
        (lambda: morris(DEAL, 0), "trajectories: 0 trajectories; expected a whole number, at least 2"),
    ],
)
def test_a_sample_size_below_two_or_fractional_is_refused(call: Callable[[], Any], match: str) -> None:
    refused(call, match)


def test_the_cli_refuses_a_huge_sobol_in_one_line() -> None:
    with tripwires():
        result = CliRunner().invoke(main, ["sensitivity", "sobol", FILE, "-n", str(2**30)])
    assert result.exit_code == 2
    assert "a Sobol analysis of 1,073,741,824 base samples" in result.output
    assert "Traceback" not in result.output


def test_the_estimate_follows_the_sample_size() -> None:
    """Half the base samples need about half the memory (the sample and the bootstrap grow with n;
    one engine chunk does not), so the estimate refuses by size, not by kind."""
    sizes = {}
    for n in (2**26, 2**27):
        with tripwires(), pytest.raises(dc.InputError) as info:
            sobol(DEAL, n, sources="inputs")  # GB at these sizes; every source is TB
        sizes[n] = float(info.value.message.split("needs about ")[1].split(" GB")[0])
    assert 1.9 < sizes[2**27] / sizes[2**26] < 2.1


# --- workers ------------------------------------------------------------------------------------


def test_500_workers_are_refused_with_the_cap_and_why() -> None:
    message = refused(
        lambda: dc.monte_carlo(DEAL, 100, workers=500),
        "workers: 500 worker processes, but this machine runs at most 8",
    )
    assert "this process may use 4 CPUs" in message
    assert "--scheduler ADDRESS" in message


def test_workers_are_capped_by_memory_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "available_bytes", lambda: 1e9)
    monkeypatch.setattr(distributed, "usable_cpus", lambda: 64)
    # 80 % of 1 GB over 150 MB a process and a chunk of 100 draws each: 5
    message = refused(
        lambda: dc.monte_carlo(DEAL, 100, workers=16),
        "workers: 16 worker processes, but this machine runs at most 5: each needs about",
    )
    assert "1.0 GB is available" in message


def test_no_worker_at_all_when_none_fits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "available_bytes", lambda: 100e6)
    refused(
        lambda: distributed.check_workers(1),
        "1 worker process, but not one fits on this machine.*run in this process",
    )


@pytest.mark.parametrize("workers", [0, -3, 2.5, True])
def test_a_number_of_workers_that_is_not_a_whole_number_is_refused(workers: Any) -> None:
    refused(lambda: dc.monte_carlo(DEAL, 100, workers=workers), "worker processes; expected a whole number")


def test_the_workers_of_a_local_cluster_count_in_the_monte_carlo_estimate(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(memory, "available_bytes", lambda: 3e9)
    refused(
        lambda: dc.monte_carlo(DEAL, 30_000_000, workers=4),
        "a Monte Carlo of 30,000,000 draws on 4 local workers needs about",
    )


def test_run_on_dask_checks_workers_before_starting_a_cluster() -> None:
    def tasks() -> Any:
        raise AssertionError("a task was made")
        yield  # pragma: no cover

    refused(
        lambda: distributed.run_on_dask(abs, None, tasks(), lambda i, r: None, total=1, workers=500),
        "500 worker processes",
    )


def test_a_scheduler_is_not_capped_by_this_machine() -> None:
    assert distributed.check_workers(8) == 8
    # with a scheduler the workers run elsewhere: nothing to cap here (no cluster is reached:
    # the run stops at the memory guard, which counts this process alone)
    refused(
        lambda: dc.monte_carlo(DEAL, 10**9, workers=500, scheduler="tcp://127.0.0.1:1"),
        r"a Monte Carlo of 1,000,000,000 draws needs about",
    )


def test_the_cli_refuses_500_workers_in_one_line() -> None:
    with tripwires():
        result = CliRunner().invoke(main, ["montecarlo", FILE, "-n", "100", "--workers", "500"])
    assert result.exit_code == 2
    assert "workers: 500 worker processes, but this machine runs at most 8" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("affinity", "quota", "cpus"),
    [
        (8, "max 100000", 8),
        (8, "200000 100000", 2),
        (8, "150000 100000", 2),
        (2, "50000 100000", 1),
        (3, None, 3),
    ],
)
def test_usable_cpus_reads_the_affinity_and_a_cgroup_quota(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, affinity: int, quota: str | None, cpus: int
) -> None:
    monkeypatch.undo()  # the real function, not the fixture's
    monkeypatch.setattr(distributed.os, "sched_getaffinity", lambda pid: set(range(affinity)), raising=False)
    cpu_max = tmp_path / "cpu.max"
    if quota is not None:
        cpu_max.write_text(quota + "\n", encoding="ascii")
    monkeypatch.setattr(distributed, "CGROUP_CPU_MAX", str(cpu_max))
    assert distributed.usable_cpus() == cpus


# --- evaluate and its overrides -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "override"),
    [
        # an int view: Scenarios.build would make an 8 GB float copy of it
        ("price_decks.base.antimony", np.broadcast_to(np.int64(30_000), (10**9,))),
        # a float view: no copy, but an (S, T) mask of 17 GB
        ("streams.antimony_concentrate.ore_tpa", np.broadcast_to(1e6, (10**9, T))),
    ],
    ids=["int-1e9", "float-1e9xT"],
)
def test_a_broadcast_override_is_refused_without_being_materialised(path: str, override: Any) -> None:
    message = refused(
        lambda: dc.evaluate(DEAL, overrides={path: override}, metrics=["npv_usd"]),
        "size: valuing 1,000,000,000 scenarios needs about",
    )
    assert "value the scenarios in batches" in message


def test_a_broadcastable_one_row_override_beside_a_huge_one_is_counted_once() -> None:
    overrides = {
        "fiscal.royalty_rate": [0.05],
        "price_decks.base.antimony": np.broadcast_to(30_000.0, (10**9,)),
    }
    refused(lambda: dc.evaluate(DEAL, overrides=overrides), "valuing 1,000,000,000 scenarios")


def test_a_nested_list_is_sized_without_converting_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "available_bytes", lambda: 50e6)
    rows = [[1e6] * T] * 2_000_000  # one row object repeated: the list is 16 MB, an array 272 MB
    refused(
        lambda: dc.evaluate(DEAL, overrides={"streams.antimony_concentrate.ore_tpa": rows}),
        "valuing 2,000,000 scenarios needs about",
    )


def test_shape_of_reads_shapes_without_making_arrays() -> None:
    assert memory.shape_of(np.broadcast_to(0.05, (10**12, 3))) == (10**12, 3)
    assert memory.shape_of([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]) == (3, 2)
    assert memory.shape_of(0.05) == ()
    assert memory.shape_of([]) == (0,)
    assert memory.conversion_bytes(np.broadcast_to(0.05, (1000,))) == 1000.0  # a mask, no copy
    assert memory.conversion_bytes(np.arange(1000)) == 9000.0  # int: a float copy and a mask


# --- one-at-a-time sensitivity and breakeven ----------------------------------------------------


def test_a_grid_of_1e8_scenarios_is_refused_before_the_block_is_made(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(memory, "available_bytes", lambda: 1e9)
    x = ("price_decks.base.antimony", np.linspace(1e4, 5e4, 10_000))
    y = ("phases.refinery.capex_usd", np.linspace(1e8, 5e8, 10_000))
    message = refused(
        lambda: dc.grid(DEAL, x, y), "a grid of 10,000 x 10,000 = 100,000,000 scenarios needs about"
    )
    assert "value the grid in parts" in message


def test_a_one_axis_grid_of_a_broadcast_view_is_refused() -> None:
    x = ("price_decks.base.antimony", np.broadcast_to(30_000.0, (10**9,)))
    refused(lambda: dc.grid(DEAL, x), "a grid of 1,000,000,000 scenarios")


def test_a_spider_of_a_million_changes_is_refused_before_its_rows_are_made(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(memory, "available_bytes", lambda: 100e6)  # rows are Python: ~250 B each
    changes = np.broadcast_to(0.1, (10**6,))
    refused(
        lambda: dc.spider(DEAL, ["fiscal.royalty_rate"], changes),
        r"a spider of 1 parameter at 1,000,000 changes \(1,000,000 scenarios\)",
    )


def test_a_tornado_is_sized_too(monkeypatch: pytest.MonkeyPatch) -> None:
    # a tornado is bounded by the deal's parameters; the guard is wired all the same
    monkeypatch.setattr(memory, "available_bytes", lambda: 10e3)
    refused(lambda: dc.tornado(DEAL, ["fiscal.royalty_rate"]), r"a tornado of 1 parameter \(3 scenarios\)")
    refused(
        lambda: dc.tornado(DEAL, quantiles=(0.1, 0.9)),
        rf"a tornado of {len(DEAL.uncertainty.inputs)} uncertain inputs",
    )


def test_a_breakeven_of_a_million_scenarios_is_refused_before_its_overrides_are_copied(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(memory, "available_bytes", lambda: 1e9)
    capex = np.broadcast_to(np.int64(300_000_000), (10**6,))
    message = refused(
        lambda: dc.breakeven(
            DEAL, "price_decks.base.antimony", overrides={"phases.refinery.capex_usd": capex}
        ),
        r"a breakeven of 1,000,000 scenarios on a grid of 33 points \(33,000,000 valuations",
    )
    assert "pass fewer scenarios a call" in message


def test_a_breakeven_on_ten_million_grid_points_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "available_bytes", lambda: 1e9)
    refused(
        lambda: dc.breakeven(DEAL, "price_decks.base.antimony", grid_points=10**7),
        "a breakeven of 1 scenario on a grid of 10,000,000 points",
    )


@pytest.mark.parametrize("points", [1, 0, 2.5])
def test_a_breakeven_grid_needs_two_points(points: Any) -> None:
    refused(
        lambda: dc.breakeven(DEAL, "price_decks.base.antimony", grid_points=points),
        "grid_points: .* grid points; expected a whole number, at least 2",
    )


# --- what fits still runs -----------------------------------------------------------------------


def test_ordinary_requests_pass_every_guard() -> None:
    v = dc.evaluate(DEAL, overrides={"price_decks.base.antimony": np.broadcast_to(30_000.0, (3,))})
    assert v.npv_usd.shape == (3,)
    g = dc.grid(DEAL, ("price_decks.base.antimony", [2e4, 4e4]), ("phases.refinery.capex_usd", [3e8, 4e8]))
    assert g.shape == (2, 2)
    b = dc.breakeven(DEAL, "price_decks.base.antimony", grid_points=2)
    assert b.found[0]
    assert distributed.check_workers(8) == 8
