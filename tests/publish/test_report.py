"""What notebooks hand to their run: results, tables (aggregates only), figures, and results of earlier notebooks."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from evaluation.publish import report


def test_recorder_writes_results_tables_and_refuses_participant_rows(tmp_path):
    rec = report.Recorder(tmp_path, notebook="nb")
    rec.result("n", np.int64(3), unit="steps", ci=(1.0, float("nan")))
    saved = json.loads((tmp_path / "results" / "nb.json").read_text())
    # without a run context the numbers are labelled synthetic (test_provenance.py covers the kinds)
    assert saved["n"] == {"value": 3, "unit": "steps", "label": "", "ci": [1.0, None],
                          "provenance": {"kind": "synthetic", "detail": saved["n"]["provenance"]["detail"]}}
    # a person count is published perturbed from the ids counted (test_gate.py covers the gate)
    with pytest.raises(ValueError, match="members="):
        rec.result("people", 3, unit="persons")
    rec.table("agg", pd.DataFrame({"district": ["11110"], "n": [12]}))
    assert report.load_table(tmp_path, "agg")["n"].tolist() == [12]
    with pytest.raises(ValueError, match="participant-level"):
        rec.table("leak", pd.DataFrame({"participant_id": ["S1"]}))
    assert not (tmp_path / "tables" / "leak.parquet").exists()


def test_later_notebooks_read_earlier_results_of_the_same_run(tmp_path):
    assert report.load_notebook_results(tmp_path, "40_effectiveness") == {}
    report.Recorder(tmp_path, notebook="40_effectiveness").result("att_steps", 1368.4, unit="steps/day")
    assert report.load_notebook_results(tmp_path, "40_effectiveness")["att_steps"]["value"] == 1368.4


def test_scratch_folder_when_no_output_dir():
    rec = report.Recorder("", notebook="x")
    assert rec.output_dir.is_dir() and (rec.output_dir / "figures").is_dir()
