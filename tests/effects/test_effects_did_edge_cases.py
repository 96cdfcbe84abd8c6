"""Issue 11, items 1-4: each wrong number of the staggered DiD path is reproduced here and now comes out right
(the numbers before the fix are quoted in each docstring), plus the diagnostics every result carries."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from evaluation import effects

YYYYMM = (202010, 202011, 202012, 202101, 202102, 202103)
STEP2 = (2, 4, 6, 8, 10, 12)


def design(cohorts=(3, 5), *, never: bool = True, extra=(), labels=(1, 2, 3, 4, 5, 6), n: int = 60,
           seed: int = 0) -> pd.DataFrame:
    """Cohorts on positions ``cohorts`` (+ never-treated, + ``extra`` raw cohort labels); the effect grows
    with exposure (1 + 0.3 e), so designs that drop or mislabel cells move the aggregations."""
    rng = np.random.default_rng(seed)
    gl = [labels[c - 1] for c in cohorts] + ([0] if never else []) + list(extra)
    rows = []
    for u in range(n * len(gl)):
        g = gl[u % len(gl)]
        a = rng.normal()
        for k, t in enumerate(labels, start=1):
            gk = labels.index(g) + 1 if g in labels else None
            y = a + 0.2 * k + ((1.0 + 0.3 * (k - gk)) if gk and k >= gk else 0.0) + rng.normal(0, 0.5)
            rows.append((u, t, g, y))
    return pd.DataFrame(rows, columns=["unit", "period", "first", "y"])


def relabel(d: pd.DataFrame, labels) -> pd.DataFrame:
    mp = dict(zip(range(1, len(labels) + 1), labels))
    return d.assign(period=d["period"].map(mp), first=d["first"].map(lambda g: g if pd.isna(g) else mp.get(g, 0)))


def quiet(*args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", effects.StaggeredDiDWarning)
        return effects.staggered_did(*args, **kw)


def assert_same(a, b, to_a=lambda x: x):
    """Two fits agree cell by cell and on every aggregation (``to_a`` maps b's labels to a's)."""
    ta = a.attgt.reset_index(drop=True)
    tb = b.attgt.assign(group=b.attgt["group"].map(to_a), time=b.attgt["time"].map(to_a),
                        base_period=b.attgt["base_period"].map(to_a)).reset_index(drop=True)
    pd.testing.assert_frame_equal(ta.drop(columns=["n"]), tb.drop(columns=["n"]), check_dtype=False, atol=1e-10)
    for k in ("simple", "group", "dynamic", "calendar"):
        x, y = a.aggregate(k), b.aggregate(k)
        assert x.estimate == pytest.approx(y.estimate, abs=1e-10) and x.se == pytest.approx(y.se, abs=1e-10), k
    assert a.pretest["stat"] == pytest.approx(b.pretest["stat"], rel=1e-9, nan_ok=True)


# --- item 1: first-week enrollees and joiners without an index date ---------------------------------

def weekly_case(n: int = 60, seed: int = 3):
    """20 weeks of daily steps from Monday 2 Jan 2023: a comparison arm, joiners enrolled in the first data
    week, joiners enrolled in week 9 and joiners whose index date is missing (really enrolled in week 5).
    The effect grows by 40 steps/day per week since enrolment."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2023-01-02", periods=20 * 7)
    people, rows = [], []
    for arm, joined, idx in (("comparison", False, dates[10]), ("firstweek", True, dates[1]),
                             ("week9", True, dates[57]), ("noindex", True, pd.NaT)):
        for i in range(n if arm != "noindex" else n // 2):
            start = dates[29] if arm == "noindex" else idx
            people.append((f"{arm}-{i}", joined, idx))
            level = rng.normal(8.6, 0.3)
            for day in dates:
                eff = 40.0 * (day - start).days / 7 if joined and day >= start else 0.0
                rows.append((f"{arm}-{i}", day, np.exp(level) + 5 * (day - dates[0]).days + eff + rng.normal(0, 100),
                             eff))
    daily = pd.DataFrame(rows, columns=["participant_id", "date", "steps", "true_effect"])
    return daily, pd.DataFrame(people, columns=["participant_id", "treated", "index_date"])


def test_first_week_enrollees_and_joiners_without_index_date_never_become_controls():
    """Before: weeks were numbered from 0 and 0 meant never treated, so the 60 first-week joiners and the 30
    joiners without an index date (first_week filled with 0) were controls; their rising steps pulled the ATT
    to 82.3 steps/day [58.6, 106.0] against a true 231.5. After: they are dropped and counted; ATT 245.4
    [231.8, 258.9]."""
    daily, people = weekly_case()
    with pytest.warns(UserWarning, match="30 participant\\(s\\) are joiners without an index date"):
        w = effects.weekly_panel(daily, people)
    arm = w["participant_id"].str.split("-").str[0]
    coded = w.groupby(arm)["first_week"].agg(lambda s: s.unique().tolist())
    assert coded["comparison"] == [0.0] and coded["firstweek"] == [1.0] and coded["week9"] == [9.0]
    assert np.isnan(coded["noindex"]).all()
    assert w["week"].min() == 1  # weeks are numbered from 1, so 0 can never be a week

    with pytest.warns(effects.StaggeredDiDWarning) as rec:
        r = effects.staggered_did(w, "participant_id", "week", "first_week", "steps", est_method="reg")
    text = " ".join(str(x.message) for x in rec)
    assert "30 units with a missing 'first_week'" in text and "60 units already treated in the first period" in text
    assert (r.n_missing_group, r.n_early, r.n_units) == (30, 60, 120)
    diag = r.diagnostics.set_index("check")
    assert diag.loc["missing_group", "value"] == 30 and diag.loc["missing_group", "passed"] is False
    assert diag.loc["treated_in_first_period", "value"] == 60
    assert "등록일 없는 참여자" in diag.loc["missing_group", "message"]
    with pytest.warns(UserWarning, match="without an index date"):
        truth_w = effects.weekly_panel(daily.assign(steps=daily["true_effect"]), people)
    c = truth_w[truth_w["participant_id"].str.startswith("week9")]
    truth = c.loc[c["week"] >= c["first_week"], "steps"].mean()
    assert truth == pytest.approx(231.5, abs=0.1)
    assert abs(r.simple.estimate - truth) < 0.1 * truth


def test_weekly_panel_counts_what_it_leaves_out():
    """Days before ``start``, people missing from the participants table and an unknown arm are reported."""
    daily, people = weekly_case(n=4)
    people = people[people["participant_id"] != "comparison-0"].copy()
    people["treated"] = people["treated"].astype(object)
    people.loc[people["participant_id"] == "week9-0", "treated"] = None  # arm unknown
    with pytest.warns(UserWarning) as rec:
        w = effects.weekly_panel(daily, people, start="2023-01-09")
    text = " ".join(str(x.message) for x in rec)
    assert "valid days before start 2023-01-09 dropped" in text
    assert "1 participant(s) in the daily table are not in the participants table" in text
    assert "3 participant(s) are joiners without an index date (or have 'treated' missing)" in text
    assert w["week"].min() == 1 and "comparison-0" not in set(w["participant_id"])
    assert np.isnan(w.loc[w["participant_id"] == "week9-0", "first_week"]).all()
    # the first-week joiners enrolled before the new start: already treated when the data start
    assert (w.loc[w["participant_id"].str.startswith("firstweek"), "first_week"] == 1).all()


def test_zero_is_refused_as_never_treated_when_0_is_a_period_and_inf_is_accepted():
    d = design()
    d0 = d.assign(period=d["period"] - 1, first=d["first"].where(d["first"] == 0, d["first"] - 1))
    with pytest.raises(ValueError, match="0 is also a period of 'period'.*inf"):
        effects.staggered_did(d0, "unit", "period", "first", "y")
    r0 = quiet(d0.assign(first=d0["first"].replace(0, np.inf)), "unit", "period", "first", "y")
    assert_same(r0, quiet(d, "unit", "period", "first", "y"), to_a=lambda x: x - 1)


def test_placebo_timing_keeps_unknown_cohorts_unknown_and_shifts_by_periods():
    """Before: placebo_timing filled a missing cohort with 0, so those units were placebo controls, and moved the
    fake start by label units (labels 3, 6, 9, ...: shift 2 gave a start between two periods)."""
    d = design(cohorts=(4, 6), labels=tuple(range(1, 9)))
    d.loc[(d["first"] == 4) & (d["unit"] < 30), "first"] = np.nan  # ten joiners of cohort 4 without a start
    with pytest.warns(effects.StaggeredDiDWarning, match="10 units with a missing 'first'"):
        p = effects.placebo_timing(d, "unit", "period", "first", "y", shift=2, est_method="reg")
    assert p.n_missing_group == 10 and p.attgt["group"].unique().tolist() == [2]
    labels = tuple(range(3, 25, 3))
    with pytest.warns(effects.StaggeredDiDWarning, match="10 units with a missing 'first'"):
        p_lab = effects.placebo_timing(relabel(d, labels), "unit", "period", "first", "y", shift=2, est_method="reg")
    pos = {lab: i + 1 for i, lab in enumerate(labels)}
    assert_same(p, p_lab, to_a=lambda x: pos[x])


# --- item 2: period labels that are not consecutive integers -----------------------------------------

@pytest.mark.parametrize("labels", [YYYYMM, STEP2], ids=["yyyymm", "step2"])
@pytest.mark.parametrize("base_period", ["varying", "universal"])
@pytest.mark.parametrize("control_group", ["nevertreated", "notyettreated"])
def test_non_consecutive_labels_give_the_answers_of_positions_1_to_T(labels, base_period, control_group):
    """Before (cohorts first treated in positions 4 and 5, outcome regression): with YYYYMM labels the simple
    ATT was 1.0045 instead of 1.2714, the group aggregation NaN and, with a universal base period, cohort
    202101 was skipped silently; with labels 2, 4, ..., 12 the call crashed ("need at least one array to
    concatenate"). After: every label set gives the 1..T answer (simple 1.2714, group 1.2269) and moderndid's."""
    from did_reference import compare, moderndid_fit

    d = design(cohorts=(4, 5))
    kw = dict(base_period=base_period, control_group=control_group, est_method="reg")
    r_pos = quiet(d, "unit", "period", "first", "y", **kw)
    r_lab = quiet(relabel(d, labels), "unit", "period", "first", "y", **kw)
    pos = {lab: i + 1 for i, lab in enumerate(labels)}
    assert_same(r_pos, r_lab, to_a=lambda x: pos[x])
    assert sorted(r_lab.attgt["group"].unique()) == [labels[3], labels[4]]
    assert np.isfinite(r_lab.group.estimate)
    if control_group == "nevertreated":
        assert r_lab.simple.estimate == pytest.approx(1.2714, abs=1e-4)
        assert r_lab.group.estimate == pytest.approx(1.2269, abs=1e-4)
    compare(r_pos, moderndid_fit(d, **kw))


def test_anticipation_and_event_time_count_periods_not_label_units():
    """With YYYYMM labels, anticipation=1 means one month (not one label unit, which R did and moderndid use:
    202101 - 1 = 202100 is no month) and the event study bins by months since the start."""
    from did_reference import compare, moderndid_fit

    d = design(cohorts=(3, 4, 6))
    kw = dict(anticipation=1, control_group="notyettreated", est_method="reg")
    r_pos = quiet(d, "unit", "period", "first", "y", **kw)
    r_lab = quiet(relabel(d, YYYYMM), "unit", "period", "first", "y", **kw)
    pos = {lab: i + 1 for i, lab in enumerate(YYYYMM)}
    assert_same(r_pos, r_lab, to_a=lambda x: pos[x])
    assert r_lab.dynamic.table["event_time"].tolist() == list(range(-4, 4))  # months, not label differences
    compare(r_pos, moderndid_fit(d, **kw))


def test_cohort_start_between_periods_is_mapped_to_the_next_period_with_a_warning():
    d = relabel(design(cohorts=(3, 5)), STEP2)
    moved = d.assign(first=d["first"].replace({10: 9}))  # starts at 9: first observed treated period is 10
    with pytest.warns(effects.StaggeredDiDWarning, match="not observed periods"):
        r = effects.staggered_did(moved, "unit", "period", "first", "y", est_method="reg")
    assert_same(r, quiet(d, "unit", "period", "first", "y", est_method="reg"))
    assert r.diagnostics.set_index("check").loc["cohort_start_not_a_period", "value"] == 60


# --- item 3: cohorts without a post-treatment period -------------------------------------------------

def test_cohort_first_treated_after_the_last_period_is_recoded_as_never_treated():
    """Before: a cohort starting in period 8 of a 6-period panel stayed a cohort with pre-treatment cells only;
    the group aggregation was NaN and the simple ATT 1.3392 (its units were no controls). After: recoded as
    never treated, as R did; simple 1.3620, group 1.3046, equal to moderndid."""
    from did_reference import compare, moderndid_fit

    d = design(cohorts=(3, 5), extra=(8,))
    with pytest.warns(effects.StaggeredDiDWarning, match="start after the last period: 60 units recoded"):
        r = effects.staggered_did(d, "unit", "period", "first", "y", est_method="reg")
    assert sorted(r.attgt["group"].unique()) == [3, 5]
    assert r.group.estimate == pytest.approx(1.3046, abs=1e-4) and r.simple.estimate == pytest.approx(1.3620, abs=1e-4)
    assert r.diagnostics.set_index("check").loc["cohorts_after_last_period", "value"] == 60
    compare(r, moderndid_fit(d, est_method="reg"))


def test_not_yet_treated_without_never_treated_drops_late_periods_as_r_did():
    """Before: with not-yet-treated controls and no never-treated units, the last cohort's post-treatment cells
    had no controls and were skipped, so the group aggregation was NaN. After: periods from the last cohort's
    start on are dropped and that cohort is a control only (R did); group = simple = 1.2852, never NaN."""
    from did_reference import compare, moderndid_fit

    d = design(cohorts=(3, 5), never=False)
    with pytest.warns(effects.StaggeredDiDWarning, match="no never-treated units: periods 5, 6 dropped"):
        r = effects.staggered_did(d, "unit", "period", "first", "y", control_group="notyettreated", est_method="reg")
    assert r.dropped_periods == [5, 6] and r.attgt["group"].unique().tolist() == [3]
    assert r.group.estimate == pytest.approx(1.2852, abs=1e-4)
    assert r.group.estimate == pytest.approx(r.simple.estimate, abs=1e-12)
    diag = r.diagnostics.set_index("check")
    assert diag.loc["no_never_treated", "value"] == 2 and diag.loc["no_never_treated", "passed"] is False
    compare(r, moderndid_fit(d, control_group="notyettreated", est_method="reg"), exclude_cohort=5)
    with pytest.raises(ValueError, match="no never-treated units; use control_group='notyettreated'"):
        effects.staggered_did(d, "unit", "period", "first", "y")


def test_cohort_without_post_period_is_left_out_of_the_group_aggregation_not_nan():
    """With anticipation, a cohort can start after the kept periods of a design without never-treated units."""
    d = design(cohorts=(3, 5, 6), never=False)
    with pytest.warns(effects.StaggeredDiDWarning) as rec:
        r = effects.staggered_did(d, "unit", "period", "first", "y", control_group="notyettreated",
                                  anticipation=1, est_method="reg")
    text = " ".join(str(w.message) for w in rec)
    assert "cohorts 5 have no post-treatment period" in text and "periods 5, 6 dropped and cohort 6" in text
    assert r.dropped_periods == [5, 6]
    assert r.group.table["group"].tolist() == [3] and np.isfinite(r.group.estimate)
    assert 5 in r.attgt["group"].tolist()  # its pre-treatment cells are still estimated (and pre-tested)
    assert r.diagnostics.set_index("check").loc["cohorts_without_post_period", "value"] == 1


# --- item 4: TWFE small-sample correction -------------------------------------------------------------

def test_twfe_cr1_does_not_count_unit_effects_nested_in_the_clusters():
    """fixest's default ssc(fixef.K = "nested") and Stata's xtreg, fe vce(cluster id): K = 1 + T, not
    N + T. Hand check: statsmodels OLS of the unit-demeaned outcome on the unit-demeaned treatment and
    period dummies plus a constant has exactly K = 1 + T columns, the same residuals and the same bread as the
    full dummy regression (Frisch-Waugh-Lovell), so its CR1 SE is fixest's. Before, the SE was the full-dummy
    statsmodels SE, sqrt((NT-T-1)/(NT-N-T)) = 1.0956 times too large here (N=180, T=6)."""
    import statsmodels.api as sm

    d = design(cohorts=(3, 5))
    r = quiet(d, "unit", "period", "first", "y", est_method="reg")
    g = d.groupby("unit")["first"].transform("first")
    d = d.assign(D=((g > 0) & (d["period"] >= g)).astype(float))
    dummies = pd.get_dummies(d["period"], prefix="t", drop_first=True, dtype=float)
    X = pd.concat([d[["D"]], dummies], axis=1)
    Xw = X - X.groupby(d["unit"]).transform("mean")
    yw = d["y"] - d.groupby("unit")["y"].transform("mean")
    nested = sm.OLS(yw, sm.add_constant(Xw)).fit(cov_type="cluster", cov_kwds={"groups": d["unit"]})
    full = sm.OLS(d["y"], sm.add_constant(pd.concat([X, pd.get_dummies(d["unit"], prefix="u", drop_first=True,
                                                                       dtype=float)], axis=1))).fit(
        cov_type="cluster", cov_kwds={"groups": d["unit"]})
    assert r.twfe.estimate == pytest.approx(nested.params["D"], rel=1e-9) == pytest.approx(full.params["D"], rel=1e-9)
    assert r.twfe.se == pytest.approx(nested.bse["D"], rel=1e-9)
    N, T = d["unit"].nunique(), d["period"].nunique()
    assert full.bse["D"] / r.twfe.se == pytest.approx(np.sqrt((N * T - T - 1) / (N * T - N - T)), rel=1e-9)
    assert full.bse["D"] / r.twfe.se == pytest.approx(1.0956, abs=1e-4)


# --- diagnostics on every result ----------------------------------------------------------------------

def test_rejected_pre_trend_warns_and_shows_in_diagnostics_and_summary():
    d = design(cohorts=(4, 5))
    d["y"] += np.where(d["first"] == 4, 0.4 * d["period"], 0.0)  # cohort 4 trends away before adoption
    with pytest.warns(effects.StaggeredDiDWarning, match="pre-trend test rejects parallel trends"):
        r = effects.staggered_did(d, "unit", "period", "first", "y", est_method="reg")
    row = r.diagnostics.set_index("check").loc["pre_trend"]
    assert row["passed"] is False and row["value"] < 0.05 and row["threshold"] == 0.05
    assert "평행추세" in row["message"] and "parallel trends rejected" in row["message"]
    assert list(r.diagnostics.columns) == ["check", "value", "threshold", "passed", "message"]
    assert "pre_trend" in r.checks_failed and (r.summary()["checks_failed"] == ", ".join(r.checks_failed)).all()
    # a clean design passes every check and raises no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error", effects.StaggeredDiDWarning)
        ok = effects.staggered_did(design(cohorts=(4, 5)), "unit", "period", "first", "y", est_method="reg")
    assert ok.checks_failed == [] and (ok.summary()["checks_failed"] == "").all()
    assert ok.diagnostics["passed"].tolist() == [True] * len(ok.diagnostics)


# --- the 2x2 estimators with DRDID's propensity-score trimming ------------------------------------------

@pytest.mark.parametrize("method", ["dr", "ipw", "reg"])
def test_two_by_two_estimators_equal_drdid_with_trimmed_comparison_units(method):
    """Comparison units with a propensity score >= 0.995 get weight 0 in DRDID (and so in R did); a design with
    a few such units gives DRDID's ATT and influence function to 1e-8."""
    moderndid = pytest.importorskip("moderndid")
    from evaluation.effects._ifs import ESTIMATORS

    rng = np.random.default_rng(11)
    n = 400
    x = rng.normal(size=n)
    x[:3] = 4.0  # comparison units deep in the treated region: propensity score 0.998, in [0.995, 0.999)
    d = (rng.random(n) < 1 / (1 + np.exp(-2 * (x - 0.5)))).astype(float)
    d[:3] = 0.0
    y0 = x + rng.normal(size=n)
    y1 = y0 + 0.5 * x + 1.0 * d + rng.normal(size=n)
    X = np.column_stack([np.ones(n), x])
    ref = {"dr": moderndid.drdid_panel, "ipw": moderndid.std_ipw_did_panel, "reg": moderndid.reg_did_panel}[method]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = ref(y1=y1, y0=y0, d=d, covariates=X, influence_func=True)
    att, inf = ESTIMATORS[method](y1 - y0, d, X, trim_level=0.995)
    assert att == pytest.approx(r.att, abs=1e-8)
    assert np.max(np.abs(inf - r.att_inf_func)) < 1e-8
    if method != "reg":  # the trimming matters here: without it the estimate moves
        assert abs(ESTIMATORS[method](y1 - y0, d, X)[0] - att) > 1e-4
