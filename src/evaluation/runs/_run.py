"""Scheduled, reproducible evaluation runs: papermill in, a complete dated report out.

A run (``evaluation run params/X.yaml``):

1. validates the parameter file and every notebook's parameters (:mod:`evaluation.runs.params`);
2. takes a per-programme lock (a second run of the same programme exits at once);
3. executes the notebooks with papermill into a hidden staging folder
   ``outputs/<programme>/.staging-<run-id>/`` with the kernel named explicitly;
4. renders each executed notebook to HTML without code (nbconvert);
5. merges each notebook's ``results/*.json`` into ``results.json`` and writes
   ``manifest.json`` (parameters, input hashes, package versions, git commit,
   timings, status per notebook);
6. renames the staging folder to ``outputs/<programme>/<run-id>/`` and only then
   moves the ``latest`` pointer (an atomic symlink swap).

Everything staff see passes through the Recorder (:mod:`evaluation.publish.report`): the executed
notebooks and the unprotected numbers stay in ``<run>/private/`` (mode 0700), reports show only
gate-approved outputs, and a run whose ``tables/`` or ``figures/`` hold a file the Recorder did not
write is refused.

A failed run is renamed ``<run-id>-failed`` with the failing executed notebook
kept for diagnosis; ``latest`` is left untouched and the command exits non-zero.
A write that fails (disk full, file-size limit, quota, I/O error) while
executing or recording the run fails it the same way with :class:`RunIOError`
(exit 74): the staging folder is kept as ``<run-id>-failed``, an executed
notebook cut short by the failed write is renamed ``*.ipynb.truncated``, and a
short manifest is written if the disk still allows. A staging folder left by
a crashed run (SIGKILL, power loss) is also kept as ``<run-id>-failed`` by the
next run, never deleted.
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
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Iterator

from . import params as params_mod
from ..publish import provenance, report_html
from ..publish.report import PRIVATE, private_dir

PACKAGES = (
    "seoul-health-evaluation", "numpy", "pandas", "pyarrow", "duckdb", "dask", "numba", "scipy",
    "statsmodels", "scikit-learn", "matplotlib", "seaborn", "papermill", "nbconvert", "voila",
)
SEOUL = dt.timezone(dt.timedelta(hours=9), name="Asia/Seoul")


class RunLockedError(RuntimeError):
    """Another run of the same programme holds the lock."""


class RunFailedError(RuntimeError):
    """A notebook failed; the run folder ends in ``-failed`` and ``latest`` was not moved."""

    exit_code = 1

    def __init__(self, message: str, run_dir: Path):
        super().__init__(message)
        self.run_dir = run_dir


class RunRefusedError(RunFailedError):
    """The attack audit recovered published counts below the threshold; kept as ``-failed`` with its report."""

    exit_code = 3


class RunIOError(RunFailedError):
    """Writing the run's record failed (disk full, file-size limit, I/O error); kept as ``-failed``."""

    exit_code = 74  # EX_IOERR (sysexits.h)


# errno values meaning "the storage refused the write", not "the notebook is wrong"
DISK_ERRNOS = frozenset({errno.ENOSPC, errno.EFBIG, errno.EDQUOT, errno.EIO, errno.EROFS})
_DISK_ERRNO_TEXT = re.compile(r"\[Errno (%s)\]" % "|".join(str(e) for e in sorted(DISK_ERRNOS)))


