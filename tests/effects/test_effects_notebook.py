"""The effectiveness notebook runs end to end on the committed samples, records its headline numbers and
recovers the synthetic truth (evaluation.synth.TRUTH)."""
from __future__ import annotations

import math

import pandas as pd
import pytest

NOTEBOOK = "notebooks/40_effectiveness.ipynb"
KEYS_WITH_CI = ("att_sbp", "att_steps", "kpi_risk_reduction_share", "kpi_behaviour_improvement_share", "did_simple_att")


@pytest.mark.notebook
@pytest.mark.parametrize("lang", ["ko", "en"])
def test_effectiveness_notebook_runs_records_and_recovers_truth(repo_root, run_notebook, lang):
    import nbformat

    from evaluation import effects
    from evaluation.synth import TRUTH

    nb = nbformat.read(repo_root / NOTEBOOK, as_version=4)
    assert "parameters" in nb.cells[0].metadata.get("tags", [])
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "commit the notebook without outputs"
    res, out, executed = run_notebook("40_effectiveness", lang=lang)
    for key in KEYS_WITH_CI:
        v, ci = res[key]["value"], res[key]["ci"]
        assert all(isinstance(x, float) and math.isfinite(x) for x in (v, *ci)), (key, res[key])
        assert ci[0] <= v <= ci[1], (key, res[key])
    assert math.isfinite(res["e_value"]["value"]) and res["e_value"]["value"] >= 1

    # matched ATT on systolic BP: the truth is -4 mmHg; the estimate has the right sign and its CI covers it
    att = res["att_sbp"]
    assert att["value"] < 0 and att["ci"][0] < TRUTH.effect_sbp < att["ci"][1]
    assert att["unit"] == "mmHg"
    # steps: positive, within 20% of the mean true effect over joiners' post-enrolment weeks in the panel
    p = pd.read_parquet(repo_root / "data_samples" / "participants.parquet")
    d = pd.read_parquet(repo_root / "data_samples" / "daily.parquet")
    w = effects.weekly_panel(d.assign(steps=d["true_effect"]), p)
    true_steps = w.loc[(w["week"] < 44) & (w["first_week"] > 0) & (w["week"] >= w["first_week"]), "steps"].mean()
    assert abs(res["att_steps"]["value"] - true_steps) < 0.2 * true_steps
    assert res["did_simple_att"]["value"] > 0 and res["att_steps"]["ci"][0] > 0
    # shares are shares
    for key in ("kpi_risk_reduction_share", "kpi_behaviour_improvement_share"):
        assert 0 < res[key]["ci"][0] < res[key]["value"] < res[key]["ci"][1] < 1

    for name in ("kpis", "balance", "event_study"):
        df = pd.read_parquet(out / "tables" / f"{name}.parquet")
        assert len(df) > 0 and "participant_id" not in df.columns, name
    # each result's checks are shown and recorded next to the number (issue 11)
    diag = pd.read_parquet(out / "tables" / "diagnostics_matching.parquet")
    # published: result, check, threshold, verdict (values and messages name counts of people: private)
    assert len(diag) >= 3 * 6 and diag.shape[1] == 4
    es = pd.read_parquet(out / "tables" / "event_study.parquet")
    assert {"event_time", "att", "se", "ci_low", "ci_high", "scale"} <= set(es.columns)
    for fig in ("kpis", "love_plot", "event_study", "trajectory"):
        assert (out / "figures" / f"{fig}.png").exists(), fig
    # the regression-to-the-mean caution is printed, in the requested language
    text = "".join(o.get("text", "") for c in executed.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert effects.RTM_CAUTION[lang] in text
    assert ("평균으로의 회귀" in text) == (lang == "ko")
