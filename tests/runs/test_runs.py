"""The papermill runner: complete run folders, failure isolation, the lock, and parameter validation."""
from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import nbformat
import pytest
import yaml

from evaluation.runs import params
from evaluation import runs
from evaluation.runs import programme_lock

pytestmark = pytest.mark.notebook

NB_SOURCE = '''
from evaluation.publish import report
rec = report.Recorder(output_dir, notebook=name)
rec.result("answer", answer, unit="units")
if fail:
    raise RuntimeError("deliberate failure for the test")
'''


def _notebook(path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "evaluation", "display_name": "evaluation", "language": "python"}
    nb.cells = [
        nbformat.v4.new_code_cell('output_dir = ""\nname = "nb"\nanswer = 1\nratio = 0.5\nfail = False', metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(NB_SOURCE),
    ]
    nbformat.write(nb, str(path))


@pytest.fixture()
def project(tmp_path: Path, kernel_name: str) -> Path:
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "params").mkdir()
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "input.csv").write_text("a,b\n1,2\n")
    _notebook(tmp_path / "notebooks" / "one.ipynb")
    _notebook(tmp_path / "notebooks" / "two.ipynb")
    return tmp_path


def _write_params(project: Path, name: str = "p", **overrides) -> Path:
    cfg = {
        "programme": "testprog",
        "inputs": {"input": "data/input.csv"},
        "notebooks": [
            {"path": "notebooks/one.ipynb", "parameters": {"name": "one", "answer": 42}},
            {"path": "notebooks/two.ipynb", "parameters": {"name": "two", "answer": 7}},
        ],
    }
    cfg.update(overrides)
    path = project / "params" / f"{name}.yaml"
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True))
    return path


def test_successful_run_writes_a_complete_folder(project):
    result = runs.run(_write_params(project), quiet=True)
    run_dir = result.run_dir
    assert result.status == "ok" and run_dir.parent.name == "testprog"
    assert (run_dir / "private" / "notebooks" / "one.ipynb").exists() and (run_dir / "private" / "notebooks" / "two.ipynb").exists()
    html = (run_dir / "reports" / "one.html").read_text()
    assert "deliberate failure" not in html and "rec.result" not in html  # code cells are excluded
    results = json.loads((run_dir / "results.json").read_text())
    assert results["one"]["answer"]["value"] == 42 and results["two"]["answer"]["value"] == 7
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "ok"
    assert [n["status"] for n in manifest["notebooks"]] == ["ok", "ok"]
    assert len(manifest["inputs"]["input"]["sha256"]) == 64
    assert "pandas" in manifest["packages"] and "python" in manifest["packages"]
    assert all(n["seconds"] > 0 for n in manifest["notebooks"])
    assert runs.latest("testprog", project / "outputs") == run_dir.resolve()
    assert not list((project / "outputs" / "testprog").glob(".staging-*"))


def test_failed_run_keeps_notebook_and_leaves_latest(project):
    good = runs.run(_write_params(project), quiet=True)
    bad = _write_params(project, "bad", notebooks=[
        {"path": "notebooks/one.ipynb", "parameters": {"name": "one"}},
        {"path": "notebooks/two.ipynb", "parameters": {"name": "two", "fail": True}},
    ])
    proc = subprocess.run([sys.executable, "-m", "evaluation.cli", "run", str(bad), "--quiet"],
                          cwd=project, capture_output=True, text=True)
    assert proc.returncode == 1, proc.stderr
    assert "latest unchanged" in proc.stderr
    failed = sorted((project / "outputs" / "testprog").glob("*-failed"))
    assert len(failed) == 1
    executed = nbformat.read(str(failed[0] / "private" / "notebooks" / "two.ipynb"), as_version=4)
    assert "deliberate failure" in json.dumps(executed.cells[-1].get("outputs", []))
    manifest = json.loads((failed[0] / "manifest.json").read_text())
    assert manifest["status"] == "failed" and manifest["notebooks"][-1]["status"] == "failed"
    assert runs.latest("testprog", project / "outputs") == good.run_dir.resolve()


def test_lock_refuses_a_second_concurrent_run(project):
    path = _write_params(project)
    programme_dir = project / "outputs" / "testprog"
    with programme_lock(programme_dir):
        with pytest.raises(runs.RunLockedError):
            runs.run(path, quiet=True)
        proc = subprocess.run([sys.executable, "-m", "evaluation.cli", "run", str(path), "--quiet"],
                              cwd=project, capture_output=True, text=True)
        assert proc.returncode == 75 and "another run" in proc.stderr
    # released: the same lock can be taken again, from another thread too
    taken = []
    t = threading.Thread(target=lambda: taken.append(programme_lock(programme_dir).__enter__()))
    t.start(); t.join()
    assert taken


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"programe": "typo"}, "unknown key 'programe'"),
        ({"suppression_threshold": "ten"}, "key 'suppression_threshold'"),
        ({"lang": "fr"}, "key 'lang'"),
        ({"inputs": {"input": "data/missing.csv"}}, "key 'inputs.input': file not found"),
        ({"notebooks": [{"path": "notebooks/none.ipynb"}]}, "key 'notebooks.0.path': notebook not found"),
        ({"notebooks": [{"path": "notebooks/one.ipynb", "paramters": {}}]}, "unknown key 'notebooks.0.paramters'"),
        ({"notebooks": []}, "key 'notebooks'"),
    ],
)
def test_params_schema_errors_name_the_key(project, overrides, message):
    path = _write_params(project, **overrides)
    with pytest.raises(params.ParamsError, match=message.replace("(", r"\(").replace(".", r"\.")) as err:
        params.load(path)
    assert str(path) in str(err.value)


@pytest.mark.parametrize(
    ("nb_params", "message"),
    [
        ({"answr": 1}, "unknown parameter 'answr'"),
        ({"answer": "forty-two"}, "parameter 'answer' expects int"),
        ({"ratio": "half"}, "parameter 'ratio' expects float"),
        ({"fail": 1}, "parameter 'fail' expects bool"),
    ],
)
def test_notebook_parameters_are_checked_before_running(project, nb_params, message):
    path = _write_params(project, notebooks=[{"path": "notebooks/one.ipynb", "parameters": nb_params}])
    with pytest.raises(params.ParamsError, match=message):
        runs.run(path, quiet=True)
    assert not (project / "outputs" / "testprog" / "latest").exists()
    assert not list((project / "outputs" / "testprog").glob("2*"))  # nothing half-written


def test_int_accepted_where_float_declared(project):
    path = _write_params(project, notebooks=[{"path": "notebooks/one.ipynb", "parameters": {"ratio": 1}}])
    cfg = params.load(path)
    values = params.notebook_parameters(cfg, cfg.notebooks[0], base_dir=project, output_dir=project / "x")
    assert values["ratio"] == 1 and values["output_dir"].endswith("x")
    assert "input_path" not in values  # only declared parameters are injected


def test_missing_kernel_is_a_clear_error(project):
    path = _write_params(project, kernel="no-such-kernel-here")
    with pytest.raises(RuntimeError, match="kernel 'no-such-kernel-here' is not installed"):
        runs.run(path, quiet=True)
