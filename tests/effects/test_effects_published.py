"""Reproduce published results on real public data (paper / table cited in each test)."""
from __future__ import annotations

import numpy as np
import pytest

from evaluation import effects
from evaluation.effects import _reference


def test_its_sicily_smoking_ban_lopez_bernal_2017():
    """Lopez Bernal, Cummins & Gasparrini (2017) Int J Epidemiol 46:348, quasi-Poisson with offset
    log(stdpop): RR 0.885 (0.839-0.933) with 2 harmonic pairs; 0.894 (0.839-0.953) without seasonality."""
    d = _reference.sicily()
    r = effects.its(d, "aces", "time", "smokban", offset="stdpop", seasonality=2, period=12, impact="level")
    assert round(r.rate_ratio, 3) == 0.885
    assert tuple(round(x, 3) for x in r.rate_ratio_ci) == (0.839, 0.933)
    r0 = effects.its(d, "aces", "time", "smokban", offset="stdpop", seasonality=0, impact="level")
    assert round(r0.rate_ratio, 3) == 0.894
    assert tuple(round(x, 3) for x in r0.rate_ratio_ci) == (0.839, 0.953)
    assert r0.summary().loc[lambda t: t.term == "rate_ratio", "estimate"].item() == pytest.approx(0.894, abs=5e-4)


def test_did_card_krueger_1994_table3():
    """Card & Krueger (1994) AER 84:772, Table 3: FTE means PA 23.33 -> 21.17, NJ 20.44 -> 21.03;
    DiD on the balanced sample (n = 384) 2.75 (SE 1.34)."""
    long = _reference.card_krueger_long()
    r = effects.did_2x2(long, "fte", "nj", "post", unit="store")
    assert r.n == 384
    assert round(r.estimate, 2) == 2.75
    assert round(r.se, 2) == 1.34
    m = r.means.round(2)
    assert (m.loc[0, "pre"], m.loc[0, "post"]) == (23.33, 21.17)
    assert (m.loc[1, "pre"], m.loc[1, "post"]) == (20.44, 21.03)


def test_staggered_mpdta_callaway_santanna_did_vignette():
    """Callaway & Sant'Anna (2021) J Econometrics 225:200; R package `did` vignette 'Getting Started'
    (mpdta, lemp, no covariates, never-treated, DR): ATT(g,t) table, pre-test p = 0.16812, dynamic
    aggregation overall -0.0772 (bootstrap SE 0.0203) with e = -3..3 estimates."""
    import importlib.util

    if importlib.util.find_spec("moderndid") is None:
        pytest.skip("mpdta ships in the PyPI package 'moderndid' (data source only): pip install moderndid")
    d = _reference.mpdta()
    r = effects.staggered_did(d, "countyreal", "year", "first_treat", "lemp", est_method="dr")
    published = {(2004, 2004): -0.0105, (2004, 2005): -0.0704, (2004, 2006): -0.1373, (2004, 2007): -0.1008,
                 (2006, 2004): 0.0065, (2006, 2005): -0.0028, (2006, 2006): -0.0046, (2006, 2007): -0.0412,
                 (2007, 2004): 0.0305, (2007, 2005): -0.0027, (2007, 2006): -0.0311, (2007, 2007): -0.0261}
    got = {(int(g), int(t)): round(a, 4) for g, t, a in r.attgt[["group", "time", "att"]].itertuples(index=False)}
    assert got == published
    assert round(r.pretest["pvalue"], 5) == 0.16812
    assert round(r.dynamic.estimate, 4) == -0.0772
    dyn = dict(zip(r.dynamic.table["event_time"], r.dynamic.table["att"].round(4)))
    assert dyn == {-3: 0.0305, -2: -0.0006, -1: -0.0245, 0: -0.0199, 1: -0.0510, 2: -0.1373, 3: -0.1008}
    # published SEs are multiplier-bootstrap draws; the analytic SE must agree to bootstrap noise
    assert r.dynamic.se == pytest.approx(0.0203, rel=0.08)
    boot = effects.staggered_did(d, "countyreal", "year", "first_treat", "lemp", se="bootstrap", n_boot=999, seed=1)
    assert boot.dynamic.se == pytest.approx(0.0203, rel=0.12)
    # the estimators agree without covariates (all reduce to differences in mean changes)
    for m in ("ipw", "reg"):
        other = effects.staggered_did(d, "countyreal", "year", "first_treat", "lemp", est_method=m)
        assert other.dynamic.estimate == pytest.approx(r.dynamic.estimate, abs=1e-10)


