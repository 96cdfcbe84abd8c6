"""Throughput of ingest: band CSV files on disk -> the minutes contract (rows per second per core).

Writes CSV files shaped like real band exports (string ids, ``+09:00`` timestamps, rows unsorted,
~0.5% duplicate rows, ~0.02% damaged rows, 20% empty heart rates), then measures in the same run:

* **floor** -- DuckDB's bare read-and-cast of the same files (typed columns, bad lines skipped,
  result as an Arrow table): what reading these bytes costs on this machine;
* ``ingest.read_exports`` -- the full contract in memory (schema, zones, quarantine with reasons,
  accounting, HMAC pseudonyms, pandas DataFrame);
* ``ingest.ingest_to_store`` -- the same, streamed into the partitioned Parquet minutes store;
* the previous pandas implementation (``git show <rev>:src/evaluation/ingest/_read.py`` into a
  temporary module), on a subset because it is slow.

Rows per core = rows / CPU seconds of this process (all threads); wall-clock rows/s is printed too.
On a shared machine the ratios (same run, same files) are the figures to trust.

    .venv/bin/python benchmarks/bench_ingest.py [--rows 5040000] [--files 10] [--old-rows 500000] [--old-rev 7af4236]
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from evaluation import ingest

SEOUL_DAY_ROWS = 331_000_000  # 230,000 participants x 1,440 minutes
KEY = "bench-key-" + "x" * 32


def write_exports(folder: Path, rows: int, files: int, seed: int = 0, huge: bool = True) -> list[Path]:
    """Band-export-like CSV files; returns their paths (~rows rows in total). ``huge=False`` leaves out
    steps >= 2^31 (the old pandas path aborts the whole file on those)."""
    rng = np.random.default_rng(seed)
    days = 7
    n_part = max(1, rows // (days * 1440))
    ids = np.array([f"RID{v:010d}" for v in rng.choice(10 ** 10, n_part, replace=False)])
    out = []
    per = int(np.ceil(n_part / files))
    start = pd.Timestamp("2023-03-06").value // 60_000_000_000
    for k in range(files):
        part = np.arange(k * per, min((k + 1) * per, n_part))
        if not len(part):
            break
        # unsorted: participant-days in random order, and 2% of minutes swapped locally
        blocks = rng.permutation(len(part) * days)
        p = part[blocks // days].repeat(1440)
        minute = ((blocks % days) * 1440).repeat(1440) + np.tile(np.arange(1440), len(blocks))
        swap = np.flatnonzero(rng.random(len(minute)) < 0.02)
        minute[swap] = minute[np.minimum(swap + 1, len(minute) - 1)]
        n = len(p)
        ts = pd.to_datetime((start + minute) * 60_000_000_000).strftime("%Y-%m-%dT%H:%M:%S+09:00")
        steps = rng.poisson(6, n).astype(str)
        hr = np.round(rng.normal(75, 10, n), 1).astype(str)
        hr[rng.random(n) < 0.2] = ""
        lines = pd.Series(ids[p]).str.cat([pd.Series(ts), pd.Series(steps), pd.Series(hr)], sep=",")
        dup = np.flatnonzero(rng.random(n) < 0.005)  # duplicate rows (kept: signals flags them)
        damaged = rng.choice(n, max(1, n // 5000), replace=False)
        kinds = np.array(["{id},not-a-time,3,70", "{id},2023-03-07T10:00:00+09:00,2.5,70",
                          "{id},2023-03-07T10:00:00+09:00", "{id},2023-03-07T10:00:00+09:00,3000000000,70"])
        kinds = kinds if huge else kinds[:3]
        lines = lines.to_numpy(dtype=object)
        for j, i in enumerate(damaged):
            lines[i] = kinds[j % len(kinds)].format(id=ids[p[i]])
        body = np.insert(lines, dup, lines[dup])
        f = folder / f"band_export_{k:03d}.csv"
        f.write_text("participant_id,ts,steps,heart_rate\n" + "\n".join(body) + "\n", encoding="utf-8")
        out.append(f)
    return out


def timed(fn):
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - t0, time.process_time() - c0


def floor(files: list[Path]) -> int:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'Asia/Seoul'")
    con.execute("SET enable_progress_bar = false")
    lst = "[" + ", ".join(f"'{f}'" for f in files) + "]"
    t = con.sql(
        f"SELECT * FROM read_csv({lst}, header=true, auto_detect=false, ignore_errors=true, "
        "columns={'participant_id': 'VARCHAR', 'ts': 'TIMESTAMPTZ', 'steps': 'INTEGER', 'heart_rate': 'FLOAT'})"
    ).to_arrow_table()
    return t.num_rows


def old_reader(rev: str):
    """The ingest module as of ``rev`` (the per-row pandas parser), imported from a temp package."""
    root = Path(__file__).resolve().parents[1]
    tmp = Path(tempfile.mkdtemp(prefix="bench-ingest-old-"))
    pkg = tmp / "old_ingest"
    pkg.mkdir()
    for name in ("_read.py", "_pseudonym.py"):
        src = subprocess.run(["git", "show", f"{rev}:src/evaluation/ingest/{name}"], cwd=root, check=True,
                             capture_output=True, text=True).stdout
        (pkg / name).write_text(src)
    (pkg / "__init__.py").write_text("from ._read import read_exports\n")
    spec = importlib.util.spec_from_file_location("old_ingest", pkg / "__init__.py", submodule_search_locations=[str(pkg)])
    mod = importlib.util.module_from_spec(spec)
    sys.modules["old_ingest"] = mod
    spec.loader.exec_module(mod)
    return mod, tmp


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=5_040_000)
    ap.add_argument("--files", type=int, default=10)
    ap.add_argument("--old-rows", type=int, default=500_000, help="rows for the old pandas path (0 = skip)")
    ap.add_argument("--old-rev", default="7af4236")
    ap.add_argument("--batch-rows", type=int, default=2_000_000)
    args = ap.parse_args()
    cores = os.cpu_count() or 1
    work = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    try:
        (work / "in").mkdir()
        files = write_exports(work / "in", args.rows, args.files)
        size = sum(f.stat().st_size for f in files)
        n_lines = sum(1 for f in files for _ in open(f, "rb")) - len(files)
        print(f"input: {len(files)} CSV files, {n_lines:,} data lines, {size / 1e6:.0f} MB; {cores} cores "
              f"(shared machine: compare ratios)")
        floor(files[:1])  # warm the page cache and DuckDB
        rows_floor, w_floor, c_floor = timed(lambda: floor(files))
        res, w_mem, c_mem = timed(lambda: ingest.read_exports(files, key=KEY))
        acc = res.accounting
        store = work / "store"
        acc2, w_store, c_store = timed(lambda: ingest.ingest_to_store(files, store, key=KEY, batch_rows=args.batch_rows))
        assert acc.rows_in == n_lines == acc2.rows_in, (acc.rows_in, n_lines, acc2.rows_in)
        print(f"accounting: {acc.rows_in:,} in = {acc.rows_kept:,} kept + {acc.rows_quarantined:,} quarantined "
              f"{dict(sorted(acc.by_reason.items()))}")
        rows = [("duckdb floor (read+cast)", rows_floor, w_floor, c_floor),
                ("ingest.read_exports (memory)", acc.rows_in, w_mem, c_mem),
                ("ingest.ingest_to_store (Parquet)", acc2.rows_in, w_store, c_store)]
        old = None
        if args.old_rows:
            mod, tmp = old_reader(args.old_rev)
            try:
                sub = work / "old"
                sub.mkdir()
                old_files = write_exports(sub, args.old_rows, 1, seed=1, huge=False)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    r_old, w_old, c_old = timed(lambda: mod.read_exports(old_files, key=KEY))
                old = (r_old.accounting.rows_in, w_old, c_old)
                rows.append((f"old pandas path ({args.old_rev}, subset)", *old))
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
                sys.modules.pop("old_ingest", None)
        print(f"\n{'path':36s} {'rows':>11s} {'wall s':>7s} {'cpu s':>7s} {'M rows/s':>9s} {'M rows/s/core':>14s}")
        for name, n, w, c in rows:
            print(f"{name:36s} {n:11,d} {w:7.2f} {c:7.2f} {n / w / 1e6:9.2f} {n / max(c, 1e-9) / 1e6:14.2f}")
        per_core = {name: n / max(c, 1e-9) for name, n, w, c in rows}
        f = per_core["duckdb floor (read+cast)"]
        print("\nratios (per core, same run):")
        print(f"  floor / read_exports      = {f / per_core['ingest.read_exports (memory)']:.2f}x   (goal <= 2)")
        print(f"  floor / ingest_to_store   = {f / per_core['ingest.ingest_to_store (Parquet)']:.2f}x")
        if old:
            o = old[0] / max(old[2], 1e-9)
            print(f"  read_exports / old pandas = {per_core['ingest.read_exports (memory)'] / o:.1f}x faster")
        wall_rate = acc.rows_in / w_mem
        print("\nprojection on this machine (wall, read_exports rate):")
        day = SEOUL_DAY_ROWS / wall_rate
        print(f"  one Seoul day ({SEOUL_DAY_ROWS / 1e6:.0f}M rows): {day / 60:.1f} min; a year: {day * 365 / 3600:.1f} h")
        store_rate = acc2.rows_in / w_store
        day_s = SEOUL_DAY_ROWS / store_rate
        print(f"  to the Parquet store: one day {day_s / 60:.1f} min; a year: {day_s * 365 / 3600:.1f} h")
        if old:
            day_o = SEOUL_DAY_ROWS / (old[0] / old[1])
            print(f"  old pandas path: one day {day_o / 60:.1f} min")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
