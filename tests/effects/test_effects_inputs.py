"""Bad input gets a clear error naming the column; KPI shares and Wilson CIs are right."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint, proportions_ztest

from evaluation import effects


@pytest.fixture(scope="module")
def cross_section() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    n = 400
    x1 = rng.normal(size=n)
    x2 = rng.choice(["a", "b", "c"], n)
    t = (rng.random(n) < 1 / (1 + np.exp(-0.5 * x1))).astype(int)
    y = 2 * x1 + 1.5 * t + rng.normal(size=n)
    return pd.DataFrame({"t": t, "y": y, "x1": x1, "x2": x2})


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    rng = np.random.default_rng(6)
    units = np.arange(120)
    g = np.select([units < 40, units < 80], [3, 5], 0)
    rows = [(u, t, g[u], 10 + 0.5 * t + (2.0 if g[u] and t >= g[u] else 0.0) + rng.normal(0, 0.5))
            for u in units for t in range(1, 8)]
    return pd.DataFrame(rows, columns=["unit", "period", "first", "y"])


# --- clear errors --------------------------------------------------------------------------------

def test_matched_att_names_the_bad_column(cross_section):
    d = cross_section
    with pytest.raises(KeyError, match="'x9'"):
        effects.matched_att(d, "t", "y", ["x1", "x9"])
    with pytest.raises(TypeError, match="'y'.*numeric"):
        effects.matched_att(d.assign(y=d["y"].astype(str)), "t", "y", ["x1"])
    with pytest.raises(ValueError, match="'t' must take values 0 and 1"):
        effects.matched_att(d.assign(t=d["t"] * 2), "t", "y", ["x1"])
    with pytest.raises(ValueError, match="method must be 'psm', 'ipw' or 'aipw'"):
        effects.matched_att(d, "t", "y", ["x1"], method="cem")
    with pytest.raises(ValueError, match="se for weighting .* got 'pairs'"):
        effects.matched_att(d, "t", "y", ["x1"], method="ipw", se="pairs")
    with pytest.raises(ValueError, match="matching estimates the ATT"):
        effects.matched_att(d, "t", "y", ["x1"], method="psm", estimand="ATE")
    with pytest.raises(ValueError, match="at least one covariate"):
        effects.matched_att(d, "t", "y", [])
    with pytest.raises(TypeError, match="DataFrame"):
        effects.matched_att(d.to_numpy(), "t", "y", ["x1"])


def test_did_2x2_names_the_bad_column():
    long = pd.DataFrame({"id": [1, 1, 2, 2], "g": [1, 1, 0, 0], "post": [0, 1, 0, 2], "y": [1.0, 2, 3, 4]})
    with pytest.raises(ValueError, match="'post' must take values 0 and 1"):
        effects.did_2x2(long, "y", "g", "post", unit="id")
    dup = long.assign(post=[0, 0, 0, 1])
    with pytest.raises(ValueError, match="more than one row per \\('id', 'post'\\)"):
        effects.did_2x2(dup, "y", "g", "post", unit="id")
    varies = long.assign(post=[0, 1, 0, 1], g=[1, 0, 0, 1])
    with pytest.raises(ValueError, match="'g' varies within 'id'"):
        effects.did_2x2(varies, "y", "g", "post", unit="id")
    with pytest.raises(KeyError, match="'store'"):
        effects.did_2x2(long.assign(post=[0, 1, 0, 1]), "y", "g", "post", unit="store")


def test_staggered_did_names_the_bad_column(panel):
    with pytest.raises(KeyError, match="'cohort'"):
        effects.staggered_did(panel, "unit", "period", "cohort", "y")
    bad = panel.copy()
    bad.loc[bad.index[0], "first"] = 5  # unit 0 is in cohort 3 elsewhere
    with pytest.raises(ValueError, match="'first' varies within unit"):
        effects.staggered_did(bad, "unit", "period", "first", "y")
    with pytest.raises(ValueError, match="more than one row per \\('unit', 'period'\\)"):
        effects.staggered_did(pd.concat([panel, panel.head(1)]), "unit", "period", "first", "y")
    with pytest.raises(TypeError, match="'y' must be numeric"):
        effects.staggered_did(panel.assign(y="x"), "unit", "period", "first", "y")
    treated_only = panel[panel["first"] > 0]
    with pytest.raises(ValueError, match="no never-treated units"):
        effects.staggered_did(treated_only, "unit", "period", "first", "y")
    with pytest.raises(ValueError, match="control_group"):
        effects.staggered_did(panel, "unit", "period", "first", "y", control_group="lastcohort")
    with pytest.raises(ValueError, match="aggregation must be"):
        effects.staggered_did(panel, "unit", "period", "first", "y").aggregate("weekly")


def test_its_kpis_panels_and_evalue_name_the_problem():
    s = pd.DataFrame({"m": range(1, 21), "n": [5] * 20, "iv": [0] * 10 + [1] * 10})
    with pytest.raises(KeyError, match="'pop'"):
        effects.its(s, "n", "m", "iv", offset="pop")
    with pytest.raises(ValueError, match="'iv' must be 0 before and 1 after"):
        effects.its(s.assign(iv=2), "n", "m", "iv")
    with pytest.raises(ValueError, match="negative counts"):
        effects.its(s.assign(n=-1), "n", "m", "iv")
    with pytest.raises(KeyError, match="'sbp_w0'"):
        effects.kpis(pd.DataFrame({"sex": ["M"]}), verbose=False)
    daily = pd.DataFrame({"participant_id": ["a"], "date": ["2023-01-02"], "steps": [100]})
    people = pd.DataFrame({"participant_id": ["a"], "treated": [True], "index_date": [pd.Timestamp("2023-01-02")]})
    with pytest.raises(TypeError, match="'date' must be a datetime"):
        effects.weekly_panel(daily, people)
    with pytest.raises(KeyError, match="'index_date'"):
        effects.weekly_panel(daily.assign(date=pd.to_datetime(daily["date"])), people.drop(columns="index_date"))
    with pytest.raises(ValueError, match="risk ratio must be positive"):
        effects.e_value(-0.5)
    with pytest.raises(ValueError, match="kind must be"):
        effects.e_value(1.5, kind="or")


# --- KPI shares and Wilson intervals ---------------------------------------------------------------

def _kpi_people(n: int, k_normalised: int, k_behaviour: int) -> pd.DataFrame:
    """n women at risk only through SBP 140 at baseline; k_normalised reach SBP 120 at week 24 (others stay at
    140); k_behaviour walk more days at week 24. Everything else normal and unchanged."""
    base = {"sex": "F", "dbp": 70.0, "glucose": 90.0, "waist": 80.0, "tg": 100.0, "hdl": 60.0,
            "breakfast_days": 3, "salt_high": 0, "smoker": 0, "heavy_drinker": 0}
    rows = []
    for i in range(n):
        r = {"participant_id": f"p{i}", "treated": True, "sex": "F", "dropout_week": np.inf}
        for wk in (0, 12, 24):
            for m, v in base.items():
                if m != "sex":
                    r[f"{m}_w{wk}"] = v
            r[f"sbp_w{wk}"] = 120.0 if (wk > 0 and i < k_normalised) else 140.0
            r[f"walk_days_w{wk}"] = 4 if (wk > 0 and i < k_behaviour) else 2
        rows.append(r)
    return pd.DataFrame(rows)


def _wilson(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


@pytest.mark.parametrize("n,k_risk,k_beh", [(30, 17, 12), (57, 0, 57), (200, 151, 3)])
def test_kpi_shares_and_wilson_cis(n, k_risk, k_beh):
    res = effects.kpis(_kpi_people(n, k_risk, k_beh), benchmarks={"risk_reduction": 0.585, "behaviour_improvement": 0.552},
                       verbose=False)
    t = res.table.set_index(["indicator", "week"])
    for ind, k in (("risk_reduction", k_risk), ("behaviour_improvement", k_beh)):
        row = t.loc[(ind, 24)]
        assert (row["n"], row["count"]) == (n, k)
        assert row["share"] == pytest.approx(k / n)
        lo, hi = proportion_confint(k, n, alpha=0.05, method="wilson")
        assert (row["ci_low"], row["ci_high"]) == pytest.approx((lo, hi), abs=1e-12)
        assert (row["ci_low"], row["ci_high"]) == pytest.approx(_wilson(k, n), abs=1e-9)  # the textbook formula
        # score test (null variance), the test the Wilson interval inverts; defined at 0% and 100% too
        z, p = proportions_ztest(k, n, value=row["benchmark"], prop_var=row["benchmark"])
        assert (row["z"], row["pvalue"]) == pytest.approx((z, p))
    assert t.loc[("eligible_at_baseline", 0), "share"] == 1.0
    assert res.share("risk_reduction", 24) == pytest.approx(k_risk / n)


def test_kpi_members_are_the_people_each_denominator_counts():
    # 40 people on a shuffled, duplicated index: 6 not at risk at baseline (left out of risk reduction), 5 with
    # no week-24 walking days (undetermined for behaviour), 4 with an unknown dropout week, 3 not joiners
    d = _kpi_people(40, 20, 10)
    d.loc[d.index[:6], [f"sbp_w{w}" for w in (0, 12, 24)]] = 120.0
    d.loc[d.index[6:11], "walk_days_w24"] = np.nan
    d.loc[d.index[11:15], "dropout_week"] = np.nan
    d.loc[d.index[37:], "treated"] = False
    d.index = np.random.default_rng(1).permutation([7] * 20 + list(range(20)))
    res = effects.kpis(d, verbose=False)
    assert len(res.members) == len(res.table)
    assert [len(m) for m in res.members] == res.table["n"].astype(int).tolist()
    rows = dict(zip(zip(res.table["indicator"], res.table["week"]), res.members))
    ids = [f"p{i}" for i in range(37)]
    assert rows[("eligible_at_baseline", 0)] == ids
    assert rows[("risk_reduction", 24)] == ids[6:]
    assert rows[("behaviour_improvement", 24)] == ids[:6] + ids[11:]
    assert rows[("completion", 24)] == ids[:11] + ids[15:]
    assert effects.kpis(d.drop(columns="participant_id"), verbose=False).members is None


def test_kpi_small_cells_are_suppressed():
    res = effects.kpis(_kpi_people(9, 5, 5), min_n=10, verbose=False)
    row = res.table.set_index(["indicator", "week"]).loc[("risk_reduction", 24)]
    assert bool(row["suppressed"]) and np.isnan(row["share"]) and np.isnan(row["count"]) and np.isnan(row["ci_low"])


def test_kpis_print_the_caution(capsys):
    effects.kpis(_kpi_people(20, 10, 10), lang="en")
    assert "regression to the mean" in capsys.readouterr().out
    effects.kpis(_kpi_people(20, 10, 10), lang="ko")
    assert "평균으로의 회귀" in capsys.readouterr().out


def test_kpi_pvalue_and_ci_come_from_the_same_method():
    # issue 11 item 5: n=20, k=16 against 0.585 gave the Wilson CI [0.584, 0.919] but a Wald p = 0.016.
    # Now the score test: z = 0.215 / sqrt(0.585 * 0.415 / 20) = 1.951, p = 0.051 (> 0.05, as the CI says)
    res = effects.kpis(_kpi_people(20, 16, 16), benchmarks={"risk_reduction": 0.585}, verbose=False)
    row = res.table.set_index(["indicator", "week"]).loc[("risk_reduction", 24)]
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((0.5840, 0.9193), abs=5e-5)
    assert row["pvalue"] == pytest.approx(0.0511, abs=5e-4)
    wald_p = proportions_ztest(16, 20, value=0.585)[1]
    assert wald_p == pytest.approx(0.016, abs=5e-4)  # the old, inconsistent value
    ex = effects.kpis(_kpi_people(20, 16, 16), benchmarks={"risk_reduction": 0.585}, ci="exact", verbose=False)
    row = ex.table.set_index(["indicator", "week"]).loc[("risk_reduction", 24)]
    lo, hi = proportion_confint(16, 20, method="beta")
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((lo, hi))
    assert (row["pvalue"] < 0.05) == (not lo <= 0.585 <= hi)


@pytest.mark.parametrize("ci", ["wilson", "exact"])
def test_kpi_test_rejects_exactly_when_benchmark_is_outside_ci(ci):
    from evaluation.effects._kpi import _row

    rng = np.random.default_rng(5)
    checked = 0
    for _ in range(400):
        n = int(rng.integers(10, 120))
        k = int(rng.integers(0, n + 1))
        p0 = float(rng.uniform(0.02, 0.98))
        r = _row("x", 0, pd.Series(np.r_[np.ones(k), np.zeros(n - k)]), p0, 10, ci)
        inside = r["ci_low"] <= p0 <= r["ci_high"]
        if min(abs(p0 - r["ci_low"]), abs(p0 - r["ci_high"])) < 1e-9:
            continue  # on the boundary
        assert (r["pvalue"] < 0.05) == (not inside), (n, k, p0, r)
        checked += 1
    assert checked > 350


def test_missing_measure_does_not_blank_the_person():
    # issue 11 item 5: a missing glucose blanked the whole row, so a person with SBP 150 was "not eligible"
    people = _kpi_people(12, 6, 6)
    people.loc[0, "glucose_w0"] = np.nan  # at risk by SBP 140 anyway
    people.loc[1, ["sbp_w0", "dbp_w0"]] = np.nan  # no observed criterion at risk, BP unknown -> undetermined
    people.loc[2, "dbp_w0"] = np.nan  # SBP 140 alone decides BP
    flags = effects.risk_flags(people, 0)
    assert bool(flags.loc[0, "bp"]) and pd.isna(flags.loc[0, "glucose"]) and not bool(flags.loc[0, "tg"])
    assert pd.isna(flags.loc[1, "bp"]) and bool(flags.loc[2, "bp"])
    t = effects.kpis(people, verbose=False).table.set_index(["indicator", "week"])
    elig = t.loc[("eligible_at_baseline", 0)]
    assert (elig["n"], elig["count"], elig["n_undetermined"]) == (11, 11, 1)  # before: n 10, person 0 lost
    # risk reduction: person 0 normalised SBP at week 24 despite the missing baseline glucose
    rr = t.loc[("risk_reduction", 24)]
    assert (rr["n"], rr["count"]) == (11, 5)
    # a follow-up measure missing for a criterion that was normal at baseline does not matter
    people.loc[3, "tg_w24"] = np.nan
    assert effects.kpis(people, verbose=False).share("risk_reduction", 24) == pytest.approx(5 / 11)
    # behaviour: one observed improvement decides even with other behaviours missing
    people.loc[0, ["smoker_w24", "breakfast_days_w24"]] = np.nan
    b = effects.behaviour_improved(people, 24)
    assert bool(b.loc[0])
    people.loc[7, "breakfast_days_w24"] = np.nan  # p7 did not walk more: undetermined
    assert pd.isna(effects.behaviour_improved(people, 24).loc[7])
