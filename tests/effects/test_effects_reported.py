"""Reported rates against national rates (seed 003) and the programme-minus-comparison difference of two shares.

Known truth: the Wilson interval and score statistic in closed form (Wilson 1927; Agresti & Coull 1998),
the duality between each interval and its test over randomised designs, and the coverage of the
Miettinen-Nurminen interval in simulation.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm

from evaluation import effects
from evaluation.effects import _kpi

Z = norm.ppf(0.975)


def _wilson(k: int, n: int) -> tuple[float, float]:
    p = k / n
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z / (1 + Z * Z / n) * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n))
    return centre - half, centre + half


@pytest.mark.parametrize("rate,n,national,k", [(0.574, 990, 0.552, 568), (0.651, 940, 0.585, 612),
                                               (0.651, 990, 0.585, 644), (0.574, 940, 0.552, 540)])
def test_seed_003_figures_match_the_closed_forms(rate, n, national, k):
    r = effects.reported_vs_national(rate, n, national, indicator="x")
    assert r.count == k and r.share == pytest.approx(k / n)
    lo, hi = _wilson(k, n)
    assert r.ci == pytest.approx((lo, hi), abs=1e-12)
    z = (k / n - national) / math.sqrt(national * (1 - national) / n)
    assert r.z == pytest.approx(z, rel=1e-10)
    assert r.pvalue == pytest.approx(2 * norm.sf(abs(z)), rel=1e-9)
    assert r.diagnostics.loc[0, "passed"]  # k / n reproduces the printed rate to 0.1%


def test_seed_003_verdicts():
    """57.4% vs 55.2% is not distinguishable at n = 990 (or 940); 65.1% vs 58.5% is, under either denominator."""
    res = effects.reported_kpis(
        {"behaviour_improvement": 0.574, "risk_reduction": 0.651},
        {"behaviour_improvement": 0.552, "risk_reduction": 0.585},
        {"behaviour_improvement": [(990, "all"), (940, "at risk")], "risk_reduction": [(940, "at risk"), (990, "all")]})
    b = res.get("behaviour_improvement", 990)
    assert not b.significant and 0.15 < b.pvalue < 0.19 and b.ci[0] < 0.552 < b.ci[1]
    assert not res.get("behaviour_improvement", 940).significant
    for n in (940, 990):
        r = res.get("risk_reduction", n)
        assert r.significant and r.pvalue < 1e-4 and r.ci[0] > 0.585
    t = res.summary()
    assert list(t["n"]) == [990, 940, 940, 990]
    assert {"reported_rate", "ci_low", "ci_high", "national_rate", "pvalue", "denominator_assumption"} <= set(t.columns)
    assert t["verdict_ko"].str.len().gt(0).all()


def test_n_needed_is_where_the_test_turns_significant():
    b = effects.reported_vs_national(0.574, 990, 0.552)
    assert b.n_needed == math.ceil(Z * Z * 0.552 * 0.448 / 0.022 ** 2)
    assert effects.reported_vs_national(0.574, b.n_needed + 5, 0.552).significant
    assert not effects.reported_vs_national(0.574, int(0.8 * b.n_needed), 0.552).significant
    assert effects.reported_vs_national(0.5, 100, 0.5).n_needed is None


@pytest.mark.parametrize("ci", ["wilson", "exact"])
def test_interval_and_test_agree_over_random_designs(ci):
    """p < 0.05 exactly when the national rate lies outside the 95% interval (each interval inverts its test)."""
    rng = np.random.default_rng(22)
    checked = 0
    for _ in range(400):
        n = int(rng.integers(5, 3000))
        rate, national = rng.uniform(0.02, 0.98, 2)
        r = effects.reported_vs_national(float(rate), n, float(national), ci=ci)
        if abs(r.pvalue - 0.05) < 1e-6 or min(abs(national - r.ci[0]), abs(national - r.ci[1])) < 1e-9:
            continue
        outside = not (r.ci[0] <= national <= r.ci[1])
        assert (r.pvalue < 0.05) == outside, (rate, n, national, r.ci, r.pvalue)
        checked += 1
    assert checked > 350


def test_same_method_as_kpis():
    """A reported rate and the records' KPI with the same k and n give the same CI and p."""
    t = _kpi.share_test(568, 990, 0.552)
    r = effects.reported_vs_national(0.574, 990, 0.552)
    assert (t["ci_low"], t["ci_high"], t["pvalue"]) == (r.ci[0], r.ci[1], r.pvalue)


def test_rounding_half_up_and_inconsistent_denominators():
    assert effects.reported_vs_national(0.5, 3, 0.4).count == 2  # 1.5 -> 2 (Python's round() would give 2 too; 2.5 -> 3 below)
    assert effects.reported_vs_national(0.5, 5, 0.4).count == 3
    bad = effects.reported_vs_national(0.574, 7, 0.552)  # 4/7 = 57.1%: n = 7 cannot give 57.4%
    assert not bad.diagnostics.loc[0, "passed"]


@pytest.mark.parametrize("kwargs,needle", [
    ({"rate": 1.2, "n": 990, "national": 0.5}, "rate must be a proportion"),
    ({"rate": 0.5, "n": 0, "national": 0.5}, "n must be a positive whole number"),
    ({"rate": 0.5, "n": 99.5, "national": 0.5}, "n must be a positive whole number"),
    ({"rate": 0.5, "n": 99, "national": -0.1}, "national must be a proportion"),
    ({"rate": 0.5, "n": 99, "national": 0.5, "ci": "wald"}, "ci must be"),
])
def test_bad_input_is_named(kwargs, needle):
    with pytest.raises(ValueError, match=needle):
        effects.reported_vs_national(**kwargs)


def test_reported_kpis_needs_a_national_rate_and_a_denominator():
    with pytest.raises(ValueError, match="no national rate"):
        effects.reported_kpis({"a": 0.5}, {}, {"a": [(10, "x")]})
    with pytest.raises(ValueError, match="no denominator"):
        effects.reported_kpis({"a": 0.5}, {"a": 0.4}, {})


def test_share_difference_is_defined_everywhere_agrees_with_its_test_and_covers():
    """Newcombe's interval and the score test of no difference: both finite on every design (statsmodels'
    own score interval fails on e.g. 13/610 vs 588/728), disagreeing only near p = 0.05, and covering."""
    rng = np.random.default_rng(5)
    disagree = []
    for _ in range(300):
        n1, n0 = rng.integers(20, 900, 2)
        k1, k0 = int(rng.integers(0, n1 + 1)), int(rng.integers(0, n0 + 1))
        d = effects.share_difference(k1, int(n1), k0, int(n0))
        assert -1 <= d["ci_low"] <= d["difference"] <= d["ci_high"] <= 1
        if not d["ci_test_agree"]:
            disagree.append(d["pvalue"])
    assert all(0.03 < p < 0.07 for p in disagree), disagree
    d = effects.share_difference(13, 610, 588, 728)
    assert d["ci_high"] < 0 and d["pvalue"] < 1e-10
    # coverage of the true difference 0.62 - 0.48 at n = 300 / 150
    k1 = rng.binomial(300, 0.62, 600)
    k0 = rng.binomial(150, 0.48, 600)
    cover = np.mean([(lambda d: d["ci_low"] <= 0.14 <= d["ci_high"])(effects.share_difference(int(a), 300, int(b), 150))
                     for a, b in zip(k1, k0)])
    assert 0.92 <= cover <= 0.975
    with pytest.raises(ValueError, match="comparison needs"):
        effects.share_difference(1, 10, 5, 0)
