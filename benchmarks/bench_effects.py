"""Throughput of the effect estimators on a large synthetic staggered-adoption panel.

Prints unit-periods/s of :func:`evaluation.effects.staggered_did` (all ATT(g,t) with
influence-function SEs and the four aggregations) against the obvious baseline measured
in the same run: a loop over (group, period) cells that filters the long table with
pandas and takes the difference in mean changes (the same point estimates, no SEs, no
aggregations). Also :func:`weekly_panel` (daily rows -> participant-weeks) rows/s.

    .venv/bin/python benchmarks/bench_effects.py [--units 20000] [--periods 40]
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from evaluation import effects


def make_panel(n_units: int, n_periods: int, seed: int = 0) -> pd.DataFrame:
    """Cohorts adopt every 4 periods from period 5; a quarter of the units never do; effect grows with time."""
    rng = np.random.default_rng(seed)
    cohorts = np.arange(5, n_periods, 4)
    g = np.where(rng.random(n_units) < 0.25, 0, rng.choice(cohorts, n_units))
    t = np.arange(1, n_periods + 1)
    unit_fe = rng.normal(0, 2, n_units)[:, None]
    e = t[None, :] - g[:, None]
    effect = np.where((g[:, None] > 0) & (e >= 0), 1.0 + 0.1 * e, 0.0)
    y = unit_fe + 0.2 * t[None, :] + effect + rng.normal(0, 1, (n_units, n_periods))
    return pd.DataFrame({"unit": np.repeat(np.arange(n_units), n_periods), "period": np.tile(t, n_units),
                         "first": np.repeat(g, n_periods), "y": y.ravel()})


def naive_attgt(df: pd.DataFrame) -> dict[tuple[int, int], float]:
    """Never-treated controls, varying base period, difference in mean changes; one pandas filter per cell."""
    out = {}
    periods = sorted(df["period"].unique())
    for g in sorted(x for x in df["first"].unique() if x > 0):
        for i, t in enumerate(periods[1:], start=1):
            b = g - 1 if t >= g else periods[i - 1]
            if b == t:
                continue
            means = {}
            for name, mask in (("treat", df["first"] == g), ("ctrl", df["first"] == 0)):
                sub = df[mask]
                yt = sub.loc[sub["period"] == t].set_index("unit")["y"]
                yb = sub.loc[sub["period"] == b].set_index("unit")["y"]
                means[name] = (yt - yb.reindex(yt.index)).mean()
            out[(int(g), int(t))] = float(means["treat"] - means["ctrl"])
    return out


def timed(fn, repeat: int = 3) -> tuple[float, object]:
    best, res = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        res = fn()
        best = min(best, time.perf_counter() - t0)
    return best, res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--units", type=int, default=20_000)
    ap.add_argument("--periods", type=int, default=40)
    a = ap.parse_args()
    df = make_panel(a.units, a.periods)
    rows = len(df)

    t_fast, res = timed(lambda: effects.staggered_did(df, "unit", "period", "first", "y", est_method="reg"))
    t_base, base = timed(lambda: naive_attgt(df), repeat=1)
    got = {(int(g), int(t)): v for g, t, v in res.attgt[["group", "time", "att"]].itertuples(index=False)}
    diff = max(abs(got[k] - base[k]) for k in base)
    assert diff < 1e-8, f"baseline and staggered_did disagree by {diff}"
    print(f"staggered_did: {rows / t_fast:,.0f} unit-periods/s ({a.units:,} units x {a.periods} periods, "
          f"{len(got)} ATT(g,t) cells with SEs and 4 aggregations) in {t_fast:.2f} s; "
          f"naive pandas loop (point estimates only) {rows / t_base:,.0f}/s in {t_base:.2f} s; "
          f"ratio {t_base / t_fast:.1f}x; max |difference| {diff:.1e}")

    t_dr, _ = timed(lambda: effects.staggered_did(df, "unit", "period", "first", "y", est_method="dr"), repeat=1)
    print(f"staggered_did (doubly robust, no covariates): {rows / t_dr:,.0f} unit-periods/s")

    # daily -> participant-weeks, the reduction the effectiveness notebook does first
    rng = np.random.default_rng(1)
    n_people, n_days = 5_000, 364
    dates = pd.date_range("2023-01-02", periods=n_days)
    daily = pd.DataFrame({"participant_id": np.repeat([f"P{i:06d}" for i in range(n_people)], n_days),
                          "date": np.tile(dates, n_people),
                          "steps": rng.integers(500, 15_000, n_people * n_days),
                          "valid_day": rng.random(n_people * n_days) < 0.9})
    people = pd.DataFrame({"participant_id": [f"P{i:06d}" for i in range(n_people)],
                           "treated": rng.random(n_people) < 0.5,
                           "index_date": dates[rng.integers(0, n_days, n_people)]})
    t_w, w = timed(lambda: effects.weekly_panel(daily, people), repeat=1)
    print(f"weekly_panel: {len(daily) / t_w:,.0f} daily rows/s ({len(daily):,} rows -> {len(w):,} participant-weeks)")


if __name__ == "__main__":
    main()
