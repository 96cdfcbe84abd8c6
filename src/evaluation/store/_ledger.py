"""The ledger of processed export files: path, content hash, size, modification time, precedence, rows.

A file is *unchanged* when its size and modification time match the ledger (no
read at all, like git's index), or when its content hash matches after they
moved (a ``touch``); ``verify=True`` re-hashes every file. It is *changed* when
the hash differs: its old parts are deleted and it is ingested again.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from ._store import Layout, part_name, write_parquet

PATTERNS = ("*.csv", "*.csv.gz", "*.txt", "*.txt.gz", "*.parquet", "*.pq", "*.xml", "*.xml.gz", "*.json", "*.json.gz", "*.zip", "*.fit")
"""Export file names the build picks up (band CSV/Parquet and the vendor formats)."""
COLUMNS = ("path", "key", "sha256", "size", "mtime_ns", "precedence", "rows_in", "rows_kept", "rows_quarantined",
           "by_reason", "part", "partitions", "ingested_at")


def sha256(path: Path, chunk: int = 1 << 20) -> str:
    """Content hash of an export file, or of a vendor export folder (its files' names and hashes)."""
    path = Path(path)
    if path.is_dir():
        h = hashlib.sha256()
        for f in sorted(q for q in path.rglob("*") if q.is_file()):
            h.update(f"{f.relative_to(path)}\0{sha256(f)}\n".encode("utf-8"))
        return h.hexdigest()
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


@dataclass(frozen=True)
class UnitStat:
    """Size and modification time of an export unit: a file, or a vendor folder read as one export."""

    st_size: int
    st_mtime_ns: int


def _units(files: list[Path]) -> dict[str, Any]:
    """Files -> export units: a vendor whose steps and heart rate come in separate per-day files
    (Fitbit, Samsung) is one unit per folder, so each participant-minute is read once with both values."""
    try:
        from ..ingest import vendors
    except ImportError:  # pragma: no cover - vendors ship with the package
        return {str(f): f.stat() for f in files}
    out: dict[str, Any] = {}
    for unit, _fmt in vendors.group_exports(files):
        if unit.is_dir():
            members = [f for f in files if f.parent == unit]
            stats = [f.stat() for f in members]
            out[str(unit)] = UnitStat(sum(st.st_size for st in stats), max(st.st_mtime_ns for st in stats))
        else:
            out[str(unit)] = unit.stat()
    return out


def path_key(path: str) -> str:
    """Short stable key of a file path (names its parts and quarantine file)."""
    return hashlib.sha1(path.encode("utf-8")).hexdigest()[:12]


def scan(roots: Iterable[str | Path], patterns: Iterable[str] = PATTERNS) -> dict[str, os.stat_result]:
    """Export files under ``roots`` (files or folders; hidden names skipped): resolved path -> stat."""
    patterns = tuple(patterns)
    out: dict[str, os.stat_result] = {}
    for root in map(Path, roots):
        if root.is_file():
            out[str(root.resolve())] = root.stat()
            continue
        if not root.is_dir():
            raise FileNotFoundError(f"export folder {root} does not exist")
        files: list[Path] = []
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "_")))
            for f in sorted(filenames):
                if f.startswith((".", "_")) or not any(fnmatch(f.lower(), p) for p in patterns):
                    continue
                files.append(Path(dirpath, f).resolve())
        out.update(_units(files))
    return out


def load(layout: Layout) -> pd.DataFrame:
    path = layout.root / "ledger.parquet"
    if path.exists():
        df = pd.read_parquet(path)
        if "part" not in df.columns:  # a format-1 ledger: one part per file, named by it
            df["part"] = [part_name(p, k, h) for p, k, h in zip(df["precedence"], df["key"], df["sha256"])]
        return df.set_index("path", drop=False)
    return pd.DataFrame({c: pd.Series([], dtype=object) for c in COLUMNS}).set_index("path", drop=False)


def save(layout: Layout, ledger: pd.DataFrame) -> None:
    write_parquet(ledger.reset_index(drop=True)[list(COLUMNS)].sort_values("path"), layout.root / "ledger.parquet")


@dataclass
class FilePlan:
    """What a build does with each export file."""

    new: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    touched: dict[str, int] = field(default_factory=dict)  # same content, new mtime: only the ledger row moves
    missing: list[str] = field(default_factory=list)  # in the ledger, gone from disk: their rows stay in the store
    hashes: dict[str, str] = field(default_factory=dict)

    @property
    def to_ingest(self) -> list[str]:
        return self.new + self.changed


def plan(found: dict[str, os.stat_result], ledger: pd.DataFrame, *, verify: bool = False) -> FilePlan:
    """Compare the files on disk with the ledger."""
    fp = FilePlan()
    for path, st in sorted(found.items()):
        if path not in ledger.index:
            fp.new.append(path)
            continue
        row = ledger.loc[path]
        same_stat = int(row["size"]) == st.st_size and int(row["mtime_ns"]) == st.st_mtime_ns
        if same_stat and not verify:
            fp.unchanged.append(path)
            continue
        h = sha256(Path(path))
        fp.hashes[path] = h
        if h == row["sha256"]:
            fp.unchanged.append(path)
            if not same_stat:
                fp.touched[path] = st.st_mtime_ns
        else:
            fp.changed.append(path)
    fp.missing = sorted(set(ledger.index) - set(found))
    return fp


def entry(path: str, st: os.stat_result, digest: str, result: dict) -> dict:
    """A ledger row for a freshly ingested file (``result`` from the ingest task)."""
    return {
        "path": path, "key": path_key(path), "sha256": digest, "size": int(st.st_size), "mtime_ns": int(st.st_mtime_ns),
        "precedence": int(result["precedence"]), "rows_in": int(result["rows_in"]), "rows_kept": int(result["rows_kept"]),
        "rows_quarantined": int(result["rows_quarantined"]), "by_reason": json.dumps(result["by_reason"], sort_keys=True),
        "part": result["part"], "partitions": json.dumps(result["partitions"]), "ingested_at": result["ingested_at"],
    }
