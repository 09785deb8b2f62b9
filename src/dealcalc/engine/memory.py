"""Memory guards: refuse up front a request that would not fit, with the estimate and a way out.

A run that outgrows memory should get a clear answer before it starts, not be killed by the
operating system halfway. Estimates count what grows with the number of scenarios (results,
kept ledgers, sampled inputs) plus one chunk's working set, and are made from sizes alone:
:func:`shape_of` reads an override's shape without making the array.
"""

from __future__ import annotations

import math
import os

import numpy as np

from dealcalc.errors import InputError

__all__ = [
    "VALUATION_HINT",
    "available_bytes",
    "check_fits",
    "conversion_bytes",
    "describe_bytes",
    "ledger_lines",
    "shape_of",
    "valuation_bytes",
]

#: Share of the available memory a single request may plan to use.
HEADROOM = 0.8
#: Arrays of (scenarios, years) float64 alive at once while one chunk is valued (the ledger's
#: lines and the kernels' temporaries; benchmarks/README.md measures a chunk).
WORKING_ARRAYS = 120
#: The way out of a valuation that would not fit.
VALUATION_HINT = "ask for fewer metrics (metrics=[...]), keep_ledger=False, or value the scenarios in batches"


def ledger_lines(n_streams: int, n_parties: int) -> int:
    """Lines of a kept ledger (the project's and the parties'), an upper estimate.

    Examples
    --------
    >>> ledger_lines(3, 4)
    78
    """
    return 40 + 6 * n_streams + 5 * n_parties


def valuation_bytes(
    n_scenarios: int, n_years: int, *, n_metrics: int, kept_lines: int = 0, chunk: int
) -> float:
    """Memory of valuing ``n_scenarios`` in chunks of ``chunk``: every scenario's metrics (and
    ``kept_lines`` ledger lines of ``n_years`` each, 0 when ledgers are not kept), plus one
    chunk's working set.

    Examples
    --------
    >>> describe_bytes(valuation_bytes(10**6, 20, n_metrics=2, chunk=16_384))
    '330.6 MB'
    """
    per_scenario = 8.0 * (n_metrics + 2 * kept_lines * n_years)
    return per_scenario * n_scenarios + 8.0 * WORKING_ARRAYS * n_years * min(chunk, n_scenarios)


def shape_of(value: object) -> tuple[int, ...]:
    """The shape ``numpy.asarray(value)`` would have, read without making the array: an
    array's own shape (a broadcast view's too), or the lengths of nested lists and tuples
    (the first item's at each level); ``()`` for a scalar.

    Examples
    --------
    >>> import numpy as np
    >>> shape_of(np.broadcast_to(0.05, (10**12,)))
    (1000000000000,)
    >>> shape_of([[1, 2, 3], [4, 5, 6]]), shape_of(0.05)
    ((2, 3), ())
    """
    shape = getattr(value, "shape", None)
    if isinstance(shape, tuple) and all(isinstance(s, int | np.integer) for s in shape):
        return tuple(int(s) for s in shape)
    dims: list[int] = []
    while isinstance(value, list | tuple):
        dims.append(len(value))
        if not value:
            break
        value = value[0]
    return tuple(dims)


def conversion_bytes(value: object) -> float:
    """Memory that checking ``value`` as a float64 array allocates: a float64 copy unless it
    is one already (a broadcast view included), and a mask of one byte a value.

    Examples
    --------
    >>> import numpy as np
    >>> conversion_bytes(np.zeros(1000)), conversion_bytes(list(range(1000)))
    (1000.0, 9000.0)
    """
    size = math.prod(shape_of(value))
    is_float = isinstance(value, np.ndarray) and value.dtype == np.float64
    return float(size) * (1.0 if is_float else 9.0)


def available_bytes() -> int:
    """Memory available to this process now: MemAvailable on Linux, else free physical pages."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 1 << 62


def describe_bytes(n: float) -> str:
    """``1.5 GB`` style, for messages.

    Examples
    --------
    >>> describe_bytes(3.2e9)
    '3.2 GB'
    """
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n / 1e3:.0f} kB"


def check_fits(needed: float, what: str, hint: str) -> None:
    """Raise an InputError if ``needed`` bytes exceed the headroom of the available memory.

    Examples
    --------
    >>> check_fits(1e3, "a tiny run", "none needed")
    """
    available = available_bytes()
    if needed > HEADROOM * available:
        raise InputError(
            f"{what} needs about {describe_bytes(needed)} of memory; "
            f"{describe_bytes(available)} is available",
            field="size",
            hint=hint,
        )
