"""Placebo checks detect what they should, and properties of the estimators hold for any data (hypothesis)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evaluation import effects


# --- placebo outcome -------------------------------------------------------------------------------

def _confounded(seed: int, n: int = 1500) -> pd.DataFrame:
    """x observed, u unobserved; both drive treatment. ``pre_u`` is measured before treatment and depends on u
    only; ``pre_x`` depends on x only. Neither can be changed by the treatment."""
    rng = np.random.default_rng(seed)
    x, u = rng.normal(size=n), rng.normal(size=n)
    t = (rng.random(n) < 1 / (1 + np.exp(-(0.8 * x + 1.0 * u)))).astype(int)
    return pd.DataFrame({"t": t, "x": x, "pre_u": 2 * u + rng.normal(size=n), "pre_x": 2 * x + rng.normal(size=n)})


def test_placebo_outcome_flags_unmeasured_confounding_and_passes_without_it():
    d = _confounded(1)
    clean = effects.placebo_outcome(d, "t", "pre_x", ["x"], method="ipw")
    assert clean.ci[0] < 0 < clean.ci[1]
    assert clean.label.startswith("placebo")
    flagged = effects.placebo_outcome(d, "t", "pre_u", ["x"], method="ipw")
    assert flagged.ci[0] > 0  # u raises both treatment and the placebo outcome
    with pytest.raises(ValueError, match="'x' is also a covariate"):
        effects.placebo_outcome(d, "t", "x", ["x"], method="ipw")


# --- placebo timing --------------------------------------------------------------------------------

def _staggered(seed: int, pre_trend: float = 0.0, n_per: int = 60) -> pd.DataFrame:
    """Cohorts first treated in periods 6 and 8 plus never-treated units, effect 3 from adoption on.
    ``pre_trend`` adds an extra slope per period to the earliest cohort (before and after adoption)."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(3 * n_per):
        g = (6, 8, 0)[u // n_per]
        a = rng.normal(0, 2)
        for t in range(1, 11):
            y = a + 0.4 * t + (3.0 if g and t >= g else 0.0) + (pre_trend * t if g == 6 else 0.0) + rng.normal(0, 0.7)
            rows.append((u, t, g, y))
    return pd.DataFrame(rows, columns=["unit", "period", "first", "y"])


def test_placebo_timing_is_null_under_parallel_trends_and_detects_a_pre_trend():
    d = _staggered(2)
    real = effects.staggered_did(d, "unit", "period", "first", "y", est_method="reg")
    assert real.simple.ci[0] < 3 < real.simple.ci[1]
    fake = effects.placebo_timing(d, "unit", "period", "first", "y", shift=2, est_method="reg")
    assert fake.simple.ci[0] < 0 < fake.simple.ci[1]
    assert fake.attgt["time"].max() < 6  # only periods before the first real adoption
    with pytest.warns(effects.StaggeredDiDWarning, match="pre-trend test rejects"):
        trending = effects.placebo_timing(_staggered(2, pre_trend=0.5), "unit", "period", "first", "y", shift=2,
                                          est_method="reg")
    assert trending.simple.ci[0] > 0
    with pytest.raises(ValueError, match="too few pre-adoption periods"):
        effects.placebo_timing(d, "unit", "period", "first", "y", shift=6)


# --- properties ------------------------------------------------------------------------------------

@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(40, 300), estimand=st.sampled_from(["ATT", "ATE"]))
def test_ipw_invariant_to_row_order(seed, n, estimand):
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.choice(["a", "b"], n)
    t = (rng.random(n) < 1 / (1 + np.exp(-0.7 * x1))).astype(int)
    if min(t.sum(), n - t.sum()) < 5:
        t[:5], t[-5:] = 1, 0
    d = pd.DataFrame({"t": t, "y": x1 + t + rng.normal(size=n), "x1": x1, "x2": x2})
    perm = d.sample(frac=1.0, random_state=seed % 2**32).reset_index(drop=True)
    a = effects.matched_att(d, "t", "y", ["x1", "x2"], method="ipw", estimand=estimand)
    b = effects.matched_att(perm, "t", "y", ["x1", "x2"], method="ipw", estimand=estimand)
    assert b.estimate == pytest.approx(a.estimate, rel=1e-9, abs=1e-9)
    assert b.se == pytest.approx(a.se, rel=1e-7)


finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)


@settings(max_examples=40, deadline=None)
@given(cells=st.lists(st.lists(st.tuples(finite, finite), min_size=2, max_size=12), min_size=2, max_size=2))
def test_did_2x2_equals_difference_of_four_means_on_balanced_panels(cells):
    treated, control = cells
    rows = []
    for g, units in ((1, treated), (0, control)):
        for i, (pre, post) in enumerate(units):
            rows += [(f"{g}-{i}", g, 0, pre), (f"{g}-{i}", g, 1, post)]
    long = pd.DataFrame(rows, columns=["id", "g", "post", "y"])
    m = lambda g, p: long.loc[(long.g == g) & (long.post == p), "y"].mean()  # noqa: E731
    expected = (m(1, 1) - m(1, 0)) - (m(0, 1) - m(0, 0))
    scale = 1 + long["y"].abs().max()
    for unit in ("id", None):  # panel (first differences) and pooled cross-section regressions agree
        r = effects.did_2x2(long, "y", "g", "post", unit=unit)
        assert r.estimate == pytest.approx(expected, abs=1e-9 * scale)
    assert r.means.loc[1, "change"] - r.means.loc[0, "change"] == pytest.approx(expected, abs=1e-9 * scale)