def is_disk_error(exc: BaseException) -> bool:
    """True if ``exc`` (or its cause) is a refused write, also when raised inside the notebook's kernel."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, OSError) and exc.errno in DISK_ERRNOS:
            return True
        ename, evalue = getattr(exc, "ename", None), getattr(exc, "evalue", None)
        if ename and evalue and _DISK_ERRNO_TEXT.search(str(evalue)):  # papermill's PapermillExecutionError
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def write_json(path: Path, obj: Any) -> None:
    """Write UTF-8, indented JSON through a temporary file and a rename: the target is whole or absent.

    A failed write removes the partial temporary file (freeing the space) and re-raises.
    """
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(obj, fh, ensure_ascii=False, indent=2, default=str)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


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
    """Hold an exclusive, non-blocking flock on the programme folder itself (released on exit or crash).

    Locking the folder rather than a ``.lock`` file leaves nothing behind and has
    no unlink race (a lock file removed on release can be locked twice).
    """
    programme_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(programme_dir, os.O_RDONLY | os.O_DIRECTORY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                raise RunLockedError(
                    f"another run of this programme is in progress (lock held on {programme_dir})"
                ) from None
            raise
        yield programme_dir
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


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


def html_report(executed: Path, target: Path, title: str = "", lang: str = "ko") -> None:
    """Render an executed notebook to HTML without code cells or prompts, titled for staff, showing only
    gate-approved outputs (see :mod:`report_html`); a failed write leaves no file."""
    try:
        report_html.render(executed, target, title=title or report_html.title_for(executed.stem), lang=lang)
    except OSError:
        with contextlib.suppress(OSError):
            target.unlink()  # half a report must not pass for a report
        raise


def _execute(nb_in: Path, nb_out: Path, parameters: dict[str, Any], kernel: str, cwd: Path, timeout: int) -> None:
    import papermill as pm

    from ._kernel import QuietKernelManager

    pm.execute_notebook(
        str(nb_in), str(nb_out), parameters=parameters, kernel_name=kernel, cwd=str(cwd),
        progress_bar=False, log_output=False, execution_timeout=timeout, report_mode=False,
        kernel_manager_class=QuietKernelManager,
    )


def latest(programme: str, output_root: str | Path = "outputs") -> Path | None:
    """Folder of the newest fully successful run of ``programme``, or None."""
    link = Path(output_root) / programme / "latest"
    if link.is_symlink() or link.exists():
        target = link.resolve()
        return target if target.is_dir() else None
    return None


RUN_ID = re.compile(r"^(?P<stamp>\d{8}T\d{6})(?:-(?P<seq>\d+))?(?P<failed>-failed)?$")


def _run_order(name: str) -> tuple[int, str, int]:
    """Sort key: run folders by time and sequence number (``-2`` after the plain id); other folders first."""
    m = RUN_ID.match(name)
    return (1, m["stamp"], int(m["seq"] or 1)) if m else (0, name, 0)


def list_runs(programme: str, output_root: str | Path = "outputs") -> list[dict[str, Any]]:
    """Finished runs of a programme, newest first: id, status, folder.

    A ``-failed`` folder without a readable manifest (the disk was full, or the
    run was killed) is listed with status ``failed``.
    """
    folder = Path(output_root) / programme
    if not folder.is_dir():
        return []
    out = []
    for d in sorted(folder.iterdir(), key=lambda d: _run_order(d.name), reverse=True):
        if d.is_dir() and not d.is_symlink() and not d.name.startswith("."):
            manifest = d / "manifest.json"
            try:
                status = json.loads(manifest.read_text(encoding="utf-8")).get("status", "unknown")
            except (OSError, ValueError):
                status = "failed" if d.name.endswith("-failed") else "unreadable"
            if d.name.endswith("-failed"):
                status = "failed"
            out.append({"run_id": d.name, "status": status, "path": d})
    return out


def prune_runs(programme: str, keep: int, output_root: str | Path = "outputs", *,
               dry_run: bool = False) -> list[Path]:
    """Delete old runs: keep the ``keep`` newest successful runs and every failed run newer than the newest success.

    Failed runs older than the newest success are removed (a later success
    superseded them). Folders that are not run folders, staging folders and the
    target of ``latest`` are never touched. Takes the programme lock, so it
    raises :class:`RunLockedError` while a run is in progress. Returns the
    removed (or, with ``dry_run``, the would-be removed) folders.
    """
    if keep < 1:
        raise ValueError(f"keep must be at least 1, got {keep}")
    programme_dir = Path(output_root) / programme
    with programme_lock(programme_dir):
        pinned = latest(programme, output_root)
        found = [r for r in list_runs(programme, output_root) if RUN_ID.match(r["run_id"])]
        ok = [r for r in found if r["status"] == "ok" and not r["run_id"].endswith("-failed")]
        newest_ok = _run_order(ok[0]["run_id"]) if ok else None
        doomed = [r["path"] for r in ok[keep:]]
        if newest_ok is not None:
            doomed += [r["path"] for r in found if r["status"] == "failed" and _run_order(r["run_id"]) < newest_ok]
        doomed = [p for p in doomed if pinned is None or p.resolve() != pinned]
        if not dry_run:
            for p in doomed:
                shutil.rmtree(p)
        return sorted(doomed)


def notify(command: str, *, status: str, exit_code: int, programme: str, run_id: str = "",
           run_dir: Path | None = None, message: str = "", params_file: str = "", timeout: float = 120) -> int:
    """Run an operator's hook command (``sh -c``) with the run's outcome in environment variables.

    ``EVALUATION_STATUS`` (ok / failed / io-error / locked / invalid / error), ``EVALUATION_EXIT_CODE``,
    ``EVALUATION_PROGRAMME``, ``EVALUATION_RUN_ID``, ``EVALUATION_RUN_DIR``, ``EVALUATION_PARAMS_FILE``,
    ``EVALUATION_MESSAGE`` (empty values where the run never started).
    Returns the hook's exit code (a failing hook never changes the run's own exit code).
    """
    env = dict(os.environ, EVALUATION_STATUS=status, EVALUATION_EXIT_CODE=str(exit_code),
               EVALUATION_PROGRAMME=programme, EVALUATION_RUN_ID=run_id,
               EVALUATION_RUN_DIR=str(run_dir or ""), EVALUATION_PARAMS_FILE=params_file,
               EVALUATION_MESSAGE=message[:4000])
    try:
        return subprocess.run(["/bin/sh", "-c", command], env=env, timeout=timeout, check=False).returncode
    except (OSError, subprocess.TimeoutExpired) as exc:
        print(f"warning: notify hook failed: {exc}", file=sys.stderr)
        return -1


def _point_latest(programme_dir: Path, run_dir: Path) -> None:
    tmp = programme_dir / f".latest-{os.getpid()}"
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    tmp.symlink_to(run_dir.name, target_is_directory=True)
    os.replace(tmp, programme_dir / "latest")  # atomic on POSIX


def run(params_path: str | Path, *, base_dir: str | Path | None = None, output_root: str | Path | None = None,
        run_id: str | None = None, quiet: bool = False, allow_outside: bool = False) -> RunResult:
    """Execute a parameter file's notebooks into a new run folder; see the module docstring.

    Raises :class:`params.ParamsError` before anything runs if the parameters are
    invalid, :class:`RunLockedError` if the programme is already running,
    :class:`RunFailedError` (after writing the ``-failed`` folder) if a notebook
    fails and :class:`RunIOError` if a write fails. ``base_dir`` is the project
    root (default: found from the params file, see :mod:`evaluation.runs.params`).
    """
    params_path = Path(params_path)
    base = Path(base_dir) if base_dir else params_mod.default_base_dir(params_path)
    cfg = params_mod.load(params_path, base_dir=base, allow_outside=allow_outside)
    root = Path(output_root) if output_root else base / cfg.output_root
    programme_dir = root / cfg.programme
    check_kernel(cfg.kernel)

    def say(msg: str) -> None:
        if not quiet:
            print(msg, flush=True)

    with programme_lock(programme_dir):
        prune_staging(programme_dir)  # holding the lock, any staging folder is a crashed run's: keep it as -failed
        run_id = run_id or new_run_id(programme_dir)
        staging = programme_dir / f".staging-{run_id}"
        # validate every notebook's parameters before writing or executing anything
        plans = []
        for spec in cfg.notebooks:
            values = params_mod.notebook_parameters(cfg, spec, base_dir=base, output_dir=staging.resolve())
            plans.append((spec, values))
        records_record = None
        if cfg.records is not None and cfg.records.before_run:  # the participants table first: the build's enrolment list
            from .. import records as records_mod
            records_record = records_mod.for_run(cfg, base, say)
        build_record = None
        if cfg.build is not None:  # stores first: incremental, a no-op when no export changed (evaluation.store)
            from .. import store as build_mod
            build_record = build_mod.for_run(cfg, base, say)
        started = time.time()
        manifest: dict[str, Any] = {
            "run_id": run_id,
            "programme": cfg.programme,
            "title": cfg.title,
            "status": "running",
            "output_dir": None,  # the published folder, set below
            "params_file": str(params_path),
            "project_root": str(base.resolve()),
            "params": cfg.model_dump(),
            "started_at": dt.datetime.now(SEOUL).isoformat(),
            "inputs": {k: {"path": v, "sha256": sha256(base / v)} for k, v in cfg.inputs.items()},
            "packages": package_versions(),
            "git": git_state(base),
            "host": platform.node(),
            "notebooks": [],
        }
        if records_record is not None:
            manifest["records"] = records_record
        if build_record is not None:
            manifest["build"] = build_record
        failed: str | None = None
        io_error: BaseException | None = None
        try:
            staging.mkdir(parents=True)
            for sub in ("reports", "results", "tables", "figures"):
                (staging / sub).mkdir()
            # executed notebooks hold every unprotected number they printed: owner-only, never published
            (private_dir(staging) / "notebooks").mkdir()
            provenance.write_context(staging, programme_id=cfg.programme, run_id=run_id, title=cfg.title,
                                     data_kind=cfg.data.kind, period=cfg.data.period, data_detail=cfg.data.description)
            for i, (spec, values) in enumerate(plans, 1):
                name = Path(spec.path).stem
                out_nb = staging / PRIVATE / "notebooks" / f"{name}.ipynb"
                entry: dict[str, Any] = {"name": name, "path": spec.path, "parameters": values, "status": "running"}
                t0 = time.time()
                say(f"[{run_id}] ({i}/{len(plans)}) {name} ...")
                try:
                    _execute(base / spec.path, out_nb, values, cfg.kernel, base, spec.timeout_seconds)
                    html_report(out_nb, staging / "reports" / f"{name}.html", report_html.title_for(name, cfg.lang), cfg.lang)
                    entry["status"] = "ok"
                except Exception as exc:  # papermill raises PapermillExecutionError with the cell traceback
                    entry["status"] = "failed"
                    entry["error"] = f"{type(exc).__name__}: {str(exc)[:2000]}"
                    failed = name
                    if is_disk_error(exc):
                        io_error = exc
                entry["seconds"] = round(time.time() - t0, 2)
                manifest["notebooks"].append(entry)
                say(f"[{run_id}] ({i}/{len(plans)}) {name}: {entry['status']} in {entry['seconds']:.1f} s "
                    f"(run {time.time() - started:.1f} s)")
                if failed:
                    break
            results: dict[str, Any] = {}
            for f in sorted((staging / "results").glob("*.json")):
                try:
                    results[f.stem] = json.loads(f.read_text(encoding="utf-8"))
                except ValueError as exc:  # cut short by a failed write inside the notebook
                    failed = failed or f.stem
                    manifest.setdefault("errors", []).append(f"results/{f.name}: not valid JSON ({exc})")
            from ..publish.report import publish_results

            write_json(staging / "results.json", publish_results(results, cfg.lang))
            if not failed:  # only what the Recorder wrote may be published (issue 20: one gate)
                from ..publish.report import ungated

                around = ungated(staging)
                if around:
                    manifest.setdefault("errors", []).append(
                        "공개 거부: 기록기(Recorder)를 거치지 않고 쓴 파일 / written around the publishing gate: "
                        + ", ".join(around[:10]))
                    say(manifest["errors"][-1])
                    failed = "publishing gate"
            if not failed:  # disclosure control across all tables before anything is published
                from ..publish import disclosure

                failed = disclosure.gate(staging, manifest, threshold=cfg.suppression_threshold, say=say)
            if not failed:  # last: an outsider's attack on everything the run publishes (issue 20); exposed -> refused
                from ..publish import attacks

                failed = attacks.refuse_if_exposed(staging, manifest, threshold=cfg.suppression_threshold, say=say)
            report_html.write_index(staging, title=cfg.title, lang=cfg.lang)
            manifest["status"] = "failed" if failed else "ok"
            if io_error is not None:
                manifest["failure"] = "io-error"
            final = programme_dir / (f"{run_id}-failed" if failed else run_id)
            manifest["output_dir"] = str(final.resolve())
            manifest["finished_at"] = dt.datetime.now(SEOUL).isoformat()
            manifest["seconds"] = round(time.time() - started, 2)
            write_json(staging / "manifest.json", _published(manifest, staging, final))
        except OSError as exc:
            if not is_disk_error(exc):
                raise
            io_error = exc
        if io_error is not None:
            final = _keep_failed_evidence(staging, programme_dir, run_id, manifest, io_error, started)
            raise RunIOError(f"writing the run failed ({io_error.__class__.__name__}: {_short(io_error)}); "
                             f"evidence kept in {final}; latest unchanged", final)
        os.replace(staging, final)
        result = RunResult(run_id, final, manifest["status"], manifest["seconds"],
                           [{"name": n["name"], "status": n["status"], "seconds": n["seconds"]} for n in manifest["notebooks"]])
        if failed == "attack audit":
            raise RunRefusedError(f"공개 거부: 공개될 표·결과·보고서에서 {cfg.suppression_threshold}명 미만 인원을 알아낼 수 있습니다 "
                                  f"(attack_report.csv) / not published: counts below {cfg.suppression_threshold} can be "
                                  f"recovered from what the run would publish; see {final / 'attack_report.csv'}; "
                                  "latest unchanged", final)
        if failed:
            raise RunFailedError(f"notebook {failed} failed; executed copy kept in {final / PRIVATE / 'notebooks'}; latest unchanged", final)
        try:
            _point_latest(programme_dir, final)
        except OSError as exc:  # the complete run stays, but it is not published
            failed_dir = programme_dir / f"{run_id}-failed"
            os.replace(final, failed_dir)
            raise RunIOError(f"could not move latest ({exc}); run kept in {failed_dir}; latest unchanged",
                             failed_dir) from exc
        _render_views(final, say)
        return result


def _render_views(run_dir: Path, say: Any) -> None:
    """The dashboards' kernel-free views of the published run; a failure leaves the run published
    (``evaluation dashboard`` renders views a latest run lacks) and is reported on stderr."""
    try:
        from ..dashboards._prerender import render_run

        say(f"[{run_dir.name}] dashboards: {render_run(run_dir).summary()}")
    except Exception as exc:
        print(f"[{run_dir.name}] dashboard views not rendered ({type(exc).__name__}: {_short(exc)}); "
              "`evaluation dashboard` renders them", file=sys.stderr)


def _short(exc: BaseException) -> str:
    text = getattr(exc, "evalue", None) or str(exc)
    return str(text).strip().splitlines()[-1][:300] if str(text).strip() else type(exc).__name__


def _published(manifest: dict[str, Any], staging: Path, final: Path) -> dict[str, Any]:
    """The manifest as it reads once published: staging paths replaced by the run's final folder."""
    text = json.dumps(manifest, ensure_ascii=False, default=str)
    return json.loads(text.replace(json.dumps(str(staging.resolve()))[1:-1], json.dumps(str(final.resolve()))[1:-1]))


