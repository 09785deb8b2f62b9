"""Running chunks of an analysis on dask.distributed, and progress bars for long runs.

The chunks are the same functions on the same inputs as in one process, so a run gives the
same numbers on a cluster as locally. Needs the ``dask`` extra.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from dealcalc.errors import MissingExtraError

__all__ = ["progress_bar", "run_on_dask"]

T = TypeVar("T")


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
    tasks: Sequence[tuple[Any, ...]],
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: bool = False,
) -> list[T]:
    """``[func(shared, *task) for task in tasks]`` on dask.distributed, in order.

    ``shared`` is scattered once to every worker. Without ``scheduler`` a local cluster of
    ``workers`` single-threaded processes is started and closed afterwards.
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
        futures = [client.submit(func, handle, *task, pure=False) for task in tasks]
        with progress_bar(progress, len(futures), f"{len(futures)} chunks on dask") as advance:
            for _ in as_completed(futures):
                advance()
        results: list[T] = client.gather(futures)
        return results
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
