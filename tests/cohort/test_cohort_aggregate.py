"""cohort.aggregate against a slow pandas reference, statsmodels' cluster-robust SE and a coverage study."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from evaluation import cohort

ALL_METRICS = list(cohort.METRICS)


@pytest.fixture(scope="module")
def sample(repo_root):
    """The committed 1,200-person sample (participants, daily)."""
    return (pd.read_parquet(repo_root / "data_samples" / "participants.parquet"),
            pd.read_parquet(repo_root / "data_samples" / "daily.parquet"))


# ----------------------------------------------------------------------------- slow pandas reference
def _ref_keys(day: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    date = pd.to_datetime(day["date"])
    out = day.copy()
    for k in by:
        if k == "week":
            out[k] = (date - pd.to_timedelta(date.dt.weekday, unit="D")).dt.normalize()
        elif k == "month":
            out[k] = pd.to_datetime({"year": date.dt.year, "month": date.dt.month, "day": 1})
        elif k == "quarter":
            out[k] = pd.to_datetime({"year": date.dt.year, "month": (date.dt.quarter - 1) * 3 + 1, "day": 1})
        elif k == "week_since_enrolment":
            anchor = out["enrolled_on"].fillna(out["index_date"])
            out[k] = [int((d - a).days // 7) for d, a in zip(date, anchor)]
    return out


def _ref_ratio(g: pd.DataFrame, y: np.ndarray, d: np.ndarray):
    """Per-participant totals Y_i, D_i; R = sum Y / sum D; CR1 variance; t on m-1 df."""
    tot = pd.DataFrame({"pid": g["participant_id"].to_numpy(), "y": y, "d": d}).groupby("pid").sum()
    tot = tot[tot["d"] > 0]
    m = len(tot)
    if m == 0:
        return m, np.nan, np.nan, np.nan, np.nan
    r = tot["y"].sum() / tot["d"].sum()
    if m < 2:
        return m, r, np.nan, np.nan, np.nan
    se = np.sqrt(m / (m - 1) * ((tot["y"] - r * tot["d"]) ** 2).sum()) / tot["d"].sum()
    q = stats.t.ppf(0.975, m - 1)
    return m, r, se, r - q * se, r + q * se


def reference(daily: pd.DataFrame, participants: pd.DataFrame, by: list[str], goal: float) -> pd.DataFrame:
    day = daily.merge(participants, on="participant_id", how="inner")
    day = _ref_keys(day, by)
    groups = day.groupby(by, dropna=False, observed=True) if by else [((), day)]
    rows = []
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        base = dict(zip(by, key))
        valid = g["valid_day"].to_numpy(bool)
        steps = g["steps"].to_numpy(float)
        vsteps = steps[valid]
        m_valid = g.loc[valid, "participant_id"].nunique()
        npart = g["participant_id"].nunique()

        def add(metric, n, n_days, est, se=np.nan, lo=np.nan, hi=np.nan):
            rows.append({**base, "metric": metric, "n": n, "n_days": n_days, "estimate": est, "se": se, "ci_low": lo, "ci_high": hi})

        add("participants", npart, len(g), npart)
        add("participant_days", npart, len(g), len(g))
        add("valid_days", m_valid, valid.sum(), valid.sum())
        _, r, se, lo, hi = _ref_ratio(g, valid.astype(float), np.ones(len(g)))
        add("valid_day_rate", npart, len(g), r, se, lo, hi)
        m, r, se, lo, hi = _ref_ratio(g, np.where(valid, steps, 0), valid.astype(float))
        add("mean_steps", m_valid, valid.sum(), r, se, lo, hi)
        add("median_steps", m_valid, valid.sum(), np.median(vsteps) if len(vsteps) else np.nan)
        add("sd_steps", m_valid, valid.sum(), np.std(vsteps, ddof=1) if len(vsteps) > 1 else np.nan)
        _, r, se, lo, hi = _ref_ratio(g, (valid & (steps >= goal)).astype(float), valid.astype(float))
        add("goal_share", m_valid, valid.sum(), r, se, lo, hi)
        for col in ("moderate_minutes", "vigorous_minutes"):
            _, r, se, lo, hi = _ref_ratio(g, np.where(valid, g[col].to_numpy(float), 0), valid.astype(float))
            add(col, m_valid, valid.sum(), r, se, lo, hi)
        hr = g["resting_hr"].to_numpy(float)
        ok = valid & ~np.isnan(hr)
        m, r, se, lo, hi = _ref_ratio(g, np.where(ok, hr, 0), ok.astype(float))
        add("resting_hr", m, ok.sum(), r, se, lo, hi)
    return pd.DataFrame(rows)


def _compare(got: pd.DataFrame, ref: pd.DataFrame, by: list[str]) -> None:
    assert len(got) == len(ref), (len(got), len(ref))
    key = by + ["metric"]
    g = got.copy()
    r = ref.copy()
    for k in by:  # compare keys as text; dtypes are checked elsewhere
        g[k] = g[k].astype(str)
        r[k] = r[k].astype(str)
    m = g.merge(r, on=key, suffixes=("", "_ref"), how="outer", indicator=True)
    assert (m["_merge"] == "both").all(), m[m["_merge"] != "both"]
    for col in ("n", "n_days", "estimate", "se", "ci_low", "ci_high"):
        a = m[col].astype(float).to_numpy()
        b = m[f"{col}_ref"].astype(float).to_numpy()
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9, equal_nan=True, err_msg=col)


# ----------------------------------------------------------------------------- random small cohorts
DATES = pd.date_range("2023-03-01", "2023-04-10", freq="D")  # Wednesday start: weeks and months split


@st.composite
def cohorts(draw):
    n = draw(st.integers(1, 9))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    enrolled = [
        pd.NaT if draw(st.booleans()) and i % 3 == 0 else DATES[int(rng.integers(0, len(DATES)))]
        for i in range(n)
    ]
    p = pd.DataFrame({
        "participant_id": [f"P{i:03d}" for i in range(n)],
        "sex": rng.choice(["M", "F"], n),
        "district": rng.choice(["11110", "11140", "11680"], n),
        "arm": pd.Categorical(rng.choice(["band_issued", "comparison"], n), categories=["band_issued", "own_device", "comparison"]),
        "enrolled_on": pd.to_datetime(enrolled),
        "index_date": DATES[rng.integers(0, len(DATES), n)],
    })
    rows = []
    all_invalid = draw(st.booleans())
    for pid in p["participant_id"]:
        if rng.random() < 0.15:
            continue  # a participant with no data at all
        days = DATES[rng.random(len(DATES)) < rng.uniform(0.05, 0.9)]
        for d in days:
            rows.append((pid, d))
    d = pd.DataFrame(rows, columns=["participant_id", "date"])
    k = len(d)
    d["steps"] = rng.integers(0, 20000, k).astype("int32")
    d["wear_minutes"] = rng.integers(0, 1440, k).astype("int16")
    d["valid_day"] = False if all_invalid else rng.random(k) < 0.8
    d["moderate_minutes"] = rng.integers(0, 90, k).astype("int16")
    d["vigorous_minutes"] = rng.integers(0, 30, k).astype("int16")
    d["resting_hr"] = np.where(rng.random(k) < 0.2, np.nan, np.round(rng.normal(65, 6, k), 1))
    by = draw(st.lists(st.sampled_from(["sex", "district", "arm", "week", "month", "quarter", "week_since_enrolment"]),
                       max_size=3, unique=True))
    goal = draw(st.sampled_from([5000, 8000, 10000]))
    return p, d, by, goal


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cohorts())
def test_matches_pandas_reference_every_metric_and_grouping(case):
    p, d, by, goal = case
    got = cohort.aggregate(d, p, by=by, metrics=ALL_METRICS, step_goal=goal, threshold=0)
    ref = reference(d, p, by, goal)
    if d.empty:
        assert got.empty
        return
    _compare(got, ref, by)
    # empty cells never appear, every published row has someone behind it
    assert (got.loc[got.metric == "participants", "estimate"] >= 1).all()


def test_all_invalid_days_give_counts_but_no_means():
    p = pd.DataFrame({"participant_id": ["A", "B"], "sex": ["M", "M"]})
    d = pd.DataFrame({"participant_id": ["A", "A", "B"], "date": pd.to_datetime(["2023-01-02", "2023-01-03", "2023-01-02"]),
                      "steps": [100, 200, 300], "valid_day": [False, False, False], "moderate_minutes": 0,
                      "vigorous_minutes": 0, "resting_hr": np.nan})
    res = cohort.aggregate(d, p, by=["sex"], metrics=ALL_METRICS, threshold=0).set_index("metric")
    assert res.loc["participants", "estimate"] == 2 and res.loc["participant_days", "estimate"] == 3
    assert res.loc["valid_days", "estimate"] == 0 and res.loc["valid_day_rate", "estimate"] == 0
    for m in ("mean_steps", "median_steps", "sd_steps", "goal_share", "resting_hr"):
        assert np.isnan(res.loc[m, "estimate"]) and res.loc[m, "n"] == 0


def test_mid_week_enrolment_weeks_are_per_person():
    # enrolled on a Thursday: week 0 runs Thursday..Wednesday, not the calendar week
    p = pd.DataFrame({"participant_id": ["A"], "enrolled_on": pd.to_datetime(["2023-03-02"]), "index_date": pd.to_datetime(["2023-03-02"])})
    dates = pd.date_range("2023-02-27", "2023-03-16")
    d = pd.DataFrame({"participant_id": "A", "date": dates, "steps": np.arange(len(dates)) * 100, "valid_day": True})
    res = cohort.aggregate(d, p, by=["week_since_enrolment"], metrics=["participant_days"], threshold=0)
    assert dict(zip(res.week_since_enrolment, res.estimate)) == {-1: 3.0, 0: 7.0, 1: 7.0, 2: 1.0}
    cal = cohort.aggregate(d, p, by=["week"], metrics=["participant_days"], threshold=0)
    assert list(cal.week.dt.weekday.unique()) == [0]  # calendar weeks start on Monday


def test_ci_equals_statsmodels_cluster_robust_ols(sample):
    """The CI is the CR1 cluster-robust CI of an intercept-only OLS (statsmodels, t on G-1 df)."""
    import statsmodels.api as sm

    p, d = sample
    res = cohort.aggregate(d, p, by=["arm", "month"], metrics=["mean_steps", "resting_hr"], threshold=0)
    day = d.merge(p[["participant_id", "arm"]], on="participant_id")
    day = day[day.valid_day]
    for (arm, month), metric in [(("band_issued", "2023-05-01"), "mean_steps"), (("comparison", "2023-11-01"), "resting_hr"),
                                 (("own_device", "2023-02-01"), "mean_steps")]:
        col = "steps" if metric == "mean_steps" else "resting_hr"
        g = day[(day.arm == arm) & (day.date.dt.to_period("M").dt.start_time == pd.Timestamp(month))].dropna(subset=[col])
        fit = sm.OLS(g[col].astype(float).to_numpy(), np.ones(len(g))).fit(
            cov_type="cluster", cov_kwds={"groups": pd.factorize(g.participant_id)[0]}, use_t=True)
        row = res[(res.arm == arm) & (res.month == pd.Timestamp(month)) & (res.metric == metric)].iloc[0]
        assert row.estimate == pytest.approx(fit.params[0], rel=1e-10)
        assert row.se == pytest.approx(fit.bse[0], rel=1e-8)
        lo, hi = fit.conf_int()[0]
        assert (row.ci_low, row.ci_high) == (pytest.approx(lo, rel=1e-8), pytest.approx(hi, rel=1e-8))


def test_cluster_ci_covers_the_truth_and_naive_ci_does_not():
    """Simulation with known mean: 400 cells of 30 people x 20 days, person effect SD 2000, day noise SD 2000."""
    rng = np.random.default_rng(11)
    reps, people, days, mu = 400, 30, 20, 7000.0
    pid = np.repeat(np.arange(reps * people), days)
    person = rng.normal(0, 2000, reps * people)
    steps = mu + person[pid] + rng.normal(0, 2000, len(pid))
    d = pd.DataFrame({"participant_id": pid.astype(str), "date": pd.Timestamp("2023-01-02") + pd.to_timedelta(np.tile(np.arange(days), reps * people), "D"),
                      "steps": steps, "valid_day": True})
    p = pd.DataFrame({"participant_id": np.arange(reps * people).astype(str), "rep": np.repeat(np.arange(reps), people)})
    res = cohort.aggregate(d, p, by=["rep"], metrics=["mean_steps", "sd_steps"], threshold=0)
    m = res[res.metric == "mean_steps"]
    cover = ((m.ci_low <= mu) & (m.ci_high >= mu)).mean()
    assert 0.92 <= cover <= 0.98, cover
    # a day-level iid CI ignores clustering and under-covers badly
    sd = res[res.metric == "sd_steps"].estimate.to_numpy()
    half = stats.t.ppf(0.975, people * days - 1) * sd / np.sqrt(people * days)
    naive = (np.abs(m.estimate.to_numpy() - mu) <= half).mean()
    assert naive < 0.75, naive
    # expected width: SE of a cluster mean = sqrt((2000^2 + 2000^2/20) / 30)
    assert m.se.mean() == pytest.approx(np.sqrt((2000**2 + 2000**2 / days) / people), rel=0.05)


def test_parquet_paths_and_dataframes_agree(sample, tmp_path):
    p, d = sample
    folder = tmp_path / "daily"
    folder.mkdir()
    half = len(d) // 2
    d.iloc[:half].to_parquet(folder / "a.parquet")
    d.iloc[half:].to_parquet(folder / "b.parquet")
    p.to_parquet(tmp_path / "p.parquet")
    by = ["week", "district", "sex"]
    a = cohort.aggregate(d, p, by=by, metrics=["participants", "mean_steps", "goal_share"])
    for src in (folder, str(folder / "*.parquet"), [folder / "a.parquet", folder / "b.parquet"]):
        b = cohort.aggregate(src, tmp_path / "p.parquet", by=by, metrics=["participants", "mean_steps", "goal_share"])
        pd.testing.assert_frame_equal(a, b, check_dtype=False, check_categorical=False, rtol=1e-12)


def test_suppression_applied_to_small_cells(sample):
    p, d = sample
    res = cohort.aggregate(d, p, by=["district", "sex", "age_band"], metrics=["participants", "mean_steps"], threshold=10)
    raw = cohort.aggregate(d, p, by=["district", "sex", "age_band"], metrics=["participants", "mean_steps"], threshold=0)
    small = raw.n < 10
    assert small.any() and (~small).any()
    assert res.suppressed.to_numpy().tolist() == small.to_numpy().tolist()
    assert res.loc[small.to_numpy(), ["n", "estimate", "ci_low", "ci_high"]].isna().all().all()
    assert (res.loc[~small.to_numpy(), "estimate"] == raw.loc[~small, "estimate"]).all()


@pytest.mark.parametrize("kwargs, msg", [
    (dict(by=["colour"]), "unknown grouping key 'colour'"),
    (dict(metrics=["mean_stepz"]), "unknown metric"),
    (dict(by=["week", "week"]), "given twice"),
    (dict(ci="bootstrap"), "ci must be"),
])
def test_clear_errors(sample, kwargs, msg):
    p, d = sample
    with pytest.raises(ValueError, match=msg):
        cohort.aggregate(d, p, **kwargs)


def test_missing_daily_column_is_named(sample):
    p, d = sample
    with pytest.raises(ValueError, match="daily lacks column.*resting_hr"):
        cohort.aggregate(d.drop(columns="resting_hr"), p, metrics=["resting_hr"])


def test_only_listed_participants_count(sample):
    p, d = sample
    treated = p[p.treated]
    res = cohort.aggregate(d, treated, by=[], metrics=["participants"])
    assert res.estimate.iloc[0] == d.participant_id.isin(treated.participant_id).groupby(d.participant_id).any().sum()


def test_step_goal_and_date_bounds(sample):
    p, d = sample
    a = cohort.aggregate(d, p, by=[], metrics=["goal_share"], step_goal=5000, start="2023-03-01", end="2023-03-31")
    v = d[(d.date >= "2023-03-01") & (d.date <= "2023-03-31") & d.valid_day & d.participant_id.isin(p.participant_id)]
    assert a.estimate.iloc[0] == pytest.approx((v.steps >= 5000).mean(), rel=1e-12)


def test_weeks_since_window(sample):
    p, d = sample
    res = cohort.aggregate(d, p, by=["week_since_enrolment"], metrics=["participant_days"], weeks_since=(0, 23), threshold=0)
    assert res.week_since_enrolment.min() == 0 and res.week_since_enrolment.max() == 23
    full = cohort.aggregate(d, p, by=["week_since_enrolment"], metrics=["participant_days"], threshold=0)
    inside = full[full.week_since_enrolment.between(0, 23)]
    assert res.estimate.tolist() == inside.estimate.tolist()


def test_duplicate_participants_are_refused(sample):
    p, d = sample
    with pytest.raises(ValueError, match="duplicate participant_id"):
        cohort.aggregate(d, pd.concat([p, p.iloc[:1]]), by=["sex"])


def test_valid_day_rate_recovers_generator_truth(sample):
    """synth.daily makes 8% short-wear (invalid) days among 95% present days: rate = 1 - 0.08 / 0.95."""
    p, d = sample
    res = cohort.aggregate(d, p, by=["arm"], metrics=["valid_day_rate"]).set_index("arm")
    truth = 1 - 0.08 / 0.95
    for arm, row in res.iterrows():
        assert row.ci_low <= truth <= row.ci_high, (arm, row.ci_low, row.ci_high)
        assert row.estimate == pytest.approx(truth, abs=0.005)


def test_complementary_suppression_along_district(sample):
    p, d = sample
    res = cohort.aggregate(d, p, by=["week_since_enrolment", "district"], metrics=["participants", "mean_steps"],
                           weeks_since=(0, 23), complement="district")
    cells = res.groupby(["week_since_enrolment", "district"]).suppressed.any()
    per_week = cells.groupby(level=0).sum()
    assert (per_week != 1).all() and per_week.max() >= 2


def test_calendar_only_without_participants(sample):
    _, d = sample
    res = cohort.aggregate(d, None, by=["quarter"], metrics=["participants", "participant_days"])
    assert res[res.metric == "participant_days"].estimate.sum() == len(d)
    assert res[res.metric == "participants"].estimate.iloc[0] == d[d.date < "2023-04-01"].participant_id.nunique()
    with pytest.raises(ValueError, match="needs the participants table"):
        cohort.aggregate(d, None, by=["week_since_enrolment"])
