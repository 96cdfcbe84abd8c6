"""Issue 21: one input guard for every estimator (effects, costs, equity, KPIs).

A property test feeds each estimator each kind of damage it can receive -- infinite outcomes, weights and
covariates, missing values, constant outcomes, all-treated data and unknown treatment codes, duplicated
unit-period rows, a unit both treated and control, missing unit / cluster / group ids, unknown category
codes, rows missing for the balanced panel, failed PSA draws -- on random data and at random rows, and
asserts the answer is never a silent number: either an error naming the column (and the first damaged row
when the damage sits in rows) or an ``EffectWarning`` with a count above zero in the result's
``diagnostics``. The table ``CASES`` states which of the two each estimator gives for each damage.
"""
from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evaluation import costs, effects, equity
from evaluation.effects import EffectWarning
from evaluation.effects._guard import Drops, normalise_codes, require_binary, require_varies, row_list


# --- the guard's own pieces -------------------------------------------------------------------------------

def test_row_list_names_the_first_rows_and_the_total():
    m = np.zeros(20, bool)
    m[[2, 3, 5, 7, 11, 13, 17]] = True
    assert row_list(m) == "row(s) [2, 3, 5, 7, 11], 7 in all"
    assert row_list(m[:4]) == "row(s) [2, 3]"
    assert row_list(m[:4], positions=[10, 20, 30, 40]) == "row(s) [30, 40]"


def test_normalise_codes_maps_documented_codes_and_refuses_the_rest_without_the_value():
    codes = {"M": "M", "male": "M", 1: "M", "F": "F", 2: "F"}
    s = pd.Series(["m", " Male", 1, "2", 2.0, "F"])
    assert normalise_codes(s, codes, "sex", "t").tolist() == ["M", "M", "M", "F", "F", "F"]
    with pytest.raises(ValueError, match=r"t: column 'sex' has 2 missing or unknown code\(s\) in row\(s\) \[1, 3\]") as e:
        normalise_codes(pd.Series(["M", "secret-id-77", "F", None]), codes, "sex", "t")
    assert "secret-id-77" not in str(e.value)


def test_binary_and_constant_checks():
    d = pd.DataFrame({"t": [0, 1, 1, 3], "y": [1.0, 1.0, 1.0, 1.0]})
    with pytest.raises(ValueError, match=r"'t' must take values 0 and 1; row\(s\) \[3\]"):
        require_binary(d, "t", "w")
    with pytest.raises(ValueError, match="treated \\(1\\) in all 2 rows"):
        require_binary(d.iloc[1:3], "t", "w")
    with pytest.raises(ValueError, match="'y' is constant in all 4 rows"):
        require_varies(d["y"].to_numpy(), "y", "w")
    require_varies(np.array([1.0, 1.0 + 1e-6]), "y", "w")  # small but real variation passes


def test_drops_count_by_reason_and_warn_once():
    dr = Drops("est")
    dr.add("missing", 3, "결측 행", "rows with a missing value")
    dr.add("balance", 0, "균형", "units missing a period")
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        dr.warn()
    assert len(rec) == 1 and issubclass(rec[0].category, EffectWarning)
    assert "rows with a missing value: 3" in str(rec[0].message) and "units missing a period" not in str(rec[0].message)
    rows = pd.DataFrame(dr.rows()).set_index("check")
    assert rows.loc["dropped:missing", "value"] == 3 and rows.loc["dropped:balance", "passed"]


# --- base data per estimator -------------------------------------------------------------------------------

def cross_section(rng: np.random.Generator, n: int = 160) -> pd.DataFrame:
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    t = rng.binomial(1, 1 / (1 + np.exp(-0.5 * x1)))
    t[:3], t[3:6] = 1, 0  # both arms whatever the draw
    return pd.DataFrame({"t": t, "y": 1 + x1 + 0.5 * x2 + t + rng.normal(size=n), "x1": x1, "x2": x2,
                         "grp": rng.choice(["a", "b", "c"], n)})


