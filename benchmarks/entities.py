"""What several companies cost: the bundled deal as two entities against the same deal as one
company, and against a loop, in one run.

Term sheet 4 (``terms_two_companies``: FWO's mines and a refinery joint venture trading
concentrate at transfer prices, each taxed alone) is valued for S scenarios that move the
antimony price, the refinery capex and the concentrate's transfer price; term sheet 1
(``terms_ussm_earns_refinery_stake``, the same mines and refinery as one company) is valued for
the same draws (without the transfer price, which it has not). Every metric is asked for
(each party's NPV, IRR and take, and each entity's), so each entity's levies, debt and split are
in the time. Methods run in interleaved rounds and medians are reported; the loop (one
evaluation per scenario) is timed on 200 scenarios and scaled. Peak memory is the tracemalloc
high-water mark of a separate run.

Run: ``python benchmarks/entities.py`` (about a minute), or ``--sizes 10000 --repeat 1``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import dealcalc as dc
from dealcalc.params import apply_scenario
from engine import peak_mib  # benchmarks/engine.py, beside this script

LOOP_SCENARIOS = 200
TWO = "terms_two_companies"
ONE = "terms_ussm_earns_refinery_stake"


def draws(n: int, seed: int = 0, *, transfer: bool = True) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    out = {
        "price_decks.base.antimony": rng.uniform(20_000, 60_000, n),
        "phases.refinery.capex_usd": rng.uniform(200e6, 500e6, n),
    }
    price = rng.uniform(0.4, 0.8, n)
    if transfer:
        out["transfer_prices.sb_concentrate.payable_fraction"] = price
    return out


def value(deal: dc.Deal, overrides: dict[str, np.ndarray]) -> dc.Valuation:
    return dc.evaluate(deal, overrides=overrides, keep_ledger=False)


def loop(deal: dc.Deal, overrides: dict[str, np.ndarray]) -> None:
    n = len(next(iter(overrides.values())))
    for i in range(n):
        value(deal, {k: v[i : i + 1] for k, v in overrides.items()})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    deal = dc.load(dc.example_path("ussm-fwo"))
    two, one = apply_scenario(deal, TWO), apply_scenario(deal, ONE)
    small = draws(LOOP_SCENARIOS, seed=1)
    looped = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        loop(two, small)
        looped.append((time.perf_counter() - t0) / LOOP_SCENARIOS)
    per_scenario = statistics.median(looped)
    print(f"loop of single evaluations of {TWO}: {per_scenario * 1e3:.2f} ms per scenario")
    print()
    print(
        "| scenarios | two entities | one company | two / one | loop (scaled) | × loop | peak MiB (two / one) |"
    )
    print("|---|---|---|---|---|---|---|")
    for n in args.sizes:
        with_price, without = draws(n, seed=2), draws(n, seed=2, transfer=False)
        times: dict[str, list[float]] = {"two": [], "one": []}
        for r in range(args.repeat):
            order = [("two", two, with_price), ("one", one, without)]
            for name, d, o in order[r % 2 :] + order[: r % 2]:
                t0 = time.perf_counter()
                value(d, o)
                times[name].append(time.perf_counter() - t0)
        t_two, t_one = statistics.median(times["two"]), statistics.median(times["one"])
        mem_two = peak_mib(lambda d=two, o=with_price: value(d, o))
        mem_one = peak_mib(lambda d=one, o=without: value(d, o))
        print(
            f"| {n:,} | {t_two:.2f} s | {t_one:.2f} s | {t_two / t_one:.2f} | {per_scenario * n:.0f} s | "
            f"{per_scenario * n / t_two:.0f} | {mem_two:.0f} / {mem_one:.0f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
