"""Markov cohort model: exact reproduction of two published models, properties, PSA and tornado."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evaluation import costs

# ---- (a) HIV/AIDS model: Chancellor et al. 1997, Pharmacoeconomics 12:54-66, as in Briggs, Claxton &
# Sculpher (2006) "Decision Modelling for Health Economic Evaluation", Example/Exercise 2.5 and its Excel
# solution. Published results (the Excel model, as asserted by heemod's tests/testthat/test_dmhee.R):
# monotherapy cost 44,663.4535637 GBP and 7.9912066 LYs; combination 50,601.6513312 GBP and 8.9373889 LYs;
# ICER 6,275.95560 GBP per LY gained (book: 44,663 / 50,602 / 6,276).

HIV_COUNTS = np.array([[1251, 350, 116, 17], [0, 731, 512, 15], [0, 0, 1312, 437]], dtype=float)


def hiv_model(rr: float = 0.509, c_lam: float = 2086.5, P: np.ndarray | None = None, **kw) -> costs.MarkovModel:
    if P is None:
        P = np.vstack([HIV_COUNTS / HIV_COUNTS.sum(axis=1, keepdims=True), [0, 0, 0, 1.0]])
    drug = 2278.0
    state_costs = np.array([2756 + drug, 3052 + drug, 9007 + drug, 0.0])
    lam = np.array([c_lam] * 3 + [0.0])
    return costs.MarkovModel(
        states=["A", "B", "C", "Death"], transition=P, state_costs=state_costs, state_utilities=[1, 1, 1, 0],
        strategies={
            "mono": costs.Strategy(),
            # combination for the first two years: risk ratio on progression and lamivudine cost
            "comb": costs.Strategy(rr=lambda k: rr if k <= 2 else 1.0, extra_costs=lambda t: lam * (1 <= t <= 2)),
        },
        n_cycles=20, discount_costs=0.06, discount_effects=0.0, method="end", effect="life_years",
        # the Briggs spreadsheet discounts cycle 1 by 1/1.06 (heemod's test_dmhee.R: discount(first = TRUE))
        discount_timing=kw.pop("discount_timing", "cycle_end"), **kw,
    )


def test_reproduces_briggs_hiv_model_exactly():
    m = hiv_model().run()
    r = m.results_.set_index("strategy")
    assert r.loc["mono", "cost"] == pytest.approx(44663.4535637, abs=5e-8)
    assert r.loc["comb", "cost"] == pytest.approx(50601.6513312, abs=5e-8)
    assert r.loc["mono", "life_years"] == pytest.approx(7.9912066, abs=5e-8)
    assert r.loc["comb", "life_years"] == pytest.approx(8.9373889, abs=5e-8)
    icer = m.icer_table_.table_.set_index("strategy").loc["comb", "icer"]
    assert icer == pytest.approx(6275.95560, abs=5e-6)
    # printed book precision
    assert round(r.loc["mono", "cost"]) == 44663 and round(r.loc["comb", "cost"]) == 50602 and round(icer) == 6276
    # the transition matrices agree with Briggs Table 2.2 (3 decimals)
    P = m.transition
    np.testing.assert_allclose(P[0], [0.721, 0.202, 0.067, 0.010], atol=5e-4)


# ---- (b) Total hip replacement model: Briggs et al. (2006) Example 3.5 (time-dependent revision hazard,
# age-dependent mortality, costs discounted at 6% and QALYs at 1.5%). Published Excel results (as asserted by
# heemod's tests/testthat/test_dmhee.R): standard 512.434658 GBP / 14.6531896 QALYs; NP1 610.311818 GBP /
# 14.69770986 QALYs; ICER 2,198.486665 GBP per QALY.

def thr_model() -> costs.MarkovModel:
    bins = np.array([35, 45, 55, 65, 75, 85])
    female_mortality = np.array([0.99, 2.6, 6.7, 19.3, 53.5, 154.8]) / 1000  # life table, women, by age band
    lam = np.exp(-5.490935 - 0.0367022 * 60)  # Weibull scale, women aged 60
    gamma = np.exp(0.3740968)
    rr_np1 = np.exp(-1.344474)

    def transition(hazard_ratio: float):
        def P(k: int) -> np.ndarray:
            mr = female_mortality[np.searchsorted(bins, 60 + k, side="right") - 1]
            rev = 1 - np.exp(lam * hazard_ratio * ((k - 1) ** gamma - k ** gamma))
            return np.array([
                [0, 0.98, 0, 0, 0.02],
                [0, 1 - rev - mr, rev, 0, mr],
                [0, 0, 0, 1 - 0.02 - mr, 0.02 + mr],
                [0, 0, 0.04, 1 - 0.04 - mr, mr],
                [0, 0, 0, 0, 1],
            ])
        return P

    def primary_cost(c: float):
        return lambda t: [c if t == 0 else 0.0, 0, 5294, 0, 0]

    return costs.MarkovModel(
        states=["PrimaryTHR", "SuccessP", "RevisionTHR", "SuccessR", "Death"],
        state_utilities=[0, 0.85, 0.30, 0.75, 0],
        strategies={"standard": costs.Strategy(transition=transition(1.0), state_costs=primary_cost(394)),
                    "np1": costs.Strategy(transition=transition(rr_np1), state_costs=primary_cost(579))},
        n_cycles=61, discount_costs=0.06, discount_effects=0.015, method="start",
    )


def test_reproduces_briggs_thr_time_dependent_model_exactly():
    m = thr_model().run()
    r = m.results_.set_index("strategy")
    assert r.loc["standard", "cost"] == pytest.approx(512.434658, abs=5e-7)
    assert r.loc["standard", "qalys"] == pytest.approx(14.6531896, abs=5e-8)
    assert r.loc["np1", "cost"] == pytest.approx(610.311818, abs=5e-7)
    assert r.loc["np1", "qalys"] == pytest.approx(14.69770986, abs=5e-9)
    assert m.icer_table_.table_.set_index("strategy").loc["np1", "icer"] == pytest.approx(2198.486665, abs=5e-6)
    # cohort counts after transitions 1-3 (Briggs Excel, standard prosthesis)
    tr = m.trace_["standard"]
    np.testing.assert_allclose(tr.loc[2, ["SuccessP", "RevisionTHR", "SuccessR", "Death"]],
                               [0.97265720, 0.0007768, 0.0, 0.02656600], atol=5e-9)
    np.testing.assert_allclose(tr.loc[3, ["SuccessP", "RevisionTHR", "SuccessR", "Death"]],
                               [0.96516548, 0.00097491, 0.00075606, 0.03310354], atol=5e-9)


def test_three_d_array_equals_callable():
    m1 = thr_model().run()
    m2 = thr_model()
    for name, stg in m2.strategies.items():
        arr = np.stack([stg.transition(k) for k in range(1, 62)])
        stg.transition = arr
    m2.run()
    pd.testing.assert_frame_equal(m1.results_, m2.results_)


# ---- properties ------------------------------------------------------------------------------

def _random_matrix(rng, s):
    P = rng.dirichlet(np.ones(s), size=s)
    P[-1] = 0
    P[-1, -1] = 1
    return P


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), s=st.integers(2, 6), n=st.integers(1, 40),
       size=st.sampled_from([1.0, 1000.0, 150_000.0]),
       method=st.sampled_from(["start", "end", "half_cycle", "life_table"]), rr=st.floats(0.0, 1.0))
def test_cohort_sums_to_cohort_size_every_cycle(seed, s, n, size, method, rr):
    rng = np.random.default_rng(seed)
    states = [f"s{i}" for i in range(s - 1)] + ["dead"]
    m = costs.MarkovModel(states, _random_matrix(rng, s), rng.gamma(2, 1e5, s), rng.uniform(0, 1, s),
                          {"a": {}, "b": {"rr": rr}}, n_cycles=n, cohort_size=size, method=method,
                          init=rng.uniform(0.1, 1, s)).run()
    for tr in m.trace_.values():
        np.testing.assert_allclose(tr.sum(axis=1), size, rtol=1e-10)
        assert (tr.to_numpy() >= 0).all()


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), s=st.integers(2, 5), n=st.integers(1, 30),
       method=st.sampled_from(["start", "end", "half_cycle"]))
def test_discounting_at_zero_equals_plain_sums(seed, s, n, method):
    rng = np.random.default_rng(seed)
    c, u = rng.gamma(2, 1e5, s), rng.uniform(0, 1, s)
    P = _random_matrix(rng, s)
    m = costs.MarkovModel([f"s{i}" for i in range(s)], P, c, u, n_cycles=n, discount_costs=0.0,
                          discount_effects=0.0, method=method, dead_states=[f"s{s - 1}"]).run()
    tr = m.trace_["base"].to_numpy()
    rows = {"start": slice(0, n), "end": slice(1, n + 1)}.get(method)
    if rows is not None:
        plain_cost = (tr[rows] @ c).sum()
        plain_q = (tr[rows] @ u).sum()
    else:  # trapezoid: all rows, half weight on the first and last
        w = np.ones(n + 1)
        w[[0, -1]] = 0.5
        plain_cost, plain_q = w @ (tr @ c), w @ (tr @ u)
    r = m.results_.iloc[0]
    assert r["cost"] == pytest.approx(plain_cost, rel=1e-12)
    assert r["qalys"] == pytest.approx(plain_q, rel=1e-12)
    assert r["cost"] == pytest.approx(r["cost_undiscounted"], rel=1e-12)


def test_counting_methods_relations():
    base = dict(states=["well", "dead"], transition=[[0.9, 0.1], [0, 1]], state_costs=[100.0, 0],
                state_utilities=[1.0, 0.0], n_cycles=10, discount_costs=0.0, discount_effects=0.0)
    res = {m: costs.MarkovModel(**base, method=m).run().results_.iloc[0] for m in
           ("start", "end", "half_cycle", "simpson")}
    # closed form: life years counted at the start = sum_{t=0}^{9} 0.9^t
    assert res["start"]["life_years"] == pytest.approx((1 - 0.9 ** 10) / 0.1)
    assert res["end"]["life_years"] == pytest.approx(0.9 * (1 - 0.9 ** 10) / 0.1)
    assert res["half_cycle"]["life_years"] == pytest.approx((res["start"]["life_years"] + res["end"]["life_years"]) / 2)
    # Simpson is exact-ish for the smooth survival curve: integral of 0.9^t from 0 to 10
    exact = (1 - 0.9 ** 10) / -np.log(0.9)
    assert abs(res["simpson"]["life_years"] - exact) < abs(res["half_cycle"]["life_years"] - exact)
    assert res["simpson"]["life_years"] == pytest.approx(exact, rel=1e-4)
    with pytest.raises(ValueError, match="even n_cycles"):
        costs.MarkovModel(**{**base, "n_cycles": 9}, method="simpson").run()


def test_default_discount_is_korean_guideline_rate():
    m = costs.MarkovModel(["well", "dead"], [[1, 0], [0, 1]], [100.0, 0], [1.0, 0], n_cycles=2, method="start")
    assert m.discount_costs == m.discount_effects == 0.045 == costs.KOREA_DISCOUNT_RATE
    r = m.run().results_.iloc[0]
    assert r["cost"] == pytest.approx(100 + 100 / 1.045)


def test_one_off_cost_and_cohort_size():
    m = costs.MarkovModel(["well", "dead"], [[0.5, 0.5], [0, 1]], [0.0, 0], [1.0, 0],
                          {"none": {}, "prog": {"one_off_cost": 50_000}}, n_cycles=3, cohort_size=1000).run()
    r = m.results_.set_index("strategy")
    assert r.loc["prog", "cost"] - r.loc["none", "cost"] == pytest.approx(50_000)


def test_bad_inputs_give_clear_errors():
    with pytest.raises(ValueError, match=r"row 'a' sums to"):
        costs.MarkovModel(["a", "b"], [[0.5, 0.6], [0, 1]], n_cycles=2).run()
    with pytest.raises(ValueError, match="negative probability"):
        costs.MarkovModel(["a", "b"], [[0.5, 0.5], [0, 1]], strategies={"x": {"rr": 3.0}}, n_cycles=2).run()
    with pytest.raises(ValueError, match="expected a 2x2"):
        costs.MarkovModel(["a", "b"], np.eye(3), n_cycles=2).run()
    with pytest.raises(ValueError, match="3-D transition has 2 matrices"):
        costs.MarkovModel(["a", "b"], np.stack([np.eye(2)] * 2), n_cycles=3).run()
    with pytest.raises(ValueError, match="unknown state"):
        costs.MarkovModel(["a", "b"], np.eye(2), state_costs={"c": 1}, n_cycles=2).run()
    with pytest.raises(ValueError, match="method must be"):
        costs.MarkovModel(["a", "b"], np.eye(2), method="middle").run()
    with pytest.raises(RuntimeError, match="run"):
        costs.MarkovModel(["a", "b"], np.eye(2)).summary()


def test_summary_trace_and_plot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    m = hiv_model()
    assert m.run() is m
    s = m.summary()
    assert {"cost", "life_years", "qalys", "icer", "status"} <= set(s.columns)
    long = m.trace(long=True)
    assert len(long) == 2 * 21 * 4
    fig = m.plot(lang="en")
    plt.close(fig)


# ---- PSA and one-way sensitivity ----------------------------------------------------------------

def _build_hiv(p: dict) -> costs.MarkovModel:
    P = np.vstack([p["from_A"], np.r_[0, p["from_B"]], np.r_[0, 0, p["from_C"]], [0, 0, 0, 1.0]])
    return hiv_model(rr=p["rr"], c_lam=p["c_lam"], P=P)


HIV_DISTS = {
    # Briggs et al. Exercise 4.7: Dirichlet on transition counts, log-normal on the relative risk
    "from_A": costs.Dirichlet((1251, 350, 116, 17)),
    "from_B": costs.Dirichlet((731, 512, 15)),
    "from_C": costs.Dirichlet((1312, 437)),
    "rr": costs.LogNormal(np.log(0.509), (np.log(0.710) - np.log(0.365)) / (2 * 1.96)),
    "c_lam": 2086.5,
}


def test_psa_of_hiv_model_matches_briggs_exercise_4_7_ranges():
    res = costs.psa(_build_hiv, HIV_DISTS, n=300, seed=11)
    s = res.summary().set_index("strategy")
    # probabilistic means close to the deterministic results; ICER distribution centred near 6,276
    assert s.loc["mono", "effect"] == pytest.approx(7.99, abs=0.1)
    assert s.loc["comb", "effect"] == pytest.approx(8.94, abs=0.15)
    icers = (res.costs_[:, 1] - res.costs_[:, 0]) / (res.effects_[:, 1] - res.effects_[:, 0])
    assert 5000 < np.median(icers) < 8000
    ce = res.ceac([0, 6_000, 20_000]).pivot(index="wtp", columns="strategy", values="prob")
    assert ce.loc[0, "mono"] == 1.0 and ce.loc[20_000, "comb"] > 0.95
    assert res.parameters_.shape == (300, 5)


def test_psa_small_and_distributions():
    res = costs.psa(_build_hiv, HIV_DISTS, n=20, seed=1)
    assert res.costs_.shape == (20, 2) and res.source == "psa"
    again = costs.psa(_build_hiv, HIV_DISTS, n=20, seed=1)
    np.testing.assert_array_equal(res.costs_, again.costs_)
    rng = np.random.default_rng(0)
    b = costs.Beta.from_mean_sd(0.3, 0.05)
    assert b.mean == pytest.approx(0.3) and b.sample(20_000, rng).std() == pytest.approx(0.05, rel=0.05)
    g = costs.Gamma.from_mean_sd(1e6, 2e5)
    assert g.sample(20_000, rng).mean() == pytest.approx(1e6, rel=0.02)
    ln = costs.LogNormal.from_ci(0.509, 0.365, 0.710)
    assert np.median(ln.sample(20_000, rng)) == pytest.approx(0.509, rel=0.02)
    assert costs.LogNormal.from_mean_sd(2.0, 0.5).mean == pytest.approx(2.0)
    d = costs.Dirichlet((1251, 350, 116, 17)).sample(5, rng)
    np.testing.assert_allclose(d.sum(axis=1), 1.0)
    with pytest.raises(ValueError):
        costs.Beta.from_mean_sd(0.5, 0.6)


def test_tornado_one_way():
    base = {k: (v.mean if hasattr(v, "mean") else v) for k, v in HIV_DISTS.items()}
    base["rr"] = 0.509
    t = costs.tornado(_build_hiv, base, {"rr": (0.365, 0.710), "c_lam": (1500.0, 3000.0)},
                      strategy="comb", reference="mono", outcome="icer")
    assert t.base_value_ == pytest.approx(6275.9556, rel=1e-6)
    tab = t.table_.set_index("parameter")
    assert tab.loc["c_lam", "outcome_high"] > t.base_value_ > tab.loc["c_lam", "outcome_low"]
    # a smaller risk ratio means a more effective combination and a lower ICER
    assert tab.loc["rr", "outcome_low"] < t.base_value_ < tab.loc["rr", "outcome_high"]
    assert list(t.table_["swing"]) == sorted(t.table_["swing"], reverse=True)
    with pytest.raises(ValueError, match="unknown parameter"):
        costs.tornado(_build_hiv, base, {"nope": (0, 1)}, strategy="comb", reference="mono")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.close(t.plot(lang="en"))


# ---- (c) heemod's own rendering of the same HIV model, vignette "Simple Markov Models (Homogeneous)"
# (vignettes/c-homogeneous.Rmd; rendered docs/articles/c_homogeneous.html, github.com/pierucci/heemod,
# heemod 0.14): rounded Briggs Table 2.2 matrix, rr = 0.509 on every off-diagonal probability in all cycles,
# lamivudine 2086 every cycle, 50 cycles, 1000 people in A, heemod's defaults: counting method
# "life-table" and discount(cost, .06) with first = FALSE (the first cycle is not discounted).
# Published summary(res_mod): cost_total mono 48762093, comb 92984848; life_year mono 8585.843,
# comb 17256.937; ICER 5100.02 GBP per life-year.

def heemod_vignette_model(**kw) -> costs.MarkovModel:
    P = np.array([[.721, .202, .067, .010], [0, .581, .407, .012], [0, 0, .750, .250], [0, 0, 0, 1.0]])
    base = np.array([2756, 3052, 9007, 0.0])
    alive = np.array([1.0, 1, 1, 0])
    return costs.MarkovModel(
        states=["A", "B", "C", "D"], transition=P, state_utilities=[1, 1, 1, 0],
        strategies={"mono": costs.Strategy(state_costs=base + 2278 * alive),
                    "comb": costs.Strategy(state_costs=base + (2278 + 2086) * alive, rr=0.509)},
        n_cycles=50, cohort_size=1000, discount_costs=0.06, discount_effects=0.0, dead_states=["D"],
        effect="life_years", **kw,
    )


def test_default_discount_timing_reproduces_heemod_homogeneous_vignette():
    m = heemod_vignette_model(method="life_table").run()  # discount_timing default = heemod's
    r = m.results_.set_index("strategy")
    assert r.loc["mono", "cost"] * 1000 == pytest.approx(48762093, abs=0.5)
    assert r.loc["comb", "cost"] * 1000 == pytest.approx(92984848, abs=0.5)
    assert r.loc["mono", "life_years"] * 1000 == pytest.approx(8585.843, abs=5e-4)
    assert r.loc["comb", "life_years"] * 1000 == pytest.approx(17256.937, abs=5e-4)
    assert m.icer_table_.table_.set_index("strategy").loc["comb", "icer"] == pytest.approx(5100.02, abs=5e-3)
    # the old rule (each trace row discounted by its own index) misses the published totals by ~3%
    old = heemod_vignette_model(method="life_table", discount_timing="row").run().results_.set_index("strategy")
    assert old.loc["mono", "cost"] * 1000 < 0.975 * 48762093


def test_discount_timing_shifts_by_one_cycle():
    # "end" counting: cycle_start discounts every cycle one period less than cycle_end, so costs differ by
    # exactly (1 + r); "row" equals cycle_end for "end" and cycle_start for "start"
    kw = dict(method="end")
    a = heemod_vignette_model(**kw, discount_timing="cycle_start").run().results_
    b = heemod_vignette_model(**kw, discount_timing="cycle_end").run().results_
    c = heemod_vignette_model(**kw, discount_timing="row").run().results_
    np.testing.assert_allclose(a["cost"], b["cost"] * 1.06, rtol=1e-12)
    np.testing.assert_allclose(c["cost"], b["cost"], rtol=1e-12)
    s1 = heemod_vignette_model(method="start", discount_timing="cycle_start").run().results_
    s2 = heemod_vignette_model(method="start", discount_timing="row").run().results_
    np.testing.assert_allclose(s1["cost"], s2["cost"], rtol=1e-12)
    with pytest.raises(ValueError, match="discount_timing"):
        heemod_vignette_model(discount_timing="mid").run()
    with pytest.raises(ValueError, match="Simpson"):
        heemod_vignette_model(method="simpson").run()
