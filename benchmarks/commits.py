"""This commit against another one, side by side in one run: the engine and the Monte Carlo.

A restructure must not slow dealcalc down, and this machine's speed drifts by ±30 % within an
hour, so the two are timed in the same run, interleaved: each round runs the old and the new
code once, each in a fresh process, in alternating order, and the medians are compared. The old
commit is checked out into a temporary git worktree (nothing of it is installed; its ``src`` goes
first on the path). Each commit values its own bundled deal.

Run from the repository root: ``python benchmarks/commits.py HEAD~1`` (about two minutes), or
``--rounds 3 --scenarios 100000 --draws 16384`` for a quick look. Reported: the median seconds of
each workload on each commit, and new / old.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: Each workload runs once to warm up, then is timed; it prints the seconds.
ENGINE = """
import time, numpy as np, dealcalc as dc
deal = dc.load(dc.example_path("ussm-fwo"))
rng = np.random.default_rng(0)
n = {n}
ov = {{"price_decks.base.antimony": rng.uniform(2e4, 6e4, n), "phases.refinery.capex_usd": rng.uniform(2e8, 5e8, n),
      "valuation.discount_rate": rng.uniform(0.08, 0.2, n)}}
m = {metrics}
dc.evaluate(deal, overrides={{k: v[:1000] for k, v in ov.items()}}, metrics=m, keep_ledger=False)
t = time.perf_counter(); dc.evaluate(deal, overrides=ov, metrics=m, keep_ledger=False); print(time.perf_counter() - t)
"""
MONTE_CARLO = """
import time, dealcalc as dc
deal = dc.load(dc.example_path("ussm-fwo"))
dc.monte_carlo(deal, 4096, seed=2)
t = time.perf_counter(); dc.monte_carlo(deal, {n}, seed=1); print(time.perf_counter() - t)
"""


def _run(tree: Path, code: str) -> float:
    out = subprocess.run(
        [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(tree / 'src')!r})\n{code}"],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ref", help="the commit to compare with (e.g. HEAD~1 or a hash)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--scenarios", type=int, default=1_000_000)
    parser.add_argument("--draws", type=int, default=100_000)
    args = parser.parse_args()
    workloads = {
        f"engine, {args.scenarios:,} scenarios, NPV and IRR": ENGINE.format(
            n=args.scenarios, metrics='["npv_usd", "irr"]'
        ),
        f"engine, {args.scenarios:,} scenarios, every metric": ENGINE.format(
            n=args.scenarios, metrics="None"
        ),
        f"Monte Carlo, {args.draws:,} draws, everything on": MONTE_CARLO.format(n=args.draws),
    }
    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp) / "old"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(old), args.ref], check=True
        )
        try:
            times: dict[str, dict[str, list[float]]] = {w: {"old": [], "new": []} for w in workloads}
            for r in range(args.rounds):
                order = [("old", old), ("new", ROOT)] if r % 2 == 0 else [("new", ROOT), ("old", old)]
                for name, code in workloads.items():
                    for label, tree in order:
                        times[name][label].append(_run(tree, code))
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old)], check=True)
    print(f"new = this tree, old = {args.ref}; medians of {args.rounds} interleaved rounds\n")
    print("| workload | old | new | new / old |")
    print("|---|---|---|---|")
    for name, got in times.items():
        a, b = statistics.median(got["old"]), statistics.median(got["new"])
        print(f"| {name} | {a:.2f} s | {b:.2f} s | {b / a:.2f} |")


if __name__ == "__main__":
    main()