def panel_2x2(rng: np.random.Generator, n: int = 40) -> pd.DataFrame:
    g = np.r_[np.ones(n // 2), np.zeros(n - n // 2)].astype(int)
    d = pd.DataFrame({"id": np.repeat(np.arange(n), 2), "post": np.tile([0, 1], n), "g": np.repeat(g, 2)})
    d["y"] = rng.normal(size=len(d)) + d["g"] * d["post"]
    d["cl"] = (d["id"] % 8).astype(float)
    return d


def staggered_panel(rng: np.random.Generator, per: int = 12) -> pd.DataFrame:
    rows = []
    for u, g in enumerate([3.0] * per + [4.0] * per + [np.inf] * per):
        a = rng.normal()
        for k in (1, 2, 3, 4, 5):
            rows.append((u, k, g, a + 0.2 * k + (1.0 if k >= g else 0.0) + rng.normal(0, 0.5), rng.normal()))
    return pd.DataFrame(rows, columns=["unit", "period", "first", "y", "x1"])


def its_series(rng: np.random.Generator, n: int = 36) -> pd.DataFrame:
    iv = (np.arange(1, n + 1) > n // 2).astype(int)
    pop = rng.integers(90_000, 110_000, n).astype(float)
    return pd.DataFrame({"time": np.arange(1, n + 1), "iv": iv, "pop": pop,
                         "events": rng.poisson(pop * 1e-3 * np.where(iv, 0.8, 1.0)).astype(float)})


def kpi_people(rng: np.random.Generator, n: int = 30) -> pd.DataFrame:
    rows = []
    for i in range(n):
        r = {"treated": True, "sex": rng.choice(["M", "F"]), "dropout_week": np.inf}
        for wk in (0, 12, 24):
            for m, v in {"sbp": 140.0, "dbp": 70.0, "glucose": 90.0, "waist": 80.0, "tg": 100.0, "hdl": 60.0,
                         "breakfast_days": 3, "salt_high": 0, "smoker": 0, "heavy_drinker": 0}.items():
                r[f"{m}_w{wk}"] = v - (20.0 if (m == "sbp" and wk and rng.random() < 0.5) else 0.0)
            r[f"walk_days_w{wk}"] = int(rng.integers(0, 7))
        rows.append(r)
    return pd.DataFrame(rows)


def equity_groups(rng: np.random.Generator, k: int = 6) -> pd.DataFrame:
    return pd.DataFrame({"group": [f"g{i}" for i in range(k)], "value": rng.uniform(20, 40, k),
                         "pop": rng.uniform(1e4, 5e4, k), "order": np.arange(1, k + 1),
                         "se": rng.uniform(0.5, 1.5, k)})


def ce_draws(rng: np.random.Generator, n: int = 400) -> pd.DataFrame:
    return pd.DataFrame({"c0": rng.normal(1e6, 5e4, n), "c1": rng.normal(1.5e6, 5e4, n),
                         "e0": rng.normal(1.0, 0.01, n), "e1": rng.normal(1.1, 0.02, n)})


def ce_people(rng: np.random.Generator, n: int = 60) -> pd.DataFrame:
    return pd.DataFrame({"arm": np.repeat(["usual", "programme"], n // 2), "cost": rng.gamma(2, 5e5, n),
                         "qaly": rng.normal(0.8, 0.1, n)})


def gap_periods(rng: np.random.Generator, n: int = 90) -> pd.DataFrame:
    return pd.DataFrame({"district": rng.choice(["d1", "d2", "d3", "d4"], n), "before": rng.normal(6000, 800, n),
                         "after": rng.normal(6500, 800, n)})


def _ces(d: pd.DataFrame):
    return costs.CESamples(d[["c0", "c1"]].to_numpy(), d[["e0", "e1"]].to_numpy(), ["usual", "programme"])


@dataclass(frozen=True)
class Estimator:
    data: Callable[[np.random.Generator], pd.DataFrame]
    run: Callable[[pd.DataFrame], object]
    cols: dict  # role -> column name


COVS = ["x1", "x2", "grp"]
ESTIMATORS = {
    "matched_att_ipw": Estimator(cross_section, lambda d: effects.matched_att(d, "t", "y", COVS, method="ipw"),
                                 {"outcome": "y", "covariate": "x1", "treatment": "t", "category": "grp"}),
    "matched_att_aipw_ate": Estimator(cross_section, lambda d: effects.matched_att(d, "t", "y", COVS, method="aipw",
                                                                                estimand="ATE"),
                                      {"outcome": "y", "covariate": "x2", "treatment": "t", "category": "grp"}),
    "matched_att_psm_replace": Estimator(cross_section, lambda d: effects.matched_att(d, "t", "y", COVS, method="psm",
                                                                                   replace=True),
                                         {"outcome": "y", "covariate": "x1", "treatment": "t", "category": "grp"}),
    "did_2x2_panel": Estimator(panel_2x2, lambda d: effects.did_2x2(d, "y", "g", "post", unit="id", cluster="cl"),
                               {"outcome": "y", "treatment": "g", "unit": "id", "time": "post", "cluster": "cl"}),
    "did_2x2_pooled": Estimator(panel_2x2, lambda d: effects.did_2x2(d, "y", "g", "post", cluster="cl"),
                                {"outcome": "y", "treatment": "g", "time": "post", "cluster": "cl"}),
    "staggered_did": Estimator(staggered_panel, lambda d: effects.staggered_did(d, "unit", "period", "first", "y",
                                                                              covariates=["x1"]),
                               {"outcome": "y", "covariate": "x1", "group": "first", "unit": "unit", "time": "period"}),
    "its": Estimator(its_series, lambda d: effects.its(d, "events", "time", "iv", offset="pop"),
                     {"outcome": "events", "weight": "pop", "treatment": "iv", "time": "time"}),
    "kpis": Estimator(kpi_people, lambda d: effects.kpis(d, verbose=False),
                      {"outcome": "waist_w0", "category": "sex"}),
    "equity_sii": Estimator(equity_groups, lambda d: equity.sii(d, "value", "pop", group="group", order="order"),
                            {"outcome": "value", "weight": "pop", "group": "group"}),
    "equity_bgv": Estimator(equity_groups, lambda d: equity.bgv(d, "value", "pop", group="group", se="se"),
                            {"outcome": "value", "weight": "pop", "group": "group"}),
    "ce_samples": Estimator(ce_draws, _ces, {"outcome": "c1", "effect": "e0"}),
    "bootstrap_ce": Estimator(ce_people, lambda d: costs.bootstrap_ce(d, arm="arm", cost="cost", effect="qaly",
                                                                        n_boot=20),
                              {"outcome": "cost", "group": "arm"}),
    "gap_change": Estimator(gap_periods, lambda d: equity.gap_change(None, None, periods=d, n_boot=20),
                            {"outcome": "after", "group": "district"}),
}


# --- damage: each returns the damaged table, the column named and the damaged rows (None: not row-located) ----

def _rows(rng, d, k):
    return np.sort(rng.choice(len(d), size=min(k, len(d) - 1), replace=False))


def inf_at(role):
    def f(d, rng, k, c):
        r = _rows(rng, d, k)
        d = d.copy()
        d.loc[d.index[r], c[role]] = rng.choice([np.inf, -np.inf])
        return d, c[role], r
    return f


def nan_at(role):
    def f(d, rng, k, c):
        r = _rows(rng, d, k)
        d = d.copy()
        d[c[role]] = d[c[role]].astype(object if d[c[role]].dtype == object else float)
        d.loc[d.index[r], c[role]] = np.nan
        return d, c[role], r
    return f


def constant_outcome(d, rng, k, c):
    return d.assign(**{c["outcome"]: float(rng.integers(1, 9))}), c["outcome"], None


def all_treated(d, rng, k, c):
    return d.assign(**{c["treatment"]: 1}), c["treatment"], None


def bad_code(role):
    def f(d, rng, k, c):
        r = _rows(rng, d, k)
        d = d.copy()
        if role == "treatment":  # a numeric code that is not 0/1
            d[c[role]] = d[c[role]].astype(float)
            d.loc[d.index[r], c[role]] = float(rng.choice([2, 7, -1]))
        else:
            d[c[role]] = d[c[role]].astype(object)
            d.loc[d.index[r], c[role]] = rng.choice(["X", "?", "9"])
        return d, c[role], r
    return f


def duplicate_row(d, rng, k, c):
    r = _rows(rng, d, 1)
    return pd.concat([d, d.iloc[r]], ignore_index=True), c.get("unit") or c.get("time") or c["group"], None


def unit_both_arms(d, rng, k, c):
    r = _rows(rng, d, 1)
    d = d.copy()
    col = c.get("group", c.get("treatment"))
    v = d.iloc[r[0]][col]
    d.loc[d.index[r], col] = (1 - v) if col == "g" else (np.inf if np.isfinite(v) else 3.0)
    return d, col, None


def drop_period_rows(d, rng, k, c):
    r = _rows(rng, d, k)
    return d.drop(index=d.index[r]).reset_index(drop=True), None, None


def ce_nan_draws(d, rng, k, c):
    r = _rows(rng, d, k)
    d = d.copy()
    d.loc[d.index[r], rng.choice(["c0", "c1", "e0", "e1"])] = rng.choice([np.nan, np.inf])
    return d, None, r


def ce_all_bad(d, rng, k, c):
    return d.assign(c1=np.nan), None, None


ERR, WARN = "error", "warn"
# (estimator, damage, damage function, expectation, diagnostics check counted when warned / error pattern)
CASES = []
for name in ("matched_att_ipw", "matched_att_aipw_ate", "matched_att_psm_replace"):
    CASES += [
        (name, "inf_outcome", inf_at("outcome"), ERR, None),
        (name, "inf_covariate", inf_at("covariate"), ERR, None),
        (name, "missing_outcome", nan_at("outcome"), WARN, "missing_values_dropped"),
        (name, "missing_covariate", nan_at("covariate"), WARN, "missing_values_dropped"),
        (name, "missing_category", nan_at("category"), WARN, "missing_values_dropped"),
        (name, "constant_outcome", constant_outcome, ERR, None),
        (name, "all_treated", all_treated, ERR, None),
        (name, "unknown_treatment_code", bad_code("treatment"), ERR, None),
    ]
for name in ("did_2x2_panel", "did_2x2_pooled"):
    CASES += [
        (name, "inf_outcome", inf_at("outcome"), ERR, None),
        (name, "missing_outcome", nan_at("outcome"), WARN, "dropped:missing_values"),
        (name, "constant_outcome", constant_outcome, WARN, "constant_outcome"),
        (name, "all_treated", all_treated, ERR, None),
        (name, "unknown_treatment_code", bad_code("treatment"), ERR, None),
        (name, "missing_cluster_id", nan_at("cluster"), ERR, None),
    ]
CASES += [
    ("did_2x2_panel", "missing_unit_id", nan_at("unit"), ERR, None),
    ("did_2x2_panel", "duplicate_unit_period", duplicate_row, ERR, None),
    ("did_2x2_panel", "unit_both_treated_and_control", unit_both_arms, ERR, None),
    ("did_2x2_panel", "unit_missing_a_period", drop_period_rows, WARN, "dropped:one_period_only"),
    ("staggered_did", "inf_outcome", inf_at("outcome"), ERR, None),
    ("staggered_did", "inf_covariate", inf_at("covariate"), ERR, None),
    ("staggered_did", "missing_outcome", nan_at("outcome"), WARN, "dropped:missing_value"),
    ("staggered_did", "constant_outcome", constant_outcome, ERR, None),
    ("staggered_did", "missing_unit_id", nan_at("unit"), ERR, r"missing 'unit'"),
    ("staggered_did", "duplicate_unit_period", duplicate_row, ERR, r"more than one row per \('unit', 'period'\)"),
    ("staggered_did", "unit_both_treated_and_control", unit_both_arms, ERR, None),
    ("staggered_did", "unit_missing_a_period", drop_period_rows, WARN, "dropped:missing_period"),
    ("staggered_did", "all_treated", lambda d, rng, k, c: (d.assign(first=3.0), "first", None), ERR,
     "no never-treated units"),
    ("its", "inf_outcome", inf_at("outcome"), ERR, None),
    ("its", "inf_weight", inf_at("weight"), ERR, None),
    ("its", "missing_outcome", nan_at("outcome"), WARN, "missing_values_dropped"),
    ("its", "constant_outcome", constant_outcome, ERR, None),
    ("its", "duplicate_time", duplicate_row, ERR, None),
    ("its", "unknown_treatment_code", bad_code("treatment"), ERR, r"'iv' must be 0 before and 1 after"),
    ("kpis", "inf_measure", inf_at("outcome"), ERR, None),
    ("kpis", "unknown_sex_code", bad_code("category"), ERR, None),
    ("kpis", "missing_sex", nan_at("category"), ERR, None),
    ("ce_samples", "non_finite_draws", ce_nan_draws, WARN, "dropped:nonfinite_draws"),
    ("ce_samples", "all_draws_bad", ce_all_bad, ERR, "all 400 draws have a non-finite"),
    ("bootstrap_ce", "inf_cost", inf_at("outcome"), ERR, None),
    ("bootstrap_ce", "missing_arm", nan_at("group"), ERR, None),
    ("gap_change", "inf_outcome", inf_at("outcome"), ERR, None),
    ("gap_change", "missing_group", nan_at("group"), ERR, None),
]
for name in ("equity_sii", "equity_bgv"):
    CASES += [
        (name, "inf_value", inf_at("outcome"), ERR, None),
        (name, "inf_weight", inf_at("weight"), ERR, None),
        (name, "missing_value", nan_at("outcome"), ERR, None),
        (name, "duplicate_group", lambda d, rng, k, c: (pd.concat([d, d.iloc[[1]]], ignore_index=True), "group", None),
         ERR, None),
    ]


def _diag_count(res, check: str) -> float:
    diag = res.diagnostics
    if callable(diag):
        diag = diag()
    row = diag.loc[diag["check"] == check]
    assert len(row) == 1, f"no diagnostics row {check!r}"
    return float(row["value"].iloc[0])


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**31 - 1), k=st.integers(1, 4))
def test_every_estimator_refuses_or_counts_every_damage(case, seed, k):
    name, _, damage, expect, what = case
    est = ESTIMATORS[name]
    rng = np.random.default_rng(seed)
    data, col, rows = damage(est.data(rng), rng, k, est.cols)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        try:
            res = est.run(data)
        except (ValueError, TypeError, KeyError) as exc:
            assert expect == ERR, f"{name}: expected a warning with a count, got an error: {exc}"
            msg = str(exc)
            if what:
                assert re.search(what, msg), msg
            else:
                assert col is not None and f"'{col}'" in msg, msg
                if rows is not None:
                    assert re.search(rf"row\(s\) \[{rows[0]}\b|row {rows[0]}\b", msg), msg
            return
    assert expect == WARN, f"{name}: damage gave a number without an error"
    assert any(issubclass(w.category, EffectWarning) for w in rec), f"{name}: no EffectWarning"
    assert _diag_count(res, what) > 0
