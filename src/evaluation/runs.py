"""Scheduled, reproducible evaluation runs: papermill in, a complete dated report out.

A run (``evaluation run params/X.yaml``):

1. validates the parameter file and every notebook's parameters (:mod:`evaluation.params`);
2. takes a per-programme lock (a second run of the same programme exits at once);
3. executes the notebooks with papermill into a hidden staging folder
   ``outputs/<programme>/.staging-<run-id>/`` with the kernel named explicitly;
4. renders each executed notebook to HTML without code (nbconvert);
5. merges each notebook's ``results/*.json`` into ``results.json`` and writes
   ``manifest.json`` (parameters, input hashes, package versions, git commit,
   timings, status per notebook);
6. renames the staging folder to ``outputs/<programme>/<run-id>/`` and only then
   moves the ``latest`` pointer (an atomic symlink swap).

A failed run is renamed ``<run-id>-failed`` with the failing executed notebook
kept for diagnosis; ``latest`` is left untouched and the command exits non-zero.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import hashlib
import json
import os
import platform
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Iterator

from . import params as params_mod

PACKAGES = (
    "seoul-health-evaluation", "numpy", "pandas", "pyarrow", "duckdb", "dask", "numba", "scipy",
    "statsmodels", "scikit-learn", "matplotlib", "seaborn", "papermill", "nbconvert", "voila",
)
SEOUL = dt.timezone(dt.timedelta(hours=9), name="Asia/Seoul")


class RunLockedError(RuntimeError):
    """Another run of the same programme holds the lock."""


class RunFailedError(RuntimeError):
    """A notebook failed; the run folder ends in ``-failed`` and ``latest`` was not moved."""

    def __init__(self, message: str, run_dir: Path):
        super().__init__(message)
        self.run_dir = run_dir


@dataclass
class RunResult:
    """Outcome of a finished run."""

    run_id: str
    run_dir: Path
    status: str
    seconds: float
    notebooks: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> str:
        lines = [f"run {self.run_id}: {self.status} in {self.seconds:.1f} s -> {self.run_dir}"]
        for nb in self.notebooks:
            lines.append(f"  {nb['status']:>7}  {nb['seconds']:6.1f} s  {nb['name']}")
        return "\n".join(lines)


def sha256(path: Path, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file, or of every file below a folder in sorted order."""
    h = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for f in files:
        with open(f, "rb") as fh:
            for block in iter(lambda: fh.read(chunk), b""):
                h.update(block)
    return h.hexdigest()


def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[name] = metadata.version(name)
    return out


