"""End to end: band CSV exports on disk -> minutes store -> daily store (``evaluation.build``).

Prints rows/s per core for the build and, measured in the same run on the same
files, two baselines: DuckDB's bare read of the CSVs (one thread) and the numpy
pass (``signals.process`` on the same minutes already in memory, sorted, with
categorical ids). Then the no-op incremental re-run, peak memory of two cohort
sizes (each build in its own process; buckets scale with the cohort so a
partition holds the same number of people), and projections for one Seoul day
(331M rows: 230k participants x 1,440 minutes) and a year, on this machine and
on N single-core Dask workers (linear: tasks are independent per file and partition).

    python benchmarks/bench_pipeline.py [--participants 60] [--days 7]

Ratios are the figures to compare between machines; absolute numbers move with
the load of a shared machine.
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from evaluation import build, ingest, signals  # noqa: E402
from evaluation.synth import exports as sx  # noqa: E402

SEOUL_DAY = 331_000_000
READ = {"demo": True, "pseudonymise_ids": False}
PER_BUCKET = 15  # participants per bucket: partitions stay the same size whatever the cohort


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def write(n: int, days: int, folder: Path, seed: int = 7) -> int:
    people = pd.read_parquet(ROOT / "data_samples" / "participants.parquet")
    cohort = people.iloc[:n]
    shutil.rmtree(folder, ignore_errors=True)
    return sx.write_exports(cohort, folder / "exports", start="2023-03-06", days=days, truth=folder / "truth", seed=seed, block=25)["rows"]


def peak_rss_build(folder: Path, n_buckets: int) -> tuple[float, float]:
    """(peak RSS MiB, seconds) of a from-scratch build in a fresh process."""
    code = (
        "import resource, sys, time; sys.path.insert(0, %r)\n"
        "from evaluation import build\n"
        "t = time.time(); build.build_store(%r, %r, n_buckets=%d, read_kwargs={'demo': True, 'pseudonymise_ids': False})\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, time.time() - t)\n"
    ) % (str(ROOT / "src"), str(folder / "exports"), str(folder / "store-mem"), n_buckets)
    shutil.rmtree(folder / "store-mem", ignore_errors=True)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    shutil.rmtree(folder / "store-mem", ignore_errors=True)
    return float(out[0]), float(out[1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--participants", type=int, default=100)
    ap.add_argument("--days", type=int, default=7)
    ap.add_argument("--workers", type=int, nargs="*", default=[8, 32, 128])
    args = ap.parse_args()
    data = ROOT / "benchmarks" / ".data" / "pipeline"
    n, days = args.participants, args.days
    n_buckets = max(1, n // PER_BUCKET)
    rows = write(n, days, data / "a")
    files = sorted(str(f) for f in (data / "a" / "exports").rglob("*.csv"))
    mb = sum(os.path.getsize(f) for f in files) / 2**20
    print(f"input: {len(files)} band CSV files, {rows:,} rows, {mb:,.0f} MiB; {n} participants x {days} days; "
          f"{n_buckets} buckets; {os.cpu_count()} cores (machine shared: compare ratios)")

    # baseline 1: DuckDB reads and parses the same files, one thread
    import duckdb

    con = duckdb.connect(config={"threads": 1})
    c0, t0 = cpu(), time.time()
    got = con.sql(
        "select count(*), sum(steps), count(heart_rate), max(ts) from read_csv("
        + "[" + ",".join(f"'{f}'" for f in files) + "], header=true, "
        "columns={'participant_id': 'VARCHAR', 'ts': 'TIMESTAMP', 'steps': 'INTEGER', 'heart_rate': 'DOUBLE'})"
    ).fetchall()[0]
    t_duck, c_duck = time.time() - t0, cpu() - c0
    assert got[0] == rows
    signals.process(pd.read_parquet(ROOT / "data_samples" / "minutes_sample.parquet").iloc[:5000])  # compile the kernels first

    # the build: one core, in this process
    store = data / "a" / "store"
    shutil.rmtree(store, ignore_errors=True)
    c0, t0 = cpu(), time.time()
    res = build.build_store(data / "a" / "exports", store, n_buckets=n_buckets, read_kwargs=READ)
    t_build, c_build = time.time() - t0, cpu() - c0
    assert res.rows_in == rows and res.manifest["rows"]["balanced"]
    stages = res.manifest["timings"]

    # baseline 2: the numpy pass on the same minutes in memory (sorted, categorical ids), warm
    minutes = ingest.read_exports(files, **READ).minutes.sort_values(["participant_id", "ts"], kind="stable")
    minutes["participant_id"] = minutes["participant_id"].astype("category")
    signals.process(minutes.iloc[:1000])
    c0, t0 = cpu(), time.time()
    signals.process(minutes)
    t_np, c_np = time.time() - t0, cpu() - c0

    # no-op re-run
    t0 = time.time()
    again = build.build_store(data / "a" / "exports", store, n_buckets=n_buckets, read_kwargs=READ)
    t_noop = time.time() - t0
    assert not again.changed_anything

    per_core = rows / c_build  # CPU seconds: the build runs on one core, and CPU time survives a loaded machine
    print(f"\n{'':<34}{'wall s':>8}{'CPU s':>8}{'rows/s/core (CPU)':>19}{'x bare read (CPU)':>19}")
    for label, t, c in (("DuckDB bare read (1 thread)", t_duck, c_duck), ("numpy pass (signals.process)", t_np, c_np),
                        ("build end to end (1 core)", t_build, c_build)):
        print(f"{label:<34}{t:>8.2f}{c:>8.2f}{rows / c:>19,.0f}{c / c_duck:>19.1f}")
    print("  build stages (wall s): " + ", ".join(f"{k} {v:.2f}" for k, v in stages.items()))
    print(f"no-op incremental re-run: {t_noop:.2f} s ({len(files)} files, {res.manifest['partitions']['daily']} daily partitions)")

    # bounded memory: the same days, twice the people, twice the buckets
    base = subprocess.run([sys.executable, "-c", "import resource, sys; sys.path.insert(0, %r); import evaluation.build, evaluation.ingest; "
                           "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)" % str(ROOT / "src")],
                          capture_output=True, text=True, check=True).stdout.strip()
    print(f"\npeak memory of a from-scratch build (fresh process; after imports alone: {float(base):,.0f} MiB):")
    for k, folder in ((1, data / "a"), (2, data / "b")):
        if k == 2:
            write(2 * n, days, folder, seed=8)
        mib, secs = peak_rss_build(folder, n_buckets * k)
        print(f"  {k * n:>5} participants, {n_buckets * k:>3} buckets: peak RSS {mib:,.0f} MiB ({secs:.1f} s)")

    print("\nprojections at the measured end-to-end rate (tasks independent per file and partition):")
    for label, cores in [("this machine", os.cpu_count() or 1)] + [(f"{w} Dask workers", w) for w in args.workers]:
        day = SEOUL_DAY / (per_core * cores)
        print(f"  {label:<18} ({cores:>3} cores): one Seoul day {day / 60:8.1f} min; a year {365 * day / 3600:8.1f} h")
    need = SEOUL_DAY / (per_core * 120)
    print(f"  cores needed for one Seoul day in 2 minutes: {need:.0f}")
    shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
