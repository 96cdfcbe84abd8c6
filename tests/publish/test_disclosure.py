"""Disclosure control across a run's tables: attack the published tables the way an analyst would.

Each attack below is written independently of :mod:`evaluation.publish.disclosure` (its own unknowns, its own
scipy.optimize.linprog calls) and runs on tables built by the package functions the demo notebooks call,
on the committed demo sample. The issue's concrete attacks are reproduced first on the old table shapes.
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from evaluation.publish import disclosure
from evaluation.cohort import engagement, overview

K = 10
ENROLLED_ARMS = ("band_issued", "own_device")


def bounds(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> tuple[float, float]:
    """The analyst's interval for ``c @ x`` given ``a @ x = b``, ``x >= 0`` (integers: rounded inwards)."""
    lo = linprog(c, A_eq=a, b_eq=b, bounds=(0, None), method="highs")
    hi = linprog(-c, A_eq=a, b_eq=b, bounds=(0, None), method="highs")
    assert lo.status in (0, 3) and hi.status in (0, 3), (lo.message, hi.message)
    return (0.0 if lo.status == 3 else float(np.ceil(lo.fun - 1e-6)),
            np.inf if hi.status == 3 else float(np.floor(-hi.fun + 1e-6)))


def small(lo: float, hi: float) -> bool:
    """Recovered: confined to a window narrower than K that holds counts 1..K-1."""
    return hi - lo < K and lo < K and hi > 0


@pytest.fixture(scope="module")
def people(repo_root) -> pd.DataFrame:
    return pd.read_parquet(repo_root / "data_samples" / "participants.parquet")


@pytest.fixture(scope="module")
def daily(repo_root) -> pd.DataFrame:
    return pd.read_parquet(repo_root / "data_samples" / "daily.parquet",
                           columns=["participant_id", "date", "steps", "valid_day"])


# ------------------------------------------------------------------------- district x arm and district x sex
def district_attack(arm_table: pd.DataFrame, sex_table: pd.DataFrame, people: pd.DataFrame) -> list[tuple]:
    """Solve both tables as one system over district x arm x sex; return every withheld cell the analyst pins."""
    districts = sorted(people.district.unique())
    arms = sorted(people.arm.astype(str).unique())
    sexes = sorted(people.sex.astype(str).unique())
    atoms = [(d, a, s) for d in districts for a in arms for s in sexes]
    truth = people.assign(arm=people.arm.astype(str), sex=people.sex.astype(str)).groupby(["district", "arm", "sex"]).size()

    def vec(d=None, a=None, s=None, enrolled=False):
        return np.array([(d in (None, x[0])) and (a in (None, x[1])) and (s in (None, x[2]))
                         and (not enrolled or x[1] in ENROLLED_ARMS) for x in atoms], float)

    rows, rhs, targets = [], [], []
    for r in arm_table.itertuples():
        v = vec(None if r.district is None else r.district, None if r.arm is None else r.arm)
        (targets.append((("arm", r.district, r.arm), v)) if r.suppressed else (rows.append(v), rhs.append(r.participants)))
    for r in sex_table.itertuples():
        v = vec(None if r.district is None else r.district, None, None if r.sex is None else r.sex, enrolled=True)
        (targets.append((("sex", r.district, r.sex), v)) if r.suppressed else (rows.append(v), rhs.append(r.enrolled)))
    a, b = np.array(rows), np.array(rhs, float)
    found = []
    for label, c in targets:
        lo, hi = bounds(a, b, c)
        if small(lo, hi):
            true = sum(truth.get(x, 0) * w for x, w in zip(atoms, c))
            found.append((label, lo, hi, true))
    return found


