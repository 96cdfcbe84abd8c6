"""Scheduled, reproducible runs: a parameter file in, a complete dated run folder out.

In: ``params/X.yaml`` (validated by :mod:`.params`) and the notebooks it lists.
Out: ``outputs/<programme>/<run-id>/`` (executed notebooks, reports, results, tables, manifest) and the
``latest`` pointer, moved only after a fully successful run.

* :mod:`.params` -- the parameter-file model and its checks;
* :mod:`._run` -- the papermill runner, the per-programme lock, notify and prune;
* :mod:`._kernel` -- the kernel manager the runner starts notebooks with.
"""
from __future__ import annotations

from . import params
from ._run import (
    DISK_ERRNOS, PACKAGES, RUN_ID, SEOUL, RunFailedError, RunIOError, RunLockedError, RunRefusedError, RunResult,
    check_kernel,
    git_state, html_report, is_disk_error, latest, list_runs, new_run_id, notify, package_versions,
    programme_lock, prune_runs, prune_staging, run, sha256, write_json,
)

__all__ = [
    "DISK_ERRNOS", "PACKAGES", "RUN_ID", "SEOUL", "RunFailedError", "RunIOError", "RunLockedError", "RunRefusedError", "RunResult",
    "check_kernel", "git_state", "html_report", "is_disk_error", "latest", "list_runs", "new_run_id", "notify",
    "package_versions", "params", "programme_lock", "prune_runs", "prune_staging", "run", "sha256", "write_json",
]
