"""What protection costs: how the publishing gate moves the headline numbers (issue 20).

On the demo participants (``data_samples/participants.parquet``) and on a synthetic cohort of
``--n`` people (default 20,000, :func:`evaluation.synth.participants`), compares what the analysis
computes with what the gate publishes (:mod:`evaluation.publish.perturbation`):

* ATT on systolic BP at week 24 (IPW, :func:`evaluation.effects.matched_att`): rounded by n;
* KPI shares at week 24 (risk-factor reduction, behaviour improvement): rounded by n;
* district enrolment rates (enrolled / participants per district), from perturbed counts;
* cell counts of district x arm, district x sex x age band and their margins: the mean absolute
  change (as the ONS reports it for Census 2021 tables), the share of cells changed, the largest change,
  and the published totals against the true totals.

Prints one table per cohort, then whether the ATT and the KPI shares stayed inside their own 95% CIs.

    .venv/bin/python benchmarks/bench_disclosure_utility.py [--n 20000] [--seed 2023]
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from evaluation import effects, synth
from evaluation.publish import perturbation as pt

KEY = pt.DEMO_KEY  # the public demo key: these are synthetic people
COVARIATES = ["age", "income_quintile", "sbp_w0", "dbp_w0", "waist_w0", "glucose_w0", "tg_w0", "hdl_w0", "bmi_w0",
              "walk_days_w0"]


def _count_changes(people: pd.DataFrame, by: list[str]) -> dict[str, float]:
    """Mean absolute change of cells and of margins between true and perturbed counts."""
    pub = pt.perturbed_with_margins(people, by, key=KEY)
    parts = []
    for k in range(len(by), -1, -1):
        import itertools
        for keep in itertools.combinations(by, k):
            keep = list(keep)
            true = (people.groupby(keep, observed=True).size().rename("true").reset_index() if keep
                    else pd.DataFrame({"true": [len(people)]}))
            sel = pub[pub[[c for c in by if c not in keep]].isna().all(axis=1) & pub[keep].notna().all(axis=1)] \
                if len(keep) < len(by) else pub[~pub["margin"]]
            sel = sel.merge(true, on=keep, how="left") if keep else sel.assign(true=len(people))
            parts.append(sel.assign(level=len(keep)))
    allc = pd.concat(parts, ignore_index=True)
    allc["true"] = allc["true"].fillna(0)
    diff = (allc["count"].astype(float) - allc["true"]).abs()
    cells = allc["level"] == len(by)
    return {"cells": int(cells.sum()), "mac_cells": diff[cells].mean(), "changed_share": (diff[cells] > 0).mean(),
            "max_change": diff.max(), "mac_margins": diff[~cells].mean(),
            "small_true": int(((allc["true"] >= 1) & (allc["true"] < 10)).sum()),
            "small_published": int(((allc["count"] >= 1) & (allc["count"] < 10)).sum()),
            "total_true": len(people), "total_published": int(allc.loc[allc["level"] == 0, "count"].iloc[0])}


def utility(people: pd.DataFrame, name: str) -> tuple[pd.DataFrame, list[str]]:
    rows, checks = [], []
    people = people.assign(arm=people["arm"].astype(str), sex=people["sex"].astype(str),
                           age_band=people["age_band"].astype(str), district=people["district"].astype(str))
    # ATT (IPW) on systolic BP at week 24
    c = people.assign(t=people["treated"].astype(int))
    ipw = effects.matched_att(c, "t", "sbp_w24", [v for v in COVARIATES if v in c], method="ipw")
    n = int(min(c["t"].sum(), (1 - c["t"]).sum()))
    pub = pt.round_stat(ipw.estimate, n, "mean")
    rows.append({"measure": "ATT sbp (IPW), mmHg", "true": ipw.estimate, "published": pub,
                 "abs_change": abs(pub - ipw.estimate) if pub is not None else np.nan})
    checks.append(f"{name}: ATT {pub} inside its 95% CI [{ipw.ci[0]:.3f}, {ipw.ci[1]:.3f}]: "
                  f"{pub is not None and ipw.ci[0] <= pub <= ipw.ci[1]}")
    # KPI shares
    kpi = effects.kpis(people, verbose=False)
    for ind in ("risk_reduction", "behaviour_improvement"):
        r = kpi.table.set_index(["indicator", "week"]).loc[(ind, 24)]
        pub = pt.round_stat(r["share"], r["n"], "share")
        rows.append({"measure": f"KPI {ind} share (n={int(r['n'])})", "true": r["share"], "published": pub,
                     "abs_change": abs(pub - r["share"]) if pub is not None else np.nan})
        checks.append(f"{name}: KPI {ind} {pub} inside its 95% CI [{r['ci_low']:.4f}, {r['ci_high']:.4f}]: "
                      f"{pub is not None and r['ci_low'] <= pub <= r['ci_high']}")
    # district enrolment rates from perturbed counts
    den = pt.perturbed_counts(people, ["district"], key=KEY).set_index("district")["count"].astype(float)
    num = pt.perturbed_counts(people[people["treated"].astype(bool)], ["district"], key=KEY,
                              levels={"district": list(den.index)}).set_index("district")["count"].astype(float)
    true_rate = people.groupby("district")["treated"].mean()
    pub_rate = pd.Series([pt.round_stat(a / b if b else np.nan, b, "share") for a, b in zip(num, den)], index=den.index)
    d = (pub_rate.astype(float) - true_rate.reindex(pub_rate.index)).abs()
    rows.append({"measure": f"district enrolment rate, mean |change| in pp ({int(pub_rate.notna().sum())}/{len(pub_rate)} published)",
                 "true": np.nan, "published": np.nan, "abs_change": 100 * d.mean()})
    rows.append({"measure": "district enrolment rate, max |change| in pp", "true": np.nan, "published": np.nan,
                 "abs_change": 100 * d.max()})
    # counts: mean absolute change (ONS)
    for by in (["district", "arm"], ["district", "sex", "age_band"]):
        ch = _count_changes(people, by)
        label = " x ".join(by)
        rows.append({"measure": f"{label}: mean |change| of cells ({ch['cells']} cells, {ch['changed_share']:.0%} changed)",
                     "true": np.nan, "published": np.nan, "abs_change": ch["mac_cells"]})
        rows.append({"measure": f"{label}: mean |change| of margins", "true": np.nan, "published": np.nan,
                     "abs_change": ch["mac_margins"]})
        rows.append({"measure": f"{label}: largest |change|; cells 1-9 true / published", "true": ch["small_true"],
                     "published": ch["small_published"], "abs_change": ch["max_change"]})
        rows.append({"measure": f"{label}: grand total", "true": ch["total_true"], "published": ch["total_published"],
                     "abs_change": abs(ch["total_published"] - ch["total_true"])})
    return pd.DataFrame(rows), checks


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=2023)
    args = ap.parse_args()
    pd.set_option("display.width", 200)
    pd.set_option("display.max_colwidth", 90)
    root = Path(__file__).resolve().parents[1]
    cohorts = [("demo", pd.read_parquet(root / "data_samples" / "participants.parquet")),
               (f"synthetic n={args.n:,}", synth.participants(args.n, seed=args.seed))]
    all_checks = []
    for name, people in cohorts:
        t0 = time.perf_counter()
        table, checks = utility(people, name)
        all_checks += checks
        print(f"\n== {name} ({len(people):,} people, {time.perf_counter() - t0:.1f} s)")
        print(table.to_string(index=False, float_format=lambda v: f"{v:,.4f}"))
    print()
    print("\n".join(all_checks))


if __name__ == "__main__":
    main()