def test_issue_attack_district_arm_and_sex_tables_solved_together(people):
    """Issue 14: solving district x arm and district x sex together recovered cells of 3, 7 and 8."""
    arm_table = overview.enrolment_counts(people, rows="district", cols="arm", threshold=K)
    old = engagement.enrolment_table(people, "district", "sex", threshold=K, linked=()).summary()
    found = district_attack(arm_table, old, people)
    exact = {int(true) for _, lo, hi, true in found if lo == hi}
    assert {3, 7, 8} <= exact, found  # the issue's numbers, recovered exactly, as the issue says
    assert all(lo <= true <= hi for _, lo, hi, true in found)  # the attack is sound
    new = engagement.enrolment_table(people, "district", "sex", threshold=K).summary()
    assert district_attack(arm_table, new, people) == []
    assert (new.reason == "linked").any()
    # what is still published is the truth
    truth = people[people.enrolled_on.notna()].groupby(["district", "sex"]).size()
    pub = new[~new.suppressed & ~new.margin]
    assert all(truth[(r.district, r.sex)] == r.enrolled for r in pub.itertuples())


# ------------------------------------------------------------------------- time series: months, weeks, totals
def test_issue_attack_withheld_month_from_the_report_total():
    """Issue 14: own-device February withheld, yet 199 - (38+53+45+54) = 9."""
    months = pd.to_datetime(["2023-02-01", "2023-03-01", "2023-04-01", "2023-06-01", "2023-08-01"])
    news = {"band_issued": [31, 88, 108, 103, 83], "own_device": [9, 38, 53, 45, 54]}
    p = pd.DataFrame([(f"P{a}{m}{i}", a, d) for a, ns in news.items() for m, (d, n) in enumerate(zip(months, ns))
                      for i in range(n)], columns=["participant_id", "arm", "enrolled_on"])
    e = engagement.enrolment(p, freq="month", by="arm", threshold=K)
    for arm, g in e.groupby("arm", observed=True):
        total = sum(news[arm])  # published elsewhere (district x arm margin, baseline table n)
        derived = total - g.enrolled.dropna().sum()  # the sum of the withheld months
        assert derived == 0 or derived >= K, (arm, derived)
        # differencing published cumulatives (and the total) minus the published months in between
        gaps = _withheld_between(g, total)
        assert all(x == 0 or x >= K for x in gaps), (arm, gaps)
    own = e[e.arm == "own_device"]
    assert own.suppressed.sum() >= 2  # February plus a complement month
    # the run-level audit sees the same: the old table (only February withheld) is exposed and gets fixed
    old = e.copy()
    old["enrolled"] = old["enrolled"].astype("Int64")
    old.loc[(old.arm == "own_device") & (old.period == months[1]), ["enrolled", "suppressed"]] = [38, False]
    margins = pd.DataFrame({"district": [None, None], "arm": list(news), "participants": [413.0, 199.0],
                            "suppressed": False, "reason": "", "margin": True})
    rep = disclosure.audit({"enrolment_by_month": old, "enrolment_by_district_arm": margins}, threshold=K)
    assert rep.status == "suppressed"
    assert any("[9, 9]" in w["reason"] for w in rep.withheld), rep.withheld
    clean = disclosure.audit({"enrolment_by_month": e, "enrolment_by_district_arm": margins}, threshold=K)
    assert clean.status == "clean", clean.withheld


def _withheld_between(g: pd.DataFrame, total: float) -> list[float]:
    """Withheld enrolments between consecutive published running totals (the total closes the series)."""
    out, acc, last = [], 0.0, 0.0
    for new, cum, sup in zip(g.enrolled.astype(float), g.cumulative.astype(float), g.suppressed):
        if not sup:
            acc += new  # published month: the analyst subtracts it
        if not np.isnan(cum):
            out.append(cum - last - acc)
            last, acc = cum, 0.0
    out.append(total - last - acc)
    return out