def git_state(repo: Path) -> dict[str, Any]:
    """Commit hash and whether the work tree has uncommitted changes (None outside git)."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=repo, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return {"commit": None, "dirty": None}
    if commit.returncode != 0:
        return {"commit": None, "dirty": None}
    return {"commit": commit.stdout.strip(), "dirty": bool(dirty.stdout.strip())}


@contextlib.contextmanager
def programme_lock(programme_dir: Path) -> Iterator[Path]:
    """Hold an exclusive, non-blocking flock on ``<programme_dir>/.lock`` (released on exit or crash)."""
    programme_dir.mkdir(parents=True, exist_ok=True)
    lock_path = programme_dir / ".lock"
    fh = open(lock_path, "a+")
    try:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                raise RunLockedError(
                    f"another run of this programme is in progress (lock held on {lock_path})"
                ) from None
            raise
        fh.seek(0)
        fh.truncate()
        fh.write(f"{os.getpid()}\n")
        fh.flush()
        yield lock_path
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        fh.close()


def new_run_id(programme_dir: Path) -> str:
    """Seoul-time timestamp id, unique within the programme folder."""
    base = dt.datetime.now(SEOUL).strftime("%Y%m%dT%H%M%S")
    run_id, i = base, 1
    while any((programme_dir / name).exists() for name in (run_id, f"{run_id}-failed", f".staging-{run_id}")):
        i += 1
        run_id = f"{base}-{i}"
    return run_id


def check_kernel(name: str) -> None:
    """Raise a clear error if the Jupyter kernel ``name`` is not installed (papermill's NoSuchKernel is cryptic)."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec(name)
    except NoSuchKernel:
        raise RuntimeError(
            f"Jupyter kernel {name!r} is not installed; run `make demo` (or "
            f"`python -m ipykernel install --sys-prefix --name {name}`)"
        ) from None


def html_report(executed: Path, target: Path) -> None:
    """Render an executed notebook to HTML without code cells or prompts."""
    import nbformat
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab")
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    body, _ = exporter.from_notebook_node(nbformat.read(str(executed), as_version=4))
    target.write_text(body, encoding="utf-8")


def _execute(nb_in: Path, nb_out: Path, parameters: dict[str, Any], kernel: str, cwd: Path, timeout: int) -> None:
    import papermill as pm

    pm.execute_notebook(
        str(nb_in), str(nb_out), parameters=parameters, kernel_name=kernel, cwd=str(cwd),
        progress_bar=False, log_output=False, execution_timeout=timeout, report_mode=False,
    )


def latest(programme: str, output_root: str | Path = "outputs") -> Path | None:
    """Folder of the newest fully successful run of ``programme``, or None."""
    link = Path(output_root) / programme / "latest"
    if link.is_symlink() or link.exists():
        target = link.resolve()
        return target if target.is_dir() else None
    return None


def list_runs(programme: str, output_root: str | Path = "outputs") -> list[dict[str, Any]]:
    """Finished runs of a programme, newest first: id, status, folder."""
    folder = Path(output_root) / programme
    if not folder.is_dir():
        return []
    out = []
    for d in sorted(folder.iterdir(), reverse=True):
        if d.is_dir() and not d.is_symlink() and not d.name.startswith("."):
            manifest = d / "manifest.json"
            try:
                status = json.loads(manifest.read_text(encoding="utf-8")).get("status", "unknown")
            except (OSError, ValueError):
                status = "unreadable"
            out.append({"run_id": d.name, "status": status, "path": d})
    return out


def _point_latest(programme_dir: Path, run_dir: Path) -> None:
    tmp = programme_dir / f".latest-{os.getpid()}"
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    tmp.symlink_to(run_dir.name, target_is_directory=True)
    os.replace(tmp, programme_dir / "latest")  # atomic on POSIX


def run(params_path: str | Path, *, base_dir: str | Path | None = None, output_root: str | Path | None = None,
        run_id: str | None = None, quiet: bool = False) -> RunResult:
    """Execute a parameter file's notebooks into a new run folder; see the module docstring.

    Raises :class:`params.ParamsError` before anything runs if the parameters are
    invalid, :class:`RunLockedError` if the programme is already running and
    :class:`RunFailedError` (after writing the ``-failed`` folder) if a notebook fails.
    """
    params_path = Path(params_path)
    base = Path(base_dir) if base_dir else params_mod.default_base_dir(params_path)
    cfg = params_mod.load(params_path, base_dir=base)
    root = Path(output_root) if output_root else base / cfg.output_root
    programme_dir = root / cfg.programme
    check_kernel(cfg.kernel)

    def say(msg: str) -> None:
        if not quiet:
            print(msg, flush=True)

    with programme_lock(programme_dir):
        prune_staging(programme_dir)  # holding the lock, any staging folder is a crashed run's
        run_id = run_id or new_run_id(programme_dir)
        staging = programme_dir / f".staging-{run_id}"
        staging.mkdir(parents=True)
        for sub in ("notebooks", "reports", "results", "tables", "figures"):
            (staging / sub).mkdir()
        # validate every notebook's parameters before executing any of them
        plans = []
        for spec in cfg.notebooks:
            values = params_mod.notebook_parameters(cfg, spec, base_dir=base, output_dir=staging.resolve())
            plans.append((spec, values))
        build_record = None
        if cfg.build is not None:  # stores first: incremental, a no-op when no export changed (evaluation.build)
            from . import build as build_mod
            build_record = build_mod.for_run(cfg, base, say)
        started = time.time()
        manifest: dict[str, Any] = {
            "run_id": run_id,
            "programme": cfg.programme,
            "title": cfg.title,
            "params_file": str(params_path),
            "params": cfg.model_dump(),
            "started_at": dt.datetime.now(SEOUL).isoformat(),
            "inputs": {k: {"path": v, "sha256": sha256(base / v)} for k, v in cfg.inputs.items()},
            "packages": package_versions(),
            "git": git_state(base),
            "host": platform.node(),
            "notebooks": [],
        }
        if build_record is not None:
            manifest["build"] = build_record
        failed: str | None = None
        for spec, values in plans:
            name = Path(spec.path).stem
            out_nb = staging / "notebooks" / f"{name}.ipynb"
            entry: dict[str, Any] = {"name": name, "path": spec.path, "parameters": values, "status": "running"}
            t0 = time.time()
            say(f"[{run_id}] {name} ...")
            try:
                _execute(base / spec.path, out_nb, values, cfg.kernel, base, spec.timeout_seconds)
                html_report(out_nb, staging / "reports" / f"{name}.html")
                entry["status"] = "ok"
            except Exception as exc:  # papermill raises PapermillExecutionError with the cell traceback
                entry["status"] = "failed"
                entry["error"] = f"{type(exc).__name__}: {str(exc)[:2000]}"
                failed = name
            entry["seconds"] = round(time.time() - t0, 2)
            manifest["notebooks"].append(entry)
            say(f"[{run_id}] {name}: {entry['status']} ({entry['seconds']:.1f} s)")
            if failed:
                break
        results: dict[str, Any] = {}
        for f in sorted((staging / "results").glob("*.json")):
            results[f.stem] = json.loads(f.read_text(encoding="utf-8"))
        (staging / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
        manifest["status"] = "failed" if failed else "ok"
        manifest["finished_at"] = dt.datetime.now(SEOUL).isoformat()
        manifest["seconds"] = round(time.time() - started, 2)
        (staging / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
        final = programme_dir / (f"{run_id}-failed" if failed else run_id)
        os.replace(staging, final)
        result = RunResult(run_id, final, manifest["status"], manifest["seconds"],
                           [{"name": n["name"], "status": n["status"], "seconds": n["seconds"]} for n in manifest["notebooks"]])
        if failed:
            raise RunFailedError(f"notebook {failed} failed; executed copy kept in {final / 'notebooks'}; latest unchanged", final)
        _point_latest(programme_dir, final)
        return result


def prune_staging(programme_dir: Path) -> list[Path]:
    """Remove staging folders left by a crashed run (only call while holding the lock)."""
    removed = []
    for d in programme_dir.glob(".staging-*"):
        shutil.rmtree(d, ignore_errors=True)
        removed.append(d)
    return removed
