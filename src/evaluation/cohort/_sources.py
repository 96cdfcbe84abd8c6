"""Turn a DataFrame, Parquet file, folder, glob or Arrow dataset into a DuckDB relation name.

Paths are read with ``read_parquet`` so DuckDB streams them (projection and
filter push-down); nothing is loaded into pandas. DataFrames are registered as
zero-copy views.
"""
from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any, Union

import duckdb
import pandas as pd

Source = Union[pd.DataFrame, str, Path, list, Any]

_counter = itertools.count()


def connect(*, memory_limit: str | None = None, threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with optional ``memory_limit`` (e.g. ``"3GB"``) and ``threads``."""
    config: dict[str, Any] = {}
    if memory_limit:
        config["memory_limit"] = memory_limit
    if threads:
        config["threads"] = int(threads)
    con = duckdb.connect(database=":memory:", config=config)
    con.execute("SET enable_progress_bar = false")
    return con


def _parquet_expr(src: str | Path | list) -> str:
    def one(p: str | Path) -> str:
        p = Path(p) if not isinstance(p, Path) else p
        s = str(p)
        if any(ch in s for ch in "*?["):
            return s
        if p.is_dir():
            return str(p / "**" / "*.parquet")
        if not p.exists():
            raise FileNotFoundError(f"no Parquet file or folder at {s}")
        return s

    if isinstance(src, (list, tuple)):
        files = [one(x) for x in src]
        if not files:
            raise ValueError("empty list of Parquet paths")
        return "read_parquet([" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "], union_by_name=true)"
    return "read_parquet('" + one(src).replace("'", "''") + "', union_by_name=true)"


def relation(con: duckdb.DuckDBPyConnection, src: Source, role: str) -> str:
    """Register ``src`` on ``con`` and return a SQL table expression for it (``role`` names it in errors)."""
    if isinstance(src, pd.DataFrame):
        name = f"_{role}_{next(_counter)}"
        con.register(name, src)
        return name
    if isinstance(src, (str, Path, list, tuple)):
        return f"({'SELECT * FROM ' + _parquet_expr(src)})"
    # pyarrow Table / Dataset / RecordBatchReader: DuckDB scans them natively
    try:
        name = f"_{role}_{next(_counter)}"
        con.register(name, src)
        return name
    except Exception as exc:  # pragma: no cover - message only
        raise TypeError(f"{role} must be a DataFrame, a Parquet path/folder/glob or an Arrow dataset, got {type(src).__name__}") from exc


def columns(con: duckdb.DuckDBPyConnection, rel: str) -> dict[str, str]:
    """Column name -> DuckDB type of a relation (reads only the schema)."""
    desc = con.execute(f"DESCRIBE SELECT * FROM {rel}").fetchall()
    return {row[0]: str(row[1]) for row in desc}


def require(cols: dict[str, str], needed: list[str], role: str) -> None:
    """Raise a ``ValueError`` naming every missing column of ``role``."""
    missing = [c for c in needed if c not in cols]
    if missing:
        raise ValueError(f"{role} lacks column(s) {missing}; it has {sorted(cols)}")


def quote(name: str) -> str:
    """A SQL identifier, double-quoted."""
    return '"' + str(name).replace('"', '""') + '"'
