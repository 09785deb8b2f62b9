"""Monte Carlo of the bundled USSM–FWO deal, end to end, against a per-draw loop, in one run.

Every uncertain input, price path, event, switch and the refinery gate is on. Each run samples,
builds the cash flows and computes NPV and IRR for the project and NPV for each party (the
default metrics). The baseline is the same code valuing one draw per engine call
(``chunk_size=1``): what a loop over draws costs. It is timed on a few hundred draws and
scaled linearly. Peak memory is the tracemalloc high-water mark of a separate run, above what
was allocated after import.

Run: ``python benchmarks/montecarlo.py`` (a few minutes), or ``--sizes 1000 --repeat 1``.
Targets (issue 6): 1e6 draws in <= 2 s, <= 256 MiB above the memory after import, flat as N
grows, and >= 100x the per-draw loop.
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc

import dealcalc as dc

LOOP_DRAWS = 200


def run(deal: dc.Deal, n: int, chunk_size: int | None = None) -> dc.MonteCarlo:
    if chunk_size is None:
        return dc.monte_carlo(deal, n, seed=1)
    return dc.monte_carlo(deal, n, seed=1, chunk_size=chunk_size)


def peak_mib(deal: dc.Deal, n: int) -> float:
    tracemalloc.start()
    run(deal, n)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    args = parser.parse_args(argv)
    deal = dc.load(dc.example_path("ussm-fwo"))
    metrics = dc.analyses.montecarlo.default_metrics(deal)
    t0 = time.perf_counter()
    run(deal, LOOP_DRAWS, chunk_size=1)
    per_draw = (time.perf_counter() - t0) / LOOP_DRAWS

    print("# dealcalc Monte Carlo benchmark: the bundled USSM–FWO deal, everything uncertain on\n")
    print(f"metrics per draw: {', '.join(metrics)}")
    print(f"per-draw loop (chunk_size=1): {per_draw * 1e3:.1f} ms per draw (timed on {LOOP_DRAWS})\n")
    print("| draws | dealcalc | per 1e6 | per-draw loop (scaled) | × loop | peak MiB above import |")
    print("|---|---|---|---|---|---|")
    checks = []
    for n in args.sizes:
        times = []
        for _ in range(args.repeat if n < 1_000_000 else 1):
            t0 = time.perf_counter()
            run(deal, n)
            times.append(time.perf_counter() - t0)
        seconds = statistics.median(times)
        peak = peak_mib(deal, n)
        ratio = per_draw * n / seconds
        print(
            f"| {n:,} | {seconds:.2f} s | {seconds * 1e6 / n:.1f} s | {per_draw * n:.0f} s | {ratio:.0f} | {peak:.0f} |"
        )
        checks.append((f"≥ 100× the per-draw loop at {n:,} draws ({ratio:.0f}×)", ratio >= 100))
        if n >= 1_000_000:
            checks.append((f"1e6 draws in ≤ 2 s ({seconds:.1f} s)", seconds <= 2.0))
            if peak == peak:
                checks.append((f"≤ 256 MiB above import at 1e6 draws ({peak:.0f} MiB)", peak <= 256))
    print("\n## Targets\n")
    for text, ok in checks:
        print(f"- [{'x' if ok else ' '}] {text}")
    return 1 if args.check and not all(ok for _, ok in checks) else 0


if __name__ == "__main__":
    raise SystemExit(main())
