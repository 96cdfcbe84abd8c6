"""Every estimator has a ``diagnostics`` table and drops incomplete units with a warning and a count (issue 11)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation import effects
from evaluation.effects import DIAGNOSTIC_COLUMNS, EffectWarning, _reference


def test_its_drops_missing_time_points_with_a_count_and_checks_residuals():
    d = _reference.sicily().copy()
    d.loc[[4, 20], "aces"] = np.nan
    with pytest.warns(EffectWarning, match="dropped 2 of 59 rows"):
        r = effects.its(d, "aces", "time", "smokban", offset="stdpop", seasonality=2, impact="level")
    assert list(r.diagnostics.columns) == DIAGNOSTIC_COLUMNS
    diag = r.diagnostics.set_index("check")
    assert diag.loc["missing_values_dropped", "value"] == 2 and r.n == 57
    assert {"residual_autocorrelation", "overdispersion"} <= set(diag.index)
    assert 0 <= diag.loc["residual_autocorrelation", "value"] <= 1
    # plain Poisson on these overdispersed counts is flagged; quasi-Poisson is the fix and passes
    with pytest.warns(EffectWarning, match="quasipoisson"):
        p = effects.its(_reference.sicily(), "aces", "time", "smokban", offset="stdpop", family="poisson")
    assert not p.diagnostics.set_index("check").loc["overdispersion", "passed"]
    assert diag.loc["overdispersion", "passed"]


def test_trajectory_drops_participants_with_missing_covariates():
    from evaluation.publish.report import repo_root

    daily = pd.read_parquet(repo_root() / "data_samples" / "daily.parquet")
    p = pd.read_parquet(repo_root() / "data_samples" / "participants.parquet")
    p = p.groupby("arm", group_keys=False).head(60).reset_index(drop=True)  # small and fast
    daily = daily[daily["participant_id"].isin(p["participant_id"])]
    p.loc[p.index[:3], "age"] = np.nan  # before: PatsyError "factor contains missing values"
    with pytest.warns(EffectWarning, match=f"dropped 3 of {len(p)} rows"):
        r = effects.trajectory(daily, p, window=(-8, 24))
    diag = r.diagnostics.set_index("check")
    assert diag.loc["missing_values_dropped", "value"] == 3
    assert "model_converged" in diag.index
    assert r.n_participants <= len(p) - 3


def test_diagnostics_default_is_an_empty_table_with_the_shared_columns():
    r = effects.EffectResult(1.0, 0.5, (0.0, 2.0), 10, "test")
    assert list(r.diagnostics.columns) == DIAGNOSTIC_COLUMNS and r.diagnostics.empty


def test_kpi_and_evalue_results_have_diagnostics():
    from test_effects_inputs import _kpi_people

    people = _kpi_people(12, 6, 6)
    people.loc[1, ["sbp_w0", "dbp_w0"]] = np.nan
    k = effects.kpis(people, min_n=20, verbose=False)
    d = k.diagnostics.set_index("check")
    assert list(k.diagnostics.columns) == DIAGNOSTIC_COLUMNS
    assert d.loc["undetermined:eligible_at_baseline_w0", "value"] == 1
    assert not d.loc["suppressed:risk_reduction_w24", "passed"]
    assert pd.isna(d.loc["regression_to_the_mean", "passed"])
    e = effects.e_value(0.8, (0.7, 0.9))
    assert e.diagnostics["check"].tolist() == ["ci_includes_null"]


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_diagnostics_view_formats_several_results(lang):
    d = _reference.sicily()
    r = effects.its(d, "aces", "time", "smokban", offset="stdpop", seasonality=2, impact="level")
    e = effects.e_value(0.8, (0.7, 0.9))

    class Old:  # a result from before diagnostics existed (e.g. staggered_did before the merge)
        pass

    v = effects.diagnostics_view({"ITS": r, "E-value": e, "old": Old(), "none": None}, lang=lang)
    assert len(v) == len(r.diagnostics) + 1
    head = v.columns.tolist()
    if lang == "ko":
        assert head == ["결과", "점검 항목", "값", "기준", "판정", "설명"]
        assert "잔차 자기상관" in set(v["점검 항목"]) and set(v["판정"]) <= {"통과", "경고", "참고"}
    else:
        assert head == ["Result", "Check", "Value", "Threshold", "Verdict", "Message"]
        assert "Residual autocorrelation" in set(v["Check"])
    assert effects.diagnostics_view({}, lang=lang).empty
