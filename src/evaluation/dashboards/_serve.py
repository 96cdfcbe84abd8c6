"""Start Voila on the dashboards folder: loopback by default, token required, sources stripped.

Voila settings that do not vary per call live in ``voila.json`` at the repo root
(Voila reads it from its working directory); this module adds the address,
port, token and output folder. To publish beyond the machine, keep Voila on
127.0.0.1 and put the foundation's reverse proxy in front (README: "Dashboards").
"""
from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

from ..report import repo_root

TEMPLATES = Path(__file__).parent / "jupyter"  # holds voila/templates/seoul (see its index.html.j2)


def voila_env(output_root: str | Path) -> dict[str, str]:
    """Environment for the Voila process: where runs live and where our template is."""
    env = dict(os.environ)
    env["EVALUATION_OUTPUT_ROOT"] = str(Path(output_root).resolve())
    env.setdefault("MPLBACKEND", "Agg")
    env["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(TEMPLATES), env.get("JUPYTER_PATH", "")]))
    return env


def voila_command(*, host: str = "127.0.0.1", port: int = 8866, token: str, base_url: str = "/") -> list[str]:
    """The Voila command line (run with cwd = repo root so ``voila.json`` applies)."""
    voila = shutil.which("voila", path=str(Path(sys.executable).parent)) or shutil.which("voila") or "voila"
    return [
        voila, str(repo_root() / "notebooks" / "dashboards"),
        "--no-browser", f"--port={port}", f"--Voila.ip={host}", f"--Voila.token={token}",
        f"--Voila.base_url={base_url}",
    ]


def serve(*, host: str = "127.0.0.1", port: int = 8866, output_root: str = "outputs", token: str | None = None,
          open_browser: bool = False, base_url: str = "/") -> int:
    """Run Voila in the foreground until interrupted; returns its exit code.

    The token comes from ``token``, else ``$EVALUATION_DASHBOARD_TOKEN``, else a
    fresh random one printed with the URL. Requests without it are refused.
    """
    token = token or os.environ.get("EVALUATION_DASHBOARD_TOKEN") or secrets.token_urlsafe(24)
    env = voila_env(output_root)
    cmd = voila_command(host=host, port=port, token=token, base_url=base_url)
    url = f"http://{host}:{port}{base_url}voila/render/"
    print(f"Dashboards ({'token required'}):")
    for name in ("overview", "districts", "cost"):
        print(f"  {url}{name}.ipynb?token={token}")
    print("Stop with Ctrl-C.", flush=True)
    try:
        return subprocess.call(cmd, cwd=repo_root(), env=env)
    except KeyboardInterrupt:
        return 0
