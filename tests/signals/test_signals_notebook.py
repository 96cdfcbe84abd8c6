"""notebooks/20_signal_quality.ipynb runs with papermill and records the signal-quality results."""
from __future__ import annotations


import nbformat
import pandas as pd
import pytest

NB = "20_signal_quality"


def test_notebook_has_parameters_and_no_outputs(repo_root):
    nb = nbformat.read(repo_root / "notebooks" / f"{NB}.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", [])
    for name in ("output_dir", "lang", "minutes_path", "participants_path", "valid_day_minutes", "min_cell"):
        assert f"{name} =" in code[0].source
    assert "plots.setup(lang)" in code[1].source and f'notebook="{NB}"' in code[1].source
    assert all(not c.get("outputs") for c in code)


@pytest.mark.notebook
@pytest.mark.parametrize("lang", ["ko", "en"])
def test_notebook_runs_and_records(repo_root, run_notebook, lang):
    res, out, _ = run_notebook(NB, lang=lang)
    raw = pd.read_parquet(repo_root / "data_samples" / "minutes_sample.parquet")
    assert res["rows_in"]["value"] == len(raw)
    assert res["rows_kept"]["value"] + res["rows_quarantined"]["value"] == len(raw)
    # the clock-offset participants' first 9 h are labelled 2023-03-05: out of period
    q = pd.read_parquet(out / "quarantine" / "quarantine.parquet")
    assert set(q["reason"]) == {"out_of_period"} and len(q) == res["rows_quarantined"]["value"] > 0
    assert 0.5 < res["share_valid_days"]["value"] <= 1 and 0 < res["nonwear_share"]["value"] < 0.5
    assert res["nonwear_balanced_accuracy"]["value"] >= 0.97
    for name in ("row_accounting", "wear_histogram", "valid_by_date", "flags_by_day", "accuracy_vs_truth"):
        t = pd.read_parquet(out / "tables" / f"{name}.parquet")
        assert "participant_id" not in t.columns
        for col in ("n", "participants_flagged", "person_days"):  # perturbed: 0 or >= 10, never 1-9
            if col in t.columns:
                assert not pd.to_numeric(t[col], errors="coerce").between(1, 9).any(), (name, col)
    assert len(list((out / "figures").glob("*.png"))) == 4
