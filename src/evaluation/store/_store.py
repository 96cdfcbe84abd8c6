"""Store layout on disk, and the two readers/writers every task uses.

::

    store/
      store.json                                    # format, n_buckets, time zone (fixed at creation)
      ledger.parquet                                # processed export files (see _ledger)
      manifest.json                                 # the last build's manifest (row accounting)
      minutes/bucket=BB/date=YYYY-MM-DD/<prec>-<key>-<sha8>.parquet   # one part per (ingest batch, partition)
      daily/BB/YYYY-MM-DD.parquet                   # one daily file per (bucket, date)
      quarantine/<key>.parquet                      # rows an export file lost at ingest, with reasons
      state/partitions.parquet, state/phase-BB.parquet   # fingerprints of what was computed from what

A minutes part holds the rows of one ingest batch (one or many export files) in
one partition: a part per file would mean a Parquet file per export and
partition, and at Seoul scale (thousands of small daily exports) opening and
writing those costs more than the rows. Each row's ``src`` indexes the part's
``sources`` metadata: ``[precedence, key]`` of its export file (precedence: the
file's modification time in ns when first ingested; key: a hash of its path).
"Newest export wins": for a participant-minute present in several files, only
the rows of the file with the highest (precedence, key) are read
(:func:`read_partition`); the older rows stay on disk, superseded. A part
written by format-1 builds holds one file and has no ``src``; its name gives the
file's precedence and key.
The daily folder has no ``key=value`` names, so ``pd.read_parquet(daily)`` and
DuckDB's ``read_parquet('daily/**/*.parquet')`` see exactly the daily columns.
"""
from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..signals._clean import local_minutes
from ..signals._config import CleaningConfig
from ..signals._dataset import bucket_of

FORMAT = 1
CONTRACT = ("participant_id", "ts", "steps", "heart_rate")
SOURCES = b"evaluation.sources"
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


