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
def demo_run(request, tmp_path_factory, repo_root, kernel_name):
    """One real run of params/demo.yaml (what `make demo` runs) into a throw-away output folder."""
    from evaluation import runs

    item = getattr(request, "_pyfuncitem", None)
    if request.config.getoption("loadgroup", False) and item is not None and not item.nodeid.endswith("@demo"):
        # the demo (~3 minutes) would be built a second time on another worker
        raise RuntimeError(f"{item.nodeid} needs the demo run outside the 'demo' xdist group: "
                           "add the fixture that asks for it to DEMO_FIXTURES in tests/conftest.py")
    root = tmp_path_factory.mktemp("demo-outputs")
    result = runs.run(repo_root / "params" / "demo.yaml", output_root=root, quiet=True)
    return result


@pytest.fixture(scope="session")
def demo_outputs(request) -> Path:
    """The output root holding the session's demo run (published with its views), or, to look at the
    pages of a run already made, the folder in ``$EVALUATION_TEST_DEMO_OUTPUTS`` (e.g. ``outputs``)."""
    given = os.environ.get("EVALUATION_TEST_DEMO_OUTPUTS")
    if given:
        return Path(given).resolve()
    return request.getfixturevalue("demo_run").run_dir.parent.parent


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


DEMO_FIXTURES = {"demo_run", "demo_outputs", "demo_published"}


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook, which turns the markers into group names
def pytest_collection_modifyitems(config, items):
    """With pytest-xdist (`make test` runs `-n auto --dist loadgroup`): one worker per test file, and every test
    sharing the session's demo run on the same worker, so the demo (and each module fixture) runs once."""
    if not config.pluginmanager.hasplugin("xdist"):
        return
    for item in items:
        # these ask for demo_run at run time (demo_outputs unless a finished run is named; demo_published to
        # catch a refused run), so demo_run is not in their fixturenames
        uses_demo = DEMO_FIXTURES & set(getattr(item, "fixturenames", ()))
        group = "demo" if uses_demo else item.nodeid.split("::")[0]
        item.add_marker(pytest.mark.xdist_group(group))
