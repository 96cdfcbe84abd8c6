"""Start Voila on the dashboards folder: loopback by default, token required, sources stripped.

Voila settings that do not vary per call live in ``voila.json`` at the repo root
(Voila reads it from its working directory); this module adds the address,
port, token and output folder. To publish beyond the machine, keep Voila on
127.0.0.1 and put the foundation's reverse proxy in front (README: "Dashboards").
"""
from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any, Sequence

from ..publish.report import repo_root
TOKEN_ENV = "EVALUATION_DASHBOARD_TOKEN"
MAX_KERNELS_ENV = "EVALUATION_DASHBOARD_MAX_KERNELS"
SNAPSHOTS_ENV = "EVALUATION_DASHBOARD_SNAPSHOTS"  # "0": never serve the static default view
VIEWS_ENV = "EVALUATION_DASHBOARD_VIEWS"  # "0": never serve the kernel-free views (every visitor gets a kernel)
HEALTH_PATH = "voila/health"  # answered by the Voila process without a token (see _service.Health)
TEMPLATES = Path(__file__).parent / "jupyter"  # holds voila/templates/seoul (see its index.html.j2)


def voila_env(output_root: str | Path) -> dict[str, str]:
    """Environment for the Voila process: where runs live and where our template is."""
    env = dict(os.environ)
    env["EVALUATION_OUTPUT_ROOT"] = str(Path(output_root).resolve())
    env.setdefault("MPLBACKEND", "Agg")
    env["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(TEMPLATES), env.get("JUPYTER_PATH", "")]))
    return env


def voila_command(*, host: str = "127.0.0.1", port: int = 8866, base_url: str = "/",
                  extra: Sequence[str] = ()) -> list[str]:
    """The Voila process's command line (run with cwd = repo root so ``voila.json`` applies).

    It never carries the token: :func:`start` passes it in ``$EVALUATION_DASHBOARD_TOKEN`` (argv is
    readable by every local user through ``ps``). ``extra`` holds further Voila/traitlets options,
    e.g. ``--MappingKernelManager.cull_idle_timeout=10``; they override ``voila.json``.
    """
    return [
        sys.executable, "-m", "evaluation.dashboards", str(repo_root() / "notebooks" / "dashboards"),
        "--no-browser", f"--port={port}", f"--Voila.ip={host}", f"--Voila.base_url={base_url}", *extra,
    ]


def default_max_kernels(memory_bytes: int | None = None, kernel_bytes: int = 300 * 2**20) -> int:
    """Cap on live kernels: half the machine's memory at ~300 MB a kernel, at least 4."""
    if memory_bytes is None:
        import psutil

        memory_bytes = psutil.virtual_memory().total
    return max(4, int(memory_bytes * 0.5 // kernel_bytes))


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: SIGTERM the Voila process if ``evaluation dashboard`` dies without stopping it (e.g. SIGKILL)."""
    import ctypes

    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


def start(*, host: str = "127.0.0.1", port: int = 8866, output_root: str | Path = "outputs", token: str,
          base_url: str = "/", max_kernels: int | None = None, extra: Sequence[str] = (),
          stdout: Any = None, stderr: Any = None) -> subprocess.Popen:
    """Start the Voila process in its own session (process group) and return it.

    The token and the kernel cap travel in the environment, never in argv. Stop it with :func:`stop`.
    """
    if not token:
        raise ValueError("the dashboards never run without a token")
    env = voila_env(output_root)
    env[TOKEN_ENV] = token
    env[MAX_KERNELS_ENV] = str(max_kernels if max_kernels is not None else default_max_kernels())
    return subprocess.Popen(voila_command(host=host, port=port, base_url=base_url, extra=extra), cwd=repo_root(),
                            env=env, start_new_session=True, stdout=stdout, stderr=stderr,
                            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None)


def stop(proc: subprocess.Popen, timeout: float = 30) -> int:
    """Stop the Voila process and everything it started (kernels included); returns its exit code.

    SIGTERM lets Voila shut its kernels down; whatever is still alive after ``timeout`` (kernels run in
    their own sessions, so a process-group kill would miss them) is killed by process tree.
    """
    import psutil

    try:
        tree = psutil.Process(proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        tree = []
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    leftovers = [p for p in tree if p.is_running()]
    for p in leftovers:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.terminate()
    _, alive = psutil.wait_procs(leftovers, timeout=5)
    for p in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.kill()
    return proc.returncode


def serve(*, host: str = "127.0.0.1", port: int = 8866, output_root: str = "outputs", token: str | None = None,
          open_browser: bool = False, base_url: str = "/", max_kernels: int | None = None) -> int:
    """Run the dashboards until SIGTERM or SIGINT, then stop Voila and every kernel; returns 0.

    The token comes from ``token``, else ``$EVALUATION_DASHBOARD_TOKEN``, else a fresh random one
    (printed with the URLs; a token you chose is not printed). Requests without it are refused (403).
    If Voila stops by itself, its exit code is returned (non-zero lets systemd restart the service).
    """
    generated = not (token or os.environ.get(TOKEN_ENV))
    token = token or os.environ.get(TOKEN_ENV) or secrets.token_urlsafe(24)
    proc = start(host=host, port=port, output_root=output_root, token=token, base_url=base_url,
                 max_kernels=max_kernels)
    url = f"http://{host}:{port}{base_url}voila/render/"
    # a token the operator chose is not printed: stdout ends up in the journal under systemd
    shown = token if generated else f"<${TOKEN_ENV}>"
    print("대시보드 / Dashboards (token required):")
    for name in ("overview", "districts", "cost"):
        print(f"  {url}{name}.ipynb?token={shown}")
    print(f"Health check: http://{host}:{port}{base_url}{HEALTH_PATH}  ·  stop with Ctrl-C or SIGTERM", flush=True)
    stopping = False

    def _forward(signum, _frame) -> None:
        nonlocal stopping
        stopping = True
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)

    previous = {s: signal.signal(s, _forward) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        while proc.poll() is None:
            try:
                proc.wait(timeout=1)
            except subprocess.TimeoutExpired:
                continue
    finally:
        code = stop(proc)
        for s, h in previous.items():
            signal.signal(s, h)
    return 0 if stopping else code
