"""Store layout on disk, and the two readers/writers every task uses.

::

    store/
      store.json                                    # format, n_buckets, time zone (fixed at creation)
      ledger.parquet                                # processed export files (see _ledger)
      manifest.json                                 # the last build's manifest (row accounting)
      minutes/bucket=BB/date=YYYY-MM-DD/<prec>-<key>-<sha8>.parquet   # one part per (export file, partition)
      daily/BB/YYYY-MM-DD.parquet                   # one daily file per (bucket, date)
      quarantine/<key>.parquet                      # rows an export file lost at ingest, with reasons
      state/partitions.parquet, state/phase-BB.parquet   # fingerprints of what was computed from what

A minutes part belongs to one export file; its name sorts by the file's
*precedence* (modification time in ns when first ingested, then a key of its
path), so "newest export wins" needs no lookup: for a participant-minute
present in parts of several files, only the rows of the part that sorts last
are read (:func:`read_partition`); the older rows stay on disk, superseded.
The daily folder has no ``key=value`` names, so ``pd.read_parquet(daily)`` and
DuckDB's ``read_parquet('daily/**/*.parquet')`` see exactly the daily columns.
"""
from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..signals._clean import local_minutes
from ..signals._dataset import bucket_of

FORMAT = 1
CONTRACT = ("participant_id", "ts", "steps", "heart_rate")
_NS_PER_MIN = 60_000_000_000


class StoreError(RuntimeError):
    """The store on disk does not match the requested settings (e.g. another bucket count)."""


@dataclass(frozen=True)
class Layout:
    """Paths of one store (``root``) with ``n_buckets`` participant buckets."""

    root: Path
    n_buckets: int = 16
    tz: str = "Asia/Seoul"

    @property
    def width(self) -> int:
        return max(2, len(str(self.n_buckets - 1)))

    @property
    def minutes(self) -> Path:
        return self.root / "minutes"

    @property
    def daily(self) -> Path:
        return self.root / "daily"

    @property
    def state(self) -> Path:
        return self.root / "state"

    @property
    def quarantine(self) -> Path:
        return self.root / "quarantine"

    def bucket(self, b: int) -> str:
        return f"{int(b):0{self.width}d}"

    def minutes_dir(self, b: str, d: str) -> Path:
        return self.minutes / f"bucket={b}" / f"date={d}"

    def daily_file(self, b: str, d: str) -> Path:
        return self.daily / b / f"{d}.parquet"

    def open(self) -> "Layout":
        """Create the store or check it matches ``store.json``; returns self."""
        meta = self.root / "store.json"
        want = {"format": FORMAT, "n_buckets": self.n_buckets, "tz": self.tz}
        if meta.exists():
            have = json.loads(meta.read_text(encoding="utf-8"))
            diff = {k: (have.get(k), v) for k, v in want.items() if have.get(k) != v}
            if diff:
                raise StoreError(f"store {self.root} was created with {have}; requested {want}. "
                                 f"Use a new store folder (differences: {diff})")
        else:
            self.root.mkdir(parents=True, exist_ok=True)
            write_text(meta, json.dumps(want, indent=2))
        return self


def write_text(path: Path, text: str) -> None:
    """Write atomically (temp file + rename), so a crash never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{uuid.uuid4().hex}.tmp"
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_parquet(df: pd.DataFrame | pa.Table, path: Path) -> None:
    """Atomic Parquet write (temp name starts with '.', which dataset readers skip)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{uuid.uuid4().hex}.tmp"
    table = df if isinstance(df, pa.Table) else pa.Table.from_pandas(df, preserve_index=False)
    pq.write_table(table, tmp, compression="zstd")
    os.replace(tmp, path)


def part_name(precedence_ns: int, key: str, sha256: str) -> str:
    """File name of one export file's part: sorts by precedence, then path key."""
    return f"{int(precedence_ns):020d}-{key}-{sha256[:8]}.parquet"


