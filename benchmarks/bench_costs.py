"""Throughput of the cost module: participant bootstrap and Markov model runs.

Prints replicates/s of :func:`evaluation.costs.bootstrap_ce` against a plain
per-replicate pandas loop (the obvious baseline) measured in the same run, and
Markov model runs/s (the PSA inner loop).
"""
from __future__ import annotations

import time

import numpy as np
import pandas as pd

from evaluation import costs


def timed(fn, repeat: int = 3) -> float:
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    rng = np.random.default_rng(0)
    n, n_boot = 2_000, 500
    df = pd.DataFrame({"arm": rng.choice(["a", "b", "c"], n), "cost": rng.gamma(2, 1e5, n),
                       "effect": rng.normal(0.7, 0.1, n)})

    def baseline():
        out = []
        for b in range(n_boot):
            res = df.groupby("arm").sample(frac=1.0, replace=True, random_state=b).groupby("arm")[["cost", "effect"]].mean()
            out.append(res.to_numpy())
        return out

    t_fast = timed(lambda: costs.bootstrap_ce(df, arm="arm", cost="cost", effect="effect", n_boot=n_boot, seed=1))
    t_base = timed(baseline, repeat=1)
    print(f"bootstrap_ce: {n_boot / t_fast:,.0f} replicates/s ({n:,} participants, 3 arms); "
          f"pandas loop baseline {n_boot / t_base:,.0f}/s; ratio {t_base / t_fast:.1f}x")

    P = np.array([[0.9, 0.07, 0.02, 0.01], [0.1, 0.85, 0.03, 0.02], [0, 0, 0.95, 0.05], [0, 0, 0, 1.0]])
    model = costs.MarkovModel(["a", "b", "c", "dead"], P, [1e5, 5e5, 2e6, 0], [0.95, 0.85, 0.7, 0],
                              {"x": {}, "y": {"rr": 0.8}}, n_cycles=40)
    runs = 200
    t_m = timed(lambda: [model.copy().run() for _ in range(runs)])
    print(f"MarkovModel.run: {runs / t_m:,.0f} runs/s (2 strategies, 4 states, 40 cycles)")


if __name__ == "__main__":
    main()
