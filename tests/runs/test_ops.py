"""Unattended operation: a quiet, readable successful run, progress lines, the notify hook, pruning old runs."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from evaluation import cli, runs
from tiny_project import make_project, write_params


@pytest.fixture()
def project(tmp_path: Path, kernel_name: str) -> Path:
    return make_project(tmp_path / "proj")


def _cli(project: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "evaluation.cli", *args], cwd=project, capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, timeout=600)


@pytest.mark.notebook
def test_successful_run_is_quiet_readable_and_tidy(project):
    path = write_params(project, notebooks=[
        {"path": "notebooks/one.ipynb", "parameters": {"name": "one", "answer": 42}},
        {"path": "notebooks/two.ipynb", "parameters": {"name": "two", "answer": 7}},
    ])
    hook_out = project / "hook.env"
    proc = _cli(project, "run", str(path), "--notify-on", "always", "--notify", f"env > {hook_out}")
    assert proc.returncode == 0, proc.stderr
    # cron mails whatever reaches stderr: a successful run leaves nothing alarming there
    for noise in ("without encryption", "KeyboardInterrupt", "ERROR", "WARNING", "Traceback"):
        assert noise not in proc.stderr, proc.stderr
    # one progress line per notebook, naming it, with the elapsed time
    assert "(1/2) one: ok in" in proc.stdout and "(2/2) two: ok in" in proc.stdout and "(run " in proc.stdout

    programme_dir = project / "outputs" / "tinyprog"
    run_dir = runs.latest("tinyprog", project / "outputs")
    assert sorted(p.name for p in programme_dir.iterdir()) == sorted([run_dir.name, "latest"])  # no .lock, no staging
    raw = (run_dir / "manifest.json").read_bytes()
    assert "작은 시험 평가".encode() in raw and b"\\u" not in raw and raw.count(b"\n") > 20  # UTF-8, indented
    manifest = json.loads(raw)
    assert manifest["output_dir"] == str(run_dir) and ".staging" not in raw.decode()
    assert {n["parameters"]["output_dir"] for n in manifest["notebooks"]} == {str(run_dir)}
    results = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))
    assert results["one"]["answer"]["value"] == 42
    assert results["one"]["answer"]["label_ko"] and results["one"]["answer"]["label_en"]

    env = dict(line.split("=", 1) for line in hook_out.read_text().splitlines() if "=" in line)
    assert env["EVALUATION_STATUS"] == "ok" and env["EVALUATION_EXIT_CODE"] == "0"
    assert env["EVALUATION_RUN_DIR"] == str(run_dir) and env["EVALUATION_PROGRAMME"] == "tinyprog"


@pytest.mark.notebook
def test_notify_hook_runs_on_failure_only_by_default(project, capsys):
    hook_out = project / "hook.json"
    hook = f"{sys.executable} -c 'import json,os; json.dump(dict(os.environ), open(\"{hook_out}\", \"w\"))'"
    bad = write_params(project, "bad", notebooks=[{"path": "notebooks/one.ipynb", "parameters": {"fail": True}}])
    assert cli.main(["run", str(bad), "--quiet", "--notify", hook]) == 1
    env = json.loads(hook_out.read_text())
    assert env["EVALUATION_STATUS"] == "failed" and env["EVALUATION_EXIT_CODE"] == "1"
    assert env["EVALUATION_RUN_DIR"].endswith("-failed") and Path(env["EVALUATION_RUN_DIR"]).is_dir()
    assert "latest unchanged" in env["EVALUATION_MESSAGE"]
    hook_out.unlink()
    invalid = write_params(project, "invalid", parameters={"stp_goal": 1})
    assert cli.main(["run", str(invalid), "--notify", hook]) == 2
    env = json.loads(hook_out.read_text())
    assert env["EVALUATION_STATUS"] == "invalid" and env["EVALUATION_PARAMS_FILE"] == str(invalid)
    assert "unknown key 'parameters.stp_goal'" in env["EVALUATION_MESSAGE"]
    hook_out.unlink()
    good = write_params(project, "good")
    assert cli.main(["run", str(good), "--quiet", "--notify", hook]) == 0
    assert not hook_out.exists()  # success is not news
    capsys.readouterr()


def _fake_run(programme_dir: Path, name: str, status: str) -> Path:
    d = programme_dir / name
    d.mkdir(parents=True)
    (d / "manifest.json").write_text(json.dumps({"run_id": name, "status": status}), encoding="utf-8")
    return d


@pytest.fixture()
def history(tmp_path: Path) -> Path:
    """Ten runs, oldest first: ok, failed, ok, ok, failed, ok (latest), failed, failed, plus a non-run folder and staging."""
    root = tmp_path / "outputs"
    p = root / "prog"
    names = [("20260105T060000", "ok"), ("20260112T060000-failed", "failed"), ("20260119T060000", "ok"),
             ("20260126T060000", "ok"), ("20260202T060000-failed", "failed"), ("20260209T060000", "ok"),
             ("20260209T060000-2-failed", "failed"), ("20260216T060000-failed", "failed")]
    for name, status in names:
        _fake_run(p, name, status)
    (p / "20260216T060000-failed" / "manifest.json").unlink()  # a disk-full run: no manifest, still a failed run
    (p / "notes").mkdir()
    (p / ".staging-20260223T060000").mkdir()
    (p / "latest").symlink_to("20260209T060000", target_is_directory=True)
    return root


def test_prune_keeps_n_successes_and_failures_newer_than_the_last_success(history):
    removed = runs.prune_runs("prog", 2, history)
    left = sorted(p.name for p in (history / "prog").iterdir())
    assert left == [".staging-20260223T060000", "20260126T060000", "20260209T060000", "20260209T060000-2-failed",
                    "20260216T060000-failed", "latest", "notes"]
    assert sorted(p.name for p in removed) == ["20260105T060000", "20260112T060000-failed", "20260119T060000",
                                               "20260202T060000-failed"]
    assert runs.latest("prog", history).name == "20260209T060000"


def test_prune_never_removes_latest_and_dry_run_removes_nothing(history, capsys):
    (history / "prog" / "latest").unlink()
    (history / "prog" / "latest").symlink_to("20260126T060000", target_is_directory=True)  # pinned to an older run
    assert cli.main(["runs", "prog", "--output-root", str(history), "--prune", "1", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "would remove" in out and "20260126T060000" not in out.replace("20260126T060000-", "")
    assert (history / "prog" / "20260105T060000").is_dir()  # dry run
    assert cli.main(["runs", "prog", "--output-root", str(history), "--prune", "1"]) == 0
    left = {p.name for p in (history / "prog").iterdir()}
    assert {"20260209T060000", "20260126T060000"} <= left and "20260119T060000" not in left
    assert cli.main(["runs", "prog", "--output-root", str(history), "--prune", "0"]) == 2


def test_prune_waits_for_no_one_while_a_run_holds_the_lock(history, capsys):
    with runs.programme_lock(history / "prog"):
        with pytest.raises(runs.RunLockedError):
            runs.prune_runs("prog", 1, history)
        assert cli.main(["runs", "prog", "--output-root", str(history), "--prune", "1"]) == 75
    assert len(list((history / "prog").iterdir())) == 11  # nothing removed


def test_runs_lists_failed_runs_without_a_manifest(history, capsys):
    assert cli.main(["runs", "prog", "--output-root", str(history)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("20260216T060000-failed") and " failed " in lines[0]
    assert any(line.startswith("20260209T060000 ") and line.endswith("<- latest") for line in lines)
    assert not any(".staging" in line for line in lines)