def test_weekly_running_total_reveals_no_small_enrolment(people, daily):
    """Issue 14: weekly_active published the running enrolled total, so differences gave weekly enrolments < 10."""
    # a trickle of enrolments (1-4 per week) on top of the demo waves
    extra = people[people.arm == "own_device"].head(40).copy()
    extra["participant_id"] = [f"X{i}" for i in range(len(extra))]
    extra["enrolled_on"] = pd.Timestamp("2023-09-04") + pd.to_timedelta(np.repeat(np.arange(10) * 7, 4)[:40], "D")
    p = pd.concat([people, extra], ignore_index=True)
    wa = engagement.weekly_active(daily, p, threshold=K)
    total = int(p.enrolled_on.notna().sum())  # published as participants_enrolled
    shown = wa.enrolled.dropna().astype(float).to_numpy()
    diffs = np.diff(np.concatenate([shown, [total]]))
    assert all(d == 0 or d >= K for d in diffs), diffs
    assert wa.enrolled.isna().sum() > wa.suppressed.sum()  # the running total is withheld in some active weeks
    assert wa.loc[wa.enrolled.isna(), "active_share"].isna().all()  # a share would give the total back
    # the old publication: every week's total; differences expose enrolments of 4
    new = p.dropna(subset=["enrolled_on"]).enrolled_on
    week = new - pd.to_timedelta(new.dt.weekday, "D")
    weekly = week.value_counts().sort_index()
    assert ((weekly > 0) & (weekly < K)).any()


def test_retention_publishes_no_small_dropout_count(people, daily):
    """Issue 14: retention.parquet had weekly dropout counts of 1-9 in 56 of 75 rows."""
    r = engagement.retention(daily, people, by="arm", total=True, threshold=K)
    t = r.table
    ev = t.events.astype(float)
    assert not ev.between(1, K - 1).any()
    assert {"observed", "active", "adherence_n"}.isdisjoint(t.columns)  # rates only, not the head counts
    shown = {g: set(x.week[x.at_risk.notna()]) for g, x in t.groupby("arm")}
    assert len({frozenset(s) for s in shown.values()}) == 1  # one grid for arms and the pooled curve
    weeks = sorted(next(iter(shown.values())))
    assert weeks[0] == 0 and weeks[-1] == 24 and 3 <= len(weeks) < 25
    # differencing consecutive shown weeks: dropouts and censorings each 0 or >= K, per arm and pooled
    for g, x in t.groupby("arm"):
        x = x.set_index("week")
        for w0, w1 in zip(weeks[:-1], weeks[1:]):
            removed = x.at_risk[w0] - x.at_risk[w1]
            dropped = x.events[w1]
            assert dropped == 0 or dropped >= K
            assert removed - dropped == 0 or removed - dropped >= K, (g, w0, w1)
    pooled = t[t.arm == "all"].set_index("week").at_risk.dropna()
    arms = t[t.arm != "all"].groupby("week").at_risk.sum(min_count=1).dropna()
    assert (pooled == arms.loc[pooled.index]).all()
    # linear attack over arm x dropout week x event: no weekly dropout or censoring count is pinned below K
    assert disclosure.audit({"retention": t.copy()}, threshold=K).status == "clean"
    assert 0 < r.retention_["all"] < 1


def test_flags_by_day_counts_are_withheld_by_the_audit():
    """Issue 14: flags_by_day.participants_flagged had 1-9 in 37 of 56 rows (built in signals; the audit catches it)."""
    rng = np.random.default_rng(1)
    flags = pd.DataFrame({"date": np.repeat(pd.date_range("2023-03-06", periods=7), 8), "flag": [f"f{i}" for i in range(8)] * 7,
                          "minutes": rng.integers(0, 500, 56).astype(float),
                          "participants_flagged": rng.integers(0, 20, 56).astype(float), "n": 20.0, "suppressed": False})
    small_rows = flags.participants_flagged.between(1, K - 1)
    rep = disclosure.audit({"flags_by_day": flags}, threshold=K)
    assert len(rep.withheld) == small_rows.sum()
    assert flags.loc[small_rows, "participants_flagged"].isna().all()
    assert not flags.participants_flagged.between(1, K - 1).any()


