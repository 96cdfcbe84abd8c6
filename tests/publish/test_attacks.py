"""The attack suite (issue 20, part B): each attack finds an exposure planted in a small hand-made run, nothing is
found in a properly protected one, and the CLI and the runner refuse what is exposed.

Every planted run below is what an outsider downloads: ``tables/*.parquet``, ``results.json``, ``reports/*.html``.
The true hidden values are known, so each test also checks that the attacker's interval holds the truth.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation import cli
from evaluation.publish import attack_lp, attacks, published

K = 10


def write_run(root: Path, tables: dict[str, pd.DataFrame], results: dict | None = None,
              reports: dict[str, str] | None = None) -> Path:
    run = root / "run"
    for sub in ("tables", "reports"):
        (run / sub).mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        df.to_parquet(run / "tables" / f"{name}.parquet", index=False)
    (run / "results.json").write_text(json.dumps(results or {}, ensure_ascii=False), encoding="utf-8")
    for name, text in (reports or {}).items():
        (run / "reports" / f"{name}.html").write_text(f"<html><body><script>var n = 3;</script>{text}</body></html>",
                                                      encoding="utf-8")
    return run


def hits(rep: attacks.AttackReport, attack: str) -> pd.DataFrame:
    return rep.table[rep.table["attack"] == attack]


def holds(row: pd.Series, truth: float) -> bool:
    return row["low"] <= truth <= row["high"]


# ------------------------------------------------------------------------------------------ the solver
def test_solver_pins_a_lone_withheld_cell_from_its_margins():
    """2 x 2 table with all margins and one cell withheld: exact recovery."""
    F = attack_lp.Fact
    fs = lambda **w: {k: frozenset([v]) for k, v in w.items()}  # noqa: E731
    facts = [F(fs(r="a", c="x"), 0, np.inf, "t", "ax", target=True), F(fs(r="a", c="y"), 20, 20),
             F(fs(r="b", c="x"), 15, 15), F(fs(r="b", c="y"), 30, 30), F(fs(r="a"), 24, 24)]
    (b,) = attack_lp.solve(attack_lp.Population("p", facts))
    assert (b.lo, b.hi) == (4, 4)


def test_solver_runs_the_integer_programme_when_the_relaxation_exposes_nothing():
    """A window [0, 12] exposes nothing by itself: HiGHS' MILP is asked (and agrees, a 1-D margin being
    totally unimodular); a window the relaxation already exposes is not refined."""
    F = attack_lp.Fact
    g = lambda v: {"g": frozenset([v])}  # noqa: E731
    wide = [F(g("a"), 0, np.inf, "t", "a", target=True), F({}, 12, 12), F(g("b"), 0, np.inf, "t", "b", target=True)]
    bounds = attack_lp.solve(attack_lp.Population("p", wide))
    assert [(b.lo, b.hi, b.integer) for b in bounds] == [(0, 12, True), (0, 12, True)]
    narrow = [F(g("a"), 0, np.inf, "t", "a", target=True), F({}, 5, 5), F(g("b"), 0, np.inf, "t", "b")]
    (b,) = attack_lp.solve(attack_lp.Population("p", narrow))
    assert (b.lo, b.hi, b.integer) == (0, 5, False)


def test_solver_reports_contradictory_tables():
    F = attack_lp.Fact
    facts = [F({"g": frozenset(["a"])}, 0, np.inf, "t", "x", target=True), F({}, 5, 5),
             F({"g": frozenset(["a"])}, 9, 9)]
    with pytest.raises(ValueError, match="contradict"):
        attack_lp.solve(attack_lp.Population("p", facts))


# ------------------------------------------------------------------------------------------ attack 1
def test_differencing_headline_minus_bins(tmp_path):
    """results.json participant_days minus the published wear bins leaves 2 person-days (so at most 2 people)."""
    hist = pd.DataFrame({"wear_hours_from": [0.0, 2.0, 4.0, 6.0], "wear_hours_to": [2.0, 4.0, 6.0, 8.0],
                         "person_days": [np.nan, 40.0, 300.0, 900.0], "n": [np.nan, 12.0, 30.0, 60.0]})
    results = {"20_signal_quality": {"participant_days": {"value": 1242, "unit": "person-days"}}}
    rep = attacks.audit_run(write_run(tmp_path, {"wear_histogram": hist}, results))
    d = hits(rep, "differencing")
    days = d[d["cell"].str.endswith("person_days")]
    people = d[d["cell"].str.endswith(": n")]
    assert len(days) == 1 and holds(days.iloc[0], 2) and days.iloc[0]["high"] == 2
    assert len(people) == 1 and holds(people.iloc[0], 1) and people.iloc[0]["high"] == 2
    assert rep.exposed


def test_differencing_prose_total_against_listed_districts(tmp_path):
    """"participants: 16" in a report, 14 districts listed with withheld n: every district is 1 to 3."""
    outcomes = pd.DataFrame({"district": [f"{11000 + 10 * i}" for i in range(14)], "n": [np.nan] * 14,
                             "before": np.linspace(5000, 6000, 14)})
    rep = attacks.audit_run(write_run(tmp_path, {"district_outcomes": outcomes},
                                      reports={"60_district_equity": "<pre>participants: 16</pre>"}))
    d = hits(rep, "differencing")
    assert len(d) == 14 and (d["low"] == 1).all() and (d["high"] == 3).all()


# ------------------------------------------------------------------------------------------ attack 2
def enrolment_tables(hide_both: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """district x arm (participants, margins) and district x sex (enrolled = band + own), as the old notebooks
    published them, with the truth: district 11110 has band 9, own 9, comparison 12 and F 10, M 8."""
    truth = {("11110", "band_issued"): 9, ("11110", "own_device"): 9, ("11110", "comparison"): 12,
             ("11140", "band_issued"): 20, ("11140", "own_device"): 15, ("11140", "comparison"): 25,
             ("11170", "band_issued"): 14, ("11170", "own_device"): 22, ("11170", "comparison"): 30,
             ("11200", "band_issued"): 18, ("11200", "own_device"): 11, ("11200", "comparison"): 16}
    rows = [{"district": d, "arm": a, "participants": float(v), "margin": False} for (d, a), v in truth.items()]
    arm = pd.DataFrame(rows)
    arm.loc[arm["district"].eq("11110") & arm["arm"].ne("comparison"), "participants"] = np.nan
    margins = [{"district": d, "arm": None, "participants": float(sum(v for (dd, _), v in truth.items() if dd == d)),
                "margin": True} for d in sorted({d for d, _ in truth})]
    arm = pd.concat([arm, pd.DataFrame(margins)], ignore_index=True)
    sex_rows = []
    split = {"11110": (10, 8), "11140": (20, 15), "11170": (16, 20), "11200": (15, 14)}
    for d, (f, m) in split.items():
        sex_rows += [{"district": d, "sex": "F", "enrolled": float(f)}, {"district": d, "sex": "M", "enrolled": float(m)},
                     {"district": d, "sex": None, "enrolled": float(f + m)}]
    return arm, pd.DataFrame(sex_rows)


def test_lp_across_tables_sharing_a_dimension(tmp_path):
    """Margins of district x sex equal band + own of district x arm (found by matching): 9 + 9 = 18, with the
    comparison cell and the district total, gives neither cell exactly; adding the arm margin pins both."""
    arm, sex = enrolment_tables()
    arm_margin = pd.DataFrame([{"district": None, "arm": "band_issued", "participants": 61.0, "margin": True}])
    arm = pd.concat([arm, arm_margin], ignore_index=True)
    rep = attacks.audit_run(write_run(tmp_path, {"enrolment_by_district_arm": arm, "enrolment_by_district": sex}))
    lp = hits(rep, "lp")
    band = lp[lp["cell"].str.contains("district=11110") & lp["cell"].str.contains("arm=band_issued")]
    own = lp[lp["cell"].str.contains("district=11110") & lp["cell"].str.contains("arm=own_device")]
    assert len(band) == 1 and (band.iloc[0]["low"], band.iloc[0]["high"]) == (9, 9)
    assert len(own) == 1 and (own.iloc[0]["low"], own.iloc[0]["high"]) == (9, 9)


def test_lp_needs_the_link(tmp_path):
    """The district x arm table alone (band + own = 18 known, no arm margin) bounds each cell only to [0, 18]."""
    arm, _ = enrolment_tables()
    rep = attacks.audit_run(write_run(tmp_path, {"enrolment_by_district_arm": arm}))
    assert not len(hits(rep, "lp"))


# ------------------------------------------------------------------------------------------ attack 3
def test_presence_person_days_bound_the_people(tmp_path):
    """A week row listed with n withheld and n_days = 5 published: 1 <= n <= 5."""
    t = pd.DataFrame({"week_since_enrolment": [0, 0, 1, 1], "dimension": ["sex"] * 4, "level": ["F", "M", "F", "M"],
                      "metric": ["mean_steps"] * 4, "n": [np.nan, 25.0, 30.0, 26.0], "n_days": [5.0, 160.0, 190.0, 170.0],
                      "estimate": [np.nan, 7000.0, 7100.0, 6900.0]})
    rep = attacks.audit_run(write_run(tmp_path, {"steps_by_week_since_enrolment": t}))
    p = hits(rep, "presence")
    assert len(p) == 1 and (p.iloc[0]["low"], p.iloc[0]["high"]) == (1, 5)


def test_presence_missing_rows_are_zeros(tmp_path):
    """Week x arm cells with a weekly total row: a missing row is 0, so the only withheld arm is the rest."""
    t = pd.DataFrame({"week": ["2023-01-02"] * 3 + ["2023-01-09"] * 2, "arm": ["band_issued", "own_device", "all",
                                                                             "band_issued", "all"],
                      "n": [20.0, np.nan, 24.0, 22.0, 22.0]})
    # week 2: own_device missing (0); week 1: own = 24 - 20 = 4 by the margin alone (lp)
    t2 = pd.DataFrame({"week": ["2023-01-02"] * 2 + ["2023-01-09"] * 2, "arm": ["band_issued", "own_device"] * 2,
                       "n": [20.0, np.nan, 22.0, np.nan]})
    t3 = pd.DataFrame({"week": ["2023-01-02", "2023-01-09"], "arm": ["all", "all"], "n": [26.0, 25.0]})
    rep = attacks.audit_run(write_run(tmp_path, {"a": t, "b": t2, "c": t3}))
    assert set(hits(rep, "lp")["source"]) == {"a"}
    # table b alone: nothing bounds its withheld cells (zeros not printed, but no total): listed >= 1, no upper bound
    assert "b" not in set(rep.table["source"]) or hits(rep, "rule")["source"].eq("b").any()


# ------------------------------------------------------------------------------------------ attack 4
def test_decode_full_precision_share_times_denominator(tmp_path):
    wa = pd.DataFrame({"week": ["2023-01-02", "2023-01-09"], "enrolled": [32.0, 32.0],
                       "active": [np.nan, 30.0], "active_share": [3 / 32, 30 / 32]})
    rep = attacks.audit_run(write_run(tmp_path, {"weekly_active": wa}))
    d = hits(rep, "decode")
    num = d[d["cell"].str.contains("2023-01-02") & d["cell"].str.endswith(": active")]
    rest = d[d["cell"].str.contains("2023-01-09") & d["cell"].str.endswith("rest")]
    assert (num.iloc[0]["low"], num.iloc[0]["high"]) == (3, 3)
    assert (rest.iloc[0]["low"], rest.iloc[0]["high"]) == (2, 2)


def test_decode_pooled_minus_subgroup(tmp_path):
    """Pooled adherence x n minus band-issued gives the withheld own-device mean (4 people)."""
    own = np.array([5, 6, 7, 2.0])
    band = np.arange(20, dtype=float) % 7
    ret = pd.DataFrame({"week": [0, 0, 0], "arm": ["all", "band_issued", "own_device"],
                        "adherence_n": [24.0, 20.0, np.nan],
                        "adherence": [np.r_[own, band].mean(), band.mean(), np.nan]})
    rep = attacks.audit_run(write_run(tmp_path, {"retention": ret}))
    d = hits(rep, "decode")
    row = d[d["cell"].str.contains("own_device") & d["cell"].str.contains("adherence")]
    assert len(row) == 1 and row.iloc[0]["low"] == 4 and f"{own.mean():.3g}" in row.iloc[0]["how"]


def test_decode_full_precision_means_without_denominators(tmp_path):
    """Adherence printed to full precision, no people count beside it: pooled 161/26 minus band-issued 120/19
    gives the withheld own-device row: 41 days over 7 people."""
    own_days, band_days = [7, 6, 5, 6, 7, 6, 4], [7, 6, 7, 5, 6, 7, 7, 6, 5, 7, 6, 7, 7, 6, 5, 7, 6, 7, 6]
    pooled = sum(own_days + band_days) / 26
    ret = pd.DataFrame({"week": [1, 1, 1], "arm": ["all", "band_issued", "own_device"],
                        "adherence": [pooled, sum(band_days) / 19, np.nan]})
    assert attacks._decimals(pooled) >= 9 and attacks._decimals(sum(band_days) / 19) >= 9
    rep = attacks.audit_run(write_run(tmp_path, {"retention": ret}))
    d = hits(rep, "decode")
    assert len(d) == 1 and (d.iloc[0]["low"], d.iloc[0]["high"]) == (7, 7) and "41/7" in d.iloc[0]["how"]


# ------------------------------------------------------------------------------------------ attack 5
def test_rule_printed_reason_says_small(tmp_path):
    t = pd.DataFrame({"district": ["11110", "11140", "11170"], "n": [np.nan, 40.0, 0.0], "reason": ["primary", "", ""]})
    rep = attacks.audit_run(write_run(tmp_path, {"t": t}))
    r = hits(rep, "rule")
    assert len(r) == 1 and (r.iloc[0]["low"], r.iloc[0]["high"]) == (0, 9)


def test_rule_flags_by_day_withheld_only_when_small_with_minutes_shown(tmp_path):
    t = pd.DataFrame({"date": pd.to_datetime(["2023-02-01"] * 2), "flag": ["gap", "reset"], "minutes": [120.0, 0.0],
                      "participants_flagged": [np.nan, 0.0], "n": [40.0, 40.0],
                      "flagged_suppressed": [True, False]})
    rep = attacks.audit_run(write_run(tmp_path, {"flags_by_day": t}))
    r = rep.table[rep.table["cell"].str.endswith("participants_flagged")]
    assert len(r) == 1 and r.iloc[0]["attack"] == "rule" and (r.iloc[0]["low"], r.iloc[0]["high"]) == (1, 9)


def test_rule_cumulative_first_month(tmp_path):
    t = pd.DataFrame({"period": pd.to_datetime(["2023-01-01", "2023-02-01", "2023-03-01"]), "arm": ["band_issued"] * 3,
                      "enrolled": [np.nan, 12.0, 15.0], "cumulative": [np.nan, 19.0, 34.0],
                      "cumulative_suppressed": [True, False, False]})
    rep = attacks.audit_run(write_run(tmp_path, {"enrolment_by_month": t}))
    first = rep.table[rep.table["cell"].str.contains("2023-01-01")]
    assert len(first) >= 1 and first["high"].max() <= 9


# ------------------------------------------------------------------------------------------ attack 6
def test_prose_small_counts_in_report_text(tmp_path):
    text = ("<p>PSM은 캘리퍼 안에서 짝을 찾은 참여자 9명에 대한 효과입니다. 참여자 10명 미만은 x로 표시했습니다.</p>"
            "<p>Balanced panel: 31 people used, 3 with a missing week dropped.</p>")
    rep = attacks.audit_run(write_run(tmp_path, {}, reports={"40_effectiveness": text}))
    p = hits(rep, "prose")
    assert sorted(p["low"]) == [9]  # "10명 미만" is the rule, "31 people" is large, "3 with ..." names no people
    assert "var n" not in " ".join(p["cell"])  # script text is not prose


def test_prose_rounded_balance_share_times_group_size(tmp_path):
    bal = pd.DataFrame({"covariate": ["sex_F", "smoker"], "group": ["treated", "treated"], "n": [32.0, 32.0],
                        "share": [0.22, 0.5]})
    rep = attacks.audit_run(write_run(tmp_path, {"balance": bal}))
    p = hits(rep, "prose")
    assert len(p) == 1 and (p.iloc[0]["low"], p.iloc[0]["high"]) == (7, 7)


# ------------------------------------------------------------------------------------------ no false alarm
def protected_run(tmp_path: Path) -> Path:
    """A small run protected the way the issue asks: counts >= K or withheld with wide intervals, no reason column,
    zeros listed, shares rounded and resting on n >= K, prose with large counts only."""
    arm = pd.DataFrame({"district": ["11110", "11110", "11140", "11140", None, None, None],
                        "arm": ["band_issued", "comparison", "band_issued", "comparison", "band_issued", "comparison", None],
                        "participants": [np.nan, np.nan, np.nan, np.nan, 40.0, 40.0, 80.0]})
    weeks = pd.DataFrame({"week": ["2023-01-02", "2023-01-09", "2023-01-16"], "n": [30.0, 0.0, 28.0],
                          "share_valid": [0.5, np.nan, 0.5], "n_days": [150.0, 0.0, 140.0]})
    results = {"10_cohort_overview": {"participants_enrolled": {"value": 40, "unit": "persons"},
                                      "completion_rate": {"value": 0.63, "unit": "share"}}}
    text = "<p>참여자 80명 중 40명이 등록했습니다. Cells under 10 people are withheld.</p>"
    return write_run(tmp_path, {"enrolment_by_district_arm": arm, "valid_by_week": weeks}, results,
                     {"10_cohort_overview": text})


def test_no_false_alarm_on_a_protected_run(tmp_path):
    rep = attacks.audit_run(protected_run(tmp_path))
    assert not rep.exposed, rep.table.to_string()
    assert rep.checked >= 4
    assert "노출 없음" in rep.summary("ko") and "nothing exposed" in rep.summary("en")


def test_perturbed_tables_are_read_as_noisy(tmp_path):
    """Cells and margins perturbed independently disagree (4 + 20 != 23): the attacker reads every count as
    +-1, and a count known no better than its own printed value is not an exposure."""
    t = pd.DataFrame({"district": ["11110", "11110", "11110"], "arm": ["band_issued", "own_device", None],
                      "participants": [4.0, 20.0, 23.0]})
    rep = attacks.audit_run(write_run(tmp_path, {"t": t}))
    assert not rep.exposed, rep.table.to_string()
    assert any("perturbed by up to ±1" in n for n in rep.notes)


def test_perturbed_count_pinned_beyond_its_noise(tmp_path):
    """Read as +-1 noise, a cell whose two margins pin it more tightly than its own printed value is exposed."""
    # row a: x printed 5, y printed 0 (zeros are not perturbed), total printed 4: x in [4, 6] and [3, 5] -> [4, 5]
    t = pd.DataFrame({"r": ["a", "a", "a"], "c": ["x", "y", None], "n": [5.0, 0.0, 4.0]})
    rep = attacks.audit_run(write_run(tmp_path, {"t": t}))
    assert any("perturbed" in n for n in rep.notes)
    cell = rep.table[rep.table["cell"].str.contains("c=x, r=a")]
    assert len(cell) == 1 and cell.iloc[0]["high"] - cell.iloc[0]["low"] < 2


# ------------------------------------------------------------------------------------------ report, CLI, runner
def test_report_shape_and_messages(tmp_path):
    t = pd.DataFrame({"district": ["11110", "11140"], "n": [np.nan, 40.0], "reason": ["primary", ""]})
    rep = attacks.audit_run(write_run(tmp_path, {"t": t}, reports={"r": "<p>참여자 4명</p>"}))
    assert list(rep.table.columns) == attacks.COLUMNS
    assert rep.counts()["rule"] == 1 and rep.counts()["prose"] == 1 and sum(rep.counts().values()) == len(rep.table)
    ko, en = rep.summary("ko"), rep.summary("en")
    assert "공개 불가" in ko and "not publishable" in en
    assert "비공개 규칙" in ko and "withholding rule" in en


def test_visible_text_drops_script_and_tags():
    assert published.visible_text("<p>참여자 <b>7</b>명</p><script>x = '3명'</script>").strip() == "참여자 7명"


def test_cli_audit_exit_codes(tmp_path, capsys):
    bad = write_run(tmp_path / "bad", {}, reports={"r": "<p>참여자 4명</p>"})
    assert cli.main(["audit", str(bad)]) == cli.EXIT_EXPOSED == 3
    out = capsys.readouterr().out
    assert "prose" in out and "공개 불가" in out
    good = protected_run(tmp_path / "good")
    assert cli.main(["audit", str(good)]) == 0
    assert cli.main(["audit", str(tmp_path / "missing")]) == cli.EXIT_PARAMS


def test_runner_refuses_an_exposed_run(tmp_path):
    """The runner's check: exposed -> the step's name and the report in the manifest and beside it."""
    run = write_run(tmp_path, {}, reports={"r": "<p>참여자 4명</p>"})
    manifest: dict = {}
    said: list[str] = []
    assert attacks.refuse_if_exposed(run, manifest, say=said.append) == "attack audit"
    assert manifest["attacks"]["exposed"] and manifest["attacks"]["counts"]["prose"] == 1
    assert (run / "attack_report.csv").exists()
    assert any("공개 불가" in s for s in said) and any("not publishable" in s for s in said)
    manifest = {}
    assert attacks.refuse_if_exposed(protected_run(tmp_path / "ok"), manifest, say=said.append) is None
    assert manifest["attacks"]["exposed"] is False


def test_evaluation_run_refuses_a_run_that_prints_a_small_count(tmp_path, kernel_name):
    """End to end: a notebook whose report says "참여자 4명" is not published (exit 3, kept as -failed with the
    attack report, latest not moved). ``print`` never reaches a report (the gate), so the sentence goes
    through a gate route that shows text as given (figures "published elsewhere"): the audit is the last line."""
    import nbformat
    from tiny_project import make_project, write_params

    root = make_project(tmp_path / "proj")
    nb = nbformat.read(str(root / "notebooks" / "one.ipynb"), as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell('rec.say_published("참여자 4명이 등록했습니다.", provenance="illustrative")'))
    nbformat.write(nb, str(root / "notebooks" / "one.ipynb"))
    params = write_params(root)
    assert cli.main(["run", str(params), "--quiet"]) == cli.EXIT_EXPOSED == 3
    (failed,) = (root / "outputs" / "tinyprog").glob("*-failed")
    assert (failed / "attack_report.csv").exists()
    manifest = json.loads((failed / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "failed" and manifest["attacks"]["counts"]["prose"] == 1
    assert not (root / "outputs" / "tinyprog" / "latest").exists()


# ------------------------------------------------------------------------------------------ the demo run
@pytest.fixture(scope="module")
def demo_published(request) -> Path:
    """The demo run's folder: published, or kept as ``-failed`` when the runner's own attack audit refused it."""
    from evaluation import runs

    try:
        return request.getfixturevalue("demo_run").run_dir
    except runs.RunRefusedError as exc:
        return exc.run_dir


@pytest.mark.slow
def test_demo_run_exposes_nothing(demo_published):
    """The whole suite on what `make demo` publishes (its dashboard views included): nothing exposed, and
    the perturbed and withheld counts were really attacked."""
    rep = attacks.audit_run(demo_published)
    print(rep.summary("en"))
    print(rep.counts())
    assert not rep.exposed, rep.summary("en")
    assert rep.checked > 1000


def test_rule_claim_about_one_district_in_a_dashboard_page(tmp_path):
    """A pre-rendered dashboard page (views/) saying "this district has fewer than 10 participants" tells what
    its withheld count is; the legend that explains every x does not."""
    run = write_run(tmp_path, {}, reports={"r": "<p>참여자 10명 미만인 칸은 x로 표시했습니다.</p>"})
    (run / "views" / "overview" / "ko").mkdir(parents=True)
    (run / "views" / "overview" / "ko" / "11110.html").write_text(
        "<div>이 자치구는 참여자가 10명 미만이라 결과를 공개하지 않습니다 (비공개, n&lt;10).</div>", encoding="utf-8")
    rep = attacks.audit_run(run)
    r = hits(rep, "rule")
    assert len(r) == 1 and r.iloc[0]["source"] == "views/overview/ko/11110.html", rep.table.to_string()
    assert (r.iloc[0]["low"], r.iloc[0]["high"]) == (1, 9)