def write_parts(layout: Layout, minutes: pd.DataFrame, name: str) -> list[tuple[str, str, int]]:
    """Split one export file's minutes by (bucket, local date) into parts called ``name``.

    Returns ``[(bucket, date, rows), ...]``. ``participant_id`` is stored as plain strings.
    """
    if not len(minutes):
        return []
    day = local_minutes(minutes["ts"], layout.tz) // 1440
    bucket = bucket_of(minutes["participant_id"], layout.n_buckets)
    key = bucket.astype(np.int64) * 10_000_000 + day
    pid = pd.factorize(minutes["participant_id"])[0]
    # by partition, then participant and time (what the cleaning kernels want); stable, so copies of a
    # minute keep the file's order
    order = np.lexsort((minutes["ts"].array.asi8, pid, key))
    df = minutes.iloc[order].reset_index(drop=True)
    df["participant_id"] = df["participant_id"].astype(str)
    table = pa.Table.from_pandas(df, preserve_index=False)
    k = key[order]
    cuts = np.flatnonzero(np.diff(k)) + 1
    out = []
    for lo, hi in zip(np.r_[0, cuts], np.r_[cuts, len(k)]):
        b, d = layout.bucket(k[lo] // 10_000_000), str(np.datetime64(int(k[lo] % 10_000_000), "D"))
        write_parquet(table.slice(lo, hi - lo), layout.minutes_dir(b, d) / name)
        out.append((b, d, int(hi - lo)))
    return out


def list_minutes(layout: Layout) -> dict[tuple[str, str], tuple[str, ...]]:
    """(bucket, date) -> sorted part names, from a directory listing (no file is opened)."""
    out: dict[tuple[str, str], tuple[str, ...]] = {}
    if not layout.minutes.is_dir():
        return out
    with os.scandir(layout.minutes) as buckets:
        for b in buckets:
            if not (b.is_dir() and b.name.startswith("bucket=")):
                continue
            with os.scandir(b.path) as dates:
                for d in dates:
                    if not (d.is_dir() and d.name.startswith("date=")):
                        continue
                    names = sorted(f.name for f in os.scandir(d.path) if f.name.endswith(".parquet") and not f.name.startswith("."))
                    if names:
                        out[(b.name[7:], d.name[5:])] = tuple(names)
    return out


def read_partition_table(layout: Layout, b: str, d: str, columns: tuple[str, ...] = CONTRACT) -> tuple[pa.Table | None, int, int]:
    """Minutes of one (bucket, date) with superseded rows dropped: ``(Arrow table or None, rows stored, rows superseded)``.

    Rule: for each participant-minute (local minute of ``ts``), only rows of the part
    that sorts last among the parts holding that minute are kept (newest export wins;
    duplicates *within* one export are kept and left to the cleaning rules).
    """
    folder = layout.minutes_dir(b, d)
    names = sorted(f.name for f in folder.glob("*.parquet")) if folder.is_dir() else []
    if not names:
        return None, 0, 0
    tables = []
    for name in names:
        t = pq.read_table(folder / name)
        t = t.select([c for c in columns if c in t.column_names])
        if pa.types.is_dictionary(t.schema.field("participant_id").type):
            t = t.set_column(t.schema.get_field_index("participant_id"), "participant_id", t["participant_id"].cast(pa.string()))
        tables.append(t)
    table = pa.concat_tables(tables, promote_options="default") if len(tables) > 1 else tables[0]
    stored, superseded = table.num_rows, 0
    if len(tables) > 1 and stored:
        rank = np.repeat(np.arange(len(tables), dtype=np.int32), [t.num_rows for t in tables])
        minute = table["ts"].cast(pa.int64()).to_numpy() // _NS_PER_MIN
        codes = table["participant_id"].combine_chunks().dictionary_encode().indices.to_numpy().astype(np.int64)
        key = (codes << 32) | (minute - minute.min())
        newest = pd.Series(rank).groupby(key).transform("max").to_numpy()
        keep = rank == newest
        superseded = int((~keep).sum())
        if superseded:
            table = table.filter(pa.array(keep))
    return table, stored, superseded


def to_frame(tables: list[pa.Table]) -> pd.DataFrame | None:
    """Concatenate partitions' tables into one minutes frame with a categorical ``participant_id``
    (one dictionary for all, so the cleaning kernels get integer codes without hashing strings)."""
    tables = [t for t in tables if t is not None and t.num_rows]
    if not tables:
        return None
    t = pa.concat_tables(tables, promote_options="default") if len(tables) > 1 else tables[0]
    i = t.schema.get_field_index("participant_id")
    t = t.set_column(i, "participant_id", t["participant_id"].combine_chunks().dictionary_encode())
    return t.to_pandas()


def read_partition(layout: Layout, b: str, d: str, columns: tuple[str, ...] = CONTRACT) -> tuple[pd.DataFrame | None, int, int]:
    """:func:`read_partition_table` as a pandas frame."""
    table, stored, superseded = read_partition_table(layout, b, d, columns)
    return to_frame([table]), stored, superseded