# ------------------------------------------------------------------------- a demo-like run, all tables together
@pytest.fixture(scope="module")
def demo_tables(people, daily):
    """The person-count tables and headlines of notebooks 10 and 30, built by the same package calls."""
    arm_table = overview.enrolment_counts(people, rows="district", cols="arm", threshold=K)
    sex_table = engagement.enrolment_table(people, "district", "sex", threshold=K).summary()
    month = engagement.enrolment(people, freq="month", by="arm", threshold=K)
    weekly = engagement.weekly_active(daily, people, threshold=K)
    ret = engagement.retention(daily, people, by="arm", total=True, threshold=K).table
    tables = {"enrolment_by_district_arm": arm_table, "enrolment_by_district": sex_table, "enrolment_by_month": month,
              "weekly_active": weekly, "retention": ret}
    results = {"10_cohort_overview": {"participants_enrolled": {"value": int(people.treated.sum()), "unit": "persons"},
                                      "participants_comparison": {"value": int((people.arm == "comparison").sum()),
                                                                  "unit": "persons"}}}
    return tables, results


def test_demo_run_tables_recover_nothing_together(demo_tables, people):
    tables, results = demo_tables
    # the module's audit has nothing to do on what the builders publish
    rep = disclosure.audit({k: v.copy() for k, v in tables.items()}, json.loads(json.dumps(results)), threshold=K)
    assert rep.status == "clean", rep.withheld
    assert rep.populations["participants"]["facts"] > 250
    # independent linear attack over arm x enrolment-date segments (weeks and months cut), with the totals
    p = people.assign(arm=people.arm.astype(str))
    enr = p[p.enrolled_on.notna()]
    month, weekly, arm_table = tables["enrolment_by_month"], tables["weekly_active"], tables["enrolment_by_district_arm"]
    cuts = sorted(set(pd.to_datetime(month.period)) | {pd.Timestamp(x) + pd.offsets.MonthBegin(1) for x in month.period}
                  | {pd.Timestamp(w) + pd.Timedelta(days=7) for w in weekly.week})
    edges = [pd.Timestamp.min] + cuts + [pd.Timestamp.max]
    segs = list(zip(edges[:-1], edges[1:]))
    atoms = [(a, s) for a in ENROLLED_ARMS for s in segs]

    def vec(arm=None, lo=pd.Timestamp.min, hi=pd.Timestamp.max):
        return np.array([(arm in (None, a)) and lo <= s[0] and s[1] <= hi for a, s in atoms], float)

    rows, rhs, targets = [], [], []
    for r in month.itertuples():
        end = pd.Timestamp(r.period) + pd.offsets.MonthBegin(1)
        for value, c in ((r.enrolled, vec(r.arm, pd.Timestamp(r.period), end)), (r.cumulative, vec(r.arm, hi=end))):
            (targets.append(c) if pd.isna(value) else (rows.append(c), rhs.append(float(value))))
    for r in weekly.itertuples():
        if not pd.isna(r.enrolled):
            rows.append(vec(hi=pd.Timestamp(r.week) + pd.Timedelta(days=7))); rhs.append(float(r.enrolled))
    for r in arm_table[arm_table.margin & arm_table.district.isna() & arm_table.arm.isin(ENROLLED_ARMS)].itertuples():
        rows.append(vec(r.arm)); rhs.append(float(r.participants))
    rows.append(vec()); rhs.append(float(results["10_cohort_overview"]["participants_enrolled"]["value"]))
    # targets: every withheld month and every week's new enrolments (the differences of the running total)
    ends = [pd.Timestamp.min] + [pd.Timestamp(w) + pd.Timedelta(days=7) for w in weekly.week] + [pd.Timestamp.max]
    targets += [vec(lo=lo, hi=hi) for lo, hi in zip(ends[:-1], ends[1:])]
    a, b = np.array(rows), np.array(rhs)
    # the published system is consistent with the truth
    truth = np.array([((enr.arm == arm) & (enr.enrolled_on >= s[0]) & (enr.enrolled_on < s[1])).sum() for arm, s in atoms])
    np.testing.assert_allclose(a @ truth, b)
    recovered = []
    for c in targets:
        lo, hi = bounds(a, b, c)
        assert lo <= c @ truth <= hi
        if small(lo, hi):
            recovered.append((lo, hi, c @ truth))
    assert recovered == []
    # plain differencing of the weekly running total
    shown = weekly.enrolled.dropna().astype(float).to_numpy()
    assert all(d == 0 or d >= K for d in np.diff(np.concatenate([shown, [len(enr)]])))


