"""Engagement analytics against hand-made cases, a pandas reference and the synthetic truth."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evaluation.cohort import engagement
from evaluation.publish import suppression


@pytest.fixture(scope="module")
def sample(repo_root):
    return (pd.read_parquet(repo_root / "data_samples" / "participants.parquet"),
            pd.read_parquet(repo_root / "data_samples" / "daily.parquet"))


def test_dropout_times_hand_cases():
    vd = np.array([
        [3, 0, 0, 5, 5, 5],   # gap starts at week 1 -> event at 1
        [0, 0, 2, 2, 2, 2],   # never started -> event at 0
        [2, 2, 0, 2, 0, 2],   # single missing weeks are not dropout -> completes, censored at 6
        [2, 2, 2, 2, 2, 0],   # last programme week empty: a 2-week gap cannot fit -> censored at 6
        [2, 2, 2, 0, 0, 0],   # observed 4 weeks only, trailing empty week -> censored at 2, the last active week
        [2, 2, 0, 0, 0, 0],   # observed 4 weeks, gap fully seen -> event at 2
        [2, 0, 0, 0, 0, 0],   # observed 1 week, active -> censored at 0 (known gap-free at 0 only)
        [0, 0, 0, 0, 0, 0],   # enrolled but no whole week observed yet -> no follow-up (NaN)
    ])
    observed = np.array([6, 6, 6, 6, 4, 4, 1, 0])
    time, event = engagement.dropout_times(vd, observed, gap_weeks=2)
    assert np.isnan(time[-1]) and not event[-1]
    assert time[:-1].tolist() == [1, 0, 6, 6, 2, 2, 0]
    assert event.tolist() == [True, True, False, False, False, True, False, False]


def test_kaplan_meier_risk_sets_follow_lifelines_convention():
    """Issue 11 item 10: 0 observed weeks no longer joins the week-0 risk set while censored at 0.

    Hand computation with lifelines' convention (a subject censored at t is at risk at t;
    lifelines is not installed here). Five people, gap of 2 weeks, 4 programme weeks:
      A: dropout event at week 1; B: event at week 0; C: completes (censored at 4);
      D: data end after 2 weeks, both active -> censored at 1; E: 0 observed weeks -> not at risk.
    Week 0: at risk A, B, C, D = 4, 1 event -> S(1) = 3/4.
    Week 1: at risk A, C, D = 3, 1 event (A) -> S(2) = 3/4 * 2/3 = 1/2; D leaves after week 1.
    Weeks 2, 3: at risk C only, no event -> S(4) = 1/2. (Before the fix E sat in the week-0 risk set,
    giving S(1) = 4/5 and S(4) = 8/15 = 0.533, and D was at risk at week 2.)
    """
    vd = np.array([[3, 0, 0, 0], [0, 0, 0, 0], [2, 2, 2, 2], [2, 2, 0, 0], [0, 0, 0, 0]])
    observed = np.array([4, 4, 4, 2, 0])
    time, event = engagement.dropout_times(vd, observed, gap_weeks=2)
    assert event.tolist() == [True, True, False, False, False]
    s, lo, hi, at_risk, events = engagement._km_at(time, event, 4, 0.95)
    assert at_risk.tolist() == [4, 3, 1, 1, 1]
    assert events.tolist() == [1, 1, 0, 0, 0]
    np.testing.assert_allclose(s, [1, 0.75, 0.5, 0.5, 0.5])
    assert np.all(lo <= s) and np.all(s <= hi)


def test_event_times_and_retention_match_synthetic_truth(sample):
    """The synthetic joiners stop producing rows after ``dropout_week``: the gap starts the week after."""
    p, d = sample
    people, vd, observed = engagement.participant_weeks(d, p, by=["dropout_week"])
    time, event = engagement.dropout_times(vd, observed)
    drop = people["dropout_week"].to_numpy()
    full = observed == 24
    expected = np.where(np.floor(drop) + 1 <= 22, np.floor(drop) + 1, 24)
    agree = (time[full] == expected[full]).mean()
    assert agree > 0.99, agree
    assert (event[full] == (expected[full] < 24)).mean() > 0.99
    r = engagement.retention(d, p)
    km = r.retention_["all"]
    true_share = (np.floor(drop[full]) + 1 > 22).mean()
    row = r.table.iloc[-1]
    assert row.ci_low <= true_share <= row.ci_high
    assert km == pytest.approx(true_share, abs=0.04)


def test_adherence_matches_wear_truth(sample):
    """The generator makes 8% short-wear and 5% missing days: 7 x 0.87 = 6.09 valid days per week."""
    p, d = sample
    a = engagement.adherence(d, p)
    mid = a[(a.week >= 1) & (a.week <= 18)]
    assert mid.adherence.mean() == pytest.approx(7 * 0.87, abs=0.1)
    assert (mid.adherence_ci_low < 6.09).mean() > 0.7 and (mid.adherence_ci_high > 6.09).mean() > 0.7


def test_weekly_active_matches_pandas(sample):
    p, d = sample
    got = engagement.weekly_active(d, p, by="arm", threshold=0)
    day = d.merge(p[["participant_id", "arm", "enrolled_on"]], on="participant_id")
    day = day[day.enrolled_on.notna() & day.valid_day & (day.date >= day.enrolled_on)]
    day["week"] = day.date - pd.to_timedelta(day.date.dt.weekday, "D")
    ref = day.groupby(["arm", "week"], observed=True).participant_id.nunique()
    m = got.set_index(["arm", "week"])["active"]
    common = ref.index.intersection(m.index)
    assert len(common) == len(ref)
    assert (m.loc[common].astype(int).to_numpy() == ref.loc[common].to_numpy()).all()
    # enrolled by the end of the week
    wk = pd.Timestamp("2023-05-01")
    row = got[(got.arm == "own_device") & (got.week == wk)].iloc[0]
    assert row.enrolled == ((p.arm == "own_device") & (p.enrolled_on <= wk + pd.Timedelta(days=6))).sum()
    sup = engagement.weekly_active(d, p, by="arm", threshold=10)
    assert sup.loc[sup.suppressed, "active"].isna().all()


def test_retention_groups_and_suppression(sample):
    p, d = sample
    small = p[p.treated].groupby("district").head(3)  # 3 per district: every group too small
    r = engagement.retention(d, small, by="district")
    assert r.table.suppressed.all() and r.table.survival.isna().all()
    r2 = engagement.retention(d, p, by=["arm"])
    assert set(r2.table.arm) == {"band_issued", "own_device"}
    band = r2.table[r2.table.arm == "band_issued"].dropna(subset=["survival"])  # shown weeks of the coarsened grid
    assert len(band) >= 5 and band.week.iloc[-1] == 24
    assert (np.diff(band.survival) <= 1e-12).all()  # non-increasing


def test_enrolment_counts_and_cumulative_protection(sample):
    p, _ = sample
    e = engagement.enrolment(p, freq="week", by="district", threshold=0)
    ref = p.dropna(subset=["enrolled_on"]).groupby("district").size()
    assert (e.groupby("district").enrolled.sum() == ref).all()


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 40), min_size=1, max_size=12))
def test_no_withheld_enrolment_recoverable_from_cumulatives(news):
    periods = pd.date_range("2023-01-01", periods=len(news), freq="MS")
    p = pd.DataFrame({"participant_id": [f"P{i}" for i in range(sum(news))],
                      "enrolled_on": np.repeat(periods, news)})
    if not len(p):
        return
    e = engagement.enrolment(p, freq="month")
    k = len(e)
    # values: new_1..new_k, cum_1..cum_k ; relations cum_t - cum_{t-1} - new_t = 0
    eq = np.zeros((k, 2 * k))
    for t in range(k):
        eq[t, k + t] = 1
        eq[t, t] = -1
        if t:
            eq[t, k + t - 1] = -1
    hidden = np.concatenate([e.suppressed.to_numpy(), e.cumulative_suppressed.to_numpy()])
    exposed = suppression.determined(eq, hidden)
    truth = np.concatenate([e.enrolled.to_numpy(dtype=float, na_value=np.nan), e.cumulative.to_numpy(dtype=float, na_value=np.nan)])
    true_vals = np.concatenate([np.array([n for n in news if n > 0]), np.cumsum([n for n in news if n > 0])])
    # only zero-valued withheld cells may be pinned down (no one to protect)
    assert all(v == 0 for v in true_vals[hidden][exposed]), (news, e)
    assert np.array_equal(truth[~hidden], true_vals[~hidden])


def test_enrolment_by_district_table_is_protected(sample):
    p, _ = sample
    t = engagement.enrolment_table(p, "district", "sex")
    assert t.suppressed.to_numpy().any()
    assert t.exposed() == []
    assert t.grand_total == p.enrolled_on.notna().sum()
