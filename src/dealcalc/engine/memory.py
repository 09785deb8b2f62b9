"""Memory guards: refuse up front a request that would not fit, with the estimate and a way out.

A run that outgrows memory should get a clear answer before it starts, not be killed by the
operating system halfway. Estimates count what grows with the number of scenarios (results,
kept ledgers, sampled inputs) plus one chunk's working set.
"""

from __future__ import annotations

import os

from dealcalc.errors import InputError

__all__ = ["available_bytes", "check_fits", "describe_bytes"]

#: Share of the available memory a single request may plan to use.
HEADROOM = 0.8


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