# ------------------------------------------------------------------------- the publishing gate of a run folder
def _run_folder(tmp_path, month: pd.DataFrame):
    run = tmp_path / "run"
    for sub in ("tables", "reports", "private/notebooks", "results"):
        (run / sub).mkdir(parents=True)
    month.to_parquet(run / "tables" / "enrolment_by_month.parquet", index=False)
    margins = pd.DataFrame({"district": [None, None, None], "arm": ["band_issued", "own_device", None],
                            "participants": [413.0, 199.0, 612.0], "suppressed": False, "reason": "", "margin": True})
    margins.to_parquet(run / "tables" / "enrolment_by_district_arm.parquet", index=False)
    results = {"30_cohort_engagement": {"participants_enrolled": {"value": 612, "unit": "persons"}}}
    (run / "results.json").write_text(json.dumps(results), encoding="utf-8")
    (run / "results" / "30_cohort_engagement.json").write_text(json.dumps(results["30_cohort_engagement"]), encoding="utf-8")
    (run / "private" / "notebooks" / "30_cohort_engagement.ipynb").write_text(
        json.dumps({"cells": [{"source": ['rec.table("enrolment_by_month", e)']}]}), encoding="utf-8")
    (run / "private" / "notebooks" / "60_district_equity.ipynb").write_text(json.dumps({"cells": []}), encoding="utf-8")
    for nb in ("30_cohort_engagement", "60_district_equity"):
        (run / "reports" / f"{nb}.html").write_text("<p>February: 9</p>", encoding="utf-8")
    return run


def _old_month_table() -> pd.DataFrame:
    months = pd.to_datetime(["2023-02-01", "2023-03-01", "2023-04-01", "2023-06-01", "2023-08-01"])
    rows = [("band_issued", m, n, False) for m, n in zip(months, [31, 88, 108, 103, 83])]
    rows += [("own_device", m, n, n < K) for m, n in zip(months, [9, 38, 53, 45, 54])]
    df = pd.DataFrame(rows, columns=["arm", "period", "enrolled", "suppressed"])
    df["cumulative"] = df.groupby("arm").enrolled.cumsum().astype("Int64")
    df["cumulative_suppressed"] = False
    df.loc[df.arm == "own_device", "cumulative_suppressed"] = True
    df["enrolled"] = df["enrolled"].astype("Int64").mask(df["suppressed"])
    df["cumulative"] = df["cumulative"].mask(df["cumulative_suppressed"])
    return df


def test_gate_suppresses_records_and_withholds_stale_reports(tmp_path):
    run = _run_folder(tmp_path, _old_month_table())
    manifest: dict = {}
    assert disclosure.gate(run, manifest, threshold=K, say=lambda m: None) is None
    # the published manifest says how many values were withheld, not which or why (that tells what they are)
    public = manifest["disclosure"]
    assert public["status"] == "suppressed" and public["withheld"] > 0
    assert "reason" not in json.dumps(public)
    d = json.loads((run / "private" / "disclosure.json").read_text(encoding="utf-8"))
    assert len(d["withheld"]) == public["withheld"]
    assert all(w["table"] == "enrolment_by_month" and "complement" in w["reason"] for w in d["withheld"])
    assert public["reports_withheld"] == d["reports_withheld"] == ["30_cohort_engagement.html"]
    notice = (run / "reports" / "30_cohort_engagement.html").read_text(encoding="utf-8")
    assert "게시하지 않았습니다" in notice and "February: 9" not in notice
    assert (run / "reports" / "60_district_equity.html").read_text(encoding="utf-8") == "<p>February: 9</p>"
    m = pd.read_parquet(run / "tables" / "enrolment_by_month.parquet")
    own = m[m.arm == "own_device"]
    assert 199 - own.enrolled.dropna().sum() >= K  # the issue's subtraction now gives a sum of >= 10
    # a second audit of the rewritten folder has nothing left to do
    assert disclosure.audit_run(run, threshold=K).status == "clean"