def test_e_value_vanderweele_ding_2017():
    """VanderWeele & Ding (2017) Ann Intern Med 167:268: RR 3.9 (95% CI 1.8-8.7) -> E-values 7.26 and 3.0."""
    ev = effects.e_value(3.9, (1.8, 8.7))
    assert round(ev.e_value, 2) == 7.26
    assert round(ev.e_value_ci, 1) == 3.0
    assert effects.e_value(1 / 3.9).e_value == pytest.approx(ev.e_value)
    assert effects.e_value(1.2, (0.9, 1.5)).e_value_ci == 1.0


def test_ipw_nhefs_hernan_robins_what_if_chapter_12():
    """Hernan & Robins, *Causal Inference: What If* (CRC 2020), section 12.2 and Program 12.2 (NHEFS, N = 1566):
    the effect of quitting smoking on weight gain by IP weighting with the logit model
    qsmk ~ sex + race + age + age^2 + education + smokeintensity + smokeintensity^2 + smokeyrs + smokeyrs^2
    + exercise + active + wt71 + wt71^2 (education, exercise, active as categories) is 3.4 kg, conservative
    (robust, weights taken as known) 95% CI 2.4 to 4.5; the weights range from 1.05 to 16.7 with mean 2.00.
    The NHEFS complete-case file ships in the PyPI package ``causaldata`` (data only)."""
    causaldata = pytest.importorskip("causaldata", reason="NHEFS ships in the PyPI package 'causaldata'")
    d = causaldata.nhefs_complete.load_pandas().data
    assert len(d) == 1566
    for c in ("age", "smokeintensity", "smokeyrs", "wt71"):
        d[f"{c}_sq"] = d[c].astype(float) ** 2
    for c in ("sex", "race", "education", "exercise", "active"):
        d[c] = d[c].astype(str)  # categorical: one-hot, first level as reference
    covs = ["sex", "race", "age", "age_sq", "education", "smokeintensity", "smokeintensity_sq", "smokeyrs",
            "smokeyrs_sq", "exercise", "active", "wt71", "wt71_sq"]
    r = effects.matched_att(d, "qsmk", "wt82_71", covs, method="ipw", estimand="ATE", se="robust")
    assert round(r.estimate, 1) == 3.4
    assert tuple(round(x, 1) for x in r.ci) == (2.4, 4.5)
    w = r.weights_
    assert (round(w.min(), 2), round(w.max(), 1), round(w.mean(), 2)) == (1.05, 16.7, 2.00)
    # the book fits the weighted model by GEE with a robust SE: statsmodels' GEE on our weights agrees
    import statsmodels.api as sm

    gee = sm.GEE(d["wt82_71"].astype(float), sm.add_constant(d["qsmk"].astype(float)), groups=np.arange(len(d)),
                 weights=w).fit()
    assert r.estimate == pytest.approx(float(gee.params.iloc[1]), abs=1e-8)
    assert r.se == pytest.approx(float(gee.bse.iloc[1]), rel=1e-6)
    # the default SE also accounts for estimating the score: smaller than the conservative robust SE
    r_if = effects.matched_att(d, "qsmk", "wt82_71", covs, method="ipw", estimand="ATE")
    assert r_if.estimate == pytest.approx(r.estimate, abs=1e-12)
    assert 0.8 * r.se < r_if.se < r.se
    # stabilised weights (Program 12.3) leave the estimate unchanged: range 0.33-4.30, mean 1.00
    p1 = d["qsmk"].mean()
    sw = np.where(d["qsmk"] == 1, p1, 1 - p1) * w
    assert (round(sw.min(), 2), round(sw.max(), 2), round(sw.mean(), 2)) == (0.33, 4.30, 1.00)
