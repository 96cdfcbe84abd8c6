"""A run on a full disk: simulated with a file-size limit (RLIMIT_FSIZE) on the runner and its kernel.

With SIGXFSZ ignored, a write past the limit raises EFBIG ("File too large")
exactly where ENOSPC would on a full disk, in the runner and in the kernel.
"""
from __future__ import annotations

import errno
import json
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from evaluation import cli, runs
from tiny_project import make_project, write_params

pytestmark = pytest.mark.notebook


@pytest.fixture()
def project(tmp_path: Path, kernel_name: str) -> Path:
    return make_project(tmp_path / "proj")


def _limited(limit: int):
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    return apply


@pytest.mark.parametrize(
    ("limit", "blob"),
    [
        (1_536, 0),         # the 1.5 KB case: nothing but the smallest files fit
        (100_000, 0),       # the notebook fits, its HTML report does not
        (100_000, 150_000), # the executed notebook itself outgrows the limit mid-run
    ],
)
def test_full_disk_fails_with_74_keeps_evidence_and_leaves_latest(project, tmp_path, capsys, limit, blob):
    programme_dir = project / "outputs" / "tinyprog"
    good = programme_dir / "20260105T060000"  # an earlier successful run, published
    good.mkdir(parents=True)
    (good / "manifest.json").write_text('{"status": "ok"}')
    (programme_dir / "latest").symlink_to(good.name, target_is_directory=True)
    path = write_params(project, "big", notebooks=[
        {"path": "notebooks/one.ipynb", "parameters": {"name": "one", "blob": blob}}])
    # the kernel's IPython history lives in IPYTHONDIR: keep the machine's own history out of the experiment
    env = {**os.environ, "IPYTHONDIR": str(tmp_path / "ipython")}
    proc = subprocess.run([sys.executable, "-m", "evaluation.cli", "run", str(path), "--quiet"], cwd=project,
                          capture_output=True, text=True, env=env, preexec_fn=_limited(limit), timeout=600)
    assert proc.returncode == 74, proc.stderr
    assert "latest unchanged" in proc.stderr and "File too large" in proc.stderr
    assert "Traceback" not in proc.stderr

    assert runs.latest("tinyprog", project / "outputs") == good.resolve()
    failed = sorted(programme_dir.glob("*-failed"))
    assert len(failed) == 1 and not list(programme_dir.glob(".staging-*"))
    evidence = sorted((failed[0] / "private" / "notebooks").iterdir())
    assert evidence, "the executed notebook is kept"
    for nb in evidence:  # a whole notebook, or visibly cut short
        if nb.suffix == ".ipynb":
            json.loads(nb.read_text(encoding="utf-8"))
        else:
            assert nb.name.endswith(".ipynb.truncated")
    assert not list(failed[0].rglob(".*.tmp")) and not list(failed[0].rglob("*.html.*"))
    if (failed[0] / "manifest.json").exists():  # written if the disk allowed a short one
        manifest = json.loads((failed[0] / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["status"] == "failed" and manifest["failure"] == "io-error"

    if limit > 1_536:
        return  # one case is enough for what follows
    # the next run (disk freed) publishes, and the evidence survives it and is listed
    after = runs.run(write_params(project, "good"), quiet=True)
    assert runs.latest("tinyprog", project / "outputs") == after.run_dir.resolve()
    assert failed[0].is_dir()
    capsys.readouterr()
    assert cli.main(["runs", "tinyprog", "--output-root", str(project / "outputs")]) == 0
    listing = capsys.readouterr().out
    assert f"{failed[0].name} " in listing and "failed" in listing.split(failed[0].name)[1].splitlines()[0]


def test_manifest_write_failure_is_an_io_error(project, monkeypatch):
    """The write of manifest.json itself is refused (ENOSPC); a short manifest fits on the second try."""
    real = runs.write_json
    calls = []

    def refusing(path: Path, obj) -> None:
        calls.append(path.name)
        if path.name == "manifest.json" and calls.count("manifest.json") == 1:
            (path.parent / f".{path.name}.tmp").write_text("{half")  # what a full disk leaves
            raise OSError(errno.ENOSPC, "No space left on device")
        real(path, obj)

    monkeypatch.setattr(runs._run, "write_json", refusing)  # the runner looks it up in its own module
    crashed = project / "outputs" / "tinyprog" / ".staging-20260101T000000"
    crashed.mkdir(parents=True)
    (crashed / "clue.txt").write_text("left by a killed run")
    with pytest.raises(runs.RunIOError, match="No space left on device") as err:
        runs.run(write_params(project), quiet=True)
    assert err.value.exit_code == 74
    failed = err.value.run_dir
    assert failed.name.endswith("-failed") and runs.latest("tinyprog", project / "outputs") is None
    manifest = json.loads((failed / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["failure"] == "io-error" and manifest["notebooks"] == [{"name": "one", "status": "ok"}]
    assert manifest["output_dir"] == str(failed.resolve())
    assert not list(failed.glob(".*.tmp"))
    # a killed run's staging folder is kept as evidence, not deleted by the next run
    assert (project / "outputs" / "tinyprog" / "20260101T000000-failed" / "clue.txt").exists()
    statuses = {r["run_id"]: r["status"] for r in runs.list_runs("tinyprog", project / "outputs")}
    assert statuses == {failed.name: "failed", "20260101T000000-failed": "failed"}