def test_run_refused_when_the_audit_cannot_fix_it(tmp_path):
    run = _run_folder(tmp_path, _old_month_table())
    with pytest.raises(disclosure.DisclosureError, match="refused to publish") as err:
        disclosure.audit_run(run, threshold=K, max_rounds=0)
    assert err.value.report["status"] == "refused" and err.value.report["exposed"]
    # nothing was rewritten
    m = pd.read_parquet(run / "tables" / "enrolment_by_month.parquet")
    assert m.enrolled.notna().sum() == 9


# ------------------------------------------------------------------------- the reduced LP equals the full one
@settings(max_examples=25, deadline=None)
@given(st.integers(2, 4).flatmap(lambda d: st.lists(st.integers(0, 30), min_size=d * 6, max_size=d * 6)))
def test_clique_marginal_bounds_equal_the_full_cross_table(counts):
    """The audit solves over clique marginals (junction tree); the analyst here over every district x arm x sex
    atom. The bounds of every withheld cell must be the same."""
    d = len(counts) // 6
    arms, sexes = ["band_issued", "comparison", "own_device"], ["F", "M"]
    cells = [(f"d{i}", a, s) for i in range(d) for a in arms for s in sexes]
    people = pd.DataFrame([(f"P{k}_{j}", di, a, s, pd.NaT if a == "comparison" else pd.Timestamp("2023-03-01"))
                           for k, ((di, a, s), n) in enumerate(zip(cells, counts)) for j in range(n)],
                          columns=["participant_id", "district", "arm", "sex", "enrolled_on"])
    if people.enrolled_on.notna().sum() == 0 or people.district.nunique() < 2:
        return
    arm_table = overview.enrolment_counts(people, rows="district", cols="arm", threshold=K)
    sex_table = engagement.enrolment_table(people, "district", "sex", threshold=K, linked=()).summary()
    got = disclosure.intervals({"enrolment_by_district_arm": arm_table, "enrolment_by_district": sex_table})
    got = got[got.population == "participants"]
    # the analyst's full table: every atom an unknown
    atoms = cells
    def vec(di=None, a=None, s=None, enrolled=False):
        return np.array([(di in (None, x[0])) and (a in (None, x[1])) and (s in (None, x[2]))
                         and (not enrolled or x[1] != "comparison") for x in atoms], float)
    rows, rhs, targets = [], [], {}
    for r in arm_table.itertuples():
        v = vec(r.district, r.arm)
        label = f"enrolment_by_district_arm[{disclosure._desc({k: (x,) for k, x in (('district', r.district), ('arm', r.arm)) if x is not None})}].participants"
        (targets.__setitem__(label, v) if r.suppressed else (rows.append(v), rhs.append(r.participants)))
    for r in sex_table.itertuples():
        v = vec(r.district, None, r.sex, enrolled=True)
        where = {k: (x,) for k, x in (("district", r.district), ("sex", r.sex)) if x is not None}
        label = f"enrolment_by_district[{disclosure._desc(dict(where, enrolled=('yes',)))}].enrolled"
        (targets.__setitem__(label, v) if r.suppressed else (rows.append(v), rhs.append(r.enrolled)))
    assert set(got.label) == set(targets)
    for g in got.itertuples():
        lo, hi = bounds(np.array(rows), np.array(rhs, float), targets[g.label]) if rows else (0.0, np.inf)
        assert (g.lo, g.hi) == (lo, hi), (g.label, g.lo, g.hi, lo, hi)


def test_an_audit_that_checked_nothing_does_not_say_clean():
    """With every count perturbed, the suppression audit has nothing to solve: its line must not read as a
    verdict ("clean; 0 counts checked" beside the attack audit's own line)."""
    idle = disclosure.Audit(threshold=10)
    assert "clean" not in idle.summary() and "attack audit" in idle.summary()
    checked = disclosure.Audit(threshold=10, checked=12)
    assert checked.summary().startswith("disclosure audit: clean; 12 counts checked")
