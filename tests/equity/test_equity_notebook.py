"""The district equity notebook runs on the committed samples and records what the dashboard needs."""
from __future__ import annotations

import json

import pandas as pd
import pytest

pytestmark = pytest.mark.notebook


@pytest.mark.parametrize("lang, with_geometry", [("ko", False), ("en", True)])
def test_notebook_runs_and_records(repo_root, data_dir, kernel_name, tmp_path, lang, with_geometry):
    import papermill as pm

    out = tmp_path / "run"
    params = {
        "output_dir": str(out),
        "lang": lang,
        "indicators_path": str(repo_root / "data_samples" / "district_indicators.csv"),
        "participants_path": str(repo_root / "data_samples" / "participants.parquet"),
        "daily_path": str(repo_root / "data_samples" / "daily.parquet"),
        "geojson_path": str(data_dir / "seoul_districts" / "seoul_districts_2015.geojson") if with_geometry else "",
        "n_boot": 200,
    }
    pm.execute_notebook(str(repo_root / "notebooks" / "60_district_equity.ipynb"), str(tmp_path / "out.ipynb"),
                        parameters=params, kernel_name=kernel_name, cwd=str(tmp_path))
    results = json.loads((out / "results" / "60_district_equity.json").read_text(encoding="utf-8"))
    for key in ("bgv", "bgsd", "sii", "gap_change_district_bgsd", "gap_change_income_sii"):
        assert key in results and len(results[key]["ci"]) == 2, key
        lo, hi = results[key]["ci"]
        assert lo <= hi
    for name in ("district_profile", "inequality_measures", "programme_gap_change", "district_outcomes"):
        t = pd.read_parquet(out / "tables" / f"{name}.parquet")
        assert len(t) and "participant_id" not in t.columns
    outcomes = pd.read_parquet(out / "tables" / "district_outcomes.parquet")
    # n is perturbed (0 or >= 10, never 1-9); a district's steps are shown only where n supports them
    n = outcomes["n"].astype(float)
    assert not n.between(1, 9).any()
    assert outcomes.loc[n < 13, ["before", "after", "change"]].isna().all().all()
    assert outcomes.loc[n >= 13, "change"].notna().all() and "suppressed" not in outcomes.columns
    for fig in ("district_map", "inequality_trend", "programme_change_map", "programme_income_gap"):
        assert (out / "figures" / f"{fig}.png").stat().st_size > 5000
    nb = json.loads((tmp_path / "out.ipynb").read_text(encoding="utf-8"))
    text = "".join("".join(o.get("data", {}).get("text/markdown", "")) for c in nb["cells"] for o in c.get("outputs", []))
    assert ("자치구" in text) if lang == "ko" else ("Districts significantly" in text)
