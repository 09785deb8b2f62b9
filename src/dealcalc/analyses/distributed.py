"""Running chunks of an analysis on dask.distributed, and progress bars for long runs.

The chunks are the same functions on the same inputs as in one process, so a run gives the
same numbers on a cluster as locally. Needs the ``dask`` extra.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from dealcalc.errors import MissingExtraError

__all__ = ["progress_bar", "run_on_dask"]

T = TypeVar("T")

#: Tasks kept submitted per worker: enough to keep each busy, few enough to keep memory flat.
IN_FLIGHT_PER_WORKER = 2


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
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise MissingExtraError("dask.distributed", "dask") from None
    cluster = None
    if scheduler is None:
        cluster = LocalCluster(
            n_workers=workers or 1, threads_per_worker=1, processes=True, dashboard_address=None
        )
    client = Client(scheduler or cluster)
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
