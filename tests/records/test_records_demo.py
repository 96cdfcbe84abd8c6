"""`make demo` starts from the centre's records as handed over: XLSX and CP949 CSV with Korean headers, read
through evaluation.records into the participants table the notebooks analyse; the truth sits in its own folder."""
from __future__ import annotations

import json

import pandas as pd
import pytest

pytestmark = pytest.mark.notebook


def test_demo_reads_the_centre_files_into_participants(demo_run, repo_root):
    from evaluation import store as build, records
    from evaluation.runs import params

    cfg = params.load(repo_root / "params" / "demo.yaml")
    r = cfg.records
    assert cfg.inputs["participants"] == r.output and cfg.build.enrolled == r.output
    folder = repo_root / r.synthetic.folder
    files = sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))
    assert files == ["건강행태설문.xlsx", "검진결과.csv", "등록대장.xlsx"]
    raw = (folder / "검진결과.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert "측정시기" in raw.decode("cp949")

    manifest = json.loads((demo_run.run_dir / "manifest.json").read_text())
    rows = manifest["records"]["rows"]
    assert rows["balanced"] and rows["rows_read"] == rows["rows_kept"] + rows["rows_quarantined"] > 7_000
    assert manifest["records"]["participants"] == r.synthetic.n and not manifest["records"]["files_refused"]
    assert manifest["inputs"]["participants"]["sha256"] == manifest["records"]["sha256"]

    table = pd.read_parquet(repo_root / r.output)
    assert list(table.columns) == records.participant_columns()
    assert not [c for c in table.columns if c.endswith("_cf")] and "habitual_steps" not in table.columns
    truth = pd.read_parquet(repo_root / r.synthetic.truth / "participants_truth.parquet")
    assert [c for c in truth.columns if c.endswith("_cf")] and not list(folder.glob("*truth*"))
    # the same people, and the records' ids join the wearable store's
    assert set(table["participant_id"]) == set(truth["participant_id"])
    daily_ids = set(build.read_daily(repo_root / cfg.build.store, columns=["participant_id"])["participant_id"].astype(str))
    assert daily_ids and daily_ids <= set(table["participant_id"])
    # the notebooks' headline numbers come from the records-built table
    results = json.loads((demo_run.run_dir / "results.json").read_text())
    assert results["10_cohort_overview"]["participants_enrolled"]["value"] == int(table["treated"].sum())
