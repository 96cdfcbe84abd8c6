"""A throw-away project with one- or two-cell notebooks, for fast tests of the run machinery."""
from __future__ import annotations

from pathlib import Path

import nbformat
import yaml

PARAMETERS = 'output_dir = ""\nname = "nb"\nanswer = 1\nfail = False\nblob = 0'
BODY = '''
from evaluation.publish import report
rec = report.Recorder(output_dir, notebook=name)
rec.result("answer", answer, unit="units")
if blob:
    print("x" * blob)
if fail:
    raise RuntimeError("deliberate failure for the test")
'''


def notebook(path: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "evaluation", "display_name": "evaluation", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(PARAMETERS, metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell(BODY)]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


def make_project(root: Path) -> Path:
    """``root`` with notebooks/one.ipynb, notebooks/two.ipynb, data/input.csv, params/ and outputs/."""
    for sub in ("params", "data", "outputs"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    (root / "data" / "input.csv").write_text("a,b\n1,2\n")
    notebook(root / "notebooks" / "one.ipynb")
    notebook(root / "notebooks" / "two.ipynb")
    return root


def write_params(root: Path, name: str = "p", *, folder: Path | None = None, **overrides) -> Path:
    cfg = {
        "programme": "tinyprog",
        "title": "작은 시험 평가",
        "inputs": {"input": "data/input.csv"},
        "notebooks": [{"path": "notebooks/one.ipynb", "parameters": {"name": "one", "answer": 42}}],
    }
    cfg.update(overrides)
    path = (folder or root / "params") / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    return path
