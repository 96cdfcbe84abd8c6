"""Programme view: gap between groups before vs after enrolment, with bootstrap CIs."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation import equity
from evaluation.equity import _programme


def _periods(before_means, after_means, n=40, sd=300.0, seed=0, group="district"):
    rng = np.random.default_rng(seed)
    rows = []
    for k, (b, a) in enumerate(zip(before_means, after_means)):
        person = rng.normal(0, sd, n)  # stable person effect -> before/after correlated
        rows.append(pd.DataFrame({
            "participant_id": [f"P{k}_{i}" for i in range(n)],
            group: f"g{k}" if group == "district" else k + 1,
            "before": b + person + rng.normal(0, 100, n),
            "after": a + person + rng.normal(0, 100, n),
        }))
    return pd.concat(rows, ignore_index=True)


def test_gap_that_closes_is_reported_as_narrowed():
    per = _periods([5000, 6000, 7000, 8000], [7000, 7000, 7000, 7000])
    res = equity.gap_change(None, None, periods=per, n_boot=400, seed=1)
    bgv = res.headline("bgv")
    assert bgv["before"] == pytest.approx(1_250_000, rel=0.15)
    assert bgv["after"] < 0.05 * bgv["before"]
    assert bgv["verdict"] == "narrowed" and bgv["gap_change_ci_high"] < 0
    assert res.headline("difference")["verdict"] == "narrowed"


def test_common_shift_is_no_change():
    per = _periods([5000, 6000, 7000, 8000], [5000, 6000, 7000, 8000])
    per["after"] = per["before"] + 1500.0  # everyone gains the same
    res = equity.gap_change(None, None, periods=per, n_boot=300, seed=2)
    for m in ("bgv", "bgsd", "difference"):
        row = res.headline(m)
        assert row["gap_change"] == pytest.approx(0, abs=1e-6)
        assert row["verdict"] == "no_clear_change"
    # a common absolute gain shrinks relative gaps: MLD and |log ratio| fall
    assert res.headline("mld")["gap_change"] < 0 and res.headline("ratio")["gap_change"] < 0


def test_widening_gap_on_ordered_income_groups():
    per = _periods([6000] * 5, [5000, 5500, 6000, 6500, 7000], group="income_quintile", seed=3)
    res = equity.gap_change(None, None, periods=per, group="income_quintile", ordered=True, n_boot=300, seed=3)
    sii = res.headline("sii")
    # after: linear in quintile, 500 steps per quintile; equal n -> ridit spans 0.1..0.9 -> SII ~ 2500
    assert sii["after"] == pytest.approx(2500, rel=0.25)
    assert sii["verdict"] == "widened"


def test_bootstrap_ci_covers_truth_under_no_change():
    # 20 independent datasets where the true gap does not change: the 95% CI should rarely exclude 0
    excluded = 0
    for s in range(20):
        per = _periods([6000, 6500, 7000, 7500, 8000], [6000, 6500, 7000, 7500, 8000], n=30, seed=100 + s)
        res = equity.gap_change(None, None, periods=per, measures=["bgsd"], n_boot=200, seed=s)
        excluded += res.headline("bgsd")["verdict"] != "no_clear_change"
    assert excluded <= 4


def test_kernels_agree_with_public_measures():
    rng = np.random.default_rng(5)
    y = rng.uniform(10, 90, 6)
    n = rng.integers(20, 200, 6).astype(float)
    df = pd.DataFrame({"y": y, "n": n, "o": np.arange(6)})
    p, r = n / n.sum(), (np.cumsum(n) - n / 2) / n.sum()
    k = _programme
    assert k._k_bgv(y, p, r) == pytest.approx(equity.bgv(df, "y", "n").estimate)
    assert k._k_bgsd(y, p, r) == pytest.approx(equity.bgsd(df, "y", "n").estimate)
    assert k._k_mld(y, p, r) == pytest.approx(equity.mld(df, "y", "n").estimate)
    assert k._k_theil(y, p, r) == pytest.approx(equity.theil(df, "y", "n").estimate)
    assert k._k_sii(y, p, r) == pytest.approx(equity.sii(df, "y", "n", "o", model="linear").estimate)
    assert k._k_rii(y, p, r) == pytest.approx(equity.rii(df, "y", "n", "o", model="linear").estimate)
    assert k._k_aci(y, p, r) == pytest.approx(equity.concentration_index(df, "y", "n", "o").estimate)
    assert k._k_rci(y, p, r) == pytest.approx(equity.concentration_index(df, "y", "n", "o", kind="relative").estimate)
    assert k._k_diff_ordered(y, p, r) == pytest.approx(equity.difference(df, "y", order="o").estimate)
    assert k._k_ratio_unordered(y, p, r) == pytest.approx(equity.ratio(df, "y").estimate)


def test_on_committed_samples_small_districts_are_suppressed(repo_root):
    daily = pd.read_parquet(repo_root / "data_samples" / "daily.parquet",
                            columns=["participant_id", "date", "steps", "valid_day"])
    parts = pd.read_parquet(repo_root / "data_samples" / "participants.parquet")
    per = equity.participant_periods(daily, parts)
    assert per["participant_id"].is_unique and {"before", "after", "district"} <= set(per.columns)
    # the programme raises steps (synth truth: +1500/day at full ramp, x0.7-1.3 by wave)
    assert 700 < (per["after"] - per["before"]).mean() < 2300
    res = equity.gap_change(daily, parts, periods=per, n_boot=200)
    out = res.outcomes
    assert len(out) == 25 and "participant_id" not in out.columns
    small = per.groupby("district").size() < 10
    assert out.set_index("district")["suppressed"].to_dict() == small.to_dict()
    assert out.loc[out["suppressed"], ["before", "after", "n"]].isna().all().all()
    assert set(res.measures["verdict"]) <= {"narrowed", "widened", "no_clear_change"}
    # synth truth: the steps effect does not depend on the district, so absolute gaps between
    # districts should show no clear change
    assert res.headline("bgsd")["verdict"] == "no_clear_change"
    assert res.headline("bgv")["verdict"] == "no_clear_change"


def test_bad_inputs():
    per = _periods([1, 2, 3], [1, 2, 3])
    with pytest.raises(ValueError, match="not available for non-ordered"):
        equity.gap_change(None, None, periods=per, measures=["sii"])
    with pytest.raises(ValueError, match="column 'enrolled_on'"):
        equity.participant_periods(pd.DataFrame({"participant_id": [], "date": [], "steps": []}),
                                   pd.DataFrame({"participant_id": [], "district": []}))
