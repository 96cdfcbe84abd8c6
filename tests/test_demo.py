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
        nb = nbformat.read(str(run_dir / "notebooks" / f"{name}.ipynb"), as_version=4)
        errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.get("output_type") == "error"]
        assert not errors
        assert results.get(name), f"{name} recorded no headline numbers"
    assert any((run_dir / "figures").glob("*.png")) and any((run_dir / "tables").glob("*.parquet"))
    assert (run_dir.parent / "latest").resolve() == run_dir.resolve()


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
