"""The reference for the staggered DiD parity tests: ``moderndid`` (the Python port of R ``did`` 2.x) fitted on
the same long panel, and a comparison of its ATT(g,t) and four aggregations with ours.

Where moderndid and R ``did`` (>= 2.3, source read at github.com/bcallaway11/did) disagree, these tests follow R
and say so in ``compare``'s ``exclude_cohort`` / ``positions`` arguments:

* without never-treated units (not-yet-treated controls), R drops the periods from the last cohort's start on
  and leaves that cohort out of ``glist`` (it is only a control); moderndid drops the same periods but still
  reports pre-treatment ATT(g,t) of that cohort (entering its event-study bins e < 0 and its pre-test).
  The cells of that cohort are excluded from the comparison, and so are the dynamic bins e < 0 and the pre-test.
* with labels that are not consecutive integers, R and moderndid bin event time by label difference (e.g.
  202101 - 202012 = 89) and count anticipation in label units; we count periods. There we compare with
  moderndid fitted on the same panel relabelled 1..T, which is the design the brief asks for (labels must not
  change the answer), and check that ATT(g,t), simple, group and calendar also equal moderndid's on the
  original labels when there is no anticipation.

Other known differences, outside the random draws (each has its own test in test_effects_did_edge_cases.py):

* ``control_group="nevertreated"`` without never-treated units: R and moderndid turn the last cohort into the
  controls with a warning; we refuse with an error (the user asked for never-treated controls and has none).
* a cohort starting after the last period with anticipation > 0: R recodes it as never treated only if it starts
  after the last period + anticipation (label units); moderndid and we recode any cohort after the last period.
* DRDID's trimming (comparison units with a propensity score >= 0.995 get weight 0) and R's per-cell guards
  (overlap: a score >= 0.999; singular comparison-unit covariates) are applied as in R; the cells such a guard
  stops are listed in ``diagnostics`` and left out of every aggregation (R: NA, then ``na.rm``).
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

AGGS = ("simple", "group", "dynamic", "calendar")
KEY = {"group": "group", "dynamic": "event_time", "calendar": "time"}


def moderndid_fit(d: pd.DataFrame, *, covariates=(), control_group="nevertreated", est_method="dr",
                  base_period="varying", anticipation=0, unit="unit", time="period", group="first", outcome="y"):
    """moderndid's att_gt and its four aggte aggregations (analytic SEs, pointwise bands) as tidy tables."""
    import moderndid as md

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = md.att_gt(d, yname=outcome, tname=time, gname=group, idname=unit,
                      xformla=("~" + "+".join(covariates)) if covariates else None, control_group=control_group,
                      est_method=est_method, base_period=base_period, anticipation=anticipation)
        out = {"attgt": pd.DataFrame({"group": m.groups, "time": m.times, "att": m.att_gt, "se": m.se_gt}),
               "pretest": (m.wald_stat, m.wald_pvalue)}
        for k in AGGS:
            a = md.aggte(m, type=k, cband=False, na_rm=True)  # NaN cells only arise for the cohort R excludes
            tab = None
            if k != "simple":
                tab = pd.DataFrame({KEY[k]: a.event_times, "att": a.att_by_event, "se": a.se_by_event})
                tab = tab[tab["att"].notna()].reset_index(drop=True)
            out[k] = (float(a.overall_att), float(a.overall_se), tab)
    return out


def _close_se(a: np.ndarray, b: np.ndarray, rtol: float) -> float:
    """Largest relative SE difference; NaN patterns (SE of a constant) must agree."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    assert np.array_equal(np.isnan(a), np.isnan(b)), (a, b)
    ok = ~np.isnan(a)
    if not ok.any():
        return 0.0
    rel = float(np.max(np.abs(a[ok] - b[ok]) / np.maximum(np.abs(b[ok]), 1e-12)))
    assert rel <= rtol, (a, b)
    return rel


def compare(res, ref: dict, *, to_ref=lambda x: x, exclude_cohort=None, aggs=AGGS, att_tol=1e-6, se_rtol=1e-4,
            pretest=True) -> dict:
    """Assert our result ``res`` equals moderndid's ``ref``; return the largest |differences| seen.

    ``to_ref`` maps our period labels to ``ref``'s (identity, or label -> position when ref was fitted on 1..T).
    ``exclude_cohort``: a ref cohort (ref labels) only R treats as a control (see module docstring)."""
    diffs = {}
    ours = res.attgt.assign(group=res.attgt["group"].map(to_ref), time=res.attgt["time"].map(to_ref))
    theirs = ref["attgt"]
    theirs = theirs[theirs["att"].notna()]  # cells neither can estimate (overlap, singular): we skip them too
    if exclude_cohort is not None:
        theirs = theirs[theirs["group"] != exclude_cohort]
    o = ours.set_index(["group", "time"]).sort_index()
    t = theirs.set_index(["group", "time"]).sort_index()
    assert list(o.index) == list(t.index), (list(o.index), list(t.index))
    diffs["attgt"] = float(np.max(np.abs(o["att"] - t["att"])))
    assert diffs["attgt"] <= att_tol, diffs
    diffs["attgt_se"] = _close_se(o["se"], t["se"], se_rtol)
    for k in aggs:
        est, se, tab = ref[k]
        a = res.aggregate(k)
        if k == "dynamic" and exclude_cohort is not None:
            tab = tab[tab["event_time"] >= 0]
        diffs[k] = abs(a.estimate - est)
        assert diffs[k] <= att_tol, (k, a.estimate, est)
        diffs[k + "_se"] = _close_se([a.se], [se], se_rtol)
        if tab is not None:
            mine = a.table.copy()
            if k != "dynamic":
                mine[KEY[k]] = mine[KEY[k]].map(to_ref)
            else:
                mine = mine[mine["event_time"].isin(tab["event_time"])]
            mine = mine.sort_values(KEY[k]).reset_index(drop=True)
            tab = tab.sort_values(KEY[k]).reset_index(drop=True)
            assert np.allclose(mine[KEY[k]].astype(float), tab[KEY[k]].astype(float)), (k, mine, tab)
            diffs[k + "_table"] = float(np.max(np.abs(mine["att"] - tab["att"])))
            assert diffs[k + "_table"] <= att_tol, (k, mine, tab)
            diffs[k + "_table_se"] = _close_se(mine["se"], tab["se"], se_rtol)
    stat, _ = ref["pretest"]
    if pretest and exclude_cohort is None:
        assert (stat is None) == (not np.isfinite(res.pretest["stat"])), (res.pretest, ref["pretest"])
        if stat is not None:
            diffs["pretest"] = abs(res.pretest["stat"] - stat) / max(abs(stat), 1e-12)
            assert diffs["pretest"] <= 1e-6, (res.pretest, ref["pretest"])
    return diffs
