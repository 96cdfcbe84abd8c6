"""Results store: aggregated tables of a run as Parquet under ``<run_dir>/tables/``, queried with DuckDB.

Dashboards read these tables instead of recomputing. :func:`save` refuses
participant-level columns (as :class:`evaluation.publish.report.Recorder` does) and
tables that still show a number for a cell below the suppression threshold;
:func:`query` registers every ``tables/*.parquet`` as a DuckDB view named after
the file, so ``SELECT * FROM steps_by_week WHERE district = '11110'`` works.
"""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from . import suppression
from .report import FORBIDDEN_COLUMNS

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _tables_dir(run_dir: str | Path) -> Path:
    return Path(run_dir) / "tables"


def save(run_dir: str | Path, name: str, df: pd.DataFrame, *, threshold: int = suppression.DEFAULT_THRESHOLD,
         n: str = "n") -> Path:
    """Write ``df`` to ``<run_dir>/tables/<name>.parquet`` (atomically) and return the path.

    ``name`` must be a SQL identifier (it becomes a view name). Refuses a
    ``participant_id`` column and unsuppressed rows with ``n < threshold``.
    """
    if not _NAME.match(name):
        raise ValueError(f"table name {name!r} must be letters, digits and underscores (it becomes a SQL view name)")
    leaked = [c for c in FORBIDDEN_COLUMNS if c in df.columns]
    if leaked:
        raise ValueError(f"table {name!r} carries participant-level column(s) {leaked}; store aggregates only")
    suppression.check(df, threshold, n=n)
    folder = _tables_dir(run_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.parquet"
    tmp = folder / f".{name}.parquet.tmp"
    df.reset_index(drop=True).to_parquet(tmp, index=False)
    tmp.replace(path)  # a reader never sees half a file
    return path


def tables(run_dir: str | Path) -> list[str]:
    """Names of the stored tables of a run (sorted)."""
    folder = _tables_dir(run_dir)
    return sorted(p.stem for p in folder.glob("*.parquet")) if folder.is_dir() else []


def load(run_dir: str | Path, name: str) -> pd.DataFrame:
    """One stored table as a DataFrame."""
    path = _tables_dir(run_dir) / f"{name}.parquet"
    if not path.exists():
        raise FileNotFoundError(f"no table {name!r} in {_tables_dir(run_dir)}; have {tables(run_dir)}")
    return pd.read_parquet(path)


def connect(run_dir: str | Path):
    """A DuckDB connection with one view per stored table (for repeated queries)."""
    from ..cohort import _sources

    con = _sources.connect()
    for name in tables(run_dir):
        path = str(_tables_dir(run_dir) / f"{name}.parquet").replace("'", "''")
        con.execute(f"CREATE VIEW {_sources.quote(name)} AS SELECT * FROM read_parquet('{path}')")
    return con


def query(run_dir: str | Path, sql: str, params: list | None = None) -> pd.DataFrame:
    """Run ``sql`` over the run's stored tables (each one a view named after its file)."""
    if not tables(run_dir):
        raise FileNotFoundError(f"no stored tables under {_tables_dir(run_dir)}")
    con = connect(run_dir)
    try:
        return con.execute(sql, params or []).df()
    finally:
        con.close()
