"""Incremental build: raw export files -> partitioned minutes store -> daily store, with a ledger.

* :func:`build_store` -- the build itself (folders in, store out; local or Dask);
* :func:`build` -- the same from a params file's ``build:`` section (``evaluation build params/X.yaml``);
* :func:`manifest` / :func:`run_manifest` -- the last build's record (row accounting by file and
  reason; the run copies :func:`run_manifest` into its ``manifest.json``);
* :func:`row_accounting` -- that accounting as an :class:`evaluation.ingest.RowAccounting`;
* :func:`read_daily` -- the daily store as one DataFrame (or read ``<store>/daily`` with
  ``pd.read_parquet`` / DuckDB ``read_parquet('<store>/daily/**/*.parquet')``).

Layout and the duplicate rule: :mod:`evaluation.store._store`; what is recomputed when:
:mod:`evaluation.store._build`.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from ._build import BuildLockedError, BuildResult, build_store, config_hash, store_lock
from ._ledger import PATTERNS
from ._runner import Runner
from ._store import Layout, StoreError

__all__ = [
    "BuildLockedError", "BuildResult", "Layout", "PATTERNS", "Runner", "StoreError", "build", "build_store",
    "config_hash", "for_run", "manifest", "read_daily", "row_accounting", "run_manifest",
]


def _store_root(path: str | Path) -> Path:
    """A store folder, or its ``daily`` folder -> the store folder."""
    p = Path(path)
    if not (p / "store.json").exists() and (p.parent / "store.json").exists():
        return p.parent
    return p


def build(params_path: str | Path | Any, *, base_dir: str | Path | None = None, client: Any = None,
          scheduler: str | None = None, verify: bool = False, progress: bool = False, wait: float = 0.0) -> BuildResult:
    """Run the ``build:`` section of a params file (path or loaded :class:`evaluation.runs.params.RunParams`).

    Writes the synthetic exports first when the section has ``synthetic:`` (demo).
    ``scheduler`` overrides the section's (``tcp://host:8786``, ``"local"``).
    """
    from ..runs import params as params_mod
    from ..signals import CleaningConfig

    cfg, base, b = params_mod.load_section(params_path, "build", base_dir)
    exports = [base / e for e in b.exports]
    if b.synthetic is not None:
        from ..synth.exports import write_from_params

        # two demo runs started together must not write the same synthetic exports at once
        with store_lock(Path(exports[0]).parent / ".synthetic", wait=max(wait, 600.0)):
            write_from_params(b.synthetic, exports[0], base)
    read_kwargs: dict[str, Any] = {"columns": b.columns or None, "source_tz": b.source_tz, "demo": b.demo,
                                   "pseudonymise_ids": b.pseudonymise_ids, **b.read_options}
    if b.period:
        read_kwargs["period"] = tuple(b.period)
    if b.enrolled:
        read_kwargs["enrolled"] = str((base / b.enrolled).resolve())
    return build_store(exports, base / b.store, n_buckets=b.n_buckets, config=CleaningConfig(**b.cleaning),
                       read_kwargs=read_kwargs, client=client, scheduler=scheduler or b.scheduler, verify=verify,
                       progress=progress, wait=wait)


def manifest(store: str | Path) -> dict[str, Any]:
    """The store's last build manifest (``{}`` when never built)."""
    path = _store_root(store) / "manifest.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def run_manifest(store: str | Path) -> dict[str, Any]:
    """The build manifest as a run carries it: file names replaced by their path keys (names can hold ids)."""
    m = manifest(store)
    if not m:
        return {"status": "not built", "store": str(store)}
    m["by_file"] = {k: {kk: vv for kk, vv in v.items() if kk != "name"} for k, v in m.get("by_file", {}).items()}
    failed = m.get("files", {}).get("failed", {})
    m["files"]["failed"] = len(failed)
    return m


def for_run(cfg: Any, base: Path, say: Callable[[str], None] = print) -> dict[str, Any]:
    """What ``evaluation run`` does with a ``build:`` section: build first (unless ``before_run: false``),
    then return :func:`run_manifest` for the run's ``manifest.json``."""
    if cfg.build.before_run:
        # a scheduled run that starts while a build is under way waits for it (its data are being made)
        result = build(cfg, base_dir=base, wait=3600.0)
        say(str(result))
    return run_manifest(base / cfg.build.store)


def row_accounting(store: str | Path):
    """The store's rows in / kept / quarantined, by reason and by file, as a ``RowAccounting``."""
    from ..ingest import RowAccounting

    m = manifest(store)
    if not m:
        raise FileNotFoundError(f"{store}: no build manifest (run `evaluation build` first)")
    r = m["rows"]
    acc = RowAccounting(rows_in=r["rows_in"], rows_kept=r["rows_kept"], rows_quarantined=r["rows_quarantined"],
                        by_reason=dict(r["by_reason"]),
                        by_file={k: {kk: v[kk] for kk in ("rows_in", "rows_kept", "rows_quarantined")} for k, v in m["by_file"].items()})
    return acc.check()


def read_daily(store: str | Path, columns: list[str] | None = None) -> pd.DataFrame:
    """The whole daily store, sorted by participant and date."""
    folder = _store_root(store) / "daily"
    if not folder.is_dir() or not any(folder.rglob("*.parquet")):
        from ..signals import DAILY_COLUMNS

        return pd.DataFrame(columns=list(columns or DAILY_COLUMNS))
    df = pd.read_parquet(folder, columns=columns)
    keys = [c for c in ("participant_id", "date") if c in df.columns]
    return df.sort_values(keys, kind="stable").reset_index(drop=True) if keys else df


def __getattr__(name: str) -> Any:
    # ``evaluation.store`` used to be the published-tables store (now :mod:`evaluation.publish.results_store`)
    from .._compat import RESULTS_STORE_NAMES, warn_moved

    if name in RESULTS_STORE_NAMES:
        warn_moved(f"evaluation.store.{name}", f"evaluation.publish.results_store.{name}")
        from ..publish import results_store

        return getattr(results_store, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
