"""`make demo` acceptance: the demo parameters produce a complete run folder on the embedded default."""
from __future__ import annotations

import json

import nbformat
import pytest
import yaml

pytestmark = pytest.mark.notebook


def test_demo_run_is_complete(demo_run, repo_root):
    run_dir = demo_run.run_dir
    cfg = yaml.safe_load((repo_root / "params" / "demo.yaml").read_text())
    names = [p["path"].split("/")[-1].removesuffix(".ipynb") for p in cfg["notebooks"]]
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "ok"
    assert [n["name"] for n in manifest["notebooks"]] == names
    assert set(manifest["inputs"]) == set(cfg["inputs"])
    results = json.loads((run_dir / "results.json").read_text())
    for name in names:
        assert (run_dir / "reports" / f"{name}.html").stat().st_size > 10_000
        nb = nbformat.read(str(run_dir / "private" / "notebooks" / f"{name}.ipynb"), as_version=4)
        errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.get("output_type") == "error"]
        assert not errors
        assert results.get(name), f"{name} recorded no headline numbers"
    assert any((run_dir / "figures").glob("*.png")) and any((run_dir / "tables").glob("*.parquet"))
    assert (run_dir.parent / "latest").resolve() == run_dir.resolve()


def test_demo_run_publishes_only_through_the_gate(demo_run):
    """Issue 20: unprotected numbers stay in private/ (0700); reports carry the perturbation notice; no table
    shows a person count of 1-9 or a `reason` column; every published file was written by the Recorder."""
    import stat

    import pandas as pd

    from evaluation.publish import report, report_html
    from evaluation.publish.disclosure import PERSON_COUNTS

    run_dir = demo_run.run_dir
    assert stat.S_IMODE((run_dir / "private").stat().st_mode) == 0o700
    assert not (run_dir / "notebooks").exists()
    assert report.ungated(run_dir) == []
    for html in (run_dir / "reports").glob("*.html"):
        assert report_html.notice("ko") in html.read_text(encoding="utf-8"), html.name
    for table in (run_dir / "tables").glob("*.parquet"):
        df = pd.read_parquet(table)
        assert "reason" not in df.columns, table.name
        for col in [c for c in PERSON_COUNTS if c in df.columns]:
            v = pd.to_numeric(df[col], errors="coerce")
            assert not v.between(1, 9).any(), (table.name, col)
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert "reason" not in json.dumps(manifest.get("disclosure", {}))


def test_no_participant_level_table_in_a_run(demo_run):
    import pandas as pd

    for table in (demo_run.run_dir / "tables").glob("*.parquet"):
        assert "participant_id" not in pd.read_parquet(table).columns, table.name


def test_committed_notebooks_carry_no_outputs(repo_root):
    for path in list((repo_root / "notebooks").rglob("*.ipynb")):
        nb = nbformat.read(str(path), as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, f"{path.name} carries outputs"
        first_code = next(c for c in nb.cells if c.cell_type == "code")
        if "dashboards" not in path.parts:
            assert "parameters" in first_code.metadata.get("tags", []), f"{path.name}: first code cell must be tagged 'parameters'"


def test_demo_starts_from_exports_and_scores_the_truth(demo_run, repo_root):
    """The demo's notebooks read the daily store built from synthetic raw exports; the build's row
    accounting is in the run manifest; cleaning and the steps effect are scored against the truth."""
    import pandas as pd

    from evaluation import store as build, effects
    from evaluation.runs import params

    cfg = params.load(repo_root / "params" / "demo.yaml")
    store = repo_root / cfg.build.store
    assert "daily.parquet" not in cfg.inputs["daily"] and (repo_root / cfg.inputs["daily"]).resolve() == (store / "daily").resolve()
    manifest = json.loads((demo_run.run_dir / "manifest.json").read_text())
    rows = manifest["build"]["rows"]
    assert rows["balanced"] and rows["rows_in"] == rows["rows_kept"] + rows["rows_quarantined"] > 1_000_000
    assert all("name" not in f for f in manifest["build"]["by_file"].values())  # file names can hold ids
    for nb in manifest["notebooks"]:
        if "daily_path" in nb["parameters"]:
            assert nb["parameters"]["daily_path"] == str((store / "daily").resolve()), nb["name"]
    assert sum("daily_path" in nb["parameters"] for nb in manifest["notebooks"]) >= 5
    again = build.build(repo_root / "params" / "demo.yaml")  # nothing new: a no-op
    assert not again.changed_anything

    results = json.loads((demo_run.run_dir / "results.json").read_text())
    assert results["20_signal_quality"]["nonwear_balanced_accuracy"]["value"] >= 0.95
    assert results["20_signal_quality"]["store_wear_minutes_mae"]["value"] < 60  # minutes/day, built store vs truth
    assert results["20_signal_quality"]["rows_in"]["value"] == rows["rows_in"]
    # steps effect (staggered DiD) against the true effect over joiners' post-enrolment weeks in the panel
    daily = build.read_daily(store)
    truth = pd.read_parquet(repo_root / cfg.build.synthetic.truth / "daily_truth.parquet")
    d = daily.merge(truth[["participant_id", "date", "true_effect"]], on=["participant_id", "date"])
    w = effects.weekly_panel(d.assign(steps=d["true_effect"] + 1.0), pd.read_parquet(repo_root / cfg.inputs["participants"]))
    true_att = (w.loc[(w["first_week"] > 0) & (w["week"] >= w["first_week"]), "steps"] - 1.0).mean()
    att = results["40_effectiveness"]["att_steps"]
    assert true_att > 500 and abs(att["value"] - true_att) < 0.35 * true_att, (att, true_att)
