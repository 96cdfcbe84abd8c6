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
from typing import Iterable

import pandas as pd

from ._store import Layout, write_parquet

PATTERNS = ("*.csv", "*.csv.gz", "*.txt", "*.txt.gz", "*.parquet", "*.pq", "*.xml", "*.xml.gz", "*.json", "*.json.gz", "*.zip")
"""Export file names the build picks up (band CSV/Parquet and the vendor formats)."""
COLUMNS = ("path", "key", "sha256", "size", "mtime_ns", "precedence", "rows_in", "rows_kept", "rows_quarantined",
           "by_reason", "partitions", "ingested_at")


def sha256(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


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
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "_")))
            for f in sorted(filenames):
                if f.startswith((".", "_")) or not any(fnmatch(f.lower(), p) for p in patterns):
                    continue
                p = Path(dirpath, f).resolve()
                out[str(p)] = p.stat()
    return out


def load(layout: Layout) -> pd.DataFrame:
    path = layout.root / "ledger.parquet"
    if path.exists():
        return pd.read_parquet(path).set_index("path", drop=False)
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
        "partitions": json.dumps(result["partitions"]), "ingested_at": result["ingested_at"],
    }