def _keep_failed_evidence(staging: Path, programme_dir: Path, run_id: str, manifest: dict[str, Any],
                          exc: BaseException, started: float) -> Path:
    """After a refused write: rename staging to ``-failed``, mark cut-short notebooks, try a short manifest."""
    final = programme_dir / f"{run_id}-failed"
    if staging.exists():
        os.replace(staging, final)  # a rename needs no free space
    else:
        final.mkdir(parents=True, exist_ok=True)
    truncated = []
    executed = final / PRIVATE / "notebooks"
    for nb in sorted(executed.glob("*.ipynb")) if executed.is_dir() else []:
        try:
            json.loads(nb.read_text(encoding="utf-8"))
        except (ValueError, OSError):
            nb.rename(nb.with_name(nb.name + ".truncated"))  # clearly not a whole notebook
            truncated.append(nb.name)
    for partial in final.glob(".*.tmp"):
        with contextlib.suppress(OSError):
            partial.unlink()
    short = {  # small on purpose: it must fit where the full manifest did not
        "run_id": run_id, "programme": manifest.get("programme"), "status": "failed", "failure": "io-error",
        "error": f"{type(exc).__name__}: {_short(exc)}", "output_dir": str(final.resolve()),
        "started_at": manifest.get("started_at"), "seconds": round(time.time() - started, 2),
        "notebooks": [{"name": n["name"], "status": n["status"]} for n in manifest.get("notebooks", [])],
        "truncated_notebooks": truncated,
    }
    with contextlib.suppress(OSError, ValueError):
        if json.loads((final / "manifest.json").read_text(encoding="utf-8")).get("failure") == "io-error":
            return final  # the full manifest was written (a notebook's own write failed): keep it
    with contextlib.suppress(OSError):
        (final / "manifest.json").unlink()
    with contextlib.suppress(OSError):
        write_json(final / "manifest.json", short)
    return final


def prune_staging(programme_dir: Path) -> list[Path]:
    """Keep staging folders left by a crashed run as ``<run-id>-failed`` evidence (only call while holding the lock).

    Returns the folders' new paths. Nothing is deleted: the next run must not
    destroy what a killed or disk-full run left behind.
    """
    kept = []
    for d in sorted(programme_dir.glob(".staging-*")):
        target = programme_dir / f"{d.name[len('.staging-'):]}-failed"
        if target.exists():
            target = programme_dir / f"{target.name}-{os.getpid()}"
        with contextlib.suppress(OSError):
            os.replace(d, target)
            kept.append(target)
    return kept
