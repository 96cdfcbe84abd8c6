"""notebooks/30_cohort_engagement.ipynb runs with papermill and leaves the tables and results dashboards need."""
from __future__ import annotations

import json

import nbformat
import pytest

NB = "30_cohort_engagement"


def test_notebook_has_parameters_and_no_outputs(repo_root):
    nb = nbformat.read(repo_root / "notebooks" / f"{NB}.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", [])
    for name in ("output_dir", "lang", "participants_path", "daily_path", "step_goal", "suppression_threshold"):
        assert f"{name} =" in code[0].source
    assert "plots.setup(lang)" in code[1].source and f'notebook="{NB}"' in code[1].source
    assert all(not c.get("outputs") for c in code)


@pytest.mark.notebook
@pytest.mark.parametrize("lang", ["ko", "en"])
def test_notebook_runs_and_records(repo_root, run_notebook, lang):
    import pandas as pd

    from evaluation.publish import results_store as store

    results, out, _ = run_notebook(NB, lang=lang)
    for key in ("participants_enrolled", "participants_active_last_week", "valid_day_rate", "mean_daily_steps",
                "goal_share", "retention_24w"):
        assert key in results
    p = pd.read_parquet(repo_root / "data_samples" / "participants.parquet")
    # person counts are published perturbed (record keys, noise at most 2) and never 1..9
    true_enrolled = p.enrolled_on.notna().sum()
    assert abs(results["participants_enrolled"]["value"] - true_enrolled) <= 2
    raw = json.loads((out / "private" / f"{NB}.results.json").read_text(encoding="utf-8"))
    assert raw["participants_enrolled"]["value"] == true_enrolled  # the unprotected number stays private
    for name in ("enrolment_by_district", "weekly_active", "enrolment_by_month"):
        t = store.load(out, name)
        counts = t[[c for c in ("enrolled", "active", "cumulative") if c in t]].to_numpy(float).ravel()
        assert not ((counts >= 1) & (counts < 10)).any(), name
        assert "reason" not in t.columns
    lo, hi = results["mean_daily_steps"]["ci"]
    assert lo < results["mean_daily_steps"]["value"] < hi
    assert 0 < results["retention_24w"]["value"] < 1
    for name in ("steps_by_week", "goal_share_by_week", "enrolment_by_district", "retention", "weekly_active",
                 "steps_by_week_since_enrolment"):
        assert name in store.tables(out)
    # nothing staff see shows a small cell: exact n is not published, a statistic only where n >= 13
    sbw = store.load(out, "steps_by_week")
    assert "n" not in sbw.columns and (sbw["suppressed"] == sbw["estimate"].isna()).all()
    # the overview dashboard plots `estimate` of steps_by_week against `week`: one metric only
    assert store.query(out, "SELECT DISTINCT metric FROM steps_by_week").metric.tolist() == ["mean_steps"]
    assert len(list((out / "figures").glob("*.png"))) >= 6