def write_parquet(df: pd.DataFrame | pa.Table, path: Path, compression: str = "zstd") -> None:
    """Atomic Parquet write (temp name starts with '.', which dataset readers skip)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{uuid.uuid4().hex}.tmp"
    table = df if isinstance(df, pa.Table) else pa.Table.from_pandas(df, preserve_index=False)
    pq.write_table(table, tmp, compression=compression)
    os.replace(tmp, path)


def _read(path: Path) -> pa.Table:
    # ParquetFile.read: a small part costs about half of pq.read_table's dataset machinery
    with pq.ParquetFile(path) as f:
        return f.read(use_threads=False)


def part_name(precedence_ns: int, key: str, sha256: str) -> str:
    """File name of a part: precedence (ns, the newest of its files), a key, a content hash."""
    return f"{int(precedence_ns):020d}-{key}-{sha256[:8]}.parquet"


def _sources_of(name: str, table: pa.Table) -> tuple[list[tuple[int, str]], np.ndarray]:
    """``([(precedence, key), ...], per-row index into it)`` of one part."""
    meta = table.schema.metadata or {}
    if SOURCES in meta:
        return [tuple(x) for x in json.loads(meta[SOURCES])], table["src"].to_numpy()
    prec, key = name.split("-")[:2]  # a format-1 part: one file, named by it
    return [(int(prec), key)], np.zeros(table.num_rows, dtype=np.int32)


def write_parts(layout: Layout, files: list[tuple[str, int, pd.DataFrame]], name: str,
                config: CleaningConfig | None = None) -> tuple[dict[str, list[tuple[str, str, int]]], dict | None]:
    """Write the minutes of a batch of export files (``(key, precedence, minutes)`` each) as one part
    called ``name`` per (bucket, local date).

    Returns ``({key: [(bucket, date, rows), ...]}, phase)``: with ``config``, ``phase`` maps
    ``"bucket/date"`` to the part's clock-offset phase sums per participant
    (:func:`evaluation.signals._dataset.phase_by_day`; columns participant_id, x, y, s, one row per
    participant and source file), else None. ``participant_id`` is stored dictionary-encoded.
    """
    from ..ingest._read import _finish_minutes

    files = [(k, p, m) for k, p, m in files if len(m)]
    by_key: dict[str, list[tuple[str, str, int]]] = {}
    if not files:
        return by_key, ({} if config is not None else None)
    minutes = _finish_minutes([m for _, _, m in files]) if len(files) > 1 else files[0][2]
    src = np.repeat(np.arange(len(files), dtype=np.int32), [len(m) for _, _, m in files])
    day = local_minutes(minutes["ts"], layout.tz) // 1440
    bucket = bucket_of(minutes["participant_id"], layout.n_buckets)
    key = bucket.astype(np.int64) * 10_000_000 + day
    pid = pd.factorize(minutes["participant_id"])[0]
    # by partition, then participant and time (what the cleaning kernels want); stable, so copies of a
    # minute keep the files' order
    order = np.lexsort((minutes["ts"].array.asi8, pid, key))
    if not (order[1:] > order[:-1]).all():
        minutes, src = minutes.take(order).reset_index(drop=True), src[order]
    sources = json.dumps([[int(p), k] for k, p, _ in files]).encode()
    table = pa.Table.from_pandas(minutes.assign(src=src), preserve_index=False)
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), SOURCES: sources})
    k = key[order]
    cuts = np.flatnonzero(np.diff(k)) + 1
    for lo, hi in zip(np.r_[0, cuts], np.r_[cuts, len(k)]):
        b, d = layout.bucket(k[lo] // 10_000_000), str(np.datetime64(int(k[lo] % 10_000_000), "D"))
        # lz4: the minutes store is written once and read a few times by the build; zstd's smaller files
        # (-8%) cost a quarter more CPU per write and read
        write_parquet(table.slice(lo, hi - lo), layout.minutes_dir(b, d) / name, compression="lz4")
        counts = np.bincount(src[lo:hi], minlength=len(files))
        for i in np.flatnonzero(counts):
            by_key.setdefault(files[i][0], []).append((b, d, int(counts[i])))
    if config is None:
        return by_key, None
    from ..signals._dataset import phase_by_day

    # a participant whose rows in a partition come from two files is not handed over: duplicates across
    # files are resolved only when the partition is read (newest file wins), so the build reads it back
    sp, ss = pid[order], src  # src is already in sorted order
    mixed = (ss[1:] != ss[:-1]) & (k[1:] == k[:-1]) & (sp[1:] == sp[:-1])
    mixed_keys = set(np.unique(k[1:][mixed]).tolist())
    ph = phase_by_day(minutes, config)
    pb = bucket_of(ph["participant_id"], layout.n_buckets).astype(np.int64)
    pk = pb * 10_000_000 + ph["date"].to_numpy().astype("datetime64[D]").astype(np.int64)
    phase = {f"{layout.bucket(kk // 10_000_000)}/{np.datetime64(int(kk % 10_000_000), 'D')}": g.drop(columns="date").reset_index(drop=True)
             for kk, g in ph.groupby(pk, sort=False) if kk not in mixed_keys}
    return by_key, phase


def remove_file_rows(layout: Layout, name: str, key: str, partitions: list[list[Any]]) -> None:
    """Take one export file's rows (``key``) out of its part ``name`` in each of ``partitions`` (before the
    file is ingested again, changed): the part is rewritten without them, or deleted when nothing is left."""
    for b, d, _ in partitions:
        f = layout.minutes_dir(b, d) / name
        if not f.exists():
            continue
        table = _read(f)
        sources, src = _sources_of(name, table)
        keep = np.array([k != key for _, k in sources])[src]
        if keep.any():
            write_parquet(table.filter(pa.array(keep)), f)
        else:
            f.unlink()
            try:
                f.parent.rmdir()  # only succeeds when empty
            except OSError:
                pass


def list_minutes(layout: Layout, stat: bool = False) -> dict[tuple[str, str], tuple[str, ...]]:
    """(bucket, date) -> sorted part names, from a directory listing (no file is opened).

    ``stat``: each name as ``name@inode.size.mtime_ns`` -- a part rewritten in place (a changed export's
    rows taken out) then no longer matches what was computed from it.
    """
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
                    with os.scandir(d.path) as fs:
                        parts = [f for f in fs if f.name.endswith(".parquet") and not f.name.startswith(".")]
                    if stat:
                        names = sorted(f"{f.name}@{f.inode()}.{st.st_size}.{st.st_mtime_ns}" for f in parts for st in (f.stat(),))
                    else:
                        names = sorted(f.name for f in parts)
                    if names:
                        out[(b.name[7:], d.name[5:])] = tuple(names)
    return out


def read_partition_table(layout: Layout, b: str, d: str, columns: tuple[str, ...] = CONTRACT) -> tuple[pa.Table | None, int, int]:
    """Minutes of one (bucket, date) with superseded rows dropped: ``(Arrow table or None, rows stored, rows superseded)``.

    Rule: for each participant-minute (local minute of ``ts``), only rows of the export file with the
    highest (precedence, key) among the files holding that minute are kept (newest export wins;
    duplicates *within* one export are kept and left to the cleaning rules).
    """
    folder = layout.minutes_dir(b, d)
    names = sorted(f.name for f in folder.glob("*.parquet")) if folder.is_dir() else []
    if not names:
        return None, 0, 0
    tables, sources, srcs = [], [], []
    for name in names:
        t = _read(folder / name)
        src_list, src = _sources_of(name, t)
        srcs.append(src + len(sources))
        sources += src_list
        t = t.select([c for c in columns if c in t.column_names])
        if pa.types.is_dictionary(t.schema.field("participant_id").type):
            t = t.set_column(t.schema.get_field_index("participant_id"), "participant_id", t["participant_id"].cast(pa.string()))
        tables.append(t)
    table = pa.concat_tables(tables, promote_options="default") if len(tables) > 1 else tables[0]
    stored, superseded = table.num_rows, 0
    src = np.concatenate(srcs)
    codes = table["participant_id"].combine_chunks().dictionary_encode().indices.to_numpy().astype(np.int64) \
        if len(sources) > 1 and stored else None
    if codes is not None and _overlap(codes, src, len(sources)):
        order = sorted(range(len(sources)), key=lambda i: (sources[i][0], sources[i][1]))
        rank_of = np.empty(len(sources), dtype=np.int32)
        rank_of[order] = np.arange(len(sources), dtype=np.int32)
        rank = rank_of[src]
        minute = table["ts"].cast(pa.int64()).to_numpy() // _NS_PER_MIN
        key = (codes << 32) | (minute - minute.min())
        newest = pd.Series(rank).groupby(key).transform("max").to_numpy()
        keep = rank == newest
        superseded = int((~keep).sum())
        if superseded:
            table = table.filter(pa.array(keep))
    return table, stored, superseded


def _overlap(codes: np.ndarray, src: np.ndarray, n_sources: int) -> bool:
    """Whether some participant (``codes``) has rows from more than one source file (only then can a
    minute be superseded); an occupancy table is O(rows), where grouping by minute costs a hash per row."""
    occ = np.zeros((int(codes.max()) + 1, n_sources), dtype=bool)
    occ[codes, src] = True
    return bool((occ.sum(axis=1) > 1).any())


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
