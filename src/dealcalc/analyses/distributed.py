"""Running chunks of an analysis on dask.distributed, and progress bars for long runs.

The chunks are the same functions on the same inputs as in one process, so a run gives the
same numbers on a cluster as locally. Needs the ``dask`` extra.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import numpy as np

from dealcalc.engine import memory
from dealcalc.engine.memory import describe_bytes
from dealcalc.errors import InputError, MissingExtraError

__all__ = ["check_workers", "progress_bar", "run_on_dask", "usable_cpus"]

T = TypeVar("T")

#: Tasks kept submitted per worker: enough to keep each busy, few enough to keep memory flat.
IN_FLIGHT_PER_WORKER = 2
#: Local worker processes per usable CPU. Each worker values one chunk at a time on one thread,
#: so past one per CPU more workers only wait for a CPU while each holds its own memory; the
#: second lets one worker compute while another sends or receives.
WORKERS_PER_CPU = 2
#: Memory of a worker process before it values anything: Python with numpy, pandas, scipy,
#: dask and dealcalc loaded (measured: about 115 MB resident on Linux, rounded up).
WORKER_BASE_BYTES = 150e6
#: Where the CPU quota of a cgroup v2 container is set (``max 100000`` when there is none).
CGROUP_CPU_MAX = "/sys/fs/cgroup/cpu.max"


def usable_cpus() -> int:
    """CPUs this process may use: the CPUs it may run on (its affinity, which taskset and
    container CPU sets restrict), fewer under a cgroup CPU quota (``docker --cpus``).

    Examples
    --------
    >>> usable_cpus() >= 1
    True
    """
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        cpus = os.cpu_count() or 1
    try:
        with open(CGROUP_CPU_MAX, encoding="ascii") as fh:
            quota, period = fh.read().split()[:2]
        if quota != "max":
            cpus = min(cpus, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, cpus)


def check_workers(workers: object, per_worker_bytes: float = 0.0) -> int:
    """``workers`` as a number of local worker processes this machine can run, or an
    InputError that says the cap and why: at most :data:`WORKERS_PER_CPU` per usable CPU, and
    no more than fit in the available memory at :data:`WORKER_BASE_BYTES` plus
    ``per_worker_bytes`` (one chunk's working set) each. Checked before any worker starts.

    Examples
    --------
    >>> check_workers(1)
    1
    >>> check_workers(0)
    Traceback (most recent call last):
    ...
    dealcalc.errors.InputError: workers: 0 worker processes; expected a whole number, at least 1
    """
    if isinstance(workers, bool) or not isinstance(workers, int | np.integer) or workers < 1:
        raise InputError(
            f"{workers!r} worker processes", field="workers", expected="a whole number, at least 1"
        )
    cpus = usable_cpus()
    each = WORKER_BASE_BYTES + per_worker_bytes
    available = memory.available_bytes()
    by_cpu = WORKERS_PER_CPU * cpus
    by_memory = int(memory.HEADROOM * available // each)
    cap = min(by_cpu, by_memory)
    if workers <= cap:
        return int(workers)
    if by_memory < by_cpu:
        why = (
            f"each needs about {describe_bytes(each)} of memory and {describe_bytes(available)} is available"
        )
    else:
        why = (
            f"this process may use {cpus} CPU{'s' if cpus > 1 else ''}, and more than "
            f"{WORKERS_PER_CPU} single-threaded workers per CPU add memory, not speed"
        )
    raise InputError(
        f"{int(workers):,} worker process{'es' if workers > 1 else ''}, but "
        + (f"this machine runs at most {cap}" if cap else "not one fits on this machine")
        + f": {why}",
        field="workers",
        hint=(
            "for more, start workers on other machines and pass their scheduler's address: "
            "--scheduler ADDRESS"
            if cap
            else "run in this process, without --workers, or on other machines with --scheduler ADDRESS"
        ),
    )


@contextmanager
def progress_bar(show: bool, total: int, label: str) -> Iterator[Callable[[], None]]:
    """A rich progress bar on stderr that ``advance()`` moves by one step, or a no-op."""
    if not show:
        yield lambda: None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda: bar.advance(task)


def run_on_dask(
    func: Callable[..., T],
    shared: Any,
    tasks: Iterable[tuple[Any, ...]],
    on_result: Callable[[int, T], None],
    *,
    total: int,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: bool = False,
) -> None:
    """``on_result(i, func(shared, *task_i))`` for every task, run on dask.distributed.

    ``shared`` is scattered once to every worker. Tasks are made as they are submitted and at
    most a few per worker are in flight, so neither the tasks' inputs nor their results pile up
    in memory; ``on_result`` gets each result once it is in (not necessarily in order).
    Without ``scheduler`` a local cluster of ``workers`` single-threaded processes is started and
    closed afterwards.
    """
    if scheduler is None:
        check_workers(workers or 1)
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise MissingExtraError("dask.distributed", "dask") from None
    cluster = None
    if scheduler is None:
        cluster = LocalCluster(
            n_workers=workers or 1, threads_per_worker=1, processes=True, dashboard_address=None
        )
    try:
        client = Client(scheduler or cluster)  # waits distributed.comm.timeouts.connect
    except (OSError, TimeoutError, ValueError) as exc:
        if cluster is not None:
            cluster.close()
        # errors.md: cannot reach the dask scheduler at
        said = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(
            f"cannot reach the dask scheduler at {scheduler}: {said}",
            field="scheduler",
            expected="the address of a running scheduler, e.g. tcp://10.0.0.5:8786",
            hint="start one with: dask scheduler; or run on this machine with workers=N",
        ) from None
    try:
        handle = client.scatter(shared, broadcast=True)
        in_flight = IN_FLIGHT_PER_WORKER * max(len(client.scheduler_info()["workers"]), 1)
        pending = enumerate(tasks)
        index = {}
        for i, task in itertools.islice(pending, in_flight):
            index[client.submit(func, handle, *task, pure=False)] = i
        done = as_completed(list(index))
        with progress_bar(progress, total, f"{total} chunks on dask") as advance:
            for future in done:
                on_result(index.pop(future), future.result())
                future.release()
                advance()
                for i, task in itertools.islice(pending, 1):
                    nxt = client.submit(func, handle, *task, pure=False)
                    index[nxt] = i
                    done.add(nxt)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
