"""Shared fixtures: the repo root, a throw-away project folder with its own params/ and outputs/."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# CI machines are shared and slow: no per-example deadline, and CI replays the same examples every run
settings.register_profile("dev", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", parent=settings.get_profile("dev"), derandomize=True, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
"""Every reference file the tests read is under tests/data (see its README): a bare clone passes its tests."""

# Pseudonymisation refuses to run without a key outside demo mode; tests use a fixed test key.
os.environ.setdefault("EVALUATION_PSEUDONYM_KEY", "test-key-not-secret")
# the estimators' published-result tests read Sicily and Card & Krueger from the repository's copy
os.environ["EVALUATION_REFERENCE_DIR"] = str(DATA / "reference")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """tests/data: real reference files kept in the repository (sources and licences in its README)."""
    return DATA


@pytest.fixture(scope="session")
def kernel_name() -> str:
    """The project's Jupyter kernel (installed by the Makefile); installed here if absent."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec("evaluation")
    except NoSuchKernel:
        import subprocess
        import sys

        subprocess.run([sys.executable, "-m", "ipykernel", "install", "--sys-prefix", "--name", "evaluation"], check=True)
    return "evaluation"


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory, repo_root, kernel_name):
    """One real run of params/demo.yaml (what `make demo` runs) into a throw-away output folder."""
    from evaluation import runs

    root = tmp_path_factory.mktemp("demo-outputs")
    result = runs.run(repo_root / "params" / "demo.yaml", output_root=root, quiet=True)
    return result


@pytest.fixture()
def run_notebook(repo_root, tmp_path, kernel_name):
    """Execute ``notebooks/<name>.ipynb`` with papermill into ``tmp_path/run``; returns (results, out_dir, executed).

    ``output_dir`` is always injected; other keyword arguments are notebook parameters.
    """
    import json

    import papermill as pm

    def _run(name: str, *, cwd: Path | None = None, **parameters):
        out = tmp_path / "run"
        executed = pm.execute_notebook(
            str(repo_root / "notebooks" / f"{name}.ipynb"), str(tmp_path / "out.ipynb"),
            parameters={"output_dir": str(out), **parameters}, kernel_name=kernel_name,
            cwd=str(cwd or repo_root / "notebooks"), progress_bar=False,
        )
        results = json.loads((out / "results" / f"{name}.json").read_text(encoding="utf-8"))
        return results, out, executed

    return _run


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook, which turns the markers into group names
def pytest_collection_modifyitems(config, items):
    """With pytest-xdist (`make test` runs `-n auto --dist loadgroup`): one worker per test file, and every test
    sharing the session's demo run on the same worker, so the demo (and each module fixture) runs once."""
    if not config.pluginmanager.hasplugin("xdist"):
        return
    for item in items:
        group = "demo" if "demo_run" in getattr(item, "fixturenames", ()) else item.nodeid.split("::")[0]
        item.add_marker(pytest.mark.xdist_group(group))
